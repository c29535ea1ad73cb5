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
    let name = format!("audit_{}_{}", test, uuid::Uuid::new_v4().simple())
        .chars()
        .take(60)
        .collect::<String>()
        .to_lowercase();
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_VAR}={url}: {e}"));
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
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
