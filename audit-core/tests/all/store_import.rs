//! Imports (`Auditor::import`): historical events keep their time and
//! actor, say they were imported, are recorded by an `audit:` record, and
//! are imported once per key, by one run or by two at the same time, on
//! both backends.

use audit_core::events::Decoded;
use audit_core::query::{Condition, EventQuery, StoredEvent};
use audit_core::seals::{Divergence, VerifyOptions};
use audit_core::store::{IMPORT_COMMAND, IMPORTED_EVENT_CODE, Import, ImportReport};
use audit_core::{Actor, Auditor, testing};
use chrono::{DateTime, Utc};

use crate::support::{self, NoteWritten, TestEvent, WidgetCreated, WidgetRef, log};

fn day(date: &str) -> DateTime<Utc> {
    format!("{date}T12:00:00Z").parse().unwrap()
}

fn legacy() -> Actor {
    Actor::system("legacy-crm")
}

fn alice() -> Actor {
    Actor::user(1, "alice")
}

/// An import of widgets `ids`, each created by alice on 1 March 2020, under
/// the keys `widget:<id>`.
fn widgets(ids: impl IntoIterator<Item = i64>) -> Import<TestEvent> {
    let mut import = Import::new("widgets-backfill").reason("widgets made before auditing");
    for id in ids {
        import
            .event(
                format!("widget:{id}"),
                day("2020-03-01"),
                alice(),
                WidgetCreated {
                    widget: WidgetRef(id),
                    name: format!("widget {id}"),
                },
            )
            .unwrap();
    }
    import
}

async fn import(auditor: &Auditor, import: &Import<TestEvent>) -> ImportReport {
    auditor
        .import(&Actor::system("backfill"), import)
        .await
        .unwrap_or_else(|e| panic!("import on {}: {e}", testing::label(auditor)))
}

/// The stored payload of an `audit:` record.
fn record_payload(event: &StoredEvent<TestEvent>) -> serde_json::Value {
    match &event.event {
        Decoded::Unknown(unknown) => serde_json::from_str(&unknown.raw).unwrap(),
        other => panic!("event {} is not a record: {other:?}", event.id),
    }
}

#[tokio::test]
async fn imported_events_keep_their_time_and_actor_and_say_they_were_imported() {
    for auditor in support::databases("import_basic").await {
        let label = testing::label(&auditor);
        support::commit_widget(&auditor, Actor::system("t"), 1).await;
        let mut batch = widgets([100]);
        batch
            .event(
                "note:100",
                day("2020-03-02"),
                legacy(),
                NoteWritten {
                    widget: WidgetRef(100),
                    text: "from the old system".into(),
                },
            )
            .unwrap();
        let report = import(&auditor, &batch).await;
        assert_eq!((report.imported, report.skipped), (2, 0), "{label}");

        // Newest first by time: the record and the live widget (today),
        // then the imported events at their own times in 2020.
        let events = log(&auditor).await;
        assert_eq!(
            support::codes(&events),
            [
                IMPORTED_EVENT_CODE,
                "widget_created",
                "note_written",
                "widget_created"
            ],
            "{label}"
        );
        let (record, live, note, created) = (&events[0], &events[1], &events[2], &events[3]);
        assert!(!live.is_imported(), "{label}: a command's event");
        for (event, actor, time) in [
            (created, alice(), day("2020-03-01")),
            (note, legacy(), day("2020-03-02")),
        ] {
            assert!(event.is_imported(), "{label}");
            assert_eq!(event.command_name, IMPORT_COMMAND, "{label}");
            assert_eq!(event.command_id, report.run_id, "{label}");
            assert_eq!((&event.actor, event.occurred_at), (&actor, time), "{label}");
        }
        assert_eq!(
            support::known(created),
            &TestEvent::from(WidgetCreated {
                widget: WidgetRef(100),
                name: "widget 100".into()
            })
        );
        assert_eq!(created.references.target, Some(WidgetRef(100).entity()));

        // The run's record: who ran it, what, why, and the keys it added.
        assert!(!record.is_imported(), "{label}");
        assert_eq!(record.actor, Actor::system("backfill"), "{label}");
        assert_eq!(record.command_id, report.run_id, "{label}");
        let payload = record_payload(record);
        assert_eq!(payload["source"], "widgets-backfill", "{label}");
        assert_eq!(payload["reason"], "widgets made before auditing");
        assert_eq!(payload["imported"], 2, "{label}");
        assert_eq!(
            record.render(&audit_core::present::PresentContext::new()),
            "system process backfill imported 2 events from widgets-backfill \
             (reason: widgets made before auditing)",
            "{label}: shown as the library's sentence"
        );
        assert_eq!(
            payload["keys"],
            serde_json::json!(["widget:100", "note:100"])
        );

        // Read like other events: by their own actor and time.
        let by_alice =
            support::page(&auditor, &EventQuery::new().only(Condition::Actor(alice()))).await;
        assert_eq!(support::ids(&by_alice.events), [created.id], "{label}");
        let old = support::page(&auditor, &EventQuery::new().until(day("2021-01-01"))).await;
        assert_eq!(support::ids(&old.events), [note.id, created.id], "{label}");

        // A second run adds nothing, not even a record.
        let before = support::events(&auditor).await;
        let again = import(&auditor, &batch).await;
        assert_eq!((again.imported, again.skipped), (0, 2), "{label}");
        assert_ne!(again.run_id, report.run_id);
        assert_eq!(support::events(&auditor).await, before, "{label}");

        // A run with one new key adds that event only.
        let more = import(&auditor, &widgets([100, 101])).await;
        assert_eq!((more.imported, more.skipped), (1, 1), "{label}");
        // Newest first by time: the two records and the live widget (today),
        // the note (2 March 2020), then widgets 101 and 100 (both at noon on
        // 1 March 2020: the id breaks the tie).
        let events = log(&auditor).await;
        assert_eq!(events.len(), 6, "{label}");
        assert_eq!(
            record_payload(&events[0])["keys"],
            serde_json::json!(["widget:101"])
        );
        assert_eq!(events[4].command_id, more.run_id, "{label}");
        assert!(events[4].id > events[5].id, "{label}");
        assert_eq!(events[4].occurred_at, events[5].occurred_at, "{label}");
    }
}

#[tokio::test]
async fn an_empty_import_records_nothing() {
    for auditor in support::databases("import_empty").await {
        let before = support::events(&auditor).await;
        let report = import(&auditor, &widgets([])).await;
        assert_eq!((report.imported, report.skipped), (0, 0));
        assert_eq!(support::events(&auditor).await, before);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_importers_with_the_same_keys_import_each_event_once() {
    for auditor in support::databases("import_concurrent").await {
        let label = testing::label(&auditor);
        for round in 0..5_i64 {
            // Overlapping halves, started together, in different orders.
            let base = round * 1_000;
            let first = widgets(base..base + 200);
            let second = widgets((base + 100..base + 300).rev());
            let (a, b) = {
                let (one, two) = (auditor.clone(), auditor.clone());
                let a = tokio::spawn(async move { import(&one, &first).await });
                let b = tokio::spawn(async move { import(&two, &second).await });
                (a.await.unwrap(), b.await.unwrap())
            };
            assert_eq!(a.imported + a.skipped, 200, "{label}");
            assert_eq!(b.imported + b.skipped, 200, "{label}");
            assert_eq!(a.imported + b.imported, 300, "{label}: round {round}");
        }
        let duplicates = testing::scalar(
            &auditor,
            "SELECT COUNT(*) FROM (SELECT target_id FROM audit_events \
             WHERE event_type = 'widget_created' GROUP BY target_id HAVING COUNT(*) > 1) d",
        )
        .await;
        assert_eq!(duplicates, 0, "{label}");
        assert_eq!(
            testing::scalar(
                &auditor,
                "SELECT COUNT(*) FROM audit_events WHERE event_type = 'widget_created'"
            )
            .await,
            1_500,
            "{label}"
        );
        assert_eq!(
            testing::scalar(&auditor, "SELECT COUNT(*) FROM audit_import_keys").await,
            1_500,
            "{label}"
        );
    }
}

#[tokio::test]
async fn a_pruned_import_is_not_imported_again() {
    for auditor in support::databases("import_pruned").await {
        let label = testing::label(&auditor);
        let auditor = support::prunable_now(auditor).await;
        import(&auditor, &widgets([1])).await;
        let deleted = auditor
            .prune_before(&Actor::system("job"), day("2021-01-01"), "retention")
            .await
            .unwrap();
        assert_eq!(deleted, 1, "{label}");
        let report = import(&auditor, &widgets([1])).await;
        assert_eq!((report.imported, report.skipped), (0, 1), "{label}");
        let codes = support::codes(&log(&auditor).await);
        assert_eq!(
            codes,
            [
                "audit:log_pruned",
                IMPORTED_EVENT_CODE,
                "audit:retention_changed"
            ],
            "{label}: the import's record outlives its event"
        );
    }
}

#[tokio::test]
async fn the_import_keys_are_append_only() {
    for auditor in support::databases("import_keys_append_only").await {
        let label = testing::label(&auditor);
        import(&auditor, &widgets([1])).await;
        for sql in [
            "DELETE FROM audit_import_keys",
            "UPDATE audit_import_keys SET import_key = 'other'",
        ] {
            let err = testing::execute(&auditor, sql).await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{label}: {err}");
        }
    }
}

/// Seals until every event is sealed (on PostgreSQL an event is sealed
/// once every older transaction of its database has ended).
async fn seal_all(auditor: &Auditor) {
    support::seal_all(auditor, None).await;
}

#[tokio::test]
async fn the_seals_cover_that_an_event_was_imported() {
    for auditor in support::databases("import_sealed").await {
        let label = testing::label(&auditor);
        support::commit_widget(&auditor, Actor::system("t"), 1).await;
        import(&auditor, &widgets([2])).await;
        seal_all(&auditor).await;
        let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
        assert!(report.is_intact(), "{label}: {:?}", report.divergences);
        assert_eq!(report.events, 3, "{label}");

        // Passing the imported event off as a command's is named.
        let imported = log(&auditor).await.into_iter().find(|e| e.is_imported());
        let id = imported.expect("the imported widget").id;
        let forge =
            format!("UPDATE audit_events SET command_name = 'create_widget' WHERE id = {id}");
        let script = match label {
            "sqlite" => format!("DROP TRIGGER audit_events_no_update; {forge}"),
            _ => format!("BEGIN; SET LOCAL session_replication_role = replica; {forge}; COMMIT;"),
        };
        testing::execute(&auditor, &script).await.unwrap();
        let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
        assert_eq!(
            report.divergences,
            [Divergence::EventEdited {
                id,
                column: "command_name"
            }],
            "{label}"
        );
    }
}
