//! Test databases: a fresh SQLite file, and a fresh PostgreSQL database when
//! `AUDIT_TEST_POSTGRES_URL` is set (required under `CI=true`).
#![allow(dead_code)]

use audit_core::{Auditor, Backend};
use sqlx::Connection;

/// The variable naming the PostgreSQL server used by tests.
pub const POSTGRES_VAR: &str = "AUDIT_TEST_POSTGRES_URL";

/// One auditor per available backend, each on its own new, migrated database.
pub async fn auditors(test: &str) -> Vec<Auditor> {
    let mut all = vec![sqlite(test).await];
    if let Some(pg) = postgres(test).await {
        all.push(pg);
    }
    for auditor in &all {
        example_app::schema::migrate(auditor)
            .await
            .expect("migrate");
    }
    all
}

/// A new, empty (unmigrated) SQLite database.
pub async fn sqlite(test: &str) -> Auditor {
    let dir = std::env::temp_dir().join("audit-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{test}-{}.db", uuid::Uuid::new_v4().simple()));
    Auditor::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("open SQLite")
}

/// A new, empty (unmigrated) PostgreSQL database, or `None` (with a notice)
/// when none is configured outside CI.
pub async fn postgres(test: &str) -> Option<Auditor> {
    let url = match std::env::var(POSTGRES_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{POSTGRES_VAR} must point at PostgreSQL when CI=true")
        }
        _ => {
            eprintln!("notice: {POSTGRES_VAR} is not set; skipping PostgreSQL for `{test}`");
            return None;
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let name = format!("audit_t{now}_{test}_{}", uuid::Uuid::new_v4().simple())
        .chars()
        .take(60)
        .collect::<String>()
        .to_lowercase();
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_VAR}={url}: {e}"));
    drop_stale_databases(&mut admin, now).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let (base, query) = url
        .split_once('?')
        .map_or((url.as_str(), None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(server, _)| server);
    let db_url = match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    };
    Some(Auditor::connect(&db_url).await.expect("open PostgreSQL"))
}

/// A label for assertion messages.
pub fn label(auditor: &Auditor) -> &'static str {
    match auditor.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// Test databases are left behind for inspection when a test fails; those
/// older than two hours are dropped by later runs.
async fn drop_stale_databases(admin: &mut sqlx::PgConnection, now: u64) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'audit\\_t%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name
            .strip_prefix("audit_t")
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|created| now.saturating_sub(created) > 2 * 3600) {
            // Another run may be dropping it too; either way it goes.
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}

/// Runs `sql` (one or more statements) outside any command.
pub async fn execute(auditor: &Auditor, sql: &str) -> Result<u64, sqlx::Error> {
    // The tests' own SQL.
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::raw_sql(sql).execute(pool).await.map(|r| r.rows_affected())
    })
}

/// The one integer `sql` returns.
pub async fn scalar(auditor: &Auditor, sql: &str) -> i64 {
    let query = sqlx::AssertSqlSafe(sql.to_owned());
    let result = audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::query_scalar(query).fetch_one(pool).await
    });
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}
pub mod web;
