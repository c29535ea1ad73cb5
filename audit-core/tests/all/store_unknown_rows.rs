//! Rows this program cannot read come back as `Decoded::Unknown` with the
//! reason, everything stored kept, and never fail the page.

use audit_core::events::{Decoded, UnknownEvent, UnknownReason};
use audit_core::query::EventQuery;
use audit_core::{Actor, testing};

use crate::support::{self, TestEvent, log};

fn unknown(event: &audit_core::query::StoredEvent<TestEvent>) -> &UnknownEvent {
    match &event.event {
        Decoded::Unknown(unknown) => unknown,
        Decoded::Known(known) => panic!("event {} decoded as {known:?}", event.id),
    }
}

#[tokio::test]
async fn each_unreadable_row_gives_its_reason_and_keeps_what_was_stored() {
    for auditor in support::databases("unknown_rows").await {
        let label = testing::label(&auditor);
        support::commit_widget(&auditor, Actor::system("test"), 1).await;
        // Rows as another program, or another version of this one, might
        // have written them.
        support::insert_rows(
            &auditor,
            "(1, 'widget_archived', 1, 'user', '9', 'eve', 'archive', 'c1', '{\"id\": 1}'), \
             (2, 'widget_created', 2, 'user', '9', 'eve', 'create', 'c2', '{\"widget\": 1, \"name\": \"n\", \"colour\": \"red\"}'), \
             (3, 'part_added', 1, 'user', '9', 'eve', 'add', 'c3', '{\"part\": 1, \"widget\": 1}'), \
             (4, 'note_written', 0, 'user', '9', 'eve', 'note', 'c4', '{\"widget\": 1, \"text\": \"t\"}'), \
             (5, 'note_written', -3, 'user', '9', 'eve', 'note', 'c5', '{\"widget\": 1, \"text\": \"t\"}'), \
             (6, 'widget_created', 1, 'user', '9', 'eve', 'create', 'c6', '{\"widget\": \"one\"}'), \
             (7, 'note_written', 1, 'system', 'job', 'job', 'note', 'c7', '{\"widget\": 1, \"text\": \"fine\"}')",
        )
        .await;
        let events = log(&auditor).await;
        assert_eq!(events.len(), 8, "{label}");
        // Newest first by time: the committed widget (now), then the
        // hand-written rows (1 to 7 microseconds after 1970).
        let [fine, malformed, negative, zero, older, newer, unknown_code] =
            [1, 2, 3, 4, 5, 6, 7].map(|i| &events[i]);
        assert!(matches!(events[0].event, Decoded::Known(_)), "{label}");

        assert_eq!(
            support::known(fine),
            &TestEvent::from(support::NoteWritten {
                widget: support::WidgetRef(1),
                text: "fine".into()
            })
        );

        let u = unknown(unknown_code);
        assert_eq!(u.reason, UnknownReason::UnknownCode, "{label}");
        assert_eq!((u.code.as_str(), u.version), ("widget_archived", 1));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&u.raw).unwrap(),
            serde_json::json!({"id": 1}),
            "{label}: {}",
            u.raw
        );
        assert_eq!(unknown_code.actor, Actor::user(9, "eve"));
        assert_eq!(unknown_code.command_name, "archive");
        assert_eq!(unknown_code.command_id, "c1");
        assert_eq!(unknown_code.occurred_at.timestamp_micros(), 1);

        let u = unknown(newer);
        assert_eq!(
            u.reason,
            UnknownReason::NewerVersion {
                stored: 2,
                supported: 1
            },
            "{label}"
        );
        assert_eq!((u.code.as_str(), u.version), ("widget_created", 2));
        assert!(u.raw.contains("colour"), "{label}: {}", u.raw);

        assert_eq!(
            unknown(older).reason,
            UnknownReason::OlderVersion {
                stored: 1,
                current: 2
            },
            "{label}"
        );
        assert_eq!(
            unknown(zero).reason,
            UnknownReason::InvalidVersion(0),
            "{label}"
        );
        assert_eq!(
            unknown(negative).reason,
            UnknownReason::InvalidVersion(-3),
            "{label}"
        );
        let u = unknown(malformed);
        assert!(
            matches!(&u.reason, UnknownReason::MalformedPayload(e) if e.contains("invalid type")),
            "{label}: {:?}",
            u.reason
        );
        assert_eq!((u.code.as_str(), u.version), ("widget_created", 1));

        // Rendering never fails: unknown rows show generically.
        let cx = audit_core::present::PresentContext::new();
        assert_eq!(
            unknown_code.render(&cx),
            "eve recorded an event of type \u{201c}widget_archived\u{201d} that this program cannot show"
        );
        assert_eq!(fine.render(&cx), "noted on widget 1: fine");
    }
}

#[tokio::test]
async fn a_payload_that_is_not_json_is_malformed_on_sqlite() {
    // PostgreSQL stores payloads as JSONB and refuses anything else.
    let auditor = testing::sqlite("not_json").await;
    auditor.migrate().await.unwrap();
    support::insert_rows(
        &auditor,
        "(1, 'note_written', 1, 'user', '9', 'eve', 'note', 'c1', 'not json')",
    )
    .await;
    let events = log(&auditor).await;
    let u = unknown(&events[0]);
    assert!(
        matches!(&u.reason, UnknownReason::MalformedPayload(_)),
        "{:?}",
        u.reason
    );
    assert_eq!(u.raw, "not json");
}

#[tokio::test]
async fn a_row_with_an_unreadable_column_is_unknown_and_the_page_still_loads() {
    // Only SQLite lets a column hold another storage type than declared.
    let auditor = testing::sqlite("unreadable").await;
    auditor.migrate().await.unwrap();
    testing::execute(&auditor, support::WIDGETS_TABLE)
        .await
        .unwrap();
    support::commit_widget(&auditor, Actor::system("test"), 1).await;
    // A payload that is not UTF-8 text, and a type code that is not either.
    support::insert_rows(
        &auditor,
        "(1, 'note_written', 1, 'user', '1', 'eve', 'x', 'c1', X'FFFE'), \
         (2, X'FF00', 1, 'user', '1', 'eve', 'x', 'c2', '{}')",
    )
    .await;
    let page = support::page(&auditor, &EventQuery::new()).await;
    assert_eq!(page.events.len(), 3);
    let column = |i: usize| match &unknown(&page.events[i]).reason {
        UnknownReason::UnreadableColumn { column, error } => {
            assert!(!error.is_empty());
            *column
        }
        other => panic!("{other:?}"),
    };
    // Newest first by time: the committed widget, then the rows of 1970.
    assert!(matches!(page.events[0].event, Decoded::Known(_)));
    assert_eq!(column(1), "event_type");
    assert_eq!(column(2), "payload");
    assert_eq!(unknown(&page.events[2]).code, "note_written");
    // Filters still run over such rows.
    let notes = support::page(&auditor, &EventQuery::new().types(["note_written"])).await;
    assert_eq!(support::ids(&notes.events), [page.events[2].id]);
}

#[tokio::test]
async fn a_payload_version_of_the_wrong_storage_type_is_unreadable() {
    let auditor = testing::sqlite("unreadable_version").await;
    auditor.migrate().await.unwrap();
    support::insert_rows(
        &auditor,
        "(1, 'note_written', 1.5, 'user', '1', 'eve', 'x', 'c1', '{\"widget\": 1, \"text\": \"t\"}'), \
         (2, 'note_written', 'one', 'user', '1', 'eve', 'x', 'c2', '{\"widget\": 1, \"text\": \"t\"}')",
    )
    .await;
    let events = log(&auditor).await;
    for event in &events {
        assert!(
            matches!(
                &event.event,
                Decoded::Unknown(UnknownEvent {
                    reason: UnknownReason::UnreadableColumn {
                        column: "payload_version",
                        ..
                    },
                    ..
                })
            ),
            "event {}: {:?}",
            event.id,
            event.event
        );
    }
}

#[tokio::test]
async fn a_column_of_another_type_on_postgresql_makes_its_events_unknown() {
    // PostgreSQL checks a column's type once for the whole result set (every
    // value has it); a column whose type changed (by its owner) must still
    // make each event unknown, not fail the page.
    let Some(auditor) = testing::postgres("column_type").await else {
        return;
    };
    auditor.migrate().await.unwrap();
    support::insert_rows(
        &auditor,
        "(1, 'note_written', 1, 'user', '1', 'eve', 'x', 'c1', '{\"widget\": 1, \"text\": \"t\"}')",
    )
    .await;
    testing::execute(
        &auditor,
        "ALTER TABLE audit_events ALTER COLUMN payload_version TYPE numeric",
    )
    .await
    .unwrap();
    let events = log(&auditor).await;
    assert_eq!(events.len(), 1);
    assert!(
        matches!(
            &events[0].event,
            Decoded::Unknown(UnknownEvent {
                reason: UnknownReason::UnreadableColumn {
                    column: "payload_version",
                    ..
                },
                ..
            })
        ),
        "{:?}",
        events[0].event
    );
    assert_eq!(events[0].actor, Actor::user(1, "eve"));
    assert_eq!(events[0].command_id, "c1");
}

#[tokio::test]
async fn an_unknown_actor_kind_does_not_fail_the_page() {
    // A newer program might record a kind of actor this one does not know. The schema's
    // CHECK refuses it, so the row is written past the check: on SQLite
    // with the check ignored, on PostgreSQL with the check dropped (as a
    // newer schema might).
    for auditor in support::databases("actor_kind").await {
        let label = testing::label(&auditor);
        let row = format!(
            "INSERT INTO audit_events ({}) VALUES \
             (1, 'note_written', 1, 'robot', 'r-7', 'mailer', 'x', 'c1', '{{\"widget\": 1, \"text\": \"t\"}}')",
            support::ROW_COLUMNS
        );
        let sql = match label {
            "sqlite" => format!(
                "PRAGMA ignore_check_constraints = ON; {row}; PRAGMA ignore_check_constraints = OFF"
            ),
            _ => format!(
                "ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_kind_check; {row}"
            ),
        };
        testing::execute(&auditor, &sql).await.unwrap();
        support::commit_widget(&auditor, Actor::user(1, "alice"), 1).await;

        let events = log(&auditor).await;
        assert_eq!(events.len(), 2, "{label}");
        assert_eq!(events[0].actor, Actor::user(1, "alice"));
        // The event itself is read; the actor falls back to a system
        // process named as stored (its kind and id are not kept).
        assert!(matches!(events[1].event, Decoded::Known(_)), "{label}");
        assert_eq!(events[1].actor, Actor::system("mailer"), "{label}");
    }
}
