//! Rows the previous release stored, `user_created` at version 1 (when its
//! roles were called `roles`), read by this one through the catalog's
//! upgrade: in queries, on the log page and in `example-app log`, on both
//! backends.

use crate::common;
use crate::common::web::{Browser, PASSWORD, cast};

use audit_core::events::Decoded;
use audit_core::query::EventQuery;
use example_app::domain::{Role, UserRef};
use example_app::events::{StaffEvent, UserCreated};

/// A `user_created` row as version 1 of the event stored it: dora, created
/// by alice (user 1) with the output checker role.
const VERSION_1_ROW: &str = "INSERT INTO audit_events (occurred_at, event_type, \
    payload_version, actor_kind, actor_id, actor_name, command_name, command_id, payload) \
    VALUES (1700000000000000, 'user_created', 1, 'user', '1', 'alice', 'add_user', 'v1-release', \
    '{\"user\": {\"id\": 40, \"username\": \"dora\"}, \"roles\": [\"OutputChecker\"]}')";

const TEXT: &str = "created user dora with global roles Output checker";

#[tokio::test]
async fn version_1_rows_read_as_version_2_in_queries_pages_and_the_cli() {
    for auditor in common::auditors("versions").await {
        let label = common::label(&auditor);
        let cast = cast(&auditor).await;
        common::execute(&auditor, VERSION_1_ROW).await.unwrap();

        // The query decodes it as the current payload.
        let page = auditor
            .query::<StaffEvent>(&EventQuery::new().types(["user_created"]))
            .await
            .unwrap();
        let old = page
            .events
            .iter()
            .find(|e| e.command_id == "v1-release")
            .expect("the version 1 row is found by its type");
        assert_eq!(
            old.event,
            Decoded::Known(StaffEvent::from(UserCreated {
                user: UserRef {
                    id: 40,
                    username: "dora".into()
                },
                global_roles: [Role::OutputChecker].into_iter().collect(),
            })),
            "{label}"
        );

        // The staff page shows it like any other.
        let mut browser = Browser::new(&auditor);
        browser.sign_in(&cast.alice.username, PASSWORD).await;
        let texts = browser.get("/").await.event_texts();
        assert!(
            texts.iter().any(|(id, text)| *id == old.id && text == TEXT),
            "{label}: {texts:#?}"
        );

        // So does the command line, with the upgraded payload.
        let url = common::url_of(&auditor).await;
        let out = common::cli(&url, &["log", "--json", "--limit", "100"]).await;
        assert!(
            out.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line: serde_json::Value = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|l| l["id"] == old.id)
            .expect("the version 1 row is in the log");
        assert_eq!(line["type"], "user_created", "{label}");
        assert_eq!(line["text"], TEXT, "{label}");
        assert_eq!(
            line["payload"]["global_roles"],
            serde_json::json!(["OutputChecker"]),
            "{label}"
        );
    }
}
