//! A commit's events, whatever their strings: any string is stored exactly
//! on both backends, a COMMIT the server refuses leaves nothing behind and
//! the pool serving, and a batch larger than one
//! PostgreSQL statement's chunk keeps its order. (These guarded an
//! experiment that sent the events with the COMMIT in one simple query on
//! PostgreSQL; it measured slower than the bound INSERT and was removed.)

use audit_core::store::Pool;
use audit_core::{Actor, Audit, AuditError, Auditor, auditable, testing};
use proptest::prelude::*;

use crate::support::{self, CommandError, NoteWritten, TestEvent, WidgetRef};

/// Strings that break naive quoting, and characters that change meaning
/// between encodings or renderings.
const HOSTILE: &[&str] = &[
    "'",
    "''",
    "\\",
    "\\'",
    "E'",
    "$$",
    "$q$",
    "'); DROP TABLE audit_events; --",
    "\\x27",
    "\\u0027",
    "\u{7f}\u{1b}[31m",
    "\u{2028}\u{2029}\u{202e}",
    "é\\\"ü",
    "😀\u{10ffff}",
    "\u{8c}\\",
];

/// Commits one note with `text`, acting for a user named `name`, and
/// reads it back.
async fn round_trip(auditor: &Auditor, name: &str, text: &str) -> (Actor, TestEvent) {
    let mut audit = auditor
        .begin::<TestEvent>(Actor::user(7, name))
        .await
        .unwrap();
    support::write_note(&mut audit, WidgetRef(1), text.to_owned())
        .await
        .unwrap();
    audit.commit().await.unwrap();
    let newest = support::log(auditor).await.remove(0);
    let event = support::known(&newest).clone();
    (newest.actor, event)
}

fn note(text: &str) -> TestEvent {
    TestEvent::from(NoteWritten {
        widget: WidgetRef(1),
        text: text.to_owned(),
    })
}

#[tokio::test]
async fn hostile_strings_are_stored_exactly() {
    for auditor in support::databases("commit_hostile").await {
        let label = testing::label(&auditor);
        for text in HOSTILE {
            let (actor, event) = round_trip(&auditor, text, text).await;
            assert_eq!(actor, Actor::user(7, *text), "{label}: {text:?}");
            assert_eq!(event, note(text), "{label}: {text:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any string (NUL is refused at `emit`, before any SQL) is stored
    /// exactly, in the actor's name and in the payload.
    #[test]
    fn any_string_is_stored_exactly(name in "[^\0]{0,40}", text in "[^\0]{0,200}") {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            for auditor in support::databases("commit_any").await {
                let (actor, event) = round_trip(&auditor, &name, &text).await;
                assert_eq!(actor, Actor::user(7, &name), "{}", testing::label(&auditor));
                assert_eq!(event, note(&text), "{}", testing::label(&auditor));
            }
        });
    }
}

/// Writes `count` notes of `bytes` bytes each.
#[auditable(emits(NoteWritten))]
async fn many_notes(
    cx: &mut Audit<TestEvent>,
    count: usize,
    bytes: usize,
) -> Result<(), CommandError> {
    for i in 0..count {
        cx.emit(NoteWritten {
            widget: WidgetRef(i as i64),
            text: "é".repeat(bytes / 2),
        })?;
    }
    Ok(())
}

#[tokio::test]
async fn a_large_batch_keeps_its_order() {
    for auditor in support::databases("commit_large").await {
        let label = testing::label(&auditor);
        let mut audit = auditor
            .begin::<TestEvent>(Actor::system("t"))
            .await
            .unwrap();
        // 40 notes of 40,000 bytes of "é": 9.6 MB once escaped as \u00e9,
        // many PostgreSQL chunks' worth.
        many_notes(&mut audit, 40, 40_000).await.unwrap();
        audit.commit().await.unwrap();
        let widgets: Vec<String> = support::log(&auditor)
            .await
            .iter()
            .rev()
            .map(|e| e.references.parent.as_ref().unwrap().id.clone())
            .collect();
        let expected: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        assert_eq!(widgets, expected, "{label}");
    }
}

/// Makes widget `id`, twice when `twice`: the second row breaks a unique
/// constraint that is checked only at COMMIT.
#[auditable(emits(NoteWritten))]
async fn deferred_duplicate(cx: &mut Audit<TestEvent>, twice: bool) -> Result<(), CommandError> {
    support::run_in_transaction(cx, "INSERT INTO deferred_widgets (id) VALUES (1)").await?;
    if twice {
        support::run_in_transaction(cx, "INSERT INTO deferred_widgets (id) VALUES (1)").await?;
    }
    cx.emit(NoteWritten {
        widget: WidgetRef(1),
        text: "made".into(),
    })?;
    Ok(())
}

/// Every connection of `auditor`'s pool, held at once: each has come back
/// to the pool, so whatever sqlx queued on it at release has been answered.
async fn drain(auditor: &Auditor) {
    let Pool::Postgres(pool) = auditor.pool() else {
        unreachable!("the test opened PostgreSQL")
    };
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        let mut conn = pool.acquire().await.unwrap();
        sqlx::query("SELECT 1").execute(&mut *conn).await.unwrap();
        held.push(conn);
    }
}

#[tokio::test]
async fn a_commit_refused_by_the_server_leaves_nothing() {
    let Some(auditor) = testing::postgres("commit_refused").await else {
        return;
    };
    auditor.migrate().await.unwrap();
    testing::execute(
        &auditor,
        "CREATE TABLE deferred_widgets (id BIGINT UNIQUE DEFERRABLE INITIALLY DEFERRED)",
    )
    .await
    .unwrap();

    let mut audit = auditor
        .begin::<TestEvent>(Actor::system("t"))
        .await
        .unwrap();
    deferred_duplicate(&mut audit, true).await.unwrap();
    match audit.commit().await {
        Err(AuditError::Database(sqlx::Error::Database(e))) => {
            assert_eq!(e.code().as_deref(), Some("23505"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    drain(&auditor).await;
    assert_eq!(support::events(&auditor).await, 0);

    // The same connections serve the next transaction, which commits.
    let mut audit = auditor
        .begin::<TestEvent>(Actor::system("t"))
        .await
        .unwrap();
    deferred_duplicate(&mut audit, false).await.unwrap();
    audit.commit().await.unwrap();
    drain(&auditor).await;
    assert_eq!(support::events(&auditor).await, 1);

    // Known and left: sqlx's `Transaction::commit` keeps its depth when
    // COMMIT fails, so dropping it sends a ROLLBACK outside any transaction,
    // which PostgreSQL answers with a "no transaction in progress" warning.
}
