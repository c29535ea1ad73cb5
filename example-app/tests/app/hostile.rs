//! Hostile input: arbitrary payload text round-trips through the store and
//! renders escaped; arbitrary stored rows never make the reader panic.
//! Property tests; `PROPTEST_CASES` sets how many cases (48 by default, per
//! backend where a database is involved).

use crate::common;

use audit_core::events::{Decoded, EventCatalog};
use audit_core::present::{PresentContext, plain_text};
use audit_core::query::EventQuery;
use audit_core::text::printable;
use audit_core::{Actor, AuditError, auditable};
use example_app::commands::StaffAudit;
use example_app::domain::{Roles, UNKNOWN_USER, UserRef};
use example_app::events::{StaffEvent, StaffEventType, UserCreated};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::borrow::Cow;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

/// Records a user's creation with `username` as given: the payload text
/// under test, without the users table's constraints in the way.
#[auditable(emits(UserCreated))]
async fn record(cx: &mut StaffAudit, username: &str) -> Result<(), AuditError> {
    cx.emit(UserCreated {
        user: UserRef {
            id: 1,
            username: username.to_owned(),
        },
        global_roles: Roles::new(),
    })?;
    Ok(())
}

/// Any Unicode, NUL and markup included, from empty to long.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[<>&\"'/a-z \\\\\u{0}\n\r\t\u{1b}\u{85}\u{202e}\u{2066}\u{2028}\u{1F600}]{0,40}",
        Just("<script>alert(1)</script>".to_owned()),
        Just("&lt;already escaped&gt; &amp; &#60;".to_owned()),
        ".{2000,4000}",
    ]
}

#[test]
fn payload_text_round_trips_and_renders_escaped() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let auditors = runtime.block_on(common::auditors("hostile"));
    for auditor in &auditors {
        let mut runner = TestRunner::new(Config::with_cases(cases()));
        runner
            .run(&hostile_text(), |text| {
                runtime.block_on(async {
                    let mut audit = auditor
                        .begin::<StaffEvent>(Actor::system("proptest"))
                        .await
                        .unwrap();
                    let emitted = record(&mut audit, &text).await;
                    if text.contains('\0') {
                        // PostgreSQL cannot store NUL: refused on both, typed.
                        prop_assert!(
                            matches!(emitted, Err(AuditError::NulCharacter { .. })),
                            "{emitted:?}"
                        );
                        prop_assert!(
                            audit.commit().await.is_err(),
                            "a failed emit poisons the transaction"
                        );
                        return Ok(());
                    }
                    emitted.unwrap();
                    audit.commit().await.unwrap();
                    let page = auditor
                        .query::<StaffEvent>(&EventQuery::new().limit(1))
                        .await
                        .unwrap();
                    let stored = &page.events[0];
                    match &stored.event {
                        Decoded::Known(StaffEvent::UserCreated(e)) => {
                            prop_assert_eq!(&e.user.username, &text)
                        }
                        other => prop_assert!(false, "read back as {other:?}"),
                    }
                    let html = stored.render(&PresentContext::new());
                    prop_assert!(!html.contains('<'), "markup in {html}");
                    // An empty stored name shows the reference system's fallback.
                    let shown = if text.trim().is_empty() {
                        UNKNOWN_USER
                    } else {
                        text.as_str()
                    };
                    // Printable: a newline, an escape sequence or a
                    // bidirectional override cannot forge a line of text.
                    let text = plain_text(&html);
                    prop_assert_eq!(
                        &text,
                        &format!("created user {} with global roles none", printable(shown))
                    );
                    prop_assert!(
                        matches!(printable(&text), Cow::Borrowed(_)),
                        "unprintable {text:?}"
                    );
                    let actor = Actor::user(1, shown).to_string();
                    prop_assert!(
                        matches!(printable(&actor), Cow::Borrowed(_)),
                        "unprintable actor {actor:?}"
                    );
                    Ok(())
                })
            })
            .unwrap_or_else(|e| panic!("{}: {e}", common::label(auditor)));
    }
}

#[test]
fn decoding_arbitrary_codes_versions_and_json_never_panics() {
    let json = prop_oneof![
        any::<String>(),
        Just("{}".to_owned()),
        Just("null".to_owned()),
        Just(r#"{"user":{"id":"x","username":7},"roles":{}}"#.to_owned()),
        "\\{\"user\":\\{\"id\":-?[0-9]{1,25},\"username\":\".{0,10}\"\\},\"roles\":\\[\"[A-Za-z]{0,20}\"\\]\\}",
    ];
    let code = prop_oneof![
        any::<String>(),
        proptest::sample::select(
            StaffEventType::ALL
                .iter()
                .map(|t| t.code().to_owned())
                .collect::<Vec<_>>()
        ),
    ];
    let mut runner = TestRunner::new(Config::with_cases(cases() * 20));
    runner
        .run(&(code, any::<i64>(), json), |(code, version, json)| {
            let decoded = StaffEvent::decode(&code, version, &json);
            // Whatever came in, the result names its code and is safe to show.
            prop_assert_eq!(decoded.code(), code.as_str());
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_stored_rows_are_read_and_rendered_without_panicking() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let auditor = runtime.block_on(async {
        let auditor = common::sqlite("hostile_rows").await;
        example_app::schema::migrate(&auditor).await.unwrap();
        auditor
    });
    let audit_core::store::Pool::Sqlite(pool) = auditor.pool().clone() else {
        panic!("common::sqlite opens SQLite")
    };
    let row = (any::<String>(), any::<i64>(), any::<String>(), any::<i64>());
    let mut runner = TestRunner::new(Config::with_cases(cases()));
    runner
        .run(&row, |(code, version, payload, occurred_at)| {
            runtime.block_on(async {
                // Written by hand, as another program (or a newer version) might.
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, \
                     actor_id, actor_name, command_name, command_id, payload) \
                     VALUES ($1, $2, $3, 'system', 'x', 'x', 'c', 'id', $4) RETURNING id",
                )
                .bind(occurred_at)
                .bind(&code)
                .bind(version)
                .bind(&payload)
                .fetch_one(&pool)
                .await
                .unwrap();
                // Pages are in time order: the page older than just above
                // it (its time, and an id past it: the newest of that time)
                // starts with it, whatever its time.
                let cursor = format!("tb{:x}x{:x}", occurred_at as u64, id + 1);
                let page = auditor
                    .query::<StaffEvent>(&EventQuery::new().limit(1).cursor(cursor.parse().unwrap()))
                    .await
                    .unwrap();
                let stored = &page.events[0];
                prop_assert_eq!(stored.id, id);
                prop_assert_eq!(stored.event.code(), code.as_str());
                let html = stored.render(&PresentContext::new());
                prop_assert!(!html.is_empty());
                Ok(())
            })
        })
        .unwrap();
}
