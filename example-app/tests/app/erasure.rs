//! Erasing a person, as a team would: the demo, a signed seal with the head
//! kept, `erase-user bob`, then `verify` against the head and the public
//! key; nothing shows bob any more (the log, the export, the web pages,
//! and on SQLite the database's files), and an edit of anything else is
//! still caught.

use axum::http::StatusCode;

use crate::common;
use crate::common::web::Browser;

/// How long a test seals again before it gives up (a guard against a hang,
/// never a timing assertion).
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether the file at `path` holds the bytes of `needle` (a missing file
/// holds nothing). Read by another process (`grep`): SQLite's locks are
/// the process's POSIX locks, which closing any descriptor of the file
/// would drop for every connection this process has open.
fn file_holds(path: &str, needle: &str) -> bool {
    if !std::path::Path::new(path).exists() {
        return false;
    }
    let status = std::process::Command::new("grep")
        .args(["-qaF", needle, path])
        .status()
        .expect("run grep");
    match status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!("grep {path}: {status}"),
    }
}

/// Seals with `key` until every event is sealed, writing the head to `head`.
async fn seal_everything(url: &str, key: &str, head: &str, events: i64) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let out = common::cli(url, &["seal", "--key-file", key, "--head-out", head]).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        if text(&out.stdout).contains(&format!("({events} events, signed)")) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not sealed after {PATIENCE:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn erase_user_leaves_no_trace_of_bob_and_the_signed_log_verifies() {
    for auditor in common::auditors("erase_user").await {
        let label = common::label(&auditor);
        let url = common::url_of(&auditor).await;
        let dir =
            std::env::temp_dir().join(format!("erase-user-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let (key, head) = (dir.join("seal.key"), dir.join("head.json"));
        let (key, head) = (key.to_str().unwrap(), head.to_str().unwrap());

        let demo = common::cli(&url, &["demo"]).await;
        assert!(demo.status.success(), "{label}: {}", text(&demo.stderr));
        // bob signs in (a session), and someone tries his name with a
        // wrong password (a sign-in record under it).
        let mut browser = Browser::new(&auditor).connecting_from("198.51.100.7");
        let bob_in = browser.sign_in("bob", "bob-demo-password").await;
        assert_eq!(
            bob_in.status,
            StatusCode::SEE_OTHER,
            "{label}: {}",
            bob_in.body
        );
        let mut guesser = Browser::new(&auditor).connecting_from("198.51.100.8");
        guesser.sign_in("bob", "not his password").await;
        assert!(
            common::scalar(&auditor, "SELECT count(*) FROM web_sign_in_attempts").await > 0,
            "{label}: a sign-in record to remove"
        );

        let made = common::cli(&url, &["seal-key", "--out", key]).await;
        assert!(made.status.success(), "{label}: {}", text(&made.stderr));
        let public = text(&made.stdout).trim().to_owned();
        let events =
            common::scalar(&auditor, "SELECT count(*) FROM audit_events WHERE id > 0").await;
        seal_everything(&url, key, head, events).await;

        let erased = common::cli(
            &url,
            &[
                "--as",
                "alice",
                "erase-user",
                "bob",
                "--reason",
                "erasure request 12",
            ],
        )
        .await;
        assert!(erased.status.success(), "{label}: {}", text(&erased.stderr));
        let said = text(&erased.stdout);
        assert!(
            said.contains("erased 13 personal value(s) from 13 event(s)"),
            "{label}: {said}"
        );
        if label == "sqlite" {
            let path = url.trim_start_matches("sqlite://");
            for file in [path.to_owned(), format!("{path}-wal")] {
                assert!(!file_holds(&file, "bob"), "{label}: {file} holds bob");
            }
        }

        let verify = ["verify", "--against", head, "--public-key", public.as_str()];
        let verified = common::cli(&url, &verify).await;
        let report = text(&verified.stdout);
        assert!(verified.status.success(), "{label}: {report}");
        assert!(
            report.contains("The sealed log is intact."),
            "{label}: {report}"
        );
        let record = common::scalar(
            &auditor,
            "SELECT max(id) FROM audit_events WHERE event_type = 'audit:subject_erased'",
        )
        .await;
        assert!(
            report.contains(&format!("13 value(s) erased by event {record}.")),
            "{label}: {report}"
        );

        // Nothing shows bob: the log, the export, and every page.
        for args in [&["log"][..], &["export"][..]] {
            let out = common::cli(&url, args).await;
            assert!(out.status.success(), "{label}: {}", text(&out.stderr));
            let shown = text(&out.stdout);
            assert!(
                !shown.to_lowercase().contains("bob"),
                "{label} {args:?}: {shown}"
            );
            assert!(
                shown.contains("an erased user"),
                "{label} {args:?}: {shown}"
            );
        }
        let export = text(&common::cli(&url, &["export"]).await.stdout);
        assert!(
            export.contains("\"event_type\":\"audit:subject_erased\""),
            "{label}: the erasure is exported, for copies to apply"
        );
        let mut staff = Browser::new(&auditor);
        assert_eq!(
            staff.sign_in("alice", "alice-demo-password").await.status,
            StatusCode::SEE_OTHER
        );
        let ids = staff.get("/").await.event_ids();
        assert!(ids.len() > 20, "{label}: {ids:?}");
        for uri in
            std::iter::once("/".to_owned()).chain(ids.iter().map(|id| format!("/events/{id}")))
        {
            let page = staff.get(&uri).await;
            assert_eq!(page.status, StatusCode::OK, "{label} {uri}: {}", page.body);
            assert!(
                !page.body.to_lowercase().contains("bob"),
                "{label} {uri}: {}",
                page.body
            );
        }
        // bob's account, memberships, session and sign-in records are gone.
        assert_eq!(
            browser.get("/").await.status,
            StatusCode::SEE_OTHER,
            "{label}: his session ended"
        );
        for sql in [
            "SELECT count(*) FROM users WHERE username = 'bob'",
            "SELECT count(*) FROM web_sign_in_attempts WHERE username = 'bob'",
        ] {
            assert_eq!(common::scalar(&auditor, sql).await, 0, "{label}: {sql}");
        }
        if label == "postgres" {
            let rows = common::scalar(
                &auditor,
                "SELECT count(*) FROM audit_events \
                 WHERE lower(row_to_json(audit_events)::text) LIKE '%bob%'",
            )
            .await;
            assert_eq!(rows, 0, "{label}: the live rows");
        } else {
            let path = url.trim_start_matches("sqlite://");
            for file in [path.to_owned(), format!("{path}-wal")] {
                assert!(
                    !file_holds(&file, "bob"),
                    "{label}: {file} holds bob at the end"
                );
            }
        }

        // Any other value edited is still caught.
        let alices = common::scalar(
            &auditor,
            "SELECT min(id) FROM audit_events WHERE actor_name = 'alice'",
        )
        .await;
        let edit = match label {
            "sqlite" => format!(
                "DROP TRIGGER audit_events_no_update; \
                 UPDATE audit_events SET actor_name = 'mallory' WHERE id = {alices}"
            ),
            _ => format!(
                "BEGIN; SET LOCAL session_replication_role = replica; \
                 UPDATE audit_events SET actor_name = 'mallory' WHERE id = {alices}; COMMIT;"
            ),
        };
        common::execute(&auditor, &edit).await.unwrap();
        let caught = common::cli(&url, &verify).await;
        assert!(!caught.status.success(), "{label}");
        assert!(
            text(&caught.stdout).contains(&format!("event {alices} was edited: its `actor_name`")),
            "{label}: {}",
            text(&caught.stdout)
        );
        // Last, since an attempt records the name it tried: bob is no
        // user any more.
        let mut bob = Browser::new(&auditor);
        assert_ne!(
            bob.sign_in("bob", "bob-demo-password").await.status,
            StatusCode::SEE_OTHER
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
