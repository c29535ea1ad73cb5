//! Test databases, from `audit_core::testing`: a fresh SQLite file, and a
//! fresh PostgreSQL database when `AUDIT_TEST_POSTGRES_URL` is set
//! (required under `CI=true`), each with the staff area's schema where asked.
// Each test binary uses only some of these.
#![allow(dead_code, unused_imports)]

pub use audit_core::testing::{
    POSTGRES_URL_VAR as POSTGRES_VAR, execute, label, postgres, scalar, sqlite,
};
use audit_core::{Auditor, Backend, Pool};

/// One auditor per available backend, each on its own new database with
/// the staff area's schema.
pub async fn auditors(test: &str) -> Vec<Auditor> {
    let all = audit_core::testing::all(test).await;
    for auditor in &all {
        example_app::schema::migrate(auditor)
            .await
            .unwrap_or_else(|e| panic!("migrate {}: {e}", label(auditor)));
    }
    all
}

/// The URL another process (the example app's binary) opens for
/// `auditor`'s database.
pub async fn url_of(auditor: &Auditor) -> String {
    match auditor.backend() {
        Backend::Sqlite => {
            let Pool::Sqlite(pool) = auditor.pool() else {
                unreachable!("the backend is SQLite")
            };
            let file: String =
                sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_one(pool)
                    .await
                    .unwrap();
            format!("sqlite://{file}")
        }
        Backend::Postgres => {
            let Pool::Postgres(pool) = auditor.pool() else {
                unreachable!("the backend is PostgreSQL")
            };
            let name: String = sqlx::query_scalar("SELECT current_database()")
                .fetch_one(pool)
                .await
                .unwrap();
            let server = std::env::var(POSTGRES_VAR).unwrap();
            let base = server.rsplit_once('/').map_or(server.as_str(), |(s, _)| s);
            format!("{base}/{name}")
        }
    }
}

pub mod web;
