//! What a start of the command line does with the database: it only reads
//! the schema's state (no DDL, no lock a reader could hold up), and it
//! refuses a damaged schema, naming the command that repairs it.

use crate::common;

use std::time::Duration;

use audit_core::store::Pool;
use sqlx::Connection;

#[tokio::test]
async fn a_start_does_not_wait_for_a_reader_of_a_protected_table() {
    let Some(auditor) = common::postgres("start_reader").await else {
        return;
    };
    example_app::schema::migrate(&auditor).await.unwrap();
    let url = audit_core::testing::database_url(&auditor).await;
    // A reader that stays inside its transaction, holding its lock on
    // `memberships` (a report, a stuck session).
    let mut reader = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut reading = reader.begin().await.unwrap();
    sqlx::query("SELECT COUNT(*) FROM memberships")
        .execute(&mut *reading)
        .await
        .unwrap();
    // Re-creating the table's triggers at start would wait for the reader
    // forever; a start that only reads the catalog does not. The bound
    // only tells a hang from an answer.
    let started = tokio::time::timeout(Duration::from_secs(60), common::cli(&url, &["log"])).await;
    let output = started.expect("the start waited for the reader's lock");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    reading.rollback().await.unwrap();
}

#[tokio::test]
async fn a_damaged_schema_is_refused_until_a_recorded_repair() {
    for auditor in common::auditors("start_damaged").await {
        let label = common::label(&auditor);
        let url = audit_core::testing::database_url(&auditor).await;
        let drop = match auditor.pool() {
            Pool::Sqlite(_) => "DROP TRIGGER audit_events_no_update",
            Pool::Postgres(_) => "DROP TRIGGER audit_required ON memberships",
        };
        common::execute(&auditor, drop).await.unwrap();

        let refused = common::cli(&url, &["log"]).await;
        assert!(!refused.status.success(), "{label}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("damaged") && stderr.contains("example-app repair-schema"),
            "{label}: {stderr}"
        );
        // A change is refused too, before it starts.
        let change = common::cli(&url, &["add-project", "Apollo"]).await;
        assert!(!change.status.success(), "{label}");

        let repair = common::cli(
            &url,
            &["repair-schema", "--reason", "trigger dropped by hand"],
        )
        .await;
        assert!(
            repair.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&repair.stderr)
        );
        let log = common::cli(&url, &["log", "--json"]).await;
        assert!(log.status.success(), "{label}");
        let stdout = String::from_utf8_lossy(&log.stdout);
        assert!(
            stdout.contains("audit:schema_repaired") && stdout.contains("trigger dropped by hand"),
            "{label}: {stdout}"
        );
        // The text log reads the library's record as a sentence.
        let text = common::cli(&url, &["log"]).await;
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.contains("repaired the audit schema: ")
                && text.contains("(reason: trigger dropped by hand)")
                && !text.contains("cannot show"),
            "{label}: {text}"
        );
        assert!(
            common::cli(&url, &["add-project", "Apollo"])
                .await
                .status
                .success()
        );
    }
}

#[tokio::test]
async fn a_database_whose_whole_log_was_dropped_is_not_started_on() {
    for auditor in common::auditors("start_log_dropped").await {
        let label = common::label(&auditor);
        let url = audit_core::testing::database_url(&auditor).await;
        let drop = match auditor.pool() {
            Pool::Sqlite(_) => {
                "DROP TABLE audit_events; DROP TABLE audit_schema; \
                 DROP TABLE audit_retention_permit; DROP TABLE audit_log_identity; \
                 DROP TABLE audit_seals; DROP TABLE audit_seal_entries; \
                 DROP TABLE audit_import_keys; DROP TABLE audit_settings; \
                 DROP TABLE audit_erasure_permit"
            }
            Pool::Postgres(_) => {
                "DROP TABLE audit_events, audit_schema, audit_retention_permit, \
                 audit_log_identity, audit_protected_tables, audit_seals, \
                 audit_seal_entries, audit_import_keys, audit_settings, audit_commit_order, \
                 audit_commit_clock, audit_erasure_permit CASCADE; \
                 DROP SEQUENCE audit_commit_seq; \
                 DROP FUNCTION audit_events_append_only, audit_require_event, \
                 audit_refuse_truncate, audit_prune_batch, audit_seal_append_only, \
                 audit_own_records, audit_import_batch, audit_stamp_commit CASCADE"
            }
        };
        common::execute(&auditor, drop).await.unwrap();
        let refused = common::cli(&url, &["log"]).await;
        assert!(!refused.status.success(), "{label}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("no audit log") && stderr.contains("example-app migrate"),
            "{label}: {stderr}"
        );
    }
}
