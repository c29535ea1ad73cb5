//! The event store's guarantees, on every backend: append-only, typed errors
//! for bad input, unknown rows, and many concurrent commands.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use audit_core::{
    Actor, AuditError, Auditor, Backend, Decoded, EventQuery, MAX_PAYLOAD_BYTES, Reference,
    UnknownReason, auditable,
};
use example_app::commands::{self, CommandError, StaffAudit};
use example_app::domain::{ProjectRef, Role, Roles};
use example_app::events::{ProjectCreated, StaffEvent};

async fn one_event(auditor: &Auditor) {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("test"))
        .await
        .unwrap();
    commands::add_project(&mut audit, "Apollo").await.unwrap();
    audit.commit().await.unwrap();
}

#[tokio::test]
async fn raw_update_delete_and_truncate_of_events_fail() {
    for auditor in common::auditors("append_only").await {
        one_event(&auditor).await;
        let mut statements = vec![
            "UPDATE audit_events SET actor_name = 'mallory'",
            "DELETE FROM audit_events",
        ];
        if auditor.backend() == Backend::Sqlite {
            // REPLACE deletes the old row without firing delete triggers.
            statements.push(
                "INSERT OR REPLACE INTO audit_events (id, occurred_at, event_type, payload_version, \
                 actor_kind, actor_id, actor_name, command_name, command_id, payload) \
                 SELECT id, 0, 'forged', 1, 'user', 'm', 'mallory', 'x', 'x', '{}' FROM audit_events",
            );
        }
        if auditor.backend() == Backend::Postgres {
            statements.push("TRUNCATE audit_events");
        }
        for sql in statements {
            let err = common::execute(&auditor, sql).await.expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        let page = auditor
            .query::<StaffEvent>(&EventQuery::new())
            .await
            .unwrap();
        assert_eq!(page.events.len(), 1);
        assert_eq!(page.events[0].actor, Actor::system("test"));
    }
}

#[tokio::test]
async fn a_database_without_the_schema_is_named_in_the_error() {
    let mut auditors = vec![common::sqlite("no_schema").await];
    auditors.extend(common::postgres("no_schema").await);
    for auditor in auditors {
        match auditor.verify_schema().await {
            Err(AuditError::SchemaMissing { missing }) => {
                assert_eq!(missing, "table `audit_schema`")
            }
            other => panic!("{other:?}"),
        }
        let err = auditor
            .query::<StaffEvent>(&EventQuery::new())
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the audit schema is missing table `audit_events`: run `Auditor::migrate` first"
        );
        // Application tables exist, the audit schema does not: the command's
        // change must not commit without its event.
        common::execute(&auditor, "CREATE TABLE projects (id BIGINT, name TEXT)")
            .await
            .unwrap();
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::system("t"))
            .await
            .unwrap();
        let project = ProjectRef {
            id: 1,
            name: "x".into(),
        };
        emit_project(&mut audit, project).await.unwrap();
        assert!(matches!(
            audit.commit().await,
            Err(AuditError::SchemaMissing { .. })
        ));

        auditor.migrate().await.unwrap();
        auditor.migrate().await.unwrap();
        auditor.verify_schema().await.unwrap();
    }
}

/// Emits a project-created event for a project it does not create.
#[auditable(emits(ProjectCreated))]
async fn emit_project(cx: &mut StaffAudit, project: ProjectRef) -> Result<(), CommandError> {
    cx.emit(ProjectCreated { project })?;
    Ok(())
}

#[tokio::test]
async fn an_oversized_payload_is_refused_and_nothing_is_written() {
    for auditor in common::auditors("too_large").await {
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::system("t"))
            .await
            .unwrap();
        let project = ProjectRef {
            id: 1,
            name: "x".repeat(MAX_PAYLOAD_BYTES),
        };
        match emit_project(&mut audit, project).await {
            Err(CommandError::Audit(AuditError::PayloadTooLarge { event, size, limit })) => {
                assert_eq!(event, "project_created");
                assert!(size > limit && limit == MAX_PAYLOAD_BYTES);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(audit.pending_events(), 0);
        assert!(audit.commit().await.is_err());
        let page = auditor
            .query::<StaffEvent>(&EventQuery::new())
            .await
            .unwrap();
        assert!(page.events.is_empty());
    }
}

#[tokio::test]
async fn rows_this_program_does_not_understand_are_returned_as_unknown() {
    for auditor in common::auditors("unknown_rows").await {
        one_event(&auditor).await;
        // Rows as another program might have written them.
        common::execute(
            &auditor,
            "INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, \
             actor_id, actor_name, command_name, command_id, payload) VALUES \
             (1, 'project_archived', 1, 'user', '9', 'eve', 'archive', 'c1', '{\"id\": 1}'), \
             (2, 'project_created', 7, 'user', '9', 'eve', 'create', 'c2', '{}'), \
             (3, 'project_created', 1, 'system', 'job', 'job', 'create', 'c3', '{\"project\": 5}')",
        )
        .await
        .unwrap();
        let page = auditor
            .query::<StaffEvent>(&EventQuery::new())
            .await
            .unwrap();
        let reasons: Vec<String> = page
            .events
            .iter()
            .map(|e| match &e.event {
                Decoded::Known(_) => "known".to_owned(),
                Decoded::Unknown(u) => u.reason.to_string(),
            })
            .collect();
        assert_eq!(
            reasons[0].split(':').next(),
            Some("its payload does not match the declared fields")
        );
        assert_eq!(
            reasons[1],
            UnknownReason::NewerVersion {
                stored: 7,
                supported: 1
            }
            .to_string()
        );
        assert_eq!(reasons[2], UnknownReason::UnknownCode.to_string());
        assert_eq!(reasons[3], "known");
        match &page.events[2].event {
            Decoded::Unknown(u) => {
                assert_eq!((u.code.as_str(), u.version), ("project_archived", 1));
                assert!(u.raw.contains("\"id\""), "{}", u.raw);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(page.events[2].actor, Actor::user(9, "eve"));
    }
}

#[tokio::test]
async fn a_bad_cursor_is_a_typed_error() {
    for bad in ["", "zzz", "b", "b-5", "1 OR 1=1"] {
        assert!(matches!(
            bad.parse::<audit_core::Cursor>(),
            Err(AuditError::InvalidCursor(_))
        ));
    }
}

const TASKS: usize = 8;
const COMMANDS_PER_TASK: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_keep_exactly_their_events() {
    for auditor in common::auditors("concurrency").await {
        let mut setup = auditor
            .begin::<StaffEvent>(Actor::system("setup"))
            .await
            .unwrap();
        let mut users = Vec::new();
        for task in 0..TASKS {
            users.push(
                commands::add_user(&mut setup, &format!("user{task}"), Roles::new())
                    .await
                    .unwrap(),
            );
        }
        setup.commit().await.unwrap();

        let mut handles = Vec::new();
        for (task, user) in users.into_iter().enumerate() {
            let auditor = auditor.clone();
            handles.push(tokio::spawn(async move {
                let mut committed = Vec::new();
                for i in 0..COMMANDS_PER_TASK {
                    let mut audit = auditor
                        .begin::<StaffEvent>(Actor::user(user.id, &user.username))
                        .await
                        .unwrap();
                    let project = commands::add_project(&mut audit, &format!("p-{task}-{i}"))
                        .await
                        .unwrap();
                    let roles: Roles = [Role::ProjectDeveloper].into_iter().collect();
                    commands::add_member(&mut audit, &project, &user, roles)
                        .await
                        .unwrap();
                    // Every fifth transaction rolls back: none of its events may appear.
                    if i % 5 == 4 {
                        audit.rollback().await.unwrap();
                    } else {
                        audit.commit().await.unwrap();
                        committed.push(project);
                    }
                }
                committed
            }));
        }
        let mut committed = Vec::new();
        for handle in handles {
            committed.extend(handle.await.unwrap());
        }
        assert_eq!(committed.len(), TASKS * COMMANDS_PER_TASK * 4 / 5);

        // Page through the whole log with the cursor.
        let mut seen = BTreeSet::new();
        let mut by_parent: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut query = EventQuery::new().limit(97);
        let mut pages = 0;
        loop {
            let page = auditor.query::<StaffEvent>(&query).await.unwrap();
            pages += 1;
            for e in &page.events {
                assert!(seen.insert(e.id), "event {} returned twice", e.id);
                assert!(matches!(e.event, Decoded::Known(_)));
                if let Some(parent) = &e.references.parent {
                    by_parent
                        .entry(parent.id.clone())
                        .or_default()
                        .push((e.event.code().to_owned(), e.command_id.clone()));
                }
            }
            match page.next {
                Some(cursor) => {
                    query = EventQuery::new()
                        .limit(97)
                        .cursor(cursor.to_string().parse().unwrap())
                }
                None => break,
            }
        }
        // Three per committed iteration, plus each task's user_created.
        let expected_events = committed.len() * 3 + TASKS;
        assert_eq!(seen.len(), expected_events, "{}", common::label(&auditor));
        assert_eq!(pages, expected_events.div_ceil(97));
        assert_eq!(
            by_parent.len(),
            committed.len(),
            "no event of a rolled-back command"
        );
        for project in &committed {
            let events = &by_parent[&project.entity_ref().id];
            let mut codes: Vec<&str> = events.iter().map(|(c, _)| c.as_str()).collect();
            codes.sort();
            assert_eq!(
                codes,
                [
                    "project_created",
                    "project_member_added",
                    "project_member_updated_roles"
                ],
                "project {}",
                project.name
            );
            // add_member's two events share one command id, distinct from add_project's.
            let member_ids: BTreeSet<&str> = events
                .iter()
                .filter(|(c, _)| c != "project_created")
                .map(|(_, id)| id.as_str())
                .collect();
            assert_eq!(member_ids.len(), 1);
        }
    }
}

#[tokio::test]
async fn pruning_is_the_one_audited_way_to_delete_events() {
    for auditor in common::auditors("retention").await {
        one_event(&auditor).await;
        one_event_named(&auditor, "Gemini").await;
        let admin = Actor::user(1, "alice");
        let nothing = auditor
            .prune_before(
                &admin,
                chrono::Utc::now() - chrono::Duration::days(1),
                "test",
            )
            .await
            .unwrap();
        assert_eq!(nothing, 0);
        let deleted = auditor
            .prune_before(
                &admin,
                chrono::Utc::now() + chrono::Duration::seconds(1),
                "retention policy",
            )
            .await
            .unwrap();
        assert_eq!(deleted, 3, "two projects and the first prune's own record");

        let page = auditor
            .query::<StaffEvent>(&EventQuery::new())
            .await
            .unwrap();
        assert_eq!(page.events.len(), 1, "{}", common::label(&auditor));
        let record = &page.events[0];
        assert_eq!(record.actor, admin);
        assert_eq!(record.command_name, "prune_before");
        match &record.event {
            Decoded::Unknown(u) => {
                assert_eq!(u.code, audit_core::PRUNED_EVENT_CODE);
                let payload: serde_json::Value = serde_json::from_str(&u.raw).unwrap();
                assert_eq!(payload["deleted"], 3);
                assert_eq!(payload["reason"], "retention policy");
            }
            other => panic!("{other:?}"),
        }
        // The permit does not outlive the prune.
        let err = common::execute(&auditor, "DELETE FROM audit_events")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
}

async fn one_event_named(auditor: &Auditor, name: &str) {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("test"))
        .await
        .unwrap();
    commands::add_project(&mut audit, name).await.unwrap();
    audit.commit().await.unwrap();
}

#[tokio::test]
async fn a_connection_lost_mid_command_leaves_nothing() {
    let Some(auditor) = common::postgres("conn_lost").await else {
        return;
    };
    example_app::schema::migrate(&auditor).await.unwrap();
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("t"))
        .await
        .unwrap();
    let result = lose_connection(&mut audit).await;
    assert!(
        matches!(result, Err(CommandError::Database(_))),
        "{result:?}"
    );
    assert!(audit.commit().await.is_err());
    let page = auditor
        .query::<StaffEvent>(&EventQuery::new())
        .await
        .unwrap();
    assert!(page.events.is_empty());
    let projects = common::scalar(&auditor, "SELECT COUNT(*) FROM projects").await;
    assert_eq!(projects, 0);
}

/// Creates a project and emits its event, then its connection dies.
#[auditable(emits(ProjectCreated))]
async fn lose_connection(cx: &mut StaffAudit) -> Result<(), CommandError> {
    let project = commands::add_project(cx, "Lost").await?;
    let audit_core::Db::Postgres(conn) = cx.db() else {
        unreachable!("PostgreSQL only")
    };
    // Ends this connection's server process, as a network failure would.
    let _ = sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())")
        .execute(&mut *conn)
        .await;
    sqlx::query("SELECT 1").execute(&mut *conn).await?;
    cx.emit(ProjectCreated { project })?;
    Ok(())
}

/// Ignores a failed emit and returns Ok.
#[auditable(emits(ProjectCreated))]
async fn ignore_failed_emit(cx: &mut StaffAudit, name: String) -> Result<(), CommandError> {
    let _ = cx.emit(ProjectCreated {
        project: ProjectRef { id: 1, name },
    });
    cx.emit(ProjectCreated {
        project: ProjectRef {
            id: 2,
            name: "fine".into(),
        },
    })?;
    Ok(())
}

#[tokio::test]
async fn a_failed_emit_fails_the_transaction_even_when_ignored() {
    for auditor in common::auditors("ignored_emit").await {
        for bad in ["x".repeat(MAX_PAYLOAD_BYTES), "nul \0 inside".to_owned()] {
            let mut audit = auditor
                .begin::<StaffEvent>(Actor::system("t"))
                .await
                .unwrap();
            ignore_failed_emit(&mut audit, bad).await.unwrap();
            match audit.commit().await {
                Err(AuditError::Poisoned { reason }) => {
                    assert!(
                        reason.starts_with(
                            "command `ignore_failed_emit`: the payload of event `project_created`"
                        ),
                        "{reason}"
                    )
                }
                other => panic!("{other:?}"),
            }
        }
        let page = auditor
            .query::<StaffEvent>(&EventQuery::new())
            .await
            .unwrap();
        assert!(page.events.is_empty());
    }
}

#[tokio::test]
async fn a_row_with_an_unreadable_column_is_unknown_and_the_page_still_loads() {
    // Only SQLite lets a column hold another storage type than declared.
    let auditor = common::sqlite("unreadable").await;
    example_app::schema::migrate(&auditor).await.unwrap();
    one_event(&auditor).await;
    common::execute(
        &auditor,
        "INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, actor_id, \
         actor_name, command_name, command_id, payload) \
         VALUES (X'00', 42, 'one', 'user', '1', 'eve', 'x', 'c', X'FFFE')",
    )
    .await
    .unwrap();
    let page = auditor
        .query::<StaffEvent>(&EventQuery::new())
        .await
        .unwrap();
    assert_eq!(page.events.len(), 2);
    match &page.events[0].event {
        Decoded::Unknown(u) => match &u.reason {
            UnknownReason::UnreadableColumn { column, .. } => {
                assert!(["payload_version", "payload"].contains(column), "{column}")
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(matches!(page.events[1].event, Decoded::Known(_)));
}
