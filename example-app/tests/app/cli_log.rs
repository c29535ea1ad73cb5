//! The log as the command line prints it, on both backends: a user's log is
//! the reference's (the wider view has its own flag), stored values cannot
//! forge a line, columns line up whatever the names, and the events of one
//! request or one client address are found, and only those.

use crate::common;

use audit_core::text::printable;
use audit_core::{Actor, AuditError, Auditor, Context, auditable};
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

/// Commits a project of each name in one transaction acting for alice
/// (id 1) with a request's context; returns their events' ids, newest
/// first.
async fn projects_in(auditor: &Auditor, request: &str, address: &str, names: &[&str]) -> Vec<i64> {
    let last = "SELECT MAX(id) FROM audit_events";
    let before = common::scalar(auditor, last).await;
    let mut audit: StaffAudit = auditor.begin(Actor::user(1, "alice")).await.unwrap();
    let context = Context::new()
        .with_request_id(request)
        .with_client_address(address.parse().unwrap());
    audit.set_context(context).unwrap();
    for name in names {
        commands::add_project(&mut audit, name).await.unwrap();
    }
    audit.commit().await.unwrap();
    let after = common::scalar(auditor, last).await;
    assert_eq!(after - before, names.len() as i64, "one event a project");
    ((before + 1)..=after).rev().collect()
}

#[tokio::test]
async fn the_events_of_one_request_or_one_address_and_only_those() {
    for auditor in common::auditors("cli_log_request").await {
        let label = common::label(&auditor);
        demo::create(&auditor).await.unwrap();
        // Request A in two transactions, B from the same address between
        // them, C from another.
        let a1 = projects_in(&auditor, "req-a", "203.0.113.9", &["A1", "A2"]).await;
        let b = projects_in(&auditor, "req-b", "203.0.113.9", &["B"]).await;
        let a2 = projects_in(&auditor, "req-a", "203.0.113.9", &["A3"]).await;
        let c = projects_in(&auditor, "req-c", "2001:db8::7", &["C"]).await;
        let url = common::url_of(&auditor).await;
        let ids = |args: &'static [&'static str]| {
            let url = url.clone();
            async move {
                let mut all = vec!["log", "--json", "--limit", "1000"];
                all.extend(args);
                stdout(&common::cli(&url, &all).await)
                    .lines()
                    .map(|l| {
                        serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                            .as_i64()
                            .unwrap()
                    })
                    .collect::<Vec<i64>>()
            }
        };
        assert_eq!(
            ids(&["--request-id", "req-a"]).await,
            [a2.clone(), a1.clone()].concat(),
            "{label}"
        );
        assert_eq!(
            ids(&["--address", "203.0.113.9"]).await,
            [a2, b.clone(), a1].concat(),
            "{label}"
        );
        assert_eq!(ids(&["--address", "2001:DB8:0::7"]).await, c, "{label}");
        assert_eq!(
            ids(&["--request-id", "req-b", "--address", "203.0.113.9"]).await,
            b,
            "{label}"
        );
        assert_eq!(
            ids(&["--request-id", "req-c", "--address", "203.0.113.9"]).await,
            [0_i64; 0],
            "{label}"
        );
        // With the scopes: C's project is on its own project's log.
        assert_eq!(
            ids(&["--project", "C", "--request-id", "req-c"]).await,
            c,
            "{label}"
        );
        assert_eq!(
            ids(&["--project", "Apollo", "--request-id", "req-c"]).await,
            [0_i64; 0],
            "{label}"
        );
        let none = stdout(&common::cli(&url, &["log", "--request-id", "req-z"]).await);
        assert!(none.contains("(no events)"), "{label}: {none}");
        let bad = common::cli(&url, &["log", "--address", "203.0.113.0/24"]).await;
        assert_eq!(bad.status.code(), Some(2), "{label}");
        assert!(
            String::from_utf8_lossy(&bad.stderr)
                .contains("invalid value '203.0.113.0/24' for '--address <IP>'"),
            "{label}: {}",
            String::from_utf8_lossy(&bad.stderr)
        );
    }
}
