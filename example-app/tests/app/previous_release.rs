//! The log as the release before this one left it (audit schema version 7:
//! no context, actors of the kinds it had), upgraded by this one: every
//! event reads, renders, exports and verifies as that release did, on both
//! backends. Each fixture (`tests/fixtures/previous_release_*.sql`) is that
//! release's `example-app demo`, an `add-project` acting as alice, and a
//! `seal`; `previous_release_export_*.jsonl` is what its `export` printed.

use crate::common;
use crate::common::web::Browser;

use audit_core::seals::VerifyOptions;

/// Each backend's database as the previous release left it, and what its
/// `export` printed.
const FIXTURES: [(&str, &str, &str); 2] = [
    (
        "sqlite",
        include_str!("../fixtures/previous_release_sqlite.sql"),
        include_str!("../fixtures/previous_release_export_sqlite.jsonl"),
    ),
    (
        "postgres",
        include_str!("../fixtures/previous_release_postgres.sql"),
        include_str!("../fixtures/previous_release_export_postgres.jsonl"),
    ),
];

#[tokio::test]
async fn the_previous_releases_log_reads_renders_exports_and_verifies_as_it_did() {
    for auditor in audit_core::testing::all("previous_release").await {
        let label = common::label(&auditor);
        let (_, dump, exported) = FIXTURES
            .iter()
            .find(|(backend, _, _)| *backend == label)
            .expect("a fixture for each backend");
        upgrades_and_reads_as_before(&auditor, dump, exported).await;
    }
}

async fn upgrades_and_reads_as_before(auditor: &audit_core::Auditor, dump: &str, printed: &str) {
    let auditor = auditor.clone();
    common::execute(&auditor, dump).await.unwrap();
    example_app::schema::migrate(&auditor).await.unwrap();
    assert_eq!(
        auditor.schema_status().await.unwrap(),
        audit_core::store::SchemaStatus::Current
    );

    // The seal that release made verifies over its 18 events.
    let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.divergences);
    assert_eq!((report.seals, report.events), (1, 18));

    // `export` prints every line as that release printed it.
    let url = common::url_of(&auditor).await;
    let out = common::cli(&url, &["export"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let before: Vec<serde_json::Value> = printed
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(exported, before);

    // The staff pages show each event with the text that release gave it,
    // newest first, and its actor as it was stored.
    let mut browser = Browser::new(&auditor);
    let signed_in = browser.sign_in("alice", "alice-demo-password").await;
    assert_eq!(signed_in.status.as_u16(), 303, "alice signs in");
    let page = browser.get("/").await;
    let texts: Vec<String> = page
        .event_texts()
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let expected: Vec<String> = before
        .iter()
        .rev()
        .map(|line| line["text"].as_str().expect("a text").to_owned())
        .collect();
    assert_eq!(texts, expected);
    assert!(
        page.body.contains("system process demo-setup"),
        "{}",
        page.body
    );
    let event = browser.get("/events/18").await;
    assert_eq!(event.status.as_u16(), 200);
    assert!(
        event.body.contains("Event #18: Project created") && event.body.contains(">Zeus</a>"),
        "{}",
        event.body
    );

    // And this release's events follow them in the same chain.
    let mut audit = auditor
        .begin::<example_app::events::StaffEvent>(
            audit_core::Actor::user(1, "alice").acting_as(2, "bob"),
        )
        .await
        .unwrap();
    audit
        .set_context(audit_core::Context::new().with_request_id("after-upgrade"))
        .unwrap();
    example_app::commands::add_project(&mut audit, "Hermes")
        .await
        .unwrap();
    audit.commit().await.unwrap();
    auditor.seal(None).await.unwrap();
    let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.divergences);
    assert_eq!((report.seals, report.events), (2, 19));

    // bob is erased across both seals' encodings: in the events the old
    // release sealed (version 1, unsalted; it hashed payloads whole, so a
    // payload with his name goes whole) and in this release's (version 2).
    // The chain still verifies, and nothing reads "bob" any more.
    let erased = auditor
        .erase::<example_app::events::StaffEvent>(
            &audit_core::erasure::Subject::user(2),
            &audit_core::Actor::user(1, "alice"),
            "erasure request",
        )
        .await
        .unwrap();
    assert!(erased.values > 0 && erased.unsalted > 0, "{erased:?}");
    assert!(erased.whole_payloads > 0, "{erased:?}");
    auditor.seal(None).await.unwrap();
    let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.divergences);
    assert_eq!(report.erasures.len(), 1);
    assert_eq!(report.erasures[0].values, erased.values);
    let left = common::scalar(
        &auditor,
        "SELECT count(*) FROM audit_events WHERE id > 0 AND (actor_name = 'bob' \
         OR actor_as_name = 'bob' OR CAST(payload AS TEXT) LIKE '%\"bob\"%')",
    )
    .await;
    assert_eq!(left, 0, "bob is gone from the upgraded log");
}
