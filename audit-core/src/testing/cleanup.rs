//! Test databases removed when the test is done with them: [`TestDatabase`],
//! the guard an [`Auditor`] of [`sqlite`](super::sqlite) or
//! [`postgres`](super::postgres) owns, shared by its clones.

#[cfg(feature = "sqlite")]
use std::path::PathBuf;
use std::sync::Arc;
#[cfg(feature = "postgres")]
use std::time::Duration;

#[cfg(feature = "postgres")]
use crate::on_backend;
use crate::store::Auditor;

/// How long dropping a PostgreSQL test database may take, connecting
/// included, before the test goes on without (a later run drops it).
#[cfg(feature = "postgres")]
const DROP_TIMEOUT: Duration = Duration::from_secs(60);

/// A test database, removed when the guard is dropped, that is when the
/// last clone of its [`Auditor`] is, unless that happens while the thread
/// panics (a failed test): then it is kept, for inspection.
pub(super) enum TestDatabase {
    /// A SQLite file, removed with its `-wal` and `-shm` files.
    #[cfg(feature = "sqlite")]
    SqliteFile(PathBuf),
    /// A PostgreSQL database `name` on the server `server` (a connection
    /// string to another database there), dropped.
    #[cfg(feature = "postgres")]
    Postgres { server: String, name: String },
}

impl TestDatabase {
    /// `auditor`, which opened this database, owning it.
    pub(super) fn owned_by(self, auditor: Auditor) -> Auditor {
        auditor.owning_test_database(Arc::new(self))
    }
}

impl std::fmt::Debug for TestDatabase {
    // Without the server's connection string, which may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(feature = "sqlite")]
            TestDatabase::SqliteFile(path) => f.debug_tuple("SqliteFile").field(path).finish(),
            #[cfg(feature = "postgres")]
            TestDatabase::Postgres { name, .. } => {
                f.debug_struct("Postgres").field("name", name).finish()
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("note: the test failed; its test database {self:?} is kept for inspection");
            return;
        }
        match self {
            #[cfg(feature = "sqlite")]
            TestDatabase::SqliteFile(path) => remove_sqlite_file(path),
            #[cfg(feature = "postgres")]
            TestDatabase::Postgres { server, name } => drop_postgres_database(server, name),
        }
    }
}

/// Removes the SQLite database at `path` and its `-wal` and `-shm` files.
/// Connections the pool still closes keep what they have open (on Unix).
#[cfg(feature = "sqlite")]
fn remove_sqlite_file(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!(
                "warning: cannot remove the test database file {}: {e}",
                PathBuf::from(file).display()
            ),
        }
    }
}

/// Drops the PostgreSQL database `name` through a new connection to
/// `server`, before it returns; other sessions on it are ended (`WITH
/// (FORCE)`: pool connections not yet closed, a child process's).
///
/// A drop runs anywhere, inside a Tokio runtime too, where blocking on a
/// future is refused: the work runs on a thread of its own, on a runtime of
/// its own, and this waits for that thread. A failure is reported, not
/// raised: the database is then left to a later run's stale cleanup.
#[cfg(feature = "postgres")]
fn drop_postgres_database(server: &str, name: &str) {
    let (server, name) = (server.to_owned(), name.to_owned());
    let shown = name.clone();
    let dropped = std::thread::Builder::new()
        .name(format!("drop {name}"))
        .spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("no runtime: {e}"))?;
            runtime.block_on(async {
                let work = async {
                    let admin = Auditor::connect(&server)
                        .await
                        .map_err(|e| format!("cannot connect: {e}"))?;
                    // `name` is ours (`postgres` made it of `[a-z0-9_]`).
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    on_backend!(admin.pool(), pool => {
                        let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await;
                        pool.close().await;
                        dropped.map(|_rows| ()).map_err(|e| e.to_string())
                    })
                };
                tokio::time::timeout(DROP_TIMEOUT, work)
                    .await
                    .unwrap_or_else(|_| Err(format!("no answer in {DROP_TIMEOUT:?}")))
            })
        })
        .map_err(|e| format!("cannot start a thread: {e}"))
        .and_then(|thread| {
            thread
                .join()
                .unwrap_or_else(|_| Err("its thread panicked".to_owned()))
        });
    if let Err(e) = dropped {
        eprintln!(
            "warning: cannot drop the test database {shown}: {e} \
             (a later run drops it once it is two hours old)"
        );
    }
}
