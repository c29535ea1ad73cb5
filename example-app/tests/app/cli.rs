//! The command line, run as a user would, on a SQLite file.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

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
    // 3 users; 2 projects; 3 memberships with roles (6); 1 role update; a
    // removal (2); 1 global update; 2 passwords.
    assert_eq!(lines.len(), 17, "{}", stdout(&log));
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
        // Lookups follow the name rules: the error names the rule rather
        // than echoing a value that cannot exist.
        (
            vec!["log", "--user", "  "],
            "error: a username must not be empty or only whitespace",
        ),
        (
            vec!["log", "--project", "two\nlines"],
            "error: a project name must not contain control characters (found U+000A)",
        ),
        (
            vec!["--as", "\u{202e}eve", "add-project", "X"],
            "error: a username must not contain bidirectional formatting characters (found U+202E)",
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

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_log_pages_through_its_cursor() {
    let db = database();
    assert!(run(&db, &["demo"]).status.success());
    let first = stdout(&run(&db, &["log", "--limit", "10"]));
    let cursor = first
        .lines()
        .find_map(|l| l.strip_prefix("Older events: add --cursor "))
        .expect("a cursor after a full page");
    let second = stdout(&run(&db, &["log", "--limit", "10", "--cursor", cursor]));
    assert_eq!(second.lines().filter(|l| l.starts_with("  #")).count(), 7);
    assert!(second.contains("#1 "), "{second}");
    assert!(!second.contains("Older events"), "{second}");
    let bad = run(&db, &["log", "--cursor", "1;DROP TABLE users"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "clap refuses it before any query"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid cursor `1;DROP TABLE users`"));
    // A cursor printed when the log was listed by id: refused, saying so.
    let old = run(&db, &["log", "--cursor", "b1f"]);
    assert_eq!(old.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&old.stderr);
    assert!(
        stderr.contains("outdated cursor `b1f`") && stderr.contains("newest page"),
        "{stderr}"
    );
}

#[test]
fn set_password_reads_standard_input_and_records_no_hash() {
    let db = database();
    assert!(run(&db, &["add-user", "dora"]).status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_example-app"))
        .args(["set-password", "--user", "dora"])
        .env("DATABASE_URL", &db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret phrase\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = stdout(&run(&db, &["log", "--json"]));
    let line: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(line["type"], "user_password_set");
    assert_eq!(line["text"], "set the password of dora");
    assert!(!log.contains("argon2") && !log.contains("s3cret"), "{log}");
    // An empty password is refused with one line.
    let empty = run(&db, &["set-password", "--user", "dora"]);
    assert_eq!(empty.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&empty.stderr).trim_end(),
        "error: the password is empty"
    );
}

#[test]
fn add_member_takes_several_users_all_or_nothing() {
    let db = database();
    for args in [
        vec!["add-project", "Apollo"],
        vec!["add-user", "bob"],
        vec!["add-user", "carol"],
        vec!["add-user", "dave"],
        vec!["add-member", "--project", "Apollo", "--user", "dave"],
    ] {
        assert!(run(&db, &args).status.success(), "{args:?}");
    }
    // dave, the third, is a member already: neither bob nor carol is added.
    let refused = run(
        &db,
        &[
            "add-member",
            "--project",
            "Apollo",
            "--user",
            "bob",
            "--user",
            "carol",
            "--user",
            "dave",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim_end(),
        "error: dave is already a member of Apollo"
    );
    let texts = |db: &str| -> Vec<String> {
        json_lines(&run(db, &["log", "--project", "Apollo", "--json"]))
            .iter()
            .map(|l| l["text"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        texts(&db),
        ["added dave to Apollo", "created project Apollo"]
    );
    let added = run(
        &db,
        &[
            "add-member",
            "--project",
            "Apollo",
            "--user",
            "bob",
            "--user",
            "carol",
            "--role",
            "ProjectDeveloper",
        ],
    );
    assert_eq!(
        stdout(&added),
        "done: 4 audit event(s) recorded\n",
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert_eq!(texts(&db).len(), 6);
}

/// Runs the example app with its standard output on a pipe whose reading
/// end is closed before it starts: every write it makes fails as it does
/// under `example-app log | head -1` once `head` has its line.
fn run_into_closed_pipe(db: &str, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_example-app"))
        .args(args)
        .env("DATABASE_URL", db)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run example-app")
}

#[test]
fn a_closed_output_ends_the_command_quietly_and_successfully() {
    let db = database();
    for args in [&["demo"][..], &["log"], &[], &["add-project", "Zephyr"]] {
        let out = run_into_closed_pipe(&db, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr, "", "{args:?}: nothing on stderr");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
    // The commands ran: the sample and the project are there.
    let log = run(&db, &["log", "--json", "--limit", "1000"]);
    assert!(log.status.success());
    assert!(stdout(&log).contains("Zephyr"));
}

#[test]
fn log_limit_is_refused_outside_1_to_1000() {
    let db = database();
    for limit in ["0", "1001"] {
        let out = run(&db, &["log", "--limit", limit]);
        assert_eq!(out.status.code(), Some(2), "--limit {limit}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.lines().next(),
            Some(format!("error: invalid value '{limit}' for '--limit <LIMIT>': {limit} is not in 1..=1000").as_str()),
            "--limit {limit}: {stderr}"
        );
        assert_eq!(stdout(&out), "", "--limit {limit}: nothing shown");
    }
    for limit in ["1", "1000"] {
        assert!(
            run(&db, &["log", "--limit", limit]).status.success(),
            "--limit {limit}"
        );
    }
}

#[test]
fn names_that_break_a_rule_are_refused_with_a_one_line_error_naming_it() {
    let db = database();
    let long = "a".repeat(300);
    let cases = [
        (
            "add-user",
            "",
            "a username must not be empty or only whitespace",
        ),
        (
            "add-user",
            "   ",
            "a username must not be empty or only whitespace",
        ),
        (
            "add-user",
            "bob\n  #99 2026-01-01 00:00:00  mallory",
            "a username must not contain control characters (found U+000A)",
        ),
        (
            "add-user",
            "evil\u{202E}gnp.exe",
            "a username must not contain bidirectional formatting characters (found U+202E)",
        ),
        (
            "add-user",
            long.as_str(),
            "a username must be at most 128 bytes long (this one has 300)",
        ),
        (
            "add-project",
            "   ",
            "a project name must not be empty or only whitespace",
        ),
        (
            "add-project",
            "two\nlines  #99 2026-01-01 00:00:00 mallory",
            "a project name must not contain control characters (found U+000A)",
        ),
        (
            "add-project",
            "a\tb",
            "a project name must not contain control characters (found U+0009)",
        ),
        (
            "add-project",
            "x\u{2066}y",
            "a project name must not contain bidirectional formatting characters (found U+2066)",
        ),
    ];
    for (command, name, rule) in cases {
        let out = run(&db, &[command, name]);
        assert_eq!(out.status.code(), Some(1), "{command} {name:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr, format!("error: {rule}\n"), "{command} {name:?}");
    }
    // Nothing got in.
    let log = run(&db, &["log", "--json"]);
    assert!(log.status.success());
    assert_eq!(json_lines(&log), Vec::<serde_json::Value>::new());
    // A name with spaces around it is stored trimmed.
    assert!(run(&db, &["add-user", "  dave  "]).status.success());
    let log = json_lines(&run(&db, &["log", "--json"]));
    assert_eq!(log[0]["text"], "created user dave with global roles none");
}

#[test]
fn a_duplicate_is_refused_with_one_clear_line() {
    let db = database();
    assert!(run(&db, &["add-user", "bob"]).status.success());
    assert!(run(&db, &["add-project", "Apollo"]).status.success());
    for (args, expected) in [
        (
            vec!["add-user", "bob"],
            "error: user `bob` already exists\n",
        ),
        (
            vec!["add-project", "Apollo"],
            "error: project `Apollo` already exists\n",
        ),
    ] {
        let out = run(&db, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), expected, "{args:?}");
    }
}

#[test]
fn role_help_lists_every_role() {
    let db = database();
    let help = run(&db, &["add-user", "--help"]);
    assert!(help.status.success());
    let text = stdout(&help);
    for role in example_app::domain::Role::ALL {
        assert!(
            text.contains(role.name()),
            "{} missing from:\n{text}",
            role.name()
        );
        assert!(
            text.contains(role.label()),
            "{} missing from:\n{text}",
            role.label()
        );
    }
}

#[test]
fn every_change_takes_a_reason_and_one_too_long_is_refused_before_anything_is_written() {
    let db = database();
    for change in [
        "set-password",
        "add-user",
        "add-project",
        "add-member",
        "update-member-roles",
        "remove-member",
        "update-user-roles",
        "clear-user-roles",
    ] {
        let help = stdout(&run(&db, &[change, "--help"]));
        assert!(help.contains("--reason <TEXT>"), "{change}:\n{help}");
    }
    for read in ["log", "export", "follow", "seal", "verify"] {
        let help = stdout(&run(&db, &[read, "--help"]));
        assert!(!help.contains("--reason"), "{read}:\n{help}");
    }
    assert!(
        run(&db, &["add-project", "Apollo", "--reason", "SUP-1"])
            .status
            .success()
    );
    let long = "x".repeat(9000);
    let refused = run(&db, &["add-project", "Gemini", "--reason", &long]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.starts_with("error: the context cannot be stored: it is ")
            && stderr.trim_end().ends_with("over the limit of 8192"),
        "{stderr}"
    );
    let log = stdout(&run(&db, &["log"]));
    assert!(log.contains("created project Apollo"), "{log}");
    assert!(!log.contains("Gemini"), "{log}");
}

#[test]
fn conflicting_filters_name_only_the_arguments_given() {
    // DATABASE_URL is set, as `run` does: clap once counted it as given and
    // printed a usage line in which `--database-url` looked required.
    let db = database();
    let out = run(&db, &["log", "--project", "A", "--user", "B"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'--project <PROJECT>' cannot be used with '--user <USER>'"),
        "{stderr}"
    );
    let usage = stderr
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .expect("a usage line");
    assert_eq!(usage, "Usage: example-app log --project <PROJECT>");
    // The environment still chooses the database when the flag is absent.
    assert!(run(&db, &["add-project", "Apollo"]).status.success());
    assert!(stdout(&run(&db, &["log"])).contains("created project Apollo"));
}

#[test]
fn only_staff_act_through_as_and_the_system_process_is_named() {
    let db = database();
    assert!(run(&db, &["demo"]).status.success());
    let refused = run(&db, &["--as", "bob", "add-project", "Bob's"]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim_end(),
        "error: `bob` is not a staff area administrator: only staff act through --as \
         (without --as, the command line acts as the system process `example-app-cli`)"
    );
    // Refused before anything was written, the read-only log included.
    assert!(!stdout(&run(&db, &["log"])).contains("Bob's"));
    assert_eq!(run(&db, &["--as", "bob", "log"]).status.code(), Some(1));

    assert!(
        run(&db, &["--as", "alice", "add-project", "Alice's"])
            .status
            .success()
    );
    assert!(run(&db, &["add-project", "Set-up"]).status.success());
    let lines = json_lines(&run(&db, &["log", "--json", "--limit", "2"]));
    assert_eq!(lines[0]["text"], "created project Set-up");
    assert_eq!(lines[0]["actor"]["kind"], "system");
    assert_eq!(lines[0]["actor"]["name"], "example-app-cli");
    assert_eq!(lines[1]["text"], "created project Alice's");
    assert_eq!(lines[1]["actor"]["username"], "alice");
    let text = stdout(&run(&db, &["log", "--limit", "1"]));
    assert!(
        text.contains("  system process example-app-cli  "),
        "{text}"
    );
}
