//! Test support: fresh databases for tests of this crate and of
//! applications built on it (enable the `testing` feature in
//! `[dev-dependencies]`).
//!
//! Each call makes its own new database (a new SQLite file in the temporary
//! directory, a new PostgreSQL database on the configured server), so tests
//! never share state and run in parallel.
//!
//! PostgreSQL is used when the variable [`POSTGRES_URL_VAR`]
//! (`AUDIT_TEST_POSTGRES_URL`) holds a connection string to a server where
//! the user may create databases, for example
//! `postgres://postgres@127.0.0.1:5432/postgres`. When it is unset, the
//! PostgreSQL half of a test is skipped with a notice on standard error,
//! except under `CI=true`, where that fails the test. When it is set, a
//! server that cannot be reached fails the test.
//!
//! A test database lives as long as the [`Auditor`] made for it: when its
//! last clone is dropped, at the end of the test as a rule, the PostgreSQL
//! database is dropped (`DROP DATABASE .. WITH (FORCE)`, done before that
//! drop returns) and the SQLite file removed. Whatever else uses the
//! database by its URL ([`database_url`]: a child process, a second
//! `Auditor::connect`) must be done with it by then, so keep a clone until
//! it is. A failed test keeps its database for inspection (its auditor is
//! dropped while the thread panics): the SQLite file stays in `audit-tests`
//! under the temporary directory, and the PostgreSQL database until a later
//! run drops those older than two hours.
//!
//! [`Harness`] runs an application's commands on such a database, with
//! its migrations, and asserts what they emitted:
//!
//! ```
//! # use audit_core::events::{EntityRef, Reference};
//! # use audit_core::present::{PresentContext, Presentable, Shown};
//! # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
//! # pub struct ProjectRef { pub id: i64, pub name: String }
//! # #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
//! # pub struct UserRef { pub id: i64, pub username: String }
//! # impl Reference for ProjectRef {
//! #     fn entity_ref(&self) -> EntityRef { EntityRef::new("project", self.id.to_string()) }
//! # }
//! # impl Reference for UserRef {
//! #     fn entity_ref(&self) -> EntityRef { EntityRef::new("user", self.id.to_string()) }
//! # }
//! # impl Presentable for ProjectRef {
//! #     fn present(&self, _: &PresentContext) -> Shown { Shown::text(&self.name) }
//! # }
//! # impl Presentable for UserRef {
//! #     fn present(&self, _: &PresentContext) -> Shown { Shown::text(&self.username) }
//! # }
//! # #[audit_core::events(templates = "tests/templates/docs")]
//! # pub enum StaffEvent {
//! #     #[event(code = "project_member_added", label = "User added", group = "Project members")]
//! #     ProjectMemberAdded { #[parent] project: ProjectRef, #[subject] user: UserRef, roles: Vec<String> },
//! # }
//! use audit_core::testing::Harness;
//! use audit_core::{Actor, Audit, AuditError, Auditor, auditable, on_backend};
//!
//! /// The application's migrations: the audit schema, then its own tables.
//! async fn migrate(auditor: &Auditor) -> Result<(), AuditError> {
//!     auditor.migrate().await?;
//!     on_backend!(auditor.pool(), pool => {
//!         sqlx::query("CREATE TABLE members (project_id INTEGER NOT NULL, user_id INTEGER NOT NULL)")
//!             .execute(pool)
//!             .await?;
//!     });
//!     Ok(())
//! }
//!
//! /// The command under test.
//! #[auditable(emits(ProjectMemberAdded))]
//! async fn add_member(cx: &mut Audit<StaffEvent>, project: &ProjectRef, user: &UserRef) -> Result<(), AuditError> {
//!     on_backend!(cx.db(), conn => {
//!         sqlx::query("INSERT INTO members (project_id, user_id) VALUES ($1, $2)")
//!             .bind(project.id)
//!             .bind(user.id)
//!             .execute(conn)
//!             .await?;
//!     });
//!     let roles = vec!["developer".to_owned()];
//!     cx.emit(ProjectMemberAdded { project: project.clone(), user: user.clone(), roles })
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), AuditError> {
//! let apollo = ProjectRef { id: 3, name: "Apollo".into() };
//! let bob = UserRef { id: 7, username: "bob".into() };
//!
//! let mut harness = Harness::<StaffEvent>::sqlite("add_member", migrate).await;
//! harness.act_as(Actor::user(1, "alice"));
//! let events = harness.run(async |cx| add_member(cx, &apollo, &bob).await).await?;
//! events.assert_emitted([ProjectMemberAdded {
//!     project: apollo.clone(),
//!     user: bob.clone(),
//!     roles: vec!["developer".into()],
//! }]);
//! assert_eq!(events.rendered(), ["added bob to Apollo as developer"]);
//! assert_eq!(events[0].actor, Actor::user(1, "alice"));
//! # Ok(()) }
//! ```
//!
//! The migration function is the application's own, the one it runs at
//! start (the audit schema's [`Auditor::migrate`], then its tables):
//! README.md's quickstart shows one, and its `tests/commands.rs` a whole
//! harness test; `example-app/tests/app/commands.rs` tests every command
//! of the example app so.
//!
//! - [`Harness::all`] gives one harness per backend (SQLite, and PostgreSQL
//!   when `AUDIT_TEST_POSTGRES_URL` is set).
//! - [`Emitted::assert_emitted`] compares payloads and the stored
//!   references, in order; [`Emitted::assert_codes`], [`Emitted::rendered`]
//!   (without lookups), [`Emitted::rendered_with`] (through the
//!   application's resolver), [`Emitted::known`] and the events themselves
//!   (`events[0].actor`) are there for the rest.
//! - A failed assertion prints a diff, one line per event (`-` expected,
//!   `+` emitted), then the fields that differ.
//!
//! Functions here panic, with a message saying what failed, when a test
//! database cannot be made: they are for tests only.

mod cleanup;
mod harness;

use cleanup::TestDatabase;
pub use harness::{Emitted, Harness};

use std::fmt::Display;

#[cfg(feature = "postgres")]
use sqlx::Connection;

use crate::backend::Backend;
use crate::catalog::EventCatalog;
use crate::on_backend;
use crate::store::{self, Auditor, EventQuery};

/// The environment variable holding the PostgreSQL connection string that
/// tests create their databases through.
pub const POSTGRES_URL_VAR: &str = "AUDIT_TEST_POSTGRES_URL";

/// Test databases older than this (in seconds) are dropped by later runs.
#[cfg(feature = "postgres")]
const STALE_AFTER_SECS: u64 = 2 * 3600;

/// The prefix of every PostgreSQL test database's name.
#[cfg(feature = "postgres")]
const DATABASE_PREFIX: &str = "audit_t";

/// A new, empty (unmigrated) SQLite database: a new file in the temporary
/// directory, named after `test`.
///
/// # Panics
///
/// When the directory or the database cannot be created.
#[cfg(feature = "sqlite")]
pub async fn sqlite(test: &str) -> Auditor {
    let dir = std::env::temp_dir().join("audit-tests");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create the test directory {}: {e}", dir.display()));
    let path = dir.join(format!(
        "{}-{}.db",
        plain(test),
        uuid::Uuid::new_v4().simple()
    ));
    let url = format!("sqlite://{}", path.display());
    let auditor = Auditor::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot open the SQLite test database {url}: {e}"));
    TestDatabase::SqliteFile(path).owned_by(auditor)
}

/// A new, empty (unmigrated) PostgreSQL database, named after `test`, on
/// the server that [`POSTGRES_URL_VAR`] names; `None`, with a notice, when
/// the variable is unset or empty.
///
/// # Panics
///
/// Under `CI=true` when the variable is unset; whenever the server cannot
/// be reached or the database cannot be created.
#[cfg(feature = "postgres")]
pub async fn postgres(test: &str) -> Option<Auditor> {
    let url = match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{POSTGRES_URL_VAR} must point at PostgreSQL when CI=true (test `{test}`)")
        }
        _ => {
            eprintln!("notice: {POSTGRES_URL_VAR} is not set; skipping PostgreSQL for `{test}`");
            return None;
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the system clock is before 1970: cannot name the test database")
        .as_secs();
    // The name is spliced into DDL unquoted.
    let test_part = plain(test);
    let unique = uuid::Uuid::new_v4().simple().to_string();
    // The timestamp comes first (stale cleanup reads it), the unique part
    // last, and the test's name fills what is left of PostgreSQL's 63 bytes.
    let head = format!("{DATABASE_PREFIX}{now}_");
    let room = 63 - head.len() - unique.len() - 1;
    let name = format!(
        "{head}{}_{unique}",
        test_part.chars().take(room).collect::<String>()
    );
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("cannot reach PostgreSQL at {POSTGRES_URL_VAR}={url} (test `{test}`): {e}")
    });
    drop_stale_databases(&mut admin, now).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create the test database {name} at {url}: {e}"));
    // Closing is courtesy; the database exists either way.
    let _ = admin.close().await;
    let db_url = database_url_for(&url, &name);
    let auditor = Auditor::connect(&db_url)
        .await
        .unwrap_or_else(|e| panic!("cannot open the PostgreSQL test database {db_url}: {e}"));
    Some(TestDatabase::Postgres { server: url, name }.owned_by(auditor))
}

/// A value bound to the SQL of a query ([`query_sql`]).
///
/// Hidden: the SQL a query runs is not part of the API, and changes in any
/// release. It is here for this repository's benchmarks.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoundValue {
    /// Text.
    Text(String),
    /// A 64-bit integer.
    Int(i64),
}

/// The SQL text and the values bound to it, in order, that
/// [`Auditor::query`] runs for `query` on `backend`: for benchmarks and
/// tests that run the same SQL by hand.
///
/// Hidden: see [`BoundValue`].
#[doc(hidden)]
pub fn query_sql(backend: Backend, query: &EventQuery) -> (String, Vec<BoundValue>) {
    let (sql, binds) = store::sql_of(backend, query);
    let binds = binds
        .into_iter()
        .map(|b| match b {
            store::Bind::Text(s) => BoundValue::Text(s),
            store::Bind::Int(i) => BoundValue::Int(i),
        })
        .collect();
    (sql, binds)
}

impl<E: EventCatalog> Harness<E> {
    /// A harness on a new SQLite database (see [`sqlite`](fn@sqlite)) to which
    /// `migrate` applied the application's migrations, the audit schema's
    /// included (`my_app::schema::migrate`, or `Auditor::migrate`).
    ///
    /// # Panics
    ///
    /// When the database cannot be made or `migrate` fails.
    #[cfg(feature = "sqlite")]
    pub async fn sqlite<M, Er>(test: &str, migrate: M) -> Self
    where
        M: AsyncFnOnce(&Auditor) -> Result<(), Er>,
        Er: Display,
    {
        let auditor = sqlite(test).await;
        if let Err(e) = migrate(&auditor).await {
            panic!("migrating the SQLite test database of `{test}`: {e}");
        }
        Harness::new(auditor).await
    }

    /// One harness per available backend (see [`all`](fn@all)), each on a
    /// new database to which `migrate` applied the application's migrations.
    ///
    /// # Panics
    ///
    /// When a database cannot be made or `migrate` fails.
    pub async fn all<M, Er>(test: &str, migrate: M) -> Vec<Self>
    where
        M: AsyncFn(&Auditor) -> Result<(), Er>,
        Er: Display,
    {
        let mut harnesses = Vec::new();
        for auditor in all(test).await {
            if let Err(e) = migrate(&auditor).await {
                panic!(
                    "migrating the {} test database of `{test}`: {e}",
                    label(&auditor)
                );
            }
            harnesses.push(Harness::new(auditor).await);
        }
        harnesses
    }
}

/// `test` in lowercase ASCII letters, digits and underscores: safe in a
/// file name and in unquoted SQL.
fn plain(test: &str) -> String {
    test.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `url` with its database replaced by `name`, its query string kept.
#[cfg(feature = "postgres")]
fn database_url_for(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    // `postgres://host/db`: the server is what precedes the last `/`, unless
    // that `/` belongs to `://` (no database given).
    let server = match base.rsplit_once('/') {
        Some((server, _)) if !server.ends_with('/') && server.contains("://") => server,
        _ => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// Drops the test databases older than [`STALE_AFTER_SECS`]. Failures are
/// ignored: another run may be dropping the same database.
#[cfg(feature = "postgres")]
async fn drop_stale_databases(admin: &mut sqlx::PgConnection, now: u64) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'audit\\_t%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name
            .strip_prefix(DATABASE_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        let plain = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if plain && created.is_some_and(|created| now.saturating_sub(created) > STALE_AFTER_SECS) {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}

/// One new, empty (unmigrated) database per available backend: SQLite
/// always, then PostgreSQL when [`POSTGRES_URL_VAR`] is set (see
/// [`postgres`]).
pub async fn all(test: &str) -> Vec<Auditor> {
    let mut all = Vec::new();
    #[cfg(feature = "sqlite")]
    all.push(sqlite(test).await);
    #[cfg(feature = "postgres")]
    all.extend(postgres(test).await);
    all
}

/// `"sqlite"` or `"postgres"`, for assertion messages.
pub fn label(auditor: &Auditor) -> &'static str {
    auditor.backend().name()
}

/// A URL that opens `auditor`'s test database again, for a child process
/// (a command line under test, a worker to kill). The database goes when
/// the last clone of `auditor` does: keep one while the URL is in use.
///
/// # Panics
///
/// When the database cannot say where it is.
pub async fn database_url(auditor: &Auditor) -> String {
    crate::backend::match_backend!(auditor.pool(),
        Sqlite(pool) => {
            let file: String =
                sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_one(pool)
                    .await
                    .unwrap_or_else(|e| panic!("the SQLite test database's file: {e}"));
            format!("sqlite://{file}")
        },
        Postgres(pool) => {
            let name: String = sqlx::query_scalar("SELECT current_database()")
                .fetch_one(pool)
                .await
                .unwrap_or_else(|e| panic!("the PostgreSQL test database's name: {e}"));
            let server = std::env::var(POSTGRES_URL_VAR)
                .unwrap_or_else(|_| panic!("{POSTGRES_URL_VAR} opened this database"));
            database_url_for(&server, &name)
        },
    )
}

/// Runs `sql` (one or more statements, no parameters) on its own
/// connection from the pool, outside any audited transaction; returns the
/// rows affected. For setting up and tampering with a test database by hand.
pub async fn execute(auditor: &Auditor, sql: &str) -> Result<u64, sqlx::Error> {
    // A test's own SQL, run as written.
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    on_backend!(auditor.pool(), pool => {
        sqlx::raw_sql(sql).execute(pool).await.map(|r| r.rows_affected())
    })
}

/// The one integer (`BIGINT` on PostgreSQL) that the query `sql` returns,
/// run outside any audited transaction.
///
/// # Panics
///
/// When the query fails or does not return exactly one integer row.
pub async fn scalar(auditor: &Auditor, sql: &str) -> i64 {
    let query = sqlx::AssertSqlSafe(sql.to_owned());
    let result: Result<i64, sqlx::Error> = on_backend!(auditor.pool(), pool => {
        sqlx::query_scalar(query).fetch_one(pool).await
    });
    result.unwrap_or_else(|e| panic!("the query `{sql}` on {}: {e}", label(auditor)))
}

#[cfg(test)]
mod tests {
    use super::database_url_for;

    #[test]
    fn the_database_is_replaced_and_the_query_kept() {
        assert_eq!(
            database_url_for("postgres://u@h:5432/postgres", "t1"),
            "postgres://u@h:5432/t1"
        );
        assert_eq!(
            database_url_for("postgres://u@h/postgres?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
        assert_eq!(
            database_url_for("postgres://u@h", "t1"),
            "postgres://u@h/t1"
        );
    }
}
