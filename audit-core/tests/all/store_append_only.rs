//! The events table is append-only on every backend: raw SQL that would
//! change or remove a stored event is refused by the database itself.

use audit_core::{Actor, testing};

use crate::support::{self, UserRef, log};

#[tokio::test]
async fn raw_sql_cannot_change_or_remove_a_stored_event() {
    for auditor in support::databases("append_only").await {
        let label = testing::label(&auditor);
        let mut audit = auditor
            .begin::<support::TestEvent>(Actor::user(1, "alice"))
            .await
            .unwrap();
        support::build_widget(&mut audit, 1, UserRef(2))
            .await
            .unwrap();
        audit.commit().await.unwrap();
        let before = log(&auditor).await;
        assert_eq!(before.len(), 4, "{label}");
        let first = before.last().unwrap().id;

        let mut statements = vec![
            "UPDATE audit_events SET actor_name = 'mallory'".to_owned(),
            format!("UPDATE audit_events SET payload_version = 2 WHERE id = {first}"),
            "DELETE FROM audit_events".to_owned(),
            format!("DELETE FROM audit_events WHERE id = {first}"),
        ];
        match label {
            "sqlite" => statements.extend([
                // REPLACE deletes the old row without firing delete triggers.
                format!(
                    "INSERT OR REPLACE INTO audit_events (id, {}) \
                     SELECT id, 0, 'forged', 1, 'user', 'm', 'mallory', 'x', 'x', '{{}}' \
                     FROM audit_events",
                    support::ROW_COLUMNS
                ),
                format!(
                    "REPLACE INTO audit_events (id, {}) \
                     VALUES ({first}, 0, 'forged', 1, 'user', 'm', 'mallory', 'x', 'x', '{{}}')",
                    support::ROW_COLUMNS
                ),
                format!(
                    "INSERT INTO audit_events (id, {}) \
                     VALUES ({first}, 0, 'forged', 1, 'user', 'm', 'mallory', 'x', 'x', '{{}}') \
                     ON CONFLICT (id) DO UPDATE SET actor_name = 'mallory'",
                    support::ROW_COLUMNS
                ),
            ]),
            _ => statements.extend([
                "TRUNCATE audit_events".to_owned(),
                format!(
                    "INSERT INTO audit_events (id, {}) OVERRIDING SYSTEM VALUE \
                     VALUES ({first}, 0, 'forged', 1, 'user', 'm', 'mallory', 'x', 'x', '{{}}') \
                     ON CONFLICT (id) DO UPDATE SET actor_name = 'mallory'",
                    support::ROW_COLUMNS
                ),
            ]),
        }
        for sql in &statements {
            let err = testing::execute(&auditor, sql)
                .await
                .expect_err(&format!("{label}: `{sql}` was allowed"));
            assert!(
                err.to_string().contains("append-only"),
                "{label}: `{sql}`: {err}"
            );
        }

        assert_eq!(
            log(&auditor).await,
            before,
            "{label}: a stored event changed"
        );
        assert_eq!(support::events(&auditor).await, 4, "{label}");
    }
}

#[tokio::test]
async fn appending_by_hand_is_still_allowed() {
    // The triggers refuse changes, not new rows: a row written by another
    // program (or by hand) is appended and read back.
    for auditor in support::databases("append_by_hand").await {
        support::insert_rows(
            &auditor,
            "(1, 'note_written', 1, 'user', '9', 'eve', 'by_hand', 'c1', '{\"widget\": 3, \"text\": \"hi\"}')",
        )
        .await;
        let events = log(&auditor).await;
        assert_eq!(events.len(), 1, "{}", testing::label(&auditor));
        assert_eq!(
            support::known(&events[0]),
            &support::TestEvent::from(support::NoteWritten {
                widget: support::WidgetRef(3),
                text: "hi".into(),
            })
        );
        assert_eq!(events[0].command_name, "by_hand");
        assert_eq!(events[0].actor, Actor::user(9, "eve"));
    }
}
