//! A database without the audit schema: every entry point names what is
//! missing, nothing commits without its events, and migrating completes it.

use audit_core::query::EventQuery;
use audit_core::store::SCHEMA_VERSION;
use audit_core::{Actor, AuditError, testing};

use crate::support::{self, CommandError, TestEvent};

fn missing(result: Result<impl std::fmt::Debug, AuditError>) -> String {
    match result {
        Err(AuditError::SchemaMissing { missing }) => missing,
        other => panic!("expected SchemaMissing, got {other:?}"),
    }
}

#[tokio::test]
async fn a_database_without_the_schema_is_named_and_commits_nothing() {
    for auditor in testing::all("no_schema").await {
        let label = testing::label(&auditor);
        assert_eq!(
            missing(auditor.verify_schema().await),
            "table `audit_schema`",
            "{label}"
        );
        let err = auditor
            .query::<TestEvent>(&EventQuery::new())
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the audit schema is missing table `audit_events`: run `Auditor::migrate` first",
            "{label}"
        );

        // The application's table exists, the audit schema does not: the
        // command's change must not commit without its event.
        testing::execute(&auditor, support::WIDGETS_TABLE)
            .await
            .unwrap();
        let mut audit = auditor
            .begin::<TestEvent>(Actor::system("t"))
            .await
            .unwrap();
        support::create_widget(&mut audit, 1).await.unwrap();
        assert_eq!(audit.pending_events(), 1);
        assert_eq!(
            missing(audit.commit().await),
            "table `audit_events`",
            "{label}"
        );
        assert_eq!(support::widgets(&auditor).await, 0, "{label}");

        auditor.migrate().await.unwrap();
        auditor.migrate().await.unwrap();
        auditor.verify_schema().await.unwrap();
        assert_eq!(
            testing::scalar(&auditor, "SELECT COUNT(*) FROM audit_schema").await,
            SCHEMA_VERSION,
            "{label}: migrating twice records each version once"
        );
        assert!(support::log(&auditor).await.is_empty(), "{label}");
        support::commit_widget(&auditor, Actor::system("t"), 1).await;
        assert_eq!(support::events(&auditor).await, 1, "{label}");
    }
}

fn damaged(result: Result<(), AuditError>) -> Vec<String> {
    match result {
        Err(AuditError::SchemaDamaged { problems }) => problems,
        other => panic!("expected SchemaDamaged, got {other:?}"),
    }
}

#[tokio::test]
async fn a_damaged_schema_is_named_migrate_leaves_it_and_a_recorded_repair_restores_it() {
    for auditor in support::databases("damaged_schema").await {
        let label = testing::label(&auditor);
        support::commit_widget(&auditor, Actor::system("t"), 1).await;

        // Lost version rows.
        testing::execute(&auditor, "DELETE FROM audit_schema")
            .await
            .unwrap();
        assert_eq!(
            damaged(auditor.verify_schema().await),
            ["no applied version is recorded in `audit_schema`"],
            "{label}"
        );
        let admin = Actor::user(1, "alice");
        let repaired = auditor.repair_schema(&admin, "restore").await.unwrap();
        assert_eq!(repaired.len(), 1, "{label}");
        auditor.verify_schema().await.unwrap();

        // A dropped events table is not silently made again by `migrate`.
        testing::execute(&auditor, "DROP TABLE audit_events")
            .await
            .unwrap();
        let problems = damaged(auditor.verify_schema().await);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("`audit_events` is missing")),
            "{label}: {problems:?}"
        );
        auditor.migrate().await.unwrap();
        assert!(
            matches!(
                auditor.verify_schema().await,
                Err(AuditError::SchemaDamaged { .. })
            ),
            "{label}"
        );
        // The repair brings it back, and the new log starts with its record.
        auditor
            .repair_schema(&admin, "table dropped")
            .await
            .unwrap();
        auditor.verify_schema().await.unwrap();
        let events = support::log(&auditor).await;
        assert_eq!(
            support::codes(&events),
            ["audit:schema_repaired"],
            "{label}"
        );
        assert_eq!(events[0].actor, admin, "{label}");
        let record = support::payload(&events[0]);
        assert_eq!(record["reason"], "table dropped", "{label}");
        assert!(
            record["problems"].to_string().contains("audit_events"),
            "{label}: {record}"
        );
        // A sound schema needs no repair and records nothing.
        assert!(
            auditor
                .repair_schema(&admin, "again")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(support::log(&auditor).await.len(), 1, "{label}");
    }
}

#[tokio::test]
async fn a_dropped_or_altered_trigger_is_named() {
    for auditor in testing::all("trigger_damage").await {
        let label = testing::label(&auditor);
        auditor.migrate().await.unwrap();
        let (drop, alter) = match label {
            "sqlite" => (
                "DROP TRIGGER audit_events_no_update",
                "DROP TRIGGER audit_events_no_delete; \
                 CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
                 WHEN 0 BEGIN SELECT 1; END",
            ),
            _ => (
                "DROP TRIGGER audit_events_no_change ON audit_events",
                "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate",
            ),
        };
        testing::execute(&auditor, drop).await.unwrap();
        let problems = damaged(auditor.verify_schema().await);
        assert_eq!(problems.len(), 1, "{label}: {problems:?}");
        assert!(problems[0].contains("is missing"), "{label}: {problems:?}");
        testing::execute(&auditor, alter).await.unwrap();
        let problems = damaged(auditor.verify_schema().await);
        assert_eq!(problems.len(), 2, "{label}: {problems:?}");
        assert!(
            problems[1].contains("altered") || problems[1].contains("disabled"),
            "{label}: {problems:?}"
        );
        auditor
            .repair_schema(&Actor::system("ops"), "triggers")
            .await
            .unwrap();
        auditor.verify_schema().await.unwrap();
        let err = testing::execute(&auditor, "UPDATE audit_events SET actor_name = 'x'")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{label}: {err}");
    }
}

#[tokio::test]
async fn older_and_newer_schema_versions_are_told_apart() {
    for auditor in testing::all("schema_versions").await {
        let label = testing::label(&auditor);
        auditor.migrate().await.unwrap();
        testing::execute(
            &auditor,
            &format!("DELETE FROM audit_schema WHERE version = {SCHEMA_VERSION}"),
        )
        .await
        .unwrap();
        match auditor.verify_schema().await {
            Err(AuditError::SchemaOutdated { found, current }) => {
                assert_eq!(
                    (found, current),
                    (SCHEMA_VERSION - 1, SCHEMA_VERSION),
                    "{label}"
                )
            }
            other => panic!("{label}: {other:?}"),
        }
        auditor.migrate().await.unwrap();
        auditor.verify_schema().await.unwrap();
        testing::execute(&auditor, "INSERT INTO audit_schema (version) VALUES (99)")
            .await
            .unwrap();
        match auditor.verify_schema().await {
            Err(AuditError::SchemaTooNew { found: 99, .. }) => {}
            other => panic!("{label}: {other:?}"),
        }
        assert!(
            matches!(
                auditor.migrate().await,
                Err(AuditError::SchemaTooNew { .. })
            ),
            "{label}"
        );
    }
}

#[tokio::test]
async fn prune_before_without_the_schema_names_what_is_missing() {
    for auditor in testing::all("prune_no_schema").await {
        let result = auditor
            .clone()
            .with_min_retention(std::time::Duration::ZERO)
            .prune_before(&Actor::system("t"), chrono::Utc::now(), "test")
            .await;
        assert!(
            matches!(result, Err(AuditError::SchemaMissing { .. })),
            "{}: {result:?}",
            testing::label(&auditor)
        );
    }
}

#[tokio::test]
async fn a_command_on_a_database_without_its_table_fails_and_commits_nothing() {
    // The reverse case: the audit schema is there, the application's table
    // is not. The command's own error poisons the transaction.
    for auditor in testing::all("no_app_table").await {
        auditor.migrate().await.unwrap();
        let mut audit = auditor
            .begin::<TestEvent>(Actor::system("t"))
            .await
            .unwrap();
        let result = support::create_widget(&mut audit, 1).await;
        assert!(
            matches!(result, Err(CommandError::Database(_))),
            "{result:?}"
        );
        assert!(matches!(
            audit.commit().await,
            Err(AuditError::Poisoned { .. })
        ));
        assert_eq!(support::events(&auditor).await, 0);
    }
}

#[tokio::test]
async fn a_log_whose_transaction_ids_are_ahead_of_the_server_is_refused() {
    // As after a `pg_dump` restore into a server whose transaction ids
    // start lower: the log holds a place for a transaction id the server
    // has not reached, which a new transaction could take.
    let Some(auditor) = testing::postgres("ids_behind").await else {
        return;
    };
    auditor.migrate().await.unwrap();
    assert_eq!(
        auditor.schema_status().await.unwrap(),
        audit_core::store::SchemaStatus::Current
    );
    testing::execute(
        &auditor,
        "INSERT INTO audit_commit_order (seq, commit_tx) \
         VALUES (nextval('audit_commit_seq'), '4000000000000'::xid8)",
    )
    .await
    .unwrap();
    let problems = match auditor.schema_status().await.unwrap() {
        audit_core::store::SchemaStatus::Damaged { problems } => problems,
        other => panic!("expected Damaged, got {other:?}"),
    };
    assert!(
        problems.iter().any(
            |p| p.contains("is not past the log's last one (4000000000000)")
                && p.contains("pg_resetwal --next-transaction-id")
        ),
        "{problems:?}"
    );
}
