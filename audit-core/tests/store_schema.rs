//! A database without the audit schema: every entry point names what is
//! missing, nothing commits without its events, and migrating completes it.

mod support;

use audit_core::{Actor, AuditError, EventQuery, SCHEMA_VERSION, testing};
use support::{CommandError, TestEvent};

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
            1,
            "{label}: migrating twice records the version once"
        );
        assert!(support::log(&auditor).await.is_empty(), "{label}");
        support::commit_widget(&auditor, Actor::system("t"), 1).await;
        assert_eq!(support::events(&auditor).await, 1, "{label}");
    }
}

#[tokio::test]
async fn verify_schema_names_a_missing_events_table_and_an_old_version() {
    for auditor in testing::all("partial_schema").await {
        let label = testing::label(&auditor);
        auditor.migrate().await.unwrap();
        testing::execute(&auditor, "DELETE FROM audit_schema")
            .await
            .unwrap();
        assert_eq!(
            missing(auditor.verify_schema().await),
            format!("schema version {SCHEMA_VERSION} in table `audit_schema`"),
            "{label}"
        );
        auditor.migrate().await.unwrap();
        auditor.verify_schema().await.unwrap();

        testing::execute(&auditor, "DROP TABLE audit_events")
            .await
            .unwrap();
        assert_eq!(
            missing(auditor.verify_schema().await),
            "table `audit_events`",
            "{label}"
        );
        auditor.migrate().await.unwrap();
        auditor.verify_schema().await.unwrap();
        assert!(support::log(&auditor).await.is_empty(), "{label}");
    }
}

#[tokio::test]
async fn prune_before_without_the_schema_names_what_is_missing() {
    for auditor in testing::all("prune_no_schema").await {
        let result = auditor
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
