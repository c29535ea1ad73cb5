//! The log as the command line prints it, on both backends: a user's log is
//! the reference's (the wider view has its own flag), stored values cannot
//! forge a line, and columns line up whatever the names.

use crate::common;

use audit_core::text::printable;
use audit_core::{Actor, AuditError, Auditor, auditable};
use example_app::commands::{self, StaffAudit};
use example_app::demo;
use example_app::domain::{Roles, UserRef};
use example_app::events::{StaffEvent, UserCreated};
use example_app::logs::{self, LogRequest, Scope};
use unicode_width::UnicodeWidthStr;

/// The texts of a whole scope, newest first.
async fn texts(auditor: &Auditor, scope: Scope) -> Vec<String> {
    let mut request = LogRequest::new(scope);
    request.limit = 1000;
    let page = logs::fetch(auditor, &request).await.unwrap();
    page.entries.iter().map(|e| e.text()).collect()
}

async fn user(auditor: &Auditor, name: &str) -> UserRef {
    example_app::directory::account_named(auditor, name)
        .await
        .unwrap()
        .unwrap()
        .user_ref()
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("the log is UTF-8")
}

#[tokio::test]
async fn a_users_log_is_the_references_and_the_wider_view_has_its_own_name() {
    for auditor in common::auditors("user_scope").await {
        let label = common::label(&auditor);
        demo::create(&auditor).await.unwrap();
        let bob = user(&auditor, "bob").await;

        // By bob, about bob, or whose target is one of his projects: the
        // creation of Apollo and Gemini by alice is in it, carol joining and
        // leaving Apollo is not.
        let own = texts(&auditor, Scope::user(&auditor, bob.clone()).await.unwrap()).await;
        for present in [
            "created user bob with global roles none",
            "created project Apollo",
            "created project Gemini",
            "added bob to Apollo",
            "set the password of bob",
        ] {
            assert!(own.iter().any(|t| t == present), "{label}: {own:#?}");
        }
        assert!(
            !own.iter().any(|t| t.contains("carol")),
            "{label}: {own:#?}"
        );
        assert_eq!(own.len(), 10, "{label}: {own:#?}");

        // The wider view adds everything on his projects: carol joining Apollo
        // with a role, and leaving it with her roles cleared.
        let wider = texts(&auditor, Scope::user_projects(&auditor, bob).await.unwrap()).await;
        for carol in ["added carol to Apollo", "removed carol from Apollo"] {
            assert!(wider.iter().any(|t| t == carol), "{label}: {wider:#?}");
        }
        assert_eq!(wider.len(), 14, "{label}: {wider:#?}");
        assert!(own.iter().all(|t| wider.contains(t)), "{label}");

        // The same two scopes on the command line.
        let url = common::url_of(&auditor).await;
        let count = |args: &'static [&'static str]| {
            let url = url.clone();
            async move {
                let out = common::cli(&url, args).await;
                stdout(&out).lines().count()
            }
        };
        assert_eq!(
            count(&["log", "--user", "bob", "--json", "--limit", "100"]).await,
            10,
            "{label}"
        );
        assert_eq!(
            count(&[
                "log",
                "--user",
                "bob",
                "--with-project-activity",
                "--json",
                "--limit",
                "100"
            ])
            .await,
            14,
            "{label}"
        );
    }
}

/// Records a user's creation whose stored username is `username`, as an
/// older program or an import could have stored it.
#[auditable(emits(UserCreated))]
async fn record(cx: &mut StaffAudit, username: &str) -> Result<(), AuditError> {
    cx.emit(UserCreated {
        user: UserRef {
            id: 404,
            username: username.to_owned(),
        },
        global_roles: Roles::new(),
    })?;
    Ok(())
}

#[tokio::test]
async fn stored_values_cannot_forge_a_line_of_the_command_lines_log() {
    const FORGED: &str = "two\nlines  #99  2026-01-01 00:00:00  alice  add_user  created user root";
    for auditor in common::auditors("forged_lines").await {
        let label = common::label(&auditor);
        let actor = Actor::user(7, format!("mallory\r\u{1b}[2K\u{202e}{FORGED}"));
        let mut audit = auditor.begin::<StaffEvent>(actor).await.unwrap();
        record(&mut audit, FORGED).await.unwrap();
        record(&mut audit, "evil\u{202e}gpj.exe\u{2028}x\u{85}y")
            .await
            .unwrap();
        audit.commit().await.unwrap();

        let out = stdout(&common::cli(&common::url_of(&auditor).await, &["log"]).await);
        let lines: Vec<&str> = out.lines().collect();
        // The heading and one line per event, nothing forged in between.
        assert_eq!(lines.len(), 3, "{label}: {out}");
        assert!(
            lines[1..].iter().all(|l| l.starts_with("  #")),
            "{label}: {out}"
        );
        assert_eq!(
            printable(&out.replace('\n', "")),
            out.replace('\n', ""),
            "{label}"
        );
        assert!(
            lines[2].contains(r"created user two\nlines  #99"),
            "{label}: {out}"
        );
        assert!(
            lines[1].contains(r"created user evil\u{202e}gpj.exe\u{2028}x\u{85}y"),
            "{label}: {out}"
        );
        assert!(
            lines[1].contains(r"mallory\r\u{1b}[2K\u{202e}two\nlines"),
            "{label}: {out}"
        );
    }
}

#[tokio::test]
async fn columns_line_up_whatever_the_names_on_the_page() {
    for auditor in common::auditors("columns").await {
        let label = common::label(&auditor);
        for (id, name) in [
            (1, "al"),
            (2, "x".repeat(100).as_str()),
            (3, "日本語の名前"),
        ] {
            let mut audit = auditor
                .begin::<StaffEvent>(Actor::user(id, name))
                .await
                .unwrap();
            commands::add_project(&mut audit, &format!("P{id}"))
                .await
                .unwrap();
            audit.commit().await.unwrap();
        }
        let out = stdout(&common::cli(&common::url_of(&auditor).await, &["log"]).await);
        let columns: Vec<(usize, usize)> = out
            .lines()
            .skip(1)
            .map(|line| {
                let command = line.find("add_project").expect("the command column");
                let text = line.find("created project").expect("the text column");
                (line[..command].width(), line[..text].width())
            })
            .collect();
        assert_eq!(columns.len(), 3, "{label}: {out}");
        assert!(
            columns.iter().all(|c| *c == columns[0]),
            "{label}: columns move: {columns:?}\n{out}"
        );
    }
}

#[tokio::test]
async fn the_logs_own_records_print_the_librarys_labels_and_can_be_filtered() {
    for auditor in common::auditors("cli_own_records").await {
        let label = common::label(&auditor);
        demo::create(&auditor).await.unwrap();
        let alice = user(&auditor, "alice").await;
        common::own_records(&auditor, &Actor::user(alice.id, &alice.username)).await;
        let url = common::url_of(&auditor).await;

        // Each line has the type's label before the text, as the web log's
        // Event column: the library's for its own records.
        let out = stdout(&common::cli(&url, &["log"]).await);
        let lines: Vec<&str> = out.lines().collect();
        for (line, words, sentence) in [
            (lines[1], "Log pruned", common::PRUNED_SENTENCE),
            (lines[2], "Events imported", common::IMPORTED_SENTENCE),
        ] {
            let text = format!("alice {sentence}");
            assert!(line.ends_with(&text), "{label}: {out}");
            let before = line[..line.len() - text.len()].trim_end();
            assert!(before.ends_with(&format!("  {words}")), "{label}: {out}");
        }
        assert!(
            !out.contains("audit:") && !out.contains("cannot show"),
            "{label}: {out}"
        );
        // The catalog's events have theirs.
        assert!(out.contains("  Project created  "), "{label}: {out}");

        // `--type` takes the library's codes.
        let out = stdout(
            &common::cli(
                &url,
                &[
                    "log",
                    "--type",
                    "audit:log_pruned",
                    "--type",
                    "audit:events_imported",
                ],
            )
            .await,
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{label}: {out}");
        assert!(lines[1].contains("Log pruned"), "{label}: {out}");
        assert!(lines[2].contains("Events imported"), "{label}: {out}");
        let unknown = common::cli(&url, &["log", "--type", "audit:unheard_of"]).await;
        assert!(!unknown.status.success(), "{label}");

        // JSON keeps the code, and has the label beside it.
        let json =
            stdout(&common::cli(&url, &["log", "--json", "--type", "audit:log_pruned"]).await);
        let line: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        assert_eq!(line["type"], "audit:log_pruned", "{label}: {line}");
        assert_eq!(line["label"], "Log pruned", "{label}: {line}");
        assert_eq!(
            line["text"],
            format!("alice {}", common::PRUNED_SENTENCE),
            "{label}: {line}"
        );
    }
}
