//! "Is my log intact?" from the command line: make a key, seal, keep the
//! head, verify; an edit is named and the exit code says so.

use crate::common;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn seal_keep_the_head_and_verify() {
    for auditor in common::auditors("seal_cli").await {
        let label = common::label(&auditor);
        let url = common::url_of(&auditor).await;
        let dir = std::env::temp_dir().join(format!("seal-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let (key, head) = (dir.join("seal.key"), dir.join("head.json"));
        let (key, head) = (key.to_str().unwrap(), head.to_str().unwrap());

        let made = common::cli(&url, &["seal-key", "--out", key]).await;
        assert!(made.status.success(), "{label}: {}", text(&made.stderr));
        let public = text(&made.stdout).trim().to_owned();
        assert_eq!(public.len(), 64, "{label}: {public}");
        // A second key over the first is refused: a key is not to be lost.
        assert!(
            !common::cli(&url, &["seal-key", "--out", key])
                .await
                .status
                .success()
        );

        for name in ["Apollo", "Gemini", "Mercury"] {
            assert!(
                common::cli(&url, &["add-project", name])
                    .await
                    .status
                    .success()
            );
        }
        // Stable once every older transaction in the cluster has ended.
        let mut sealed = String::new();
        for _ in 0..300 {
            let out = common::cli(&url, &["seal", "--key-file", key, "--head-out", head]).await;
            assert!(out.status.success(), "{label}: {}", text(&out.stderr));
            sealed = text(&out.stdout);
            if sealed.contains("(3 events, signed)") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(sealed.contains("(3 events, signed)"), "{label}: {sealed}");

        let verify = ["verify", "--against", head, "--public-key", public.as_str()];
        let ok = common::cli(&url, &verify).await;
        assert!(ok.status.success(), "{label}: {}", text(&ok.stdout));
        assert!(
            text(&ok.stdout).contains("The sealed log is intact."),
            "{label}"
        );

        // An owner edits a sealed event behind the triggers' back.
        let id = common::scalar(&auditor, "SELECT MIN(id) FROM audit_events WHERE id > 0").await;
        let edit = match label {
            "sqlite" => format!(
                "DROP TRIGGER audit_events_no_update; \
                 UPDATE audit_events SET actor_name = 'mallory' WHERE id = {id}"
            ),
            _ => format!(
                "BEGIN; SET LOCAL session_replication_role = replica; \
                 UPDATE audit_events SET actor_name = 'mallory' WHERE id = {id}; COMMIT;"
            ),
        };
        common::execute(&auditor, &edit).await.unwrap();
        let caught = common::cli(&url, &verify).await;
        assert!(!caught.status.success(), "{label}");
        let report = text(&caught.stdout);
        assert!(
            report.contains(&format!("event {id} was edited: its `actor_name` differs")),
            "{label}: {report}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
