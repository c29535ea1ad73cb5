//! A database made by the previous release (schema version 1, in
//! `tests/fixtures`) upgrades cleanly: a start sees it is outdated, `migrate`
//! brings it to this version once, and its events read as before.

mod support;

use audit_core::{Actor, AuditError, SCHEMA_VERSION, SchemaStatus, testing};
use support::log;

#[tokio::test]
async fn a_version_1_database_upgrades_and_keeps_its_events() {
    for auditor in testing::all("upgrade_v1").await {
        let label = testing::label(&auditor);
        let fixture = match label {
            "sqlite" => include_str!("fixtures/v1_sqlite.sql"),
            _ => include_str!("fixtures/v1_postgres.sql"),
        };
        testing::execute(&auditor, fixture).await.unwrap();
        testing::execute(&auditor, support::WIDGETS_TABLE)
            .await
            .unwrap();
        let old = log(&auditor).await;
        assert_eq!(support::codes(&old), ["note_written", "widget_created"]);

        assert_eq!(
            auditor.schema_status().await.unwrap(),
            SchemaStatus::Outdated { found: 1 },
            "{label}"
        );
        assert!(matches!(
            auditor.verify_schema().await,
            Err(AuditError::SchemaOutdated { found: 1, .. })
        ));
        auditor.migrate().await.unwrap();
        auditor.migrate().await.unwrap();
        assert_eq!(
            auditor.schema_status().await.unwrap(),
            SchemaStatus::Current,
            "{label}"
        );
        let versions = testing::scalar(&auditor, "SELECT COUNT(*) FROM audit_schema").await;
        assert_eq!(
            versions, SCHEMA_VERSION,
            "{label}: each version recorded once"
        );

        // The old events are still there, as they were, and known.
        assert_eq!(log(&auditor).await, old, "{label}");
        assert!(old.iter().all(|e| e.event.known().is_some()), "{label}");
        support::commit_widget(&auditor, Actor::system("t"), 1).await;
        let events = log(&auditor).await;
        assert_eq!(events.len(), 3, "{label}");
        assert_eq!(events[1..], old[..], "{label}");
        // On PostgreSQL the old permit, a setting, no longer opens anything.
        if label == "postgres" {
            let refused = testing::execute(
                &auditor,
                "SELECT set_config('audit.retention_permit', 'granted', false); \
                 DELETE FROM audit_events",
            )
            .await
            .unwrap_err();
            assert!(refused.to_string().contains("append-only"), "{refused}");
        }
    }
}
