//! The reference behaviour of the staff area's commands, on every backend.

mod common;

use audit_core::{
    Actor, AuditError, Auditor, Decoded, EntityRef, EventQuery, Reference, StoredEvent, auditable,
    on_backend,
};
use example_app::commands::{self, CommandError, StaffAudit};
use example_app::domain::{ProjectRef, Role, Roles, UserRef};
use example_app::events::{ProjectCreated, StaffEvent, StaffEventType};

fn roles(list: &[Role]) -> Roles {
    list.iter().copied().collect()
}

fn alice() -> Actor {
    Actor::user(1, "alice")
}

async fn setup(auditor: &Auditor) -> (ProjectRef, UserRef) {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("setup"))
        .await
        .unwrap();
    let project = commands::add_project(&mut audit, "Apollo").await.unwrap();
    let bob = commands::add_user(&mut audit, "bob", Roles::new())
        .await
        .unwrap();
    audit.commit().await.unwrap();
    (project, bob)
}

async fn project_log(auditor: &Auditor, project: &ProjectRef) -> Vec<StoredEvent<StaffEvent>> {
    let page = auditor
        .query::<StaffEvent>(&EventQuery::new().parent(project.entity_ref()).limit(100))
        .await
        .unwrap();
    page.events
}

fn code(event: &StoredEvent<StaffEvent>) -> &str {
    event.event.code()
}

#[tokio::test]
async fn adding_a_member_with_roles_writes_two_events_of_one_command() {
    for auditor in common::auditors("add_member").await {
        let (project, bob) = setup(&auditor).await;
        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        commands::add_member(&mut audit, &project, &bob, roles(&[Role::ProjectDeveloper]))
            .await
            .unwrap();
        audit.commit().await.unwrap();

        let log = project_log(&auditor, &project).await;
        let codes: Vec<&str> = log.iter().map(code).collect();
        assert_eq!(
            codes,
            [
                "project_member_updated_roles",
                "project_member_added",
                "project_created"
            ],
            "{}",
            common::label(&auditor)
        );
        let (roles_event, added) = (&log[0], &log[1]);
        assert_eq!(roles_event.command_id, added.command_id);
        assert_eq!(roles_event.occurred_at, added.occurred_at);
        assert_eq!(added.command_name, "add_member");
        assert_eq!(added.actor, alice());
        assert_eq!(
            added.references.subject,
            Some(EntityRef::new("user", bob.id.to_string()))
        );
        assert_ne!(log[2].command_id, added.command_id, "a separate command");
        assert_eq!(log[2].actor, Actor::system("setup"));
        match &roles_event.event {
            Decoded::Known(StaffEvent::ProjectMemberUpdatedRoles(e)) => {
                assert_eq!(e.before, Roles::new());
                assert_eq!(e.after, roles(&[Role::ProjectDeveloper]));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn updating_roles_to_the_same_roles_still_writes_an_event() {
    for auditor in common::auditors("same_roles").await {
        let (project, bob) = setup(&auditor).await;
        let dev = roles(&[Role::ProjectDeveloper]);
        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        commands::add_member(&mut audit, &project, &bob, dev.clone())
            .await
            .unwrap();
        commands::update_member_roles(&mut audit, &project, &bob, dev.clone())
            .await
            .unwrap();
        audit.commit().await.unwrap();

        let log = project_log(&auditor, &project).await;
        assert_eq!(code(&log[0]), "project_member_updated_roles");
        assert_eq!(log[0].command_name, "update_member_roles");
        match &log[0].event {
            Decoded::Known(StaffEvent::ProjectMemberUpdatedRoles(e)) => {
                assert_eq!((&e.before, &e.after), (&dev, &dev))
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn removing_a_member_clears_roles_then_removes_and_keeps_both_events() {
    for auditor in common::auditors("remove_member").await {
        let (project, bob) = setup(&auditor).await;
        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        commands::add_member(
            &mut audit,
            &project,
            &bob,
            roles(&[Role::ProjectCollaborator]),
        )
        .await
        .unwrap();
        audit.commit().await.unwrap();

        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        commands::remove_member(&mut audit, &project, &bob)
            .await
            .unwrap();
        audit.commit().await.unwrap();

        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM memberships").await,
            0
        );
        let log = project_log(&auditor, &project).await;
        let codes: Vec<&str> = log.iter().take(2).map(code).collect();
        assert_eq!(
            codes,
            ["project_member_removed", "project_member_updated_roles"]
        );
        let (removed, cleared) = (&log[0], &log[1]);
        assert!(removed.id > cleared.id, "cleared first, then removed");
        assert_eq!(removed.command_name, "remove_member");
        assert_eq!(
            cleared.command_name, "update_member_roles",
            "the nested command"
        );
        assert_eq!(removed.command_id, cleared.command_id);
        assert_eq!(removed.occurred_at, cleared.occurred_at);
        match &cleared.event {
            Decoded::Known(StaffEvent::ProjectMemberUpdatedRoles(e)) => assert!(e.after.is_empty()),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn an_outer_rollback_leaves_nothing() {
    for auditor in common::auditors("rollback").await {
        let (project, bob) = setup(&auditor).await;
        let before = common::scalar(&auditor, "SELECT COUNT(*) FROM audit_events").await;

        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        commands::add_project(&mut audit, "Gemini").await.unwrap();
        commands::add_member(&mut audit, &project, &bob, Roles::new())
            .await
            .unwrap();
        audit.rollback().await.unwrap();

        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        commands::add_project(&mut audit, "Mercury").await.unwrap();
        drop(audit);

        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM audit_events").await,
            before
        );
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM projects").await,
            1
        );
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM memberships").await,
            0
        );
    }
}

/// Creates a project, emits its event, then fails in its own SQL.
#[auditable(emits(ProjectCreated))]
async fn create_then_fail(cx: &mut StaffAudit, name: &str) -> Result<(), CommandError> {
    let project = ProjectRef {
        id: 999,
        name: name.to_owned(),
    };
    on_backend!(cx.db(), conn => {
        sqlx::query("INSERT INTO projects (name) VALUES ($1)").bind(name).execute(conn).await?.rows_affected()
    });
    cx.emit(ProjectCreated { project })?;
    on_backend!(cx.db(), conn => {
        sqlx::query("INSERT INTO projects (name) VALUES ($1)").bind(name).execute(conn).await?.rows_affected()
    });
    Ok(())
}

/// Declares a required event and returns Ok without it. It names the event,
/// so `#[auditable]` cannot see at compile time that it never emits it: the
/// run-time check must.
#[auditable(emits(ProjectCreated))]
async fn forgets_its_event(cx: &mut StaffAudit, name: &str) -> Result<(), CommandError> {
    on_backend!(cx.db(), conn => {
        sqlx::query("INSERT INTO projects (name) VALUES ($1)").bind(name).execute(conn).await?.rows_affected()
    });
    if name.is_empty() {
        let project = ProjectRef {
            id: 0,
            name: String::new(),
        };
        cx.emit(ProjectCreated { project })?;
    }
    Ok(())
}

#[tokio::test]
async fn a_failure_after_an_emit_leaves_nothing() {
    for auditor in common::auditors("fail_after_emit").await {
        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        let err = create_then_fail(&mut audit, "Vostok").await.unwrap_err();
        assert!(matches!(err, CommandError::Database(_)), "{err}");
        assert_eq!(audit.pending_events(), 1);
        // Even a caller that ignores the error cannot commit the half-done command.
        match audit.commit().await {
            Err(AuditError::Poisoned { reason }) => {
                assert_eq!(reason, "command `create_then_fail` returned an error")
            }
            other => panic!("{other:?}"),
        }
        // Id 0 is the log's anchor, not an event.
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM audit_events WHERE id > 0").await,
            0
        );
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM projects").await,
            0
        );
    }
}

#[tokio::test]
async fn a_command_without_its_required_event_fails_and_rolls_back() {
    for auditor in common::auditors("missing_event").await {
        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        let err = forgets_its_event(&mut audit, "Soyuz").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "command `forgets_its_event` returned Ok without emitting its required event \
             `project_created`; the transaction will not commit"
        );
        assert!(matches!(
            audit.commit().await,
            Err(AuditError::Poisoned { .. })
        ));
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM projects").await,
            0
        );
    }
}

#[tokio::test]
async fn after_commit_effects_run_only_after_a_commit() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    for auditor in common::auditors("after_commit").await {
        let runs = Arc::new(AtomicUsize::new(0));
        for commit in [false, true] {
            let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
            commands::add_project(&mut audit, &format!("P{commit}"))
                .await
                .unwrap();
            let counter = runs.clone();
            audit.after_commit(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            });
            assert_eq!(runs.load(Ordering::SeqCst), 0);
            if commit {
                audit.commit().await.unwrap();
            } else {
                audit.rollback().await.unwrap();
            }
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn queries_filter_by_type_actor_subject_and_target() {
    for auditor in common::auditors("filters").await {
        let (project, bob) = setup(&auditor).await;
        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        let membership =
            commands::add_member(&mut audit, &project, &bob, roles(&[Role::OutputChecker]))
                .await
                .unwrap();
        commands::update_user_roles(&mut audit, &bob, roles(&[Role::OutputChecker]))
            .await
            .unwrap();
        audit.commit().await.unwrap();

        let q = |query: EventQuery| {
            let auditor = auditor.clone();
            async move {
                let page = auditor.query::<StaffEvent>(&query.limit(50)).await.unwrap();
                page.events
                    .iter()
                    .map(|e| e.event.code().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            q(EventQuery::new().types([StaffEventType::ProjectCreated.code()])).await,
            ["project_created"]
        );
        assert_eq!(
            q(EventQuery::new().actor(&alice())).await,
            [
                "user_updated_roles",
                "project_member_updated_roles",
                "project_member_added"
            ]
        );
        assert_eq!(
            q(EventQuery::new()
                .subject(bob.entity_ref())
                .types(["user_updated_roles"]))
            .await,
            ["user_updated_roles"]
        );
        assert_eq!(
            q(EventQuery::new().target(membership.entity_ref())).await,
            ["project_member_updated_roles", "project_member_added"]
        );
        assert!(
            q(EventQuery::new().actor(&Actor::user(2, "bob")))
                .await
                .is_empty()
        );
        let future = chrono::Utc::now() + chrono::Duration::hours(1);
        assert!(q(EventQuery::new().since(future)).await.is_empty());
        assert_eq!(q(EventQuery::new().until(future)).await.len(), 5);
    }
}

#[tokio::test]
async fn clearing_a_users_roles_runs_nested_commands_under_one_command_id() {
    for auditor in common::auditors("clear_roles").await {
        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        let bob = commands::add_user(&mut audit, "bob", roles(&[Role::OutputChecker]))
            .await
            .unwrap();
        for name in ["Apollo", "Gemini"] {
            let project = commands::add_project(&mut audit, name).await.unwrap();
            commands::add_member(&mut audit, &project, &bob, roles(&[Role::ProjectDeveloper]))
                .await
                .unwrap();
        }
        audit.commit().await.unwrap();

        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        bob.clear_roles(&mut audit).await.unwrap();
        audit.commit().await.unwrap();

        let page = auditor
            .query::<StaffEvent>(&EventQuery::new().subject(bob.entity_ref()).limit(3))
            .await
            .unwrap();
        let names: Vec<&str> = page
            .events
            .iter()
            .map(|e| e.command_name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "update_user_roles",
                "update_member_roles",
                "update_member_roles"
            ]
        );
        assert!(
            page.events
                .iter()
                .all(|e| e.command_id == page.events[0].command_id)
        );
        assert_eq!(
            common::scalar(
                &auditor,
                "SELECT COUNT(*) FROM memberships WHERE roles = '[]'"
            )
            .await,
            2
        );
    }
}
