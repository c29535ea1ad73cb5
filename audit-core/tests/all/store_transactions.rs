//! Audited transactions: a change and its events commit together or not at
//! all; nested commands share one command id; after-commit effects wait
//! for the commit; `transact` retries only what may succeed.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use audit_core::commands::{Isolation, RetryPolicy};
use audit_core::{Actor, Audit, AuditError, Auditor, auditable, testing};

use crate::support::{
    self, CommandError, NoteWritten, TestEvent, UserRef, WidgetCreated, WidgetRef,
};

/// Makes a widget, records it, then fails.
#[auditable(emits(WidgetCreated))]
async fn create_then_fail(cx: &mut Audit<TestEvent>, id: i64) -> Result<(), CommandError> {
    support::create_widget(cx, id).await?;
    cx.emit(WidgetCreated {
        widget: WidgetRef(id),
        name: "again".into(),
    })?;
    Err(CommandError::Refused("changed its mind"))
}

/// Makes a widget through its own SQL and forgets to record it. It names
/// the event (for negative ids), so `#[auditable]` cannot see at compile time
/// that it never emits it: the run-time check must.
#[auditable(emits(WidgetCreated))]
async fn forget_event(cx: &mut Audit<TestEvent>, id: i64) -> Result<(), CommandError> {
    support::run_in_transaction(cx, &format!("INSERT INTO widgets (id) VALUES ({id})")).await?;
    if id < 0 {
        cx.emit(WidgetCreated {
            widget: WidgetRef(id),
            name: "never".into(),
        })?;
    }
    Ok(())
}

/// May write a note: its one event is optional.
#[auditable(emits(NoteWritten?))]
async fn maybe_note(
    cx: &mut Audit<TestEvent>,
    widget: WidgetRef,
    text: Option<&str>,
) -> Result<(), CommandError> {
    if let Some(text) = text {
        cx.emit(NoteWritten {
            widget,
            text: text.into(),
        })?;
    }
    Ok(())
}

/// Begins a transaction acting for a test actor.
async fn begin(auditor: &Auditor) -> Audit<TestEvent> {
    auditor
        .begin::<TestEvent>(Actor::user(1, "alice"))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_failed_command_poisons_its_transaction_and_nothing_is_written() {
    for auditor in support::databases("failed_command").await {
        let label = testing::label(&auditor);
        let mut audit = begin(&auditor).await;
        // An earlier command of the same transaction succeeded.
        support::create_widget(&mut audit, 1).await.unwrap();
        let result = create_then_fail(&mut audit, 2).await;
        assert!(
            matches!(result, Err(CommandError::Refused("changed its mind"))),
            "{label}: {result:?}"
        );
        assert_eq!(audit.pending_events(), 3, "{label}");
        match audit.commit().await {
            Err(AuditError::Poisoned { reason }) => assert_eq!(
                reason, "command `create_then_fail` returned an error",
                "{label}"
            ),
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!(support::widgets(&auditor).await, 0, "{label}");
        assert_eq!(support::events(&auditor).await, 0, "{label}");
        // The refused transaction holds no lock and no widget id.
        support::commit_widget(&auditor, Actor::system("t"), 1).await;
        assert_eq!(support::events(&auditor).await, 1, "{label}");
    }
}

/// Makes a widget and records it through a nested command, says so, then
/// waits forever. It emits nothing itself.
#[auditable]
async fn create_then_hang(
    cx: &mut Audit<TestEvent>,
    id: i64,
    reached: tokio::sync::oneshot::Sender<()>,
) -> Result<(), CommandError> {
    support::create_widget(cx, id).await?;
    let _ = reached.send(());
    std::future::pending::<()>().await;
    Ok(())
}

#[tokio::test]
async fn a_cancelled_command_poisons_its_transaction() {
    for auditor in support::databases("cancelled").await {
        let label = testing::label(&auditor);
        let mut audit = begin(&auditor).await;
        // The command runs until it waits, then is dropped, as a timeout or
        // a client gone would drop it.
        let (reached, waiting) = tokio::sync::oneshot::channel();
        tokio::select! {
            _ = create_then_hang(&mut audit, 1, reached) => unreachable!("the command never returns"),
            answer = waiting => answer.unwrap(),
        }
        assert_eq!(
            audit.pending_events(),
            1,
            "{label}: the nested command's event"
        );
        match audit.commit().await {
            Err(AuditError::Poisoned { reason }) => assert_eq!(
                reason, "command `create_then_hang` did not run to completion",
                "{label}"
            ),
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!(support::widgets(&auditor).await, 0, "{label}");
        assert_eq!(support::events(&auditor).await, 0, "{label}");
    }
}

#[tokio::test]
async fn a_command_returning_ok_without_its_required_event_fails() {
    for auditor in support::databases("missing_event").await {
        let label = testing::label(&auditor);
        let mut audit = begin(&auditor).await;
        match forget_event(&mut audit, 1).await {
            Err(CommandError::Audit(AuditError::MissingEvent { command, event })) => {
                assert_eq!((command, event), ("forget_event", "widget_created"))
            }
            other => panic!("{label}: {other:?}"),
        }
        match audit.commit().await {
            Err(AuditError::Poisoned { reason }) => assert_eq!(
                reason,
                "command `forget_event` returned Ok without emitting its required event \
                 `widget_created`; the transaction will not commit",
                "{label}"
            ),
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!(support::widgets(&auditor).await, 0, "{label}");
        assert_eq!(support::events(&auditor).await, 0, "{label}");

        // An optional event may be left out.
        let mut audit = begin(&auditor).await;
        maybe_note(&mut audit, WidgetRef(1), None).await.unwrap();
        maybe_note(&mut audit, WidgetRef(1), Some("kept"))
            .await
            .unwrap();
        audit.commit().await.unwrap();
        assert_eq!(
            support::codes(&support::log(&auditor).await),
            ["note_written"],
            "{label}"
        );
    }
}

#[tokio::test]
async fn a_dropped_or_rolled_back_transaction_leaves_nothing() {
    for auditor in support::databases("rollback").await {
        let label = testing::label(&auditor);
        let mut audit = begin(&auditor).await;
        support::create_widget(&mut audit, 1).await.unwrap();
        drop(audit);

        let mut audit = begin(&auditor).await;
        support::create_widget(&mut audit, 2).await.unwrap();
        audit.rollback().await.unwrap();

        assert_eq!(support::widgets(&auditor).await, 0, "{label}");
        assert_eq!(support::events(&auditor).await, 0, "{label}");
        // Neither kept a lock or the widget ids: the same ids commit now.
        support::commit_widget(&auditor, Actor::system("t"), 1).await;
        support::commit_widget(&auditor, Actor::system("t"), 2).await;
        assert_eq!(support::widgets(&auditor).await, 2, "{label}");
        assert_eq!(support::events(&auditor).await, 2, "{label}");
    }
}

#[tokio::test]
async fn after_commit_effects_run_only_after_a_successful_commit() {
    for auditor in support::databases("after_commit").await {
        let label = testing::label(&auditor);
        let ran = Arc::new(Mutex::new(Vec::<&str>::new()));
        let effect = |name: &'static str| {
            let ran = Arc::clone(&ran);
            move || ran.lock().unwrap().push(name)
        };

        let mut audit = begin(&auditor).await;
        audit.after_commit(effect("first"));
        support::create_widget(&mut audit, 1).await.unwrap();
        audit.after_commit(effect("second"));
        assert!(ran.lock().unwrap().is_empty(), "{label}: ran before commit");
        audit.commit().await.unwrap();
        assert_eq!(*ran.lock().unwrap(), ["first", "second"], "{label}");

        // Rolled back, dropped, poisoned: never.
        let mut audit = begin(&auditor).await;
        audit.after_commit(effect("rolled back"));
        audit.rollback().await.unwrap();

        let mut audit = begin(&auditor).await;
        audit.after_commit(effect("dropped"));
        drop(audit);

        let mut audit = begin(&auditor).await;
        audit.after_commit(effect("poisoned"));
        let _ = create_then_fail(&mut audit, 2).await;
        assert!(audit.commit().await.is_err());

        assert_eq!(*ran.lock().unwrap(), ["first", "second"], "{label}");
        assert_eq!(support::events(&auditor).await, 1, "{label}");
    }
}

#[tokio::test]
async fn nested_commands_share_one_command_id_and_time_and_name_their_emitter() {
    for auditor in support::databases("nesting").await {
        let label = testing::label(&auditor);
        let mut audit = begin(&auditor).await;
        support::build_widget(&mut audit, 1, UserRef(2))
            .await
            .unwrap();
        support::build_widget(&mut audit, 2, UserRef(2))
            .await
            .unwrap();
        audit.commit().await.unwrap();

        let mut log = support::log(&auditor).await;
        log.reverse();
        let emitted: Vec<(&str, &str)> = log
            .iter()
            .map(|e| (e.event.code(), e.command_name.as_str()))
            .collect();
        let one = [
            ("widget_created", "create_widget"),
            ("part_added", "add_part"),
            ("note_written", "add_part"),
            ("note_written", "build_widget"),
        ];
        assert_eq!(emitted, [one, one].concat(), "{label}");
        for run in log.chunks(4) {
            let ids: BTreeSet<&str> = run.iter().map(|e| e.command_id.as_str()).collect();
            assert_eq!(
                ids.len(),
                1,
                "{label}: one command id per outermost command"
            );
            let times: BTreeSet<_> = run.iter().map(|e| e.occurred_at).collect();
            assert_eq!(times.len(), 1, "{label}: one time per outermost command");
            assert!(run.iter().all(|e| e.actor == Actor::user(1, "alice")));
        }
        assert_ne!(
            log[0].command_id, log[4].command_id,
            "{label}: two outermost commands in one transaction"
        );
        assert_eq!(
            log[0]
                .command_id
                .parse::<uuid::Uuid>()
                .unwrap()
                .get_version_num(),
            4,
            "{label}"
        );
    }
}

#[tokio::test]
async fn consecutive_outermost_commands_get_their_own_ids() {
    for auditor in support::databases("command_ids").await {
        let label = testing::label(&auditor);
        let mut audit = begin(&auditor).await;
        for id in 0..5 {
            support::create_widget(&mut audit, id).await.unwrap();
        }
        audit.commit().await.unwrap();
        let ids: BTreeSet<String> = support::log(&auditor)
            .await
            .into_iter()
            .map(|e| e.command_id)
            .collect();
        assert_eq!(ids.len(), 5, "{label}");
    }
}

#[tokio::test]
async fn transact_commits_the_work_and_returns_its_value() {
    for auditor in support::databases("transact").await {
        let label = testing::label(&auditor);
        let widget = auditor
            .transact::<TestEvent, _, CommandError, _>(
                Actor::system("importer"),
                RetryPolicy::default(),
                |audit| Box::pin(async move { support::create_widget(audit, 7).await }),
            )
            .await
            .unwrap();
        assert_eq!(widget, WidgetRef(7));
        let log = support::log(&auditor).await;
        assert_eq!(support::codes(&log), ["widget_created"], "{label}");
        assert_eq!(log[0].actor, Actor::system("importer"));
        assert_eq!(support::widgets(&auditor).await, 1, "{label}");
    }
}

/// The error a lost connection gives: retryable outside COMMIT.
fn connection_reset() -> CommandError {
    CommandError::Database(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()))
}

#[tokio::test]
async fn transact_retries_a_retryable_failure_from_the_start_and_nothing_else() {
    for auditor in support::databases("transact_retry").await {
        let label = testing::label(&auditor);
        let policy = RetryPolicy::default()
            .attempts(3)
            .isolation(Isolation::Serializable)
            .backoff(Duration::ZERO);
        // The first attempt makes its change and events, then fails as a
        // lost connection would: retryable.
        let attempts = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&attempts);
        auditor
            .transact::<TestEvent, _, CommandError, _>(Actor::system("t"), policy, move |audit| {
                let attempt = counter.fetch_add(1, Ordering::SeqCst) + 1;
                Box::pin(async move {
                    support::create_widget(audit, 1).await?;
                    support::write_note(audit, WidgetRef(1), format!("attempt {attempt}")).await?;
                    if attempt == 1 {
                        return Err(connection_reset());
                    }
                    Ok(())
                })
            })
            .await
            .unwrap();
        assert_eq!(attempts.load(Ordering::SeqCst), 2, "{label}");
        let log = support::log(&auditor).await;
        assert_eq!(
            support::codes(&log),
            ["note_written", "widget_created"],
            "{label}: the failed attempt left nothing"
        );
        assert_eq!(support::payload(&log[0])["text"], "attempt 2", "{label}");
        assert_eq!(support::widgets(&auditor).await, 1, "{label}");

        // A failure that is not retryable is returned at once.
        let attempts = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&attempts);
        let result = auditor
            .transact::<TestEvent, (), CommandError, _>(Actor::system("t"), policy, move |audit| {
                counter.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move { create_then_fail(audit, 2).await })
            })
            .await;
        assert!(
            matches!(result, Err(CommandError::Refused(_))),
            "{label}: {result:?}"
        );
        assert_eq!(attempts.load(Ordering::SeqCst), 1, "{label}");

        // A retryable failure every time: `attempts` tries in all.
        let attempts = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&attempts);
        let result = auditor
            .transact::<TestEvent, (), CommandError, _>(Actor::system("t"), policy, move |audit| {
                counter.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move {
                    support::create_widget(audit, 3).await?;
                    Err(connection_reset())
                })
            })
            .await;
        assert!(
            matches!(result, Err(CommandError::Database(sqlx::Error::Io(_)))),
            "{label}: {result:?}"
        );
        assert_eq!(attempts.load(Ordering::SeqCst), 3, "{label}");
        assert_eq!(support::events(&auditor).await, 2, "{label}");
        assert_eq!(support::widgets(&auditor).await, 1, "{label}");
    }
}

#[tokio::test]
async fn a_commit_the_database_refuses_leaves_nothing_and_runs_no_effect() {
    // A deferred foreign key is checked at COMMIT, after the events were
    // inserted: the database refuses the whole transaction.
    for auditor in support::databases("refused_commit").await {
        let label = testing::label(&auditor);
        testing::execute(
            &auditor,
            "CREATE TABLE parts (id BIGINT PRIMARY KEY, widget_id BIGINT NOT NULL \
             REFERENCES widgets (id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .await
        .unwrap();
        let ran = Arc::new(AtomicU32::new(0));
        let mut audit = begin(&auditor).await;
        let counter = Arc::clone(&ran);
        audit.after_commit(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let widget = support::create_widget(&mut audit, 1).await.unwrap();
        support::add_part(&mut audit, widget, 10, UserRef(2))
            .await
            .unwrap();
        support::run_in_transaction(
            &mut audit,
            "INSERT INTO parts (id, widget_id) VALUES (10, 999)",
        )
        .await
        .unwrap();
        match audit.commit().await {
            Err(AuditError::Database(sqlx::Error::Database(e))) => {
                assert!(e.is_foreign_key_violation(), "{label}: {e}")
            }
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!(ran.load(Ordering::SeqCst), 0, "{label}");
        assert_eq!(support::events(&auditor).await, 0, "{label}");
        assert_eq!(support::widgets(&auditor).await, 0, "{label}");
        // The refused transaction holds nothing: the same change commits now.
        support::commit_widget(&auditor, Actor::system("t"), 1).await;
        assert_eq!(support::events(&auditor).await, 1, "{label}");
    }
}
