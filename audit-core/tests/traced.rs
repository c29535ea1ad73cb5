//! What the library logs, captured with a `tracing` subscriber: the spans
//! of commands, commits and queries, and a page's warnings about events it
//! shows generically.
//!
//! A binary of its own: each test installs a subscriber for its thread only
//! (`set_default`), but whether a span or an event is enabled at all is
//! cached process-wide per callsite (and the maximum level with it), so the
//! other tests' threads, running without a subscriber, could make these
//! miss what they look for (seen once in the shared binary).
//!
//! A span closes when its last handle goes, and sqlx's SQLite worker thread
//! holds a handle of the span current when a command was sent until it has
//! run it, a moment after the caller has its answer: the test waits for
//! each close line instead of reading the log at once.

#[path = "support/mod.rs"]
mod support;

use audit_core::events::LogEventType;
use audit_core::query::EventQuery;
use audit_core::{Actor, Audit, Auditor, testing};

use support::{TestEvent, WidgetRef, log};

/// What `captured` holds once a close line of each of `spans` is in it,
/// or after 30 s (the assertions then say what is missing).
async fn once_closed(captured: &support::Captured, spans: &[&str]) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let logged = captured.text();
        let all_closed = spans.iter().all(|span| {
            logged
                .lines()
                .any(|l| l.contains(&format!("{span}{{")) && l.contains("close"))
        });
        if all_closed || std::time::Instant::now() > deadline {
            return logged;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Held by each test for its whole run: `tracing` caches per process
/// whether a callsite is enabled, so a test that reaches a span (or an
/// event) while another has its own subscriber set can leave it disabled
/// for the other; one test at a time sees every line it logs.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `events` rendered as a page, and what rendering them logged.
fn render_logged(events: &[audit_core::query::StoredEvent<TestEvent>]) -> (Vec<String>, String) {
    let captured = support::Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let html = tracing::subscriber::with_default(subscriber, || {
        audit_core::query::render_page(events, &audit_core::present::PresentContext::new())
    });
    (html, captured.text())
}

/// Begins a transaction acting for a test actor.
async fn begin(auditor: &Auditor) -> Audit<TestEvent> {
    auditor
        .begin::<TestEvent>(Actor::user(1, "alice"))
        .await
        .unwrap()
}

#[tokio::test]
async fn commands_commits_and_queries_run_in_tracing_spans() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    use tracing_subscriber::fmt::format::FmtSpan;
    for auditor in support::databases("traced").await {
        let label = testing::label(&auditor);
        let captured = support::Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .with_span_events(FmtSpan::CLOSE | FmtSpan::EXIT)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        let mut audit = begin(&auditor).await;
        support::add_part(&mut audit, WidgetRef(7), 3, support::UserRef(1))
            .await
            .unwrap();
        audit.commit().await.unwrap();
        let page = auditor
            .query::<TestEvent>(&EventQuery::new())
            .await
            .unwrap();
        // The query's span may be held open by a connection opened within
        // it (sqlx's SQLite worker thread keeps the span it started in), so
        // its last exit, not its close, says what it recorded.
        let logged = once_closed(&captured, &["audit.command", "audit.commit"]).await;
        drop(guard);
        let closed = |span: &str| -> Vec<&str> {
            logged
                .lines()
                .filter(|l| l.contains(&format!("{span}{{")) && l.contains("close"))
                .collect()
        };
        let command = closed("audit.command");
        assert_eq!(command.len(), 1, "{label}: {logged}");
        for field in [
            "command=\"add_part\"".to_owned(),
            format!("backend=\"{label}\""),
            "depth=1".to_owned(),
            "events=2".to_owned(),
        ] {
            assert!(
                command[0].contains(&field),
                "{label}: no {field} in {}",
                command[0]
            );
        }
        let commit = closed("audit.commit");
        assert_eq!(commit.len(), 1, "{label}: {logged}");
        assert!(commit[0].contains("events=2"), "{label}: {}", commit[0]);
        assert!(
            commit[0].contains(&page.events[0].command_id),
            "{label}: {}",
            commit[0]
        );
        let query: Vec<&str> = logged
            .lines()
            .filter(|l| l.contains("audit.query{") && (l.contains("exit") || l.contains("close")))
            .collect();
        let last = query.last().unwrap_or_else(|| panic!("{label}: {logged}"));
        assert!(
            last.contains(&format!("events={}", page.events.len())),
            "{label}: {last}"
        );
    }
}

#[tokio::test]
async fn a_page_warns_once_per_unknown_code_and_the_generic_line_has_no_time_or_markdown() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    for auditor in support::databases("unknown_warn_once").await {
        let label = testing::label(&auditor);
        support::insert_rows(
            &auditor,
            "(1, 'widget_archived', 1, 'user', '9', 'eve', 'archive', 'c1', '{}'), \
             (2, 'widget_archived', 1, 'user', '9', 'eve', 'archive', 'c2', '{}'), \
             (3, 'widget_archived', 1, 'user', '9', 'eve', 'archive', 'c3', '{}'), \
             (4, 'widget_sold', 1, 'user', '9', '<i>eve</i>', 'sell', 'c4', '{}'), \
             (5, 'widget_sold', 1, 'user', '9', 'eve', 'sell', 'c5', '{}')",
        )
        .await;
        let events = log(&auditor).await;
        let (html, logged) = render_logged(&events);
        let warnings: Vec<&str> = logged
            .lines()
            .filter(|l| l.contains("showing audit events generically"))
            .collect();
        assert_eq!(warnings.len(), 2, "{label}: one per code: {logged}");
        assert!(
            warnings[0].contains("widget_sold") && warnings[0].contains("count=2"),
            "{label}: {logged}"
        );
        assert!(
            warnings[1].contains("widget_archived") && warnings[1].contains("count=3"),
            "{label}: {logged}"
        );
        assert_eq!(html.len(), 5);
        assert_eq!(
            html[1],
            "&#60;i&#62;eve&#60;/i&#62; recorded an event of type \u{201c}widget_sold\u{201d} that this program cannot show",
            "{label}"
        );
        for line in &html {
            assert!(
                !line.contains('`') && !line.contains("1970"),
                "{label}: {line}"
            );
        }
    }
}

#[tokio::test]
async fn the_logs_own_records_read_with_the_librarys_labels_and_no_warning() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    for auditor in support::databases("own_records_quiet").await {
        let label = testing::label(&auditor);
        let alice = Actor::user(1, "alice");
        auditor
            .prune_before(&alice, chrono::DateTime::UNIX_EPOCH, "policy")
            .await
            .unwrap();
        auditor
            .set_min_retention(&alice, std::time::Duration::from_secs(365 * 86_400), "law")
            .await
            .unwrap();
        let events = log(&auditor).await;
        // No catalog declares them: the library labels them.
        let labels: Vec<Option<&str>> = events.iter().map(|e| e.type_label()).collect();
        assert_eq!(
            labels,
            [Some("Retention changed"), Some("Log pruned")],
            "{label}"
        );
        assert!(
            events
                .iter()
                .all(|e| matches!(e.event_type(), Some(LogEventType::Own(_)))),
            "{label}"
        );
        let (html, logged) = render_logged(&events);
        assert_eq!(
            html,
            [
                "alice set the minimum retention of the audit log to 365 days (it was 30 days) \
                 (reason: law)",
                "alice pruned 0 events from before 1970-01-01 from the log (reason: policy)",
            ],
            "{label}"
        );
        assert_eq!(logged, "", "{label}: no warning");
    }
}
