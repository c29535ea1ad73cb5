//! audit-core with the `sqlite` feature alone: the log works, and a
//! PostgreSQL URL is refused with an error naming the missing feature.
//! (`cargo test -p audit-sqlite-only` builds exactly that; in a
//! whole-workspace build other members add `postgres`, and the URL test
//! checks the other side.)

use audit_core::store::{Backend, SchemaStatus};
use audit_core::{AuditError, Auditor};

#[tokio::test]
async fn a_sqlite_log_migrates() {
    let auditor = Auditor::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    auditor.migrate().await.expect("migrate");
    assert_eq!(
        auditor.schema_status().await.expect("status"),
        SchemaStatus::Current
    );
}

#[tokio::test]
async fn a_postgres_url_needs_the_postgres_feature() {
    let with_postgres = Backend::ALL.iter().any(|b| b.name() == "postgres");
    // Port 1 on the local host: nothing listens there.
    let result = Auditor::connect("postgres://nobody@127.0.0.1:1/none").await;
    match &result {
        Err(error @ AuditError::BackendNotEnabled { backend, url }) => {
            assert!(!with_postgres, "refused although this build has PostgreSQL");
            assert_eq!(
                (*backend, url.as_str()),
                ("postgres", "postgres://nobody@127.0.0.1:1/none")
            );
            let message = error.to_string();
            assert!(
                message.contains("enable audit-core's feature `postgres`"),
                "{message}"
            );
        }
        Err(AuditError::Database(_)) => {
            assert!(with_postgres, "a build without PostgreSQL tried to connect");
        }
        other => panic!("expected a refusal: {other:?}"),
    }
}
