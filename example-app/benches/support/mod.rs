//! Databases for the benches: a new SQLite file in WAL mode, and a new
//! PostgreSQL database on the server `AUDIT_TEST_POSTGRES_URL` names.
#![allow(dead_code)]

use audit_core::store::Backend;
use audit_core::{Actor, AuditError, Auditor, auditable};
use example_app::commands::{self, StaffAudit};
use example_app::domain::ProjectRef;
use example_app::events::{ProjectCreated, StaffEvent};
use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};

/// A new SQLite database file (WAL, `sync`), not migrated.
pub async fn sqlite(sync: SqliteSynchronous, label: &str) -> Auditor {
    let dir = std::env::temp_dir().join("audit-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{label}-{}.db", uuid::Uuid::new_v4().simple()));
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    Auditor::connect_sqlite(options, sync).await.unwrap()
}

/// A new PostgreSQL database, not migrated; `None` without
/// `AUDIT_TEST_POSTGRES_URL`.
pub async fn postgres() -> Option<Auditor> {
    let url = std::env::var("AUDIT_TEST_POSTGRES_URL").ok()?;
    let name = format!("audit_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Auditor::connect(&url).await.unwrap();
    // Databases of earlier bench runs go first: benches run one at a time.
    let old: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'audit\\_bench\\_%'",
    )
    .fetch_all(pg_pool(&admin))
    .await
    .unwrap();
    for name in old {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(pg_pool(&admin))
        .await
        .unwrap();
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(pg_pool(&admin))
        .await
        .unwrap();
    let base = url
        .rsplit_once('/')
        .map_or(url.as_str(), |(server, _)| server);
    Some(Auditor::connect(&format!("{base}/{name}")).await.unwrap())
}

/// The PostgreSQL pool of an auditor the bench opened on PostgreSQL.
pub fn pg_pool(auditor: &Auditor) -> &sqlx::PgPool {
    match auditor.pool() {
        audit_core::store::Pool::Postgres(pool) => pool,
        audit_core::store::Pool::Sqlite(_) => unreachable!("the bench opened PostgreSQL"),
    }
}

/// The SQLite pool of an auditor the bench opened on SQLite.
pub fn sqlite_pool(auditor: &Auditor) -> &sqlx::SqlitePool {
    match auditor.pool() {
        audit_core::store::Pool::Sqlite(pool) => pool,
        audit_core::store::Pool::Postgres(_) => unreachable!("the bench opened SQLite"),
    }
}

/// Records that `project` was created, `count` times: the log's write path
/// alone, without the application's own SQL.
#[auditable(emits(ProjectCreated))]
pub async fn record(
    cx: &mut StaffAudit,
    project: &ProjectRef,
    count: usize,
) -> Result<(), AuditError> {
    for _ in 0..count {
        cx.emit(ProjectCreated {
            project: project.clone(),
        })?;
    }
    Ok(())
}

/// A migrated database per backend (SQLite WAL with `synchronous` FULL,
/// and PostgreSQL when configured), each with a project named `label`.
pub async fn databases_with_a_project(label: &str) -> Vec<(&'static str, Auditor, ProjectRef)> {
    let mut auditors = vec![(
        "sqlite-wal-full",
        sqlite(SqliteSynchronous::Full, label).await,
    )];
    if let Some(pg) = postgres().await {
        auditors.push(("postgres", pg));
    }
    let mut setups = Vec::new();
    for (name, auditor) in auditors {
        example_app::schema::migrate(&auditor).await.unwrap();
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::system("bench"))
            .await
            .unwrap();
        let project = commands::add_project(&mut audit, label).await.unwrap();
        audit.commit().await.unwrap();
        setups.push((name, auditor, project));
    }
    setups
}

/// The whole number in environment variable `name`, else `default`; any
/// other value stops the bench, naming it.
pub fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {value:?}")),
        Err(_) => default,
    }
}

/// The median of `values` (NaN for none).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.is_empty() {
        f64::NAN
    } else if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The `p`th percentile of `values`, nearest rank (NaN for none).
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let k = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[k]
}

/// The settings that decide what the bench measures, read from the
/// database: SQLite's journal mode and `synchronous`; on PostgreSQL each of
/// `pg_settings` and whether the session uses TLS.
pub async fn conditions(auditor: &Auditor, pg_settings: &[&str]) -> String {
    match auditor.backend() {
        Backend::Sqlite => {
            let pool = sqlite_pool(auditor);
            let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(pool)
                .await
                .unwrap();
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(pool)
                .await
                .unwrap();
            let sync = ["OFF", "NORMAL", "FULL", "EXTRA"]
                .get(sync as usize)
                .copied()
                .unwrap_or("?");
            format!("journal_mode={journal}, synchronous={sync}")
        }
        Backend::Postgres => {
            let pool = pg_pool(auditor);
            let mut out = Vec::new();
            for name in pg_settings {
                let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SHOW {name}")))
                    .fetch_one(pool)
                    .await
                    .unwrap();
                out.push(format!("{name}={value}"));
            }
            let tls: Option<bool> =
                sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                    .fetch_optional(pool)
                    .await
                    .unwrap();
            out.push(format!(
                "TLS {}",
                if tls == Some(true) { "on" } else { "off" }
            ));
            out.join(", ")
        }
    }
}
