//! Many transactions at once keep exactly their own events, and a
//! connection lost mid-command leaves nothing.

use std::collections::{BTreeMap, BTreeSet};

use audit_core::events::Decoded;
use audit_core::query::EventQuery;
use audit_core::{Actor, Audit, AuditError, auditable, testing};

use crate::support::{
    self, CommandError, NoteWritten, TestEvent, UserRef, WidgetCreated, WidgetRef, page,
};

const TASKS: i64 = 8;
const COMMANDS_PER_TASK: i64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_keep_exactly_their_events() {
    for auditor in support::databases("concurrency").await {
        let label = testing::label(&auditor);
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let auditor = auditor.clone();
            handles.push(tokio::spawn(async move {
                let owner = UserRef(task);
                let mut committed = Vec::new();
                for i in 0..COMMANDS_PER_TASK {
                    let actor = Actor::user(task, format!("user{task}"));
                    let mut audit = auditor.begin::<TestEvent>(actor).await.unwrap();
                    let widget = support::create_widget(&mut audit, task * 1000 + i)
                        .await
                        .unwrap();
                    support::add_part(&mut audit, widget, widget.0, owner)
                        .await
                        .unwrap();
                    // Every fifth transaction rolls back: none of its events may appear.
                    if i % 5 == 4 {
                        audit.rollback().await.unwrap();
                    } else {
                        audit.commit().await.unwrap();
                        committed.push(widget);
                    }
                }
                committed
            }));
        }
        let mut committed = Vec::new();
        for handle in handles {
            committed.extend(handle.await.unwrap());
        }
        assert_eq!(committed.len() as i64, TASKS * COMMANDS_PER_TASK * 4 / 5);
        assert_eq!(support::widgets(&auditor).await, committed.len() as i64);

        // Page through the whole log with the cursor.
        let mut seen = BTreeSet::new();
        let mut by_widget: BTreeMap<String, Vec<(String, String, Actor)>> = BTreeMap::new();
        let mut query = EventQuery::new().limit(97);
        let mut pages = 0;
        loop {
            let page = page(&auditor, &query).await;
            pages += 1;
            for e in &page.events {
                assert!(seen.insert(e.id), "{label}: event {} returned twice", e.id);
                assert!(matches!(e.event, Decoded::Known(_)), "{label}");
                let widget = e
                    .references
                    .parent
                    .clone()
                    .expect("every event has a parent");
                by_widget.entry(widget.id).or_default().push((
                    e.event.code().to_owned(),
                    e.command_id.clone(),
                    e.actor.clone(),
                ));
            }
            match page.next {
                Some(cursor) => query = EventQuery::new().limit(97).cursor(cursor),
                None => break,
            }
        }
        // Three per committed transaction.
        let expected_events = committed.len() * 3;
        assert_eq!(seen.len(), expected_events, "{label}");
        assert_eq!(pages, expected_events.div_ceil(97), "{label}");
        assert_eq!(
            by_widget.len(),
            committed.len(),
            "{label}: no event of a rolled-back transaction"
        );
        for widget in &committed {
            let events = &by_widget[&widget.0.to_string()];
            let mut codes: Vec<&str> = events.iter().map(|(c, _, _)| c.as_str()).collect();
            codes.sort();
            assert_eq!(
                codes,
                ["note_written", "part_added", "widget_created"],
                "{label}: widget {}",
                widget.0
            );
            // add_part's two events share one command id, distinct from create_widget's.
            let part_ids: BTreeSet<&str> = events
                .iter()
                .filter(|(c, _, _)| c != "widget_created")
                .map(|(_, id, _)| id.as_str())
                .collect();
            let created_id = events
                .iter()
                .find(|(c, _, _)| c == "widget_created")
                .map(|(_, id, _)| id.as_str());
            assert_eq!(part_ids.len(), 1, "{label}: widget {}", widget.0);
            assert!(!part_ids.contains(created_id.unwrap()), "{label}");
            // Every event carries the actor of its own transaction.
            let task = widget.0 / 1000;
            assert!(
                events
                    .iter()
                    .all(|(_, _, actor)| *actor == Actor::user(task, format!("user{task}"))),
                "{label}: widget {}",
                widget.0
            );
        }
    }
}

/// Makes a widget and emits its event, then its connection dies.
#[auditable(emits(WidgetCreated))]
async fn lose_connection(cx: &mut Audit<TestEvent>) -> Result<(), CommandError> {
    support::create_widget(cx, 1).await?;
    // Ends this connection's server process, as a network failure would.
    let _ = support::run_in_transaction(cx, "SELECT pg_terminate_backend(pg_backend_pid())").await;
    support::run_in_transaction(cx, "SELECT 1").await?;
    cx.emit(WidgetCreated {
        widget: WidgetRef(1),
        name: "lost".into(),
    })?;
    Ok(())
}

/// The same, but the command ignores the failure, emits its event and
/// returns Ok.
#[auditable(emits(NoteWritten))]
async fn lose_connection_quietly(cx: &mut Audit<TestEvent>) -> Result<(), CommandError> {
    support::create_widget(cx, 2).await?;
    let _ = support::run_in_transaction(cx, "SELECT pg_terminate_backend(pg_backend_pid())").await;
    cx.emit(NoteWritten {
        widget: WidgetRef(2),
        text: "lost quietly".into(),
    })?;
    Ok(())
}

#[tokio::test]
async fn a_connection_lost_mid_command_leaves_nothing() {
    let Some(auditor) = testing::postgres("conn_lost").await else {
        return;
    };
    auditor.migrate().await.unwrap();
    testing::execute(&auditor, support::WIDGETS_TABLE)
        .await
        .unwrap();

    let mut audit = auditor
        .begin::<TestEvent>(Actor::system("t"))
        .await
        .unwrap();
    let result = lose_connection(&mut audit).await;
    assert!(
        matches!(result, Err(CommandError::Database(_))),
        "{result:?}"
    );
    assert!(matches!(
        audit.commit().await,
        Err(AuditError::Poisoned { .. })
    ));

    // A command that hides the failure: the commit itself finds the
    // connection gone, before COMMIT, so the outcome is known.
    let mut audit = auditor
        .begin::<TestEvent>(Actor::system("t"))
        .await
        .unwrap();
    lose_connection_quietly(&mut audit).await.unwrap();
    assert_eq!(audit.pending_events(), 2);
    match audit.commit().await {
        Err(AuditError::Database(_)) => {}
        other => panic!("{other:?}"),
    }

    // Nothing of either, and the pool serves new transactions.
    assert_eq!(support::events(&auditor).await, 0);
    assert_eq!(support::widgets(&auditor).await, 0);
    support::commit_widget(&auditor, Actor::system("t"), 1).await;
    assert_eq!(support::events(&auditor).await, 1);
}
