//! "Is my log intact?" from the command line: make a key, seal, keep the
//! head, verify; an edit is named and the exit code says so.

use sqlx::{Connection, PgConnection};

use crate::common;

/// How long a test seals again before it gives up (a guard against a hang,
/// never a timing assertion).
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

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
        // Stable once every older transaction of the database has ended:
        // sealed again until then (bounded; a transaction that holds the
        // seal back is named on standard error).
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let out = common::cli(&url, &["seal", "--key-file", key, "--head-out", head]).await;
            assert!(out.status.success(), "{label}: {}", text(&out.stderr));
            let sealed = text(&out.stdout);
            if sealed.contains("(3 events, signed)") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{label}: not sealed after {PATIENCE:?}: {sealed}{}",
                text(&out.stderr)
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }

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

#[tokio::test]
async fn seal_names_the_transaction_that_holds_writers_up() {
    let Some(auditor) = common::postgres("seal_cli_held").await else {
        return;
    };
    example_app::schema::migrate(&auditor).await.unwrap();
    let url = common::url_of(&auditor).await;
    // A session of the same database writes an event and stays idle in its
    // transaction; then a project is added, which waits behind it.
    let mut blocker = PgConnection::connect(&url).await.unwrap();
    let mut blocker_tx = blocker.begin().await.unwrap();
    sqlx::query(common::HOLDING_EVENT)
        .execute(&mut *blocker_tx)
        .await
        .unwrap();
    let (xid, pid, database): (i64, i32, String) = sqlx::query_as(
        "SELECT pg_current_xact_id()::text::int8, pg_backend_pid(), current_database()::text",
    )
    .fetch_one(&mut *blocker_tx)
    .await
    .unwrap();
    // One statement more: the session is idle in its transaction by now.
    sqlx::query("SELECT 1")
        .execute(&mut *blocker_tx)
        .await
        .unwrap();
    let adding = {
        let url = url.clone();
        tokio::spawn(async move { common::cli(&url, &["add-project", "Apollo"]).await })
    };

    let opening = format!(
        "warning: 1 writer waits to commit behind transaction {xid} (pid {pid}, \
         database {database}, idle in transaction for "
    );
    let deadline = std::time::Instant::now() + PATIENCE;
    let warning = loop {
        let out = common::cli(&url, &["seal"]).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let warning = text(&out.stderr);
        if warning.starts_with(&opening) {
            break warning;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the writer never waited: {warning}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        warning.ends_with("), which holds the log's commit order\n")
            && warning.lines().count() == 1,
        "{warning}"
    );
    assert!(!adding.is_finished(), "the project was added meanwhile");

    // Once it ends, the project is added, its events are sealed and
    // nothing is named.
    blocker_tx.commit().await.unwrap();
    let added = adding.await.unwrap();
    assert!(added.status.success(), "{}", text(&added.stderr));
    let events = common::scalar(&auditor, "SELECT COUNT(*) FROM audit_events WHERE id > 0").await;
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let out = common::cli(&url, &["seal"]).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let sealed = text(&out.stdout);
        if sealed.contains(&format!("({events} events, unsigned)")) {
            assert_eq!(text(&out.stderr), "", "nothing holds the seal back");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not sealed after {PATIENCE:?}: {sealed}{}",
            text(&out.stderr)
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
