//! The example app's integration tests, in one test binary: each of the
//! 21 files of `tests/` used to be a binary of its own that linked sqlx,
//! Tokio, axum and askama again, and the linking took most of the build.
//! A test is named by its module now: `cargo test -p example-app --test
//! app cli::` runs the command-line tests, `--test app web_log::` the
//! log's, and so on.
//!
//! Here is every test that runs in any thread of a shared process without
//! touching anything process-wide: it makes its own databases (unique
//! names, from `audit_core::testing`), temporary files, child processes and
//! ports, reads the environment but never sets it, and a panic fails only
//! its own test. In particular:
//! - `browser`: starts a chromedriver of its own per test on a free port;
//!   under `CI=true` a missing Chromium fails it, elsewhere it passes with
//!   a notice. It reads `CHROMIUM`, `CHROMEDRIVER`, `AUDIT_BROWSER_SHOTS`.
//! - `cli_concurrency`, `truthful`, `export`, `start`, `commit_order`:
//!   concurrent child processes and connections, waiting with bounds that
//!   only tell a hang from an answer; they ran beside each other's tests
//!   before too (the test threads are the same number as in a binary of
//!   their own). `commit_order`'s lock and the sessions it watches are in
//!   its own database.
//! - `commands`: its `catch_unwind` catches its own panic, with the
//!   default panic hook (it sets none).
//! - `app_role`: each PostgreSQL test makes a role of its own (roles belong
//!   to the whole server: a unique name), and drops it at its end, failed
//!   or not.
//!
//! Three test binaries stay apart, each for its process:
//! - `tests/failpoints.rs`: the `fail` crate's registry is process-wide; a
//!   configured `audit::begin` failpoint would fail any other test's
//!   transaction running beside it.
//! - `tests/web_queries.rs`: sets the global tracing subscriber and counts
//!   every SQL statement in the process, so another test's statements
//!   would be counted too.
//! - `tests/crash.rs`: runs its own executable as its worker processes
//!   (`current_exe()` with `worker_process --exact --ignored`) and kills
//!   them with SIGKILL; apart, that executable holds just the crash test
//!   and its worker, the filter names the worker as it is, and `cargo test
//!   --test crash` builds the very worker it starts.
//!
//! The shared helpers, `tests/common/`, are one module here; the three
//! other binaries declare it themselves.

#[path = "../common/mod.rs"]
mod common;

mod app_role;
mod backfill;
mod browser;
mod cli;
mod cli_concurrency;
mod cli_log;
mod commands;
mod commit_order;
mod erasure;
mod export;
mod faults;
mod hostile;
mod immutable;
mod present;
mod previous_release;
mod seal_cli;
mod start;
mod truthful;
mod versions;
mod web;
mod web_api;
mod web_log;
mod web_security;
mod web_staff;
