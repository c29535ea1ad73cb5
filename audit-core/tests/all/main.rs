//! audit-core's integration tests, in one test binary: each of these files
//! used to be a binary of its own in `tests/`, each linking sqlx (both
//! drivers and rustls), Tokio, tracing-subscriber and proptest again, and
//! the linking took most of the build after a change to audit-core. A test
//! is named by its module now: `cargo test -p audit-core --test all
//! store_seals::` runs the seal tests, and so on.
//!
//! Here is every file whose tests can run in any thread of a shared process
//! without touching anything process-wide: none sets or removes an
//! environment variable (they read `AUDIT_TEST_POSTGRES_URL` and `CI`),
//! installs a global tracing subscriber or a panic hook, exits the process,
//! or configures a failpoint; each test makes its own databases, with
//! unique names and pools of their own (`audit_core::testing`). The test
//! threads are as many as in a binary of its own (one per core), so no more
//! tests run at once than before: only which ones run side by side changes.
//! In particular:
//! - `decode`, `emit`: the macros' decoding and emitting, in memory;
//!   `layers` reads audit-core's `src/`, read-only.
//! - `store_concurrency`, `store_import`, `store_retention`: many tasks on
//!   one auditor at once; the pool they fill is their own database's, and
//!   they assert counts, not times. `a_connection_lost_mid_command_leaves_
//!   nothing` ends its own server process (`pg_backend_pid()`).
//! - `store_seals`, `store_import`: sealing on PostgreSQL waits until every
//!   older transaction of the same database has ended (other databases'
//!   do not matter); each test has its database to itself, and the wait is
//!   bounded (`support::STABLE_WITHIN`, 60 s) only to tell a hang from an
//!   answer, which then names what held it back.
//! - `store_held_back`: keeps a transaction open on purpose, in a database
//!   of its own (which holds nothing else back) and in its test's database;
//!   creates a PostgreSQL role (server-wide) under a unique name, and drops
//!   it.
//! - `store_privileges`, `store_attacks`: create PostgreSQL roles
//!   (server-wide) under unique names, and drop them.
//! - `web_axum` (feature `axum`): requests through a router in memory
//!   (`oneshot`), each audited one on a SQLite database of its own.
//! - `test_databases`: checks its own databases by name, never counts all
//!   of them; its failing "test" panics on a thread of its own with the
//!   default hook, and it drops the database that failure kept.
//! - `store_upgrade`'s SQL fixtures are `tests/fixtures/`; the templates and
//!   locks the catalogs name are under `tests/`, found from the crate's
//!   directory, as before.
//!
//! One test binary stays apart: `tests/store_follow.rs`, the suite's load
//! test (8 writers, over 5,000 events per backend, polled every
//! millisecond), whose followers must catch up within a bound. Beside the
//! tests here, each would slow the other; on its own it runs as before
//! (`cargo test -p audit-core --test store_follow`, `AUDIT_FOLLOW_SEED` to
//! replay). (It used to be apart for the server-wide state it waited on
//! too: `read_after` held an event back while any transaction older than it
//! was open anywhere on the server. Now only its own database's count.)
//!
//! The tests that capture what is logged are apart too, in `tests/traced.rs`:
//! their subscriber is their thread's, but whether a span or an event is
//! enabled is cached per callsite for the whole process, and the threads
//! of the tests here, which run without a subscriber, made one of them
//! miss the span it looked for.
//!
//! The shared helpers, `tests/support/`, are one module here; `store_follow`
//! declares them itself.

#[path = "../support/mod.rs"]
mod support;

mod decode;
mod emit;
mod layers;
mod store_append_only;
mod store_attacks;
mod store_commit_round_trip;
mod store_concurrency;
mod store_context;
mod store_cursors;
mod store_erase;
mod store_held_back;
mod store_import;
mod store_payloads;
mod store_privileges;
mod store_queries;
mod store_query_plans;
mod store_retention;
mod store_schema;
mod store_seals;
mod store_transactions;
mod store_unknown_rows;
mod store_upgrade;
mod store_versions;
mod test_databases;
#[cfg(feature = "axum")]
mod web_axum;
