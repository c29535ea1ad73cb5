//! The reference behaviour of the staff area's commands, on every backend,
//! through `audit_core::testing::Harness`: each test runs commands and
//! asserts the events they emitted, in order, and what they render to.

use crate::common;

use audit_core::events::Reference;
use audit_core::query::EventQuery;
use audit_core::testing::Harness;
use audit_core::{Actor, AuditError, auditable, on_backend};
use example_app::commands::{self, CommandError, StaffAudit, add_member};
use example_app::domain::{MembershipId, ProjectRef, Role, Roles, UserRef};
use example_app::events::{
    ProjectCreated, ProjectMemberAdded, ProjectMemberRemoved, ProjectMemberUpdatedRoles,
    StaffEvent, StaffEventType, UserCreated, UserUpdatedRoles,
};
use example_app::present::StaffResolver;
use example_app::schema;

fn roles(list: &[Role]) -> Roles {
    list.iter().copied().collect()
}

fn alice() -> Actor {
    Actor::user(1, "alice")
}

/// A harness per backend, on the staff area's schema.
async fn harnesses(test: &str) -> Vec<Harness<StaffEvent>> {
    Harness::all(test, schema::migrate).await
}

/// Project Apollo and user bob, made by a system process; later runs act
/// for alice.
async fn setup(h: &mut Harness<StaffEvent>) -> (ProjectRef, UserRef) {
    h.act_as(Actor::system("setup"));
    let made = h
        .run(async |cx| {
            let project = commands::add_project(cx, "Apollo").await?;
            let bob = commands::add_user(cx, "bob", Roles::new()).await?;
            Ok::<_, CommandError>((project, bob))
        })
        .await
        .unwrap();
    h.act_as(alice());
    made.into_value()
}

/// The events as the staff area's pages show them.
fn resolver(h: &Harness<StaffEvent>) -> StaffResolver {
    StaffResolver::new(h.auditor().clone())
}

fn added(membership: MembershipId, project: &ProjectRef, user: &UserRef) -> StaffEvent {
    ProjectMemberAdded {
        membership,
        project: project.clone(),
        user: user.clone(),
    }
    .into()
}

fn roles_changed(
    membership: MembershipId,
    project: &ProjectRef,
    user: &UserRef,
    before: Roles,
    after: Roles,
) -> StaffEvent {
    ProjectMemberUpdatedRoles {
        membership,
        project: project.clone(),
        user: user.clone(),
        before,
        after,
    }
    .into()
}

#[tokio::test]
async fn creating_a_project_and_a_user_emits_their_events() {
    for mut h in harnesses("add_project").await {
        h.act_as(alice());
        let events = h
            .run(async |cx| {
                let project = commands::add_project(cx, "Apollo").await?;
                let bob = commands::add_user(cx, "bob", roles(&[Role::OutputChecker])).await?;
                Ok::<_, CommandError>((project, bob))
            })
            .await
            .unwrap();
        let (project, bob) = events.value().clone();
        events.assert_emitted([
            StaffEvent::from(ProjectCreated {
                project: project.clone(),
            }),
            StaffEvent::from(UserCreated {
                user: bob.clone(),
                global_roles: roles(&[Role::OutputChecker]),
            }),
        ]);
        assert_eq!(
            events.rendered_with(&resolver(&h)).await,
            [
                "created project Apollo",
                "created user bob with global roles Output checker"
            ],
            "{}",
            h.label()
        );
        assert_ne!(events[0].command_id, events[1].command_id, "two commands");
        assert!(
            events
                .iter()
                .all(|e| e.actor == alice() && !e.is_imported())
        );
    }
}

#[tokio::test]
async fn adding_a_member_with_roles_writes_two_events_of_one_command() {
    for mut h in harnesses("add_member").await {
        let (apollo, bob) = setup(&mut h).await;
        let dev = roles(&[Role::ProjectDeveloper]);
        let events = h
            .run(async |cx| commands::add_member(cx, &apollo, &bob, dev.clone()).await)
            .await
            .unwrap();
        let membership = *events.value();
        events.assert_emitted([
            added(membership, &apollo, &bob),
            roles_changed(membership, &apollo, &bob, Roles::new(), dev.clone()),
        ]);
        assert_eq!(
            events.rendered_with(&resolver(&h)).await,
            [
                "added bob to Apollo",
                "changed bob's roles in Apollo from none to Project developer"
            ],
            "{}",
            h.label()
        );
        // Without lookups, a template shows what its payload holds.
        assert_eq!(events.rendered()[0], "added bob to a project");
        assert_eq!(events[0].references.subject, Some(bob.entity_ref()));
        assert_eq!(events[0].references.target, Some(membership.entity_ref()));
        for event in events.iter() {
            assert_eq!(event.command_name, "add_member");
            assert_eq!(event.command_id, events[0].command_id);
            assert_eq!(event.occurred_at, events[0].occurred_at);
            assert_eq!(event.actor, alice());
        }
    }
}

#[tokio::test]
async fn updating_roles_to_the_same_roles_still_writes_an_event() {
    for mut h in harnesses("same_roles").await {
        let (apollo, bob) = setup(&mut h).await;
        let dev = roles(&[Role::ProjectDeveloper]);
        let membership = h
            .run(async |cx| commands::add_member(cx, &apollo, &bob, dev.clone()).await)
            .await
            .unwrap()
            .into_value();
        let events = h
            .run(async |cx| commands::update_member_roles(cx, &apollo, &bob, dev.clone()).await)
            .await
            .unwrap();
        events.assert_emitted([roles_changed(
            membership,
            &apollo,
            &bob,
            dev.clone(),
            dev.clone(),
        )]);
        assert_eq!(events[0].command_name, "update_member_roles");
    }
}

#[tokio::test]
async fn removing_a_member_clears_roles_then_removes_and_keeps_both_events() {
    for mut h in harnesses("remove_member").await {
        let (apollo, bob) = setup(&mut h).await;
        let collaborator = roles(&[Role::ProjectCollaborator]);
        let membership = h
            .run(async |cx| commands::add_member(cx, &apollo, &bob, collaborator.clone()).await)
            .await
            .unwrap()
            .into_value();
        let events = h
            .run(async |cx| commands::remove_member(cx, &apollo, &bob).await)
            .await
            .unwrap();
        events.assert_emitted([
            roles_changed(membership, &apollo, &bob, collaborator, Roles::new()),
            ProjectMemberRemoved {
                membership,
                project: apollo.clone(),
                user: bob.clone(),
            }
            .into(),
        ]);
        assert_eq!(
            events.rendered_with(&resolver(&h)).await[1],
            "removed bob from Apollo"
        );
        let (cleared, removed) = (&events[0], &events[1]);
        assert_eq!(cleared.command_name, "update_member_roles", "nested");
        assert_eq!(removed.command_name, "remove_member");
        assert_eq!(removed.command_id, cleared.command_id);
        assert_eq!(removed.occurred_at, cleared.occurred_at);
        assert_eq!(
            common::scalar(h.auditor(), "SELECT COUNT(*) FROM memberships").await,
            0
        );
    }
}

#[tokio::test]
async fn adding_several_members_is_one_command() {
    for mut h in harnesses("add_members").await {
        let (apollo, bob) = setup(&mut h).await;
        let users = h
            .run(async |cx| {
                let carol = commands::add_user(cx, "carol", Roles::new()).await?;
                let dave = commands::add_user(cx, "dave", Roles::new()).await?;
                Ok::<_, CommandError>(vec![bob.clone(), carol, dave])
            })
            .await
            .unwrap()
            .into_value();
        let events = h
            .run(async |cx| commands::add_members(cx, &apollo, &users, Roles::new()).await)
            .await
            .unwrap();
        let memberships = events.value().clone();
        events.assert_emitted(
            memberships
                .iter()
                .zip(&users)
                .map(|(m, user)| added(*m, &apollo, user)),
        );
        assert_eq!(
            events.rendered_with(&resolver(&h)).await,
            [
                "added bob to Apollo",
                "added carol to Apollo",
                "added dave to Apollo"
            ]
        );
        assert!(
            events
                .iter()
                .all(|e| e.command_id == events[0].command_id && e.command_name == "add_member"),
            "{}: one outer command, its nested commands named",
            h.label()
        );
    }
}

#[tokio::test]
async fn a_failure_on_the_third_user_leaves_none_added_and_no_events() {
    for mut h in harnesses("add_members_fails").await {
        let label = h.label();
        let (apollo, bob) = setup(&mut h).await;
        let (carol, dave) = h
            .run(async |cx| {
                let carol = commands::add_user(cx, "carol", Roles::new()).await?;
                let dave = commands::add_user(cx, "dave", Roles::new()).await?;
                commands::add_member(cx, &apollo, &dave, Roles::new()).await?;
                Ok::<_, CommandError>((carol, dave))
            })
            .await
            .unwrap()
            .into_value();
        let before = common::scalar(h.auditor(), "SELECT COUNT(*) FROM memberships").await;

        // dave, the third, is a member already.
        let dev = roles(&[Role::ProjectDeveloper]);
        let err = h
            .run(async |cx| {
                commands::add_members(
                    cx,
                    &apollo,
                    &[bob.clone(), carol.clone(), dave.clone()],
                    dev,
                )
                .await
            })
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "dave is already a member of Apollo",
            "{label}"
        );
        assert_eq!(
            common::scalar(h.auditor(), "SELECT COUNT(*) FROM memberships").await,
            before,
            "{label}: bob and carol were not added"
        );
        h.new_events().await.assert_none();
    }
}

#[tokio::test]
async fn an_outer_rollback_leaves_nothing() {
    for mut h in harnesses("rollback").await {
        let (apollo, bob) = setup(&mut h).await;
        let auditor = h.auditor().clone();

        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        commands::add_project(&mut audit, "Gemini").await.unwrap();
        commands::add_member(&mut audit, &apollo, &bob, Roles::new())
            .await
            .unwrap();
        audit.rollback().await.unwrap();

        let mut audit = auditor.begin::<StaffEvent>(alice()).await.unwrap();
        commands::add_project(&mut audit, "Mercury").await.unwrap();
        drop(audit);

        h.new_events().await.assert_none();
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
    for mut h in harnesses("fail_after_emit").await {
        // Even a caller that ignores the error cannot commit the half-done command.
        let mut audit = h.auditor().begin::<StaffEvent>(alice()).await.unwrap();
        let err = create_then_fail(&mut audit, "Vostok").await.unwrap_err();
        assert!(matches!(err, CommandError::Database(_)), "{err}");
        assert_eq!(audit.pending_events(), 1);
        match audit.commit().await {
            Err(AuditError::Poisoned { reason }) => {
                assert_eq!(reason, "command `create_then_fail` returned an error")
            }
            other => panic!("{other:?}"),
        }
        // Through the harness, the command's error comes back and nothing commits.
        let err = h
            .run(async |cx| create_then_fail(cx, "Vostok").await)
            .await
            .unwrap_err();
        assert!(matches!(err, CommandError::Database(_)), "{err}");
        h.new_events().await.assert_none();
        assert_eq!(
            common::scalar(h.auditor(), "SELECT COUNT(*) FROM projects").await,
            0
        );
    }
}

#[tokio::test]
async fn a_command_without_its_required_event_fails_and_rolls_back() {
    for mut h in harnesses("missing_event").await {
        let err = h
            .run(async |cx| forgets_its_event(cx, "Soyuz").await)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "command `forgets_its_event` returned Ok without emitting its required event \
             `project_created`; the transaction will not commit"
        );
        h.new_events().await.assert_none();
        assert_eq!(
            common::scalar(h.auditor(), "SELECT COUNT(*) FROM projects").await,
            0
        );
    }
}

#[tokio::test]
async fn after_commit_effects_run_only_after_a_commit() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    for h in harnesses("after_commit").await {
        let runs = Arc::new(AtomicUsize::new(0));
        for commit in [false, true] {
            let mut audit = h.auditor().begin::<StaffEvent>(alice()).await.unwrap();
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
    for mut h in harnesses("filters").await {
        let (apollo, bob) = setup(&mut h).await;
        let checker = roles(&[Role::OutputChecker]);
        let events = h
            .run(async |cx| {
                let membership = commands::add_member(cx, &apollo, &bob, checker.clone()).await?;
                commands::update_user_roles(cx, &bob, checker.clone()).await?;
                Ok::<_, CommandError>(membership)
            })
            .await
            .unwrap();
        events.assert_codes([
            "project_member_added",
            "project_member_updated_roles",
            "user_updated_roles",
        ]);
        let membership = *events.value();

        let auditor = h.auditor().clone();
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
    for mut h in harnesses("clear_roles").await {
        h.act_as(alice());
        let bob = h
            .run(async |cx| {
                let bob = commands::add_user(cx, "bob", roles(&[Role::OutputChecker])).await?;
                for name in ["Apollo", "Gemini"] {
                    let project = commands::add_project(cx, name).await?;
                    commands::add_member(cx, &project, &bob, roles(&[Role::ProjectDeveloper]))
                        .await?;
                }
                Ok::<_, CommandError>(bob)
            })
            .await
            .unwrap()
            .into_value();

        let events = h.run(async |cx| bob.clear_roles(cx).await).await.unwrap();
        // The reference's order: the global roles first, then each membership.
        events.assert_codes([
            "user_updated_roles",
            "project_member_updated_roles",
            "project_member_updated_roles",
        ]);
        match events.known()[0] {
            StaffEvent::UserUpdatedRoles(UserUpdatedRoles { before, after, .. }) => {
                assert_eq!(
                    (before, after),
                    (&roles(&[Role::OutputChecker]), &Roles::new())
                )
            }
            other => panic!("{other:?}"),
        }
        let names: Vec<&str> = events.iter().map(|e| e.command_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "update_user_roles",
                "update_member_roles",
                "update_member_roles"
            ]
        );
        assert!(events.iter().all(|e| e.command_id == events[0].command_id));
        assert_eq!(
            common::scalar(
                h.auditor(),
                "SELECT COUNT(*) FROM memberships WHERE roles = '[]'"
            )
            .await,
            2
        );
    }
}

#[tokio::test]
async fn a_wrong_expectation_fails_with_a_diff_naming_the_field() {
    let mut h = Harness::<StaffEvent>::sqlite("diff", schema::migrate).await;
    let (apollo, bob) = setup(&mut h).await;
    let dev = roles(&[Role::ProjectDeveloper]);
    let events = h
        .run(async |cx| commands::add_member(cx, &apollo, &bob, dev.clone()).await)
        .await
        .unwrap();
    let membership = *events.value();
    let wrong = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        events.assert_emitted([
            added(membership, &apollo, &bob),
            roles_changed(membership, &apollo, &bob, Roles::new(), Roles::new()),
        ])
    }))
    .expect_err("a wrong expectation fails");
    let message = wrong.downcast_ref::<String>().expect("a formatted message");
    let id = membership.0;
    let (p, u) = (apollo.id, bob.id);
    assert_eq!(
        message,
        &format!(
            "the emitted events differ from the expected ones: 2 expected, 2 emitted \
             (- expected, + emitted):\n  \
             project_member_added {{\"membership\":{id},\"project\":{{\"id\":{p},\"name\":\"Apollo\"}},\"user\":{{\"id\":{u},\"username\":\"bob\"}}}} target=membership:{id} parent=project:{p} subject=user:{u}\n\
             - project_member_updated_roles {{\"after\":[],\"before\":[],\"membership\":{id},\"project\":{{\"id\":{p},\"name\":\"Apollo\"}},\"user\":{{\"id\":{u},\"username\":\"bob\"}}}} target=membership:{id} parent=project:{p} subject=user:{u}\n\
             + project_member_updated_roles {{\"after\":[\"ProjectDeveloper\"],\"before\":[],\"membership\":{id},\"project\":{{\"id\":{p},\"name\":\"Apollo\"}},\"user\":{{\"id\":{u},\"username\":\"bob\"}}}} target=membership:{id} parent=project:{p} subject=user:{u}\n\
             event 2 (`project_member_updated_roles`) differs:\n    \
             after: expected [], emitted [\"ProjectDeveloper\"]\n"
        )
    );
}

/// The README's example, line for line.
#[tokio::test]
async fn the_readme_example() -> Result<(), CommandError> {
    let mut harness = Harness::<StaffEvent>::sqlite("readme", schema::migrate).await;
    let (apollo, bob) = setup(&mut harness).await;
    let resolver = StaffResolver::new(harness.auditor().clone());
    let roles = Roles::new();
    let events = harness
        .run(async |cx| add_member(cx, &apollo, &bob, roles).await)
        .await?;
    events.assert_emitted([ProjectMemberAdded {
        membership: *events.value(),
        project: apollo.clone(),
        user: bob.clone(),
    }]);
    assert_eq!(
        events.rendered_with(&resolver).await,
        ["added bob to Apollo"]
    );
    let again = harness.run(async |cx| add_member(cx, &apollo, &bob, Roles::new()).await);
    assert!(again.await.is_err()); // bob is a member already
    harness.new_events().await.assert_none();
    Ok(())
}

#[tokio::test]
async fn the_commands_refuse_names_that_break_a_rule_and_trim_the_rest() {
    for mut h in harnesses("names_refused").await {
        let label = h.label();
        h.act_as(Actor::system("setup"));
        let err = h
            .run(async |cx| commands::add_user(cx, "  ", Roles::new()).await)
            .await
            .unwrap_err();
        assert!(matches!(err, CommandError::Name(_)), "{label}: {err:?}");
        assert_eq!(
            err.to_string(),
            "a username must not be empty or only whitespace"
        );
        let err = h
            .run(async |cx| commands::add_project(cx, "evil\u{202E}txt").await)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a project name must not contain bidirectional formatting characters (found U+202E)",
            "{label}"
        );
        h.new_events().await.assert_none();
        let made = h
            .run(async |cx| commands::add_project(cx, " Apollo ").await)
            .await
            .unwrap()
            .into_value();
        assert_eq!(made.name, "Apollo", "{label}");
    }
}

#[tokio::test]
async fn a_duplicate_user_or_project_has_the_same_clear_message_on_every_backend() {
    for mut h in harnesses("duplicates").await {
        let label = h.label();
        let (apollo, bob) = setup(&mut h).await;
        let err = h
            .run(async |cx| commands::add_user(cx, "bob", Roles::new()).await)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "user `bob` already exists", "{label}");
        let err = h
            .run(async |cx| commands::add_project(cx, " Apollo").await)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "project `Apollo` already exists",
            "{label}"
        );
        h.run(async |cx| add_member(cx, &apollo, &bob, Roles::new()).await)
            .await
            .unwrap();
        let err = h
            .run(async |cx| add_member(cx, &apollo, &bob, Roles::new()).await)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "bob is already a member of Apollo",
            "{label}"
        );
        h.new_events().await.assert_none();
    }
}

#[tokio::test]
async fn roles_are_stored_and_shown_in_the_order_given() {
    for mut h in harnesses("role_order").await {
        let (apollo, bob) = setup(&mut h).await;
        // Collaborator first: not the order roles are declared in.
        let given = roles(&[Role::ProjectCollaborator, Role::ProjectDeveloper]);
        let events = h
            .run(async |cx| commands::add_member(cx, &apollo, &bob, given.clone()).await)
            .await
            .unwrap();
        let membership = *events.value();
        // The events as read back from the database keep the order.
        events.assert_emitted([
            added(membership, &apollo, &bob),
            roles_changed(membership, &apollo, &bob, Roles::new(), given.clone()),
        ]);
        assert_eq!(
            events.rendered_with(&resolver(&h)).await[1],
            "changed bob's roles in Apollo from none to Project collaborator, Project developer",
            "{}",
            h.label()
        );
    }
}
