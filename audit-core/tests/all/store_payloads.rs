//! Payload limits: at most `MAX_PAYLOAD_BYTES` of JSON and no NUL
//! character, refused at `emit` with a typed error, and a refused emit
//! fails the whole transaction even when the command ignores it.

use audit_core::commands::MAX_PAYLOAD_BYTES;
use audit_core::events::EventCatalog;
use audit_core::{Actor, Audit, AuditError, auditable, testing};

use crate::support::{self, CommandError, NoteWritten, TestEvent, WidgetRef};

/// A note whose payload is exactly `bytes` bytes of JSON.
fn note_of_size(bytes: usize) -> String {
    let empty = TestEvent::from(NoteWritten {
        widget: WidgetRef(1),
        text: String::new(),
    })
    .payload_json()
    .unwrap()
    .len();
    "x".repeat(bytes - empty)
}

#[tokio::test]
async fn a_payload_up_to_the_limit_is_stored_and_one_byte_more_is_refused() {
    for auditor in support::databases("payload_limit").await {
        let label = testing::label(&auditor);
        let mut audit = auditor
            .begin::<TestEvent>(Actor::system("t"))
            .await
            .unwrap();
        let text = note_of_size(MAX_PAYLOAD_BYTES);
        support::write_note(&mut audit, WidgetRef(1), text.clone())
            .await
            .unwrap();
        audit.commit().await.unwrap();
        let events = support::log(&auditor).await;
        assert_eq!(
            support::known(&events[0]),
            &TestEvent::from(NoteWritten {
                widget: WidgetRef(1),
                text
            }),
            "{label}"
        );

        let mut audit = auditor
            .begin::<TestEvent>(Actor::system("t"))
            .await
            .unwrap();
        let result = support::write_note(
            &mut audit,
            WidgetRef(1),
            note_of_size(MAX_PAYLOAD_BYTES + 1),
        )
        .await;
        match result {
            Err(CommandError::Audit(AuditError::PayloadTooLarge { event, size, limit })) => {
                assert_eq!(event, "note_written");
                assert_eq!((size, limit), (MAX_PAYLOAD_BYTES + 1, MAX_PAYLOAD_BYTES));
            }
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!(audit.pending_events(), 0, "{label}");
        assert!(
            matches!(audit.commit().await, Err(AuditError::Poisoned { .. })),
            "{label}"
        );
        assert_eq!(support::events(&auditor).await, 1, "{label}");
    }
}

#[tokio::test]
async fn a_nul_character_is_refused_on_every_backend() {
    for auditor in support::databases("payload_nul").await {
        let label = testing::label(&auditor);
        let mut audit = auditor
            .begin::<TestEvent>(Actor::system("t"))
            .await
            .unwrap();
        support::create_widget(&mut audit, 1).await.unwrap();
        let result = support::write_note(&mut audit, WidgetRef(1), "nul \0 inside".into()).await;
        match result {
            Err(CommandError::Audit(AuditError::NulCharacter { event })) => {
                assert_eq!(event, "note_written")
            }
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!(
            audit.pending_events(),
            1,
            "{label}: only the widget's event"
        );
        match audit.commit().await {
            Err(AuditError::Poisoned { reason }) => assert_eq!(
                reason,
                "command `write_note`: the payload of event `note_written` contains a NUL \
                 character, which cannot be stored",
                "{label}"
            ),
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!(support::events(&auditor).await, 0, "{label}");
        assert_eq!(support::widgets(&auditor).await, 0, "{label}");
    }
}

#[tokio::test]
async fn an_escaped_backslash_before_u0000_is_not_a_nul() {
    for auditor in support::databases("payload_backslash").await {
        let label = testing::label(&auditor);
        let text = r"a JSON NUL is written \u0000".to_owned();
        assert!(!text.contains('\0'));
        let mut audit = auditor
            .begin::<TestEvent>(Actor::system("t"))
            .await
            .unwrap();
        let result = support::write_note(&mut audit, WidgetRef(1), text.clone()).await;
        assert!(result.is_ok(), "{label}: {result:?}");
        audit.commit().await.unwrap();
        let events = support::log(&auditor).await;
        assert_eq!(
            support::known(&events[0]),
            &TestEvent::from(NoteWritten {
                widget: WidgetRef(1),
                text
            }),
            "{label}"
        );
    }
}

/// Ignores a refused emit, emits a fine event, and returns Ok.
#[auditable(emits(NoteWritten))]
async fn ignore_failed_emit(cx: &mut Audit<TestEvent>, bad: String) -> Result<(), CommandError> {
    let _ = cx.emit(NoteWritten {
        widget: WidgetRef(1),
        text: bad,
    });
    cx.emit(NoteWritten {
        widget: WidgetRef(2),
        text: "fine".into(),
    })?;
    Ok(())
}

#[tokio::test]
async fn a_refused_emit_fails_the_transaction_even_when_the_command_ignores_it() {
    for auditor in support::databases("ignored_emit").await {
        let label = testing::label(&auditor);
        let too_large = note_of_size(MAX_PAYLOAD_BYTES + 1);
        for (bad, why) in [
            (
                too_large,
                format!(
                    "is {} bytes, over the limit of {MAX_PAYLOAD_BYTES} bytes",
                    MAX_PAYLOAD_BYTES + 1
                ),
            ),
            (
                "nul \0 inside".to_owned(),
                "contains a NUL character".to_owned(),
            ),
        ] {
            let mut audit = auditor
                .begin::<TestEvent>(Actor::system("t"))
                .await
                .unwrap();
            support::create_widget(&mut audit, 1).await.unwrap();
            ignore_failed_emit(&mut audit, bad).await.unwrap();
            assert_eq!(audit.pending_events(), 2, "{label}");
            match audit.commit().await {
                Err(AuditError::Poisoned { reason }) => assert!(
                    reason.starts_with(
                        "command `ignore_failed_emit`: the payload of event `note_written`"
                    ) && reason.contains(&why),
                    "{label}: {reason}"
                ),
                other => panic!("{label}: {other:?}"),
            }
        }
        assert_eq!(support::events(&auditor).await, 0, "{label}");
        assert_eq!(support::widgets(&auditor).await, 0, "{label}");
    }
}
