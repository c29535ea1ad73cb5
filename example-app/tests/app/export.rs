//! `export` and `follow`, run as a user would run them, on every
//! available backend: `export` writes one JSON line per event in position
//! order with every stored column and the event's text (the person an
//! actor acted for and the event's context when it has them); a range of
//! it is a slice of the whole; a closed output ends it quietly. `follow` with a
//! position file, stopped (SIGTERM, SIGKILL, SIGINT) and started again
//! while events keep coming, prints every event exactly once across runs.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use audit_core::query::Position;
use audit_core::store::Backend;
use audit_core::{Actor, Auditor, Context, on_backend};
use chrono::DateTime;
use example_app::commands::{self, StaffAudit};
use example_app::domain::{Role, Roles};
use example_app::events::StaffEvent;
use sqlx::Row as _;

/// How long a test waits for a line, an exit or a file before it gives up
/// (a guard against a hang, never a timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);

fn example_app(url: &str) -> Command {
    let mut command = common::example_app(url);
    command.env("RUST_LOG", "error");
    command
}

fn run(url: &str, args: &[&str]) -> Output {
    example_app(url)
        .args(args)
        .output()
        .expect("run example-app")
}

/// The JSON lines of a successful run.
fn lines(url: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let out = run(url, args);
    assert!(
        out.status.success(),
        "`{}`: {}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn position(line: &serde_json::Value) -> Position {
    line["position"]
        .as_str()
        .unwrap_or_else(|| panic!("no position in {line}"))
        .parse()
        .unwrap_or_else(|e| panic!("{e} in {line}"))
}

/// Commits one user, one project and a membership with roles: four events
/// in one transaction, named after `tag`.
async fn grow(auditor: &Auditor, tag: &str) {
    grow_as(auditor, tag, Actor::system("grow"), Context::new()).await;
}

/// [`grow`], acting for `actor`, with `context`.
async fn grow_as(auditor: &Auditor, tag: &str, actor: Actor, context: Context) {
    let mut audit: StaffAudit = auditor.begin(actor).await.unwrap();
    audit.set_context(context).unwrap();
    let user = commands::add_user(&mut audit, &format!("user-{tag}"), Roles::new())
        .await
        .unwrap();
    let project = commands::add_project(&mut audit, &format!("project-{tag}"))
        .await
        .unwrap();
    let roles: Roles = [Role::ProjectDeveloper].into_iter().collect();
    commands::add_member(&mut audit, &project, &user, roles)
        .await
        .unwrap();
    audit.commit().await.unwrap();
}

/// `grow` from `tasks` tasks at once, `each` times each.
async fn grow_concurrently(auditor: &Auditor, tag: &str, tasks: usize, each: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let auditor = auditor.clone();
            let tag = format!("{tag}-{t}");
            tokio::spawn(async move {
                for i in 0..each {
                    grow(&auditor, &format!("{tag}-{i}")).await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

/// An event row as stored, read with SQL.
#[derive(Debug)]
struct Stored {
    id: i64,
    occurred_at: i64,
    event_type: String,
    payload_version: i64,
    actor: [String; 3],
    /// `actor_as_id`, `actor_as_name`.
    actor_as: [Option<String>; 2],
    /// `request_id`, `client_address`, `context`.
    context: [Option<String>; 3],
    refs: [Option<String>; 6],
    command_name: String,
    command_id: String,
    payload: String,
}

/// Every event row (not the log's anchor, id 0), by id.
async fn stored_rows(auditor: &Auditor) -> Vec<Stored> {
    let payload = match auditor.backend() {
        Backend::Postgres => "payload::text",
        Backend::Sqlite => "payload",
    };
    // The test's own SQL: a fixed column list and a backend's cast.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT id, occurred_at, event_type, payload_version, actor_kind, actor_id, actor_name, \
         actor_as_id, actor_as_name, request_id, client_address, context, target_kind, target_id, parent_kind, parent_id, subject_kind, subject_id, \
         command_name, command_id, {payload} AS payload FROM audit_events WHERE id > 0 ORDER BY id"
    ));
    on_backend!(auditor.pool(), pool => {
        sqlx::query(sql)
            .fetch_all(pool)
            .await
            .expect("the stored rows")
            .iter()
            .map(|r| Stored {
                id: r.get("id"),
                occurred_at: r.get("occurred_at"),
                event_type: r.get("event_type"),
                payload_version: r.get("payload_version"),
                actor: [r.get("actor_kind"), r.get("actor_id"), r.get("actor_name")],
                actor_as: [r.get("actor_as_id"), r.get("actor_as_name")],
                context: [
                    r.get("request_id"),
                    r.get("client_address"),
                    r.get("context"),
                ],
                refs: [
                    r.get("target_kind"),
                    r.get("target_id"),
                    r.get("parent_kind"),
                    r.get("parent_id"),
                    r.get("subject_kind"),
                    r.get("subject_id"),
                ],
                command_name: r.get("command_name"),
                command_id: r.get("command_id"),
                payload: r.get("payload"),
            })
            .collect()
    })
}

/// Asserts that `line` holds every column of `row`.
fn assert_line_is_row(label: &str, line: &serde_json::Value, row: &Stored) {
    let at = DateTime::parse_from_rfc3339(line["occurred_at"].as_str().unwrap())
        .unwrap_or_else(|e| panic!("{label}: occurred_at of {line}: {e}"));
    assert_eq!(at.timestamp_micros(), row.occurred_at, "{label}: {line}");
    assert_eq!(line["event_type"], row.event_type.as_str(), "{label}");
    assert_eq!(line["payload_version"], row.payload_version, "{label}");
    let [kind, id, name] = &row.actor;
    let mut actor = serde_json::json!({"kind": kind, "id": id, "name": name});
    if let [Some(as_id), Some(as_name)] = &row.actor_as {
        actor["as"] = serde_json::json!({"id": as_id, "name": as_name});
    }
    assert_eq!(line["actor"], actor, "{label}");
    // The context: the JSON column's fields and the two columns of their
    // own, together; no key at all when the event has none.
    let [request_id, client_address, rest] = &row.context;
    let mut context = match rest {
        Some(json) => serde_json::from_str(json).unwrap(),
        None => serde_json::json!({}),
    };
    if let Some(id) = request_id {
        context["request_id"] = id.as_str().into();
    }
    if let Some(address) = client_address {
        context["client_address"] = address.as_str().into();
    }
    if context == serde_json::json!({}) {
        assert_eq!(line.get("context"), None, "{label}: {line}");
    } else {
        assert_eq!(line["context"], context, "{label}: {line}");
    }
    for (i, key) in ["target", "parent", "subject"].into_iter().enumerate() {
        let expected = match (&row.refs[2 * i], &row.refs[2 * i + 1]) {
            (Some(kind), Some(id)) => serde_json::json!({"kind": kind, "id": id}),
            _ => serde_json::Value::Null,
        };
        assert_eq!(line[key], expected, "{label}: {key} of {line}");
    }
    assert_eq!(line["command_name"], row.command_name.as_str(), "{label}");
    assert_eq!(line["command_id"], row.command_id.as_str(), "{label}");
    let payload: serde_json::Value = serde_json::from_str(&row.payload).unwrap();
    assert_eq!(line["payload"], payload, "{label}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_prints_every_event_once_in_position_order_with_every_column() {
    for auditor in common::auditors("export").await {
        let label = common::label(&auditor);
        let url = common::url_of(&auditor).await;
        grow(&auditor, "first").await;
        grow_concurrently(&auditor, "many", 4, 3).await;
        // A row this program cannot read: it is exported as stored.
        common::execute(
            &auditor,
            "INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, \
             actor_id, actor_name, command_name, command_id, payload) VALUES \
             (1700000000123456, 'from_the_future', 7, 'user', '42', 'zed', 'later_command', \
              'c-1', '{\"wings\": 2}')",
        )
        .await
        .unwrap();
        // alice acting as bob, from a web request.
        let context = Context::new()
            .with_request_id("req-last")
            .with_client_address("2001:db8::7".parse().unwrap())
            .with_route("POST /projects")
            .with_field("ticket", "SUP-1");
        grow_as(
            &auditor,
            "last",
            Actor::user(1, "alice").acting_as(2, "bob"),
            context,
        )
        .await;
        wait_until_stable(&auditor).await;

        let all = lines(&url, &["export"]);
        let rows = stored_rows(&auditor).await;
        assert_eq!(all.len(), rows.len(), "{label}: one line per event");
        assert_eq!(rows.len(), 4 * 14 + 1, "{label}");
        // In position order, each event once.
        let positions: Vec<Position> = all.iter().map(position).collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{label}: {positions:?}"
        );
        // Every stored column, and the text `log` shows.
        let log = lines(&url, &["log", "--json", "--limit", "1000"]);
        for line in &all {
            let id = line["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("id of {line}"));
            let row = rows
                .iter()
                .find(|r| r.id == id)
                .unwrap_or_else(|| panic!("{label}: event {id} is not in the log"));
            assert_line_is_row(label, line, row);
            let shown = log
                .iter()
                .find(|l| l["id"] == id)
                .unwrap_or_else(|| panic!("{label}: `log` does not show {id}"));
            assert_eq!(line["text"], shown["text"], "{label}: {line}");
        }
        let mut ids: Vec<i64> = all.iter().map(|l| l["id"].as_i64().unwrap()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "{label}: an event twice");
        let future = all
            .iter()
            .find(|l| l["event_type"] == "from_the_future")
            .unwrap();
        assert_eq!(future["payload"], serde_json::json!({"wings": 2}));
        assert_eq!(future["payload_version"], 7);
        assert_eq!(future["occurred_at"], "2023-11-14T22:13:20.123456Z");
        assert!(
            future["text"].as_str().unwrap().contains("from_the_future"),
            "{future}"
        );
        let added = all
            .iter()
            .find(|l| l["event_type"] == "project_member_added")
            .unwrap();
        assert_eq!(
            added["text"], "added user-first to project-first",
            "{added}"
        );
        // The last transaction's four events, and only they, have an
        // `as` and a context.
        let with = |key: &str| {
            all.iter()
                .filter(|l| l.get(key).is_some() || l["actor"].get(key).is_some())
                .count()
        };
        assert_eq!((with("as"), with("context")), (4, 4), "{label}");

        // Ranges are slices of the whole.
        let p = |i: usize| positions[i].to_string();
        assert_eq!(
            lines(&url, &["export", "--limit", "2"]),
            all[..2],
            "{label}"
        );
        assert_eq!(
            lines(&url, &["export", "--after", &p(1)]),
            all[2..],
            "{label}"
        );
        assert_eq!(
            lines(&url, &["export", "--until", &p(2)]),
            all[..3],
            "{label}"
        );
        assert_eq!(
            lines(&url, &["export", "--after", &p(0), "--until", &p(40)]),
            all[1..=40],
            "{label}"
        );
        assert_eq!(
            lines(&url, &["export", "--after", &p(3), "--limit", "5"]),
            all[4..9],
            "{label}"
        );
        let last = all.len() - 1;
        assert!(lines(&url, &["export", "--after", &p(last)]).is_empty());
        assert!(lines(&url, &["export", "--after", &p(5), "--until", &p(5)]).is_empty());

        let garbage = run(&url, &["export", "--after", "not-a-position"]);
        assert!(!garbage.status.success(), "{label}");
        assert!(
            String::from_utf8_lossy(&garbage.stderr).contains("invalid position"),
            "{label}: {}",
            String::from_utf8_lossy(&garbage.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_follow_lines_carry_the_context_and_the_person_acted_for() {
    for auditor in common::auditors("export_context").await {
        let label = common::label(&auditor);
        let url = common::url_of(&auditor).await;
        // A change with every field of a context, made by alice acting as
        // bob; then one with none; then one through the command line.
        let context = Context::new()
            .with_request_id("req-7f3a")
            .with_client_address("203.0.113.9".parse().unwrap())
            .with_user_agent("Mozilla/5.0 \"quoted\" \u{202e}txet")
            .with_route("POST /projects")
            .with_trace_id("4bf92f3577b34da6a3ce929d0e0e4736")
            .with_span_id("17")
            .with_host("web-1")
            .with_program("example-app", "0.1.0")
            .with_os_user("www-data")
            .with_reason("the customer asked by phone")
            .with_field("ticket", "SUP-1234");
        let mut audit: StaffAudit = auditor
            .begin(Actor::user(1, "alice").acting_as(2, "bob"))
            .await
            .unwrap();
        audit.set_context(context).unwrap();
        commands::add_project(&mut audit, "With").await.unwrap();
        audit.commit().await.unwrap();
        let mut audit: StaffAudit = auditor.begin(Actor::system("bare")).await.unwrap();
        commands::add_project(&mut audit, "Without").await.unwrap();
        audit.commit().await.unwrap();
        let cli = example_app(&url)
            .args(["add-project", "By hand", "--reason", "SUP-99"])
            // Not the account it runs as: the system's answer wins.
            .env("USER", "not-the-account")
            .output()
            .unwrap();
        assert!(
            cli.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&cli.stderr)
        );
        wait_until_stable(&auditor).await;

        let all = lines(&url, &["export"]);
        let project = |name: &str| {
            all.iter()
                .find(|l| l["payload"]["project"]["name"] == name)
                .unwrap_or_else(|| panic!("{label}: no line for {name}: {all:#?}"))
                .clone()
        };
        let with = project("With");
        assert_eq!(
            with["actor"],
            serde_json::json!({
                "kind": "user", "id": "1", "name": "alice",
                "as": {"id": "2", "name": "bob"}
            }),
            "{label}"
        );
        assert_eq!(
            with["context"],
            serde_json::json!({
                "request_id": "req-7f3a",
                "client_address": "203.0.113.9",
                "user_agent": "Mozilla/5.0 \"quoted\" \u{202e}txet",
                "route": "POST /projects",
                "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "span_id": "17",
                "host": "web-1",
                "program": "example-app 0.1.0",
                "os_user": "www-data",
                "reason": "the customer asked by phone",
                "fields": {"ticket": "SUP-1234"}
            }),
            "{label}"
        );
        let without = project("Without");
        assert_eq!(without.get("context"), None, "{label}: {without}");
        assert_eq!(without["actor"].get("as"), None, "{label}: {without}");
        assert_eq!(
            without["actor"],
            serde_json::json!({"kind": "system", "id": "bare", "name": "bare"})
        );
        // The command line's change: this program, the subcommand, the
        // reason, the OS user and the host it ran on.
        let by_hand = project("By hand");
        let context = &by_hand["context"];
        assert_eq!(
            context["program"],
            format!("example-app {}", env!("CARGO_PKG_VERSION")),
            "{label}: {by_hand}"
        );
        assert_eq!(context["route"], "add-project", "{label}: {by_hand}");
        assert_eq!(context["reason"], "SUP-99", "{label}: {by_hand}");
        let account = audit_core::Context::process("x", "1")
            .os_user
            .expect("the account this test runs as has a name");
        assert_ne!(account, "not-the-account");
        assert_eq!(context["os_user"], account.as_str(), "{label}: {by_hand}");
        assert!(
            context["host"].as_str().is_some_and(|h| !h.is_empty()),
            "{label}: {by_hand}"
        );
        for absent in ["request_id", "client_address", "user_agent", "fields"] {
            assert_eq!(context.get(absent), None, "{label}: {by_hand}");
        }
        assert_eq!(by_hand["actor"]["name"], "example-app-cli");

        // `follow` writes the same lines.
        let mut follower = Follower::start(&url, &["--poll-ms", "10"]);
        let followed = follower.read(label, all.len());
        let (rest, clean) = follower.stop("TERM");
        assert!(clean && rest.is_empty(), "{label}: {rest:?}");
        assert_eq!(followed, all, "{label}");
    }
}

/// Runs `args` with standard output a pipe whose reading end is already
/// closed; returns how it ended.
fn run_into_a_closed_pipe(url: &str, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let child = example_app(url)
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run example-app");
    let (done, waited) = channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    waited
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("`{}` did not end on a closed output", args.join(" ")))
        .expect("wait")
}

#[tokio::test]
async fn export_and_follow_end_quietly_on_a_closed_output() {
    for auditor in common::auditors("export_closed").await {
        let label = common::label(&auditor);
        let url = common::url_of(&auditor).await;
        grow(&auditor, "one").await;
        // `follow` notices a closed output when it writes: let it have
        // something to write.
        wait_until_stable(&auditor).await;
        for args in [&["export"][..], &["follow", "--poll-ms", "10"][..]] {
            let out = run_into_a_closed_pipe(&url, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && stderr.is_empty(),
                "{label}: `{}` on a closed output: {}\n{stderr}",
                args.join(" "),
                out.status
            );
        }
    }
}

/// A running `follow`, its output read line by line as it comes, and its
/// standard error too (each line also shown on the test's).
struct Follower {
    child: Child,
    lines: Receiver<String>,
    warnings: Receiver<String>,
    stderr: std::thread::JoinHandle<()>,
}

/// Sends each line of `from` to `to`, until either ends; each also to the
/// test's standard error, with `echo`.
fn forward_lines(
    from: impl std::io::Read + Send + 'static,
    to: std::sync::mpsc::Sender<String>,
    echo: bool,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if echo {
                eprintln!("{line}");
            }
            if to.send(line).is_err() {
                break;
            }
        }
    })
}

impl Follower {
    fn start(url: &str, args: &[&str]) -> Follower {
        let mut child = example_app(url)
            .arg("follow")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start follow");
        let stdout = child.stdout.take().expect("its output");
        let stderr = child.stderr.take().expect("its errors");
        let (send, lines) = channel();
        forward_lines(stdout, send, false);
        let (send, warnings) = channel();
        let stderr = forward_lines(stderr, send, true);
        Follower {
            child,
            lines,
            warnings,
            stderr,
        }
    }

    /// The next line on its standard error.
    fn next_warning(&mut self, label: &str) -> String {
        self.warnings.recv_timeout(PATIENCE).unwrap_or_else(|e| {
            let _ = self.child.kill();
            panic!("{label}: no warning came: {e}")
        })
    }

    /// The next `n` lines.
    fn read(&mut self, label: &str, n: usize) -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| match self.lines.recv_timeout(PATIENCE) {
                Ok(line) => serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("{label}: not JSON ({e}): {line}")),
                Err(e) => {
                    let _ = self.child.kill();
                    panic!("{label}: line {} of {n} did not come: {e}", i + 1)
                }
            })
            .collect()
    }

    /// Sends `signal` and waits for the process to end; returns the lines
    /// it printed after those read, and whether it exited successfully.
    fn stop(self, signal: &str) -> (Vec<String>, bool) {
        let (rest, clean, _) = self.stop_with_warnings(signal);
        (rest, clean)
    }

    /// [`stop`](Self::stop), and the lines of standard error not yet read.
    fn stop_with_warnings(mut self, signal: &str) -> (Vec<String>, bool, Vec<String>) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([format!("-{signal}"), pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{signal}");
        let mut rest = Vec::new();
        let deadline = Instant::now() + PATIENCE;
        // The output ends when the process does.
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => rest.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("follow did not end on SIG{signal}");
                }
            }
        }
        let status = self.child.wait().expect("wait");
        // Its standard error has ended too: every line of it is here.
        self.stderr.join().expect("the standard error's reader");
        let warnings = self.warnings.try_iter().collect();
        (rest, status.success(), warnings)
    }
}

/// Waits until `file` holds `position` (the follower stores it just after
/// printing the batch).
fn wait_for_position(label: &str, file: &Path, position: Position) {
    let deadline = Instant::now() + PATIENCE;
    let expected = format!("{position}\n");
    while std::fs::read_to_string(file).ok().as_deref() != Some(expected.as_str()) {
        assert!(
            Instant::now() < deadline,
            "{label}: the position file never held {position}: {:?}",
            std::fs::read_to_string(file)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until every event in the log can be read in commit order. On
/// PostgreSQL an event is held back while a transaction of its database
/// that began before it commits is still open; a failure names it.
async fn wait_until_stable(auditor: &Auditor) {
    let label = common::label(auditor);
    let expected = events_in_log(auditor).await;
    let deadline = Instant::now() + PATIENCE;
    let mut position = Position::START;
    let mut read = 0;
    while read < expected {
        let tail = auditor
            .read_after::<StaffEvent>(position, 1000)
            .await
            .expect("read_after");
        read += tail.events.len();
        position = tail.next;
        if tail.events.is_empty() {
            assert!(
                Instant::now() < deadline,
                "{label}: {read} of {expected} events stable; held back: {}",
                tail.held_back
                    .map_or_else(|| "nothing named".to_owned(), |h| h.to_string())
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn events_in_log(auditor: &Auditor) -> usize {
    common::scalar(auditor, "SELECT COUNT(*) FROM audit_events WHERE id > 0").await as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_stopped_and_restarted_prints_every_event_exactly_once() {
    for auditor in common::auditors("follow_cli").await {
        let label = common::label(&auditor);
        let url = common::url_of(&auditor).await;
        let dir = std::env::temp_dir()
            .join("audit-tests")
            .join(format!("follow-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file: PathBuf = dir.join("position");
        let file_arg = file.to_str().expect("a UTF-8 temporary path");
        let mut printed: Vec<serde_json::Value> = Vec::new();
        let mut runs = Vec::new();

        // Run 1: what is there, then what commits while it runs (from four
        // writers at once); stopped with SIGTERM.
        grow(&auditor, "before").await;
        let mut follower = Follower::start(&url, &["--position-file", file_arg, "--poll-ms", "10"]);
        let mut run = follower.read(label, events_in_log(&auditor).await);
        grow_concurrently(&auditor, "during", 4, 5).await;
        run.extend(follower.read(label, events_in_log(&auditor).await - run.len()));
        let (rest, clean) = follower.stop("TERM");
        assert!(clean, "{label}: follow ends cleanly on SIGTERM");
        assert!(
            rest.is_empty(),
            "{label}: printed more than the log: {rest:?}"
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            format!("{}\n", position(run.last().unwrap())),
            "{label}: stopped cleanly, it stored where it got to"
        );
        runs.push(run.len());
        printed.extend(run);

        // Run 2: what committed while none ran; the file wins over
        // `--after`; killed (SIGKILL) once the file holds the last position.
        grow_concurrently(&auditor, "between", 2, 3).await;
        let mut follower = Follower::start(
            &url,
            &[
                "--position-file",
                file_arg,
                "--after",
                "0.0",
                "--poll-ms",
                "10",
            ],
        );
        let run = follower.read(label, events_in_log(&auditor).await - printed.len());
        wait_for_position(label, &file, position(run.last().unwrap()));
        let (rest, _) = follower.stop("KILL");
        assert!(
            rest.is_empty(),
            "{label}: printed more than the log: {rest:?}"
        );
        runs.push(run.len());
        printed.extend(run);

        // Run 3: the rest, and more while it runs; stopped with SIGINT.
        grow(&auditor, "after").await;
        let mut follower = Follower::start(&url, &["--position-file", file_arg, "--poll-ms", "10"]);
        let mut run = follower.read(label, events_in_log(&auditor).await - printed.len());
        grow(&auditor, "last").await;
        run.extend(follower.read(label, 4));
        let (rest, clean) = follower.stop("INT");
        assert!(clean, "{label}: follow ends cleanly on SIGINT");
        assert!(
            rest.is_empty(),
            "{label}: printed more than the log: {rest:?}"
        );
        runs.push(run.len());
        printed.extend(run);

        // Every event exactly once across the runs, in position order.
        let rows = stored_rows(&auditor).await;
        let mut ids: Vec<i64> = printed.iter().map(|l| l["id"].as_i64().unwrap()).collect();
        ids.sort_unstable();
        let in_log: Vec<i64> = rows.iter().map(|r| r.id).collect();
        assert_eq!(ids, in_log, "{label}: each event once across runs {runs:?}");
        let positions: Vec<Position> = printed.iter().map(position).collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{label}: {positions:?}"
        );
        // The same lines as `export`.
        assert_eq!(printed, lines(&url, &["export"]), "{label}");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            format!("{}\n", positions.last().unwrap()),
            "{label}"
        );
        eprintln!(
            "{label}: {} events followed exactly once over runs of {runs:?} lines \
             (SIGTERM, SIGKILL, SIGINT)",
            printed.len()
        );
    }
}

/// A session of the database at `url` with a transaction open, idle, that
/// has taken an id: (the session's transaction, its id, its process id).
async fn idle_transaction(url: &str) -> (sqlx::PgConnection, u64, u32) {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("a session");
    sqlx::query("BEGIN")
        .execute(&mut conn)
        .await
        .expect("begin");
    let (xid, pid): (i64, i32) =
        sqlx::query_as("SELECT pg_current_xact_id()::text::int8, pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .expect("an id");
    // One statement more: the session is idle in its transaction by now.
    sqlx::query("SELECT 1")
        .execute(&mut conn)
        .await
        .expect("idle");
    (conn, xid as u64, pid as u32)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_follow_name_the_transaction_that_holds_writers_up() {
    let Some(auditor) = common::postgres("export_held").await else {
        return;
    };
    example_app::schema::migrate(&auditor).await.unwrap();
    let url = common::url_of(&auditor).await;
    let database: String = on_backend!(auditor.pool(), pool => {
        sqlx::query_scalar("SELECT current_database()::text")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    grow(&auditor, "before").await;
    let before = events_in_log(&auditor).await;
    // A session of the same database writes an event and stays idle in its
    // transaction: it holds the commit order, and a writer waits behind it.
    let (mut blocker, xid, pid) = idle_transaction(&url).await;
    sqlx::query(common::HOLDING_EVENT)
        .execute(&mut blocker)
        .await
        .expect("the blocker's event");
    let writer = {
        let auditor = auditor.clone();
        tokio::spawn(async move { grow(&auditor, "behind").await })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while auditor
        .read_after::<StaffEvent>(Position::START, 1000)
        .await
        .unwrap()
        .held_back
        .is_none_or(|h| h.writers_waiting != 1)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the writer never waited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let opening = format!(
        "warning: 1 writer waits to commit behind transaction {xid} \
         (pid {pid}, database {database}, idle in transaction for "
    );
    let closing = "), which holds the log's commit order";

    // `export` writes what is committed, then names the transaction.
    let out = run(&url, &["export"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), before);
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.starts_with(&opening)
            && warning.ends_with(&format!("{closing}\n"))
            && warning.lines().count() == 1,
        "{warning}"
    );

    // `follow` names it once (here at once: `--warn-after-secs 0`), and
    // writes the events when it ends: the blocker's, then the writer's.
    let mut follower = Follower::start(&url, &["--poll-ms", "10", "--warn-after-secs", "0"]);
    let committed = follower.read("postgres", before);
    assert_eq!(committed.len(), before);
    let warning = follower.next_warning("postgres");
    assert!(
        warning.starts_with(&opening) && warning.ends_with(closing),
        "{warning}"
    );
    sqlx::query("COMMIT")
        .execute(&mut blocker)
        .await
        .expect("commit");
    writer
        .await
        .expect("the writer commits once the blocker has");
    let behind = events_in_log(&auditor).await - before;
    let rest = follower.read("postgres", behind);
    assert_eq!(rest.len(), behind);
    assert_eq!(rest[0]["command_id"], "blocker", "{:?}", rest[0]);
    let (extra, clean, warnings) = follower.stop_with_warnings("TERM");
    assert!(clean && extra.is_empty());
    assert!(warnings.is_empty(), "one warning only: {warnings:?}");
}
