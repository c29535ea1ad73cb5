//! Deterministic faults at each boundary of an audited transaction,
//! injected with failpoints: BEGIN failing, the events' INSERT failing, the
//! connection failing before COMMIT and after it (the answer lost). Each
//! leaves nothing half-written, returns a typed error, and a retry through
//! `Auditor::transact` applies the change exactly once. The failpoint
//! registry is process-wide, so this binary holds this one test.

mod common;

use audit_core::commands::RetryPolicy;
use audit_core::{Actor, AuditError, Auditor};
use example_app::commands::{self, CommandError};
use example_app::domain::{ProjectRef, Role, Roles};
use example_app::events::StaffEvent;

/// Adds a new user named `name` to `project` with a role: two commands,
/// three events.
async fn change(
    audit: &mut audit_core::Audit<StaffEvent>,
    project: &ProjectRef,
    name: &str,
) -> Result<(), CommandError> {
    let user = commands::add_user(audit, name, Roles::new()).await?;
    let roles: Roles = [Role::ProjectDeveloper].into_iter().collect();
    commands::add_member(audit, project, &user, roles).await?;
    Ok(())
}

/// How many times the change for `name` is in the tables and in the log.
async fn applied(auditor: &Auditor, name: &str) -> (i64, i64) {
    let users = common::scalar(
        auditor,
        &format!("SELECT COUNT(*) FROM users WHERE username = '{name}'"),
    )
    .await;
    let events = common::scalar(
        auditor,
        &format!(
            "SELECT COUNT(*) FROM audit_events WHERE event_type = 'user_created' \
             AND CAST(payload AS TEXT) LIKE '%\"{name}\"%'"
        ),
    )
    .await;
    (users, events)
}

async fn begin(auditor: &Auditor) -> Result<audit_core::Audit<StaffEvent>, AuditError> {
    auditor.begin::<StaffEvent>(Actor::system("faults")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_faults_at_each_boundary_leave_nothing_half_written() {
    let scenario = fail::FailScenario::setup();
    for auditor in common::auditors("failpoints").await {
        let label = common::label(&auditor);
        let mut setup = begin(&auditor).await.unwrap();
        let project = commands::add_project(&mut setup, "Apollo").await.unwrap();
        setup.commit().await.unwrap();

        // BEGIN fails: a typed error, nothing started.
        fail::cfg("audit::begin", "return").unwrap();
        let err = begin(&auditor).await.unwrap_err();
        assert!(
            matches!(err, AuditError::Database(sqlx::Error::Io(_))),
            "{label}: {err}"
        );
        fail::remove("audit::begin");

        // The events' INSERT fails: the change rolls back with it.
        fail::cfg("audit::commit::before_insert", "return").unwrap();
        let mut audit = begin(&auditor).await.unwrap();
        change(&mut audit, &project, "insert-fails").await.unwrap();
        let err = audit.commit().await.unwrap_err();
        assert!(matches!(err, AuditError::Database(_)), "{label}: {err}");
        assert_eq!(applied(&auditor, "insert-fails").await, (0, 0), "{label}");
        fail::remove("audit::commit::before_insert");

        // The connection fails before COMMIT: outcome unknown to the
        // caller, and the log says it did not commit.
        fail::cfg("audit::commit::before_commit", "return").unwrap();
        let mut audit = begin(&auditor).await.unwrap();
        change(&mut audit, &project, "lost-before").await.unwrap();
        let probe = match audit.commit().await {
            Err(AuditError::CommitOutcomeUnknown {
                probe: Some(probe), ..
            }) => probe,
            other => panic!("{label}: {other:?}"),
        };
        fail::remove("audit::commit::before_commit");
        assert!(!auditor.was_committed(&probe).await.unwrap(), "{label}");
        assert_eq!(applied(&auditor, "lost-before").await, (0, 0), "{label}");

        // The answer to COMMIT is lost after it was applied: the log says
        // it committed, so a careful caller does not apply it again.
        fail::cfg("audit::commit::reply_lost", "return").unwrap();
        let mut audit = begin(&auditor).await.unwrap();
        change(&mut audit, &project, "lost-after").await.unwrap();
        let probe = match audit.commit().await {
            Err(AuditError::CommitOutcomeUnknown {
                probe: Some(probe), ..
            }) => probe,
            other => panic!("{label}: {other:?}"),
        };
        fail::remove("audit::commit::reply_lost");
        assert!(auditor.was_committed(&probe).await.unwrap(), "{label}");
        assert_eq!(applied(&auditor, "lost-after").await, (1, 1), "{label}");

        // Through `transact`, each fault once: the change lands exactly once.
        for (point, name) in [
            ("audit::begin", "retried-begin"),
            ("audit::commit::before_insert", "retried-insert"),
            ("audit::commit::before_commit", "retried-before"),
            ("audit::commit::reply_lost", "retried-after"),
        ] {
            fail::cfg(point, "1*return").unwrap();
            let mut attempts = 0;
            auditor
                .transact::<StaffEvent, _, CommandError, _>(
                    Actor::system("faults"),
                    RetryPolicy::default(),
                    |audit| {
                        attempts += 1;
                        let (project, name) = (project.clone(), name.to_owned());
                        Box::pin(async move { change(audit, &project, &name).await })
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{label}, {point}: {e}"));
            fail::remove(point);
            assert_eq!(applied(&auditor, name).await, (1, 1), "{label}, {point}");
            // The work runs again unless the attempt failed before it
            // (BEGIN) or committed after all (the answer lost).
            let expected = match point {
                "audit::begin" | "audit::commit::reply_lost" => 1,
                _ => 2,
            };
            assert_eq!(attempts, expected, "{label}, {point}");
        }
        let findings = example_app::crash::check(&auditor).await.unwrap();
        assert!(
            findings.problems.is_empty(),
            "{label}: {:?}",
            findings.problems
        );
    }
    scenario.teardown();
}
