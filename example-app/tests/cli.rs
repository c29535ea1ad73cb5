//! The command line, run as a user would, on a SQLite file.

use std::path::PathBuf;
use std::process::{Command, Output};

fn database() -> String {
    let dir = std::env::temp_dir().join("audit-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("cli-{}.db", uuid::Uuid::new_v4().simple()));
    format!("sqlite://{}", path.display())
}

fn run(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_example-app"))
        .args(args)
        .env("DATABASE_URL", db)
        .output()
        .expect("run example-app")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn demo_then_log_json_returns_every_event_with_its_text() {
    let db = database();
    let demo = run(&db, &["demo"]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let log = run(&db, &["log", "--json", "--limit", "100"]);
    assert!(log.status.success());
    let lines: Vec<serde_json::Value> = stdout(&log)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 3 users; 2 projects; 3 memberships with roles (6); 1 role update; a removal (2); 1 global update.
    assert_eq!(lines.len(), 15, "{}", stdout(&log));
    for line in &lines {
        for key in [
            "id",
            "type",
            "label",
            "actor",
            "occurred_at",
            "command",
            "command_id",
            "payload",
            "text",
        ] {
            assert!(!line[key].is_null(), "{key} missing in {line}");
        }
        assert!(!line["text"].as_str().unwrap().contains('<'), "{line}");
    }
    let removed = lines
        .iter()
        .find(|l| l["type"] == "project_member_removed")
        .unwrap();
    assert_eq!(removed["text"], "removed carol from Apollo");
    assert_eq!(removed["parent"]["kind"], "project");
    // The demo runs once.
    assert!(stdout(&run(&db, &["demo"])).contains("already"));
}

#[test]
fn markup_in_a_payload_stays_text_in_the_cli() {
    let db = database();
    assert!(
        run(&db, &["add-user", "<script>alert(1)</script>"])
            .status
            .success()
    );
    let log = stdout(&run(&db, &["log", "--json"]));
    let line: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(
        line["text"],
        "created user <script>alert(1)</script> with global roles none"
    );
    assert_eq!(line["actor"]["name"], "example-app-cli");
}

#[test]
fn errors_are_one_line_and_a_failing_status() {
    let db = database();
    assert!(run(&db, &["add-project", "Apollo"]).status.success());
    for (args, expected) in [
        (
            vec!["add-member", "--project", "Apollo", "--user", "ghost"],
            "error: unknown user `ghost`",
        ),
        (
            vec!["log", "--project", "Nope"],
            "error: unknown project `Nope`",
        ),
        (
            vec!["--as", "nobody", "add-project", "X"],
            "error: unknown user `nobody`",
        ),
    ] {
        let out = run(&db, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end(), expected, "{args:?}");
    }
    let bad_role = run(&db, &["add-user", "eve", "--role", "Admin"]);
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role `Admin`"));
    let unopenable = run("sqlite:///nonexistent-dir/x.db", &["log"]);
    assert_eq!(unopenable.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&unopenable.stderr).starts_with("error: cannot open the database")
    );
}
