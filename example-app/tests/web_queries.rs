//! A page of the staff area costs the same number of SQL statements whether
//! its source holds 1, 25 or 250 events. Statements are counted as sqlx
//! reports them (one `sqlx::query` tracing event per statement executed),
//! so nothing the pages run is left out, except the PRAGMAs with which
//! SQLite sets up a connection the pool opens (when it opens one is the
//! pool's business, not the page's). The counter is process-wide, so this
//! binary holds this one test.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use common::web::{Browser, PASSWORD, add_members, cast};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Counts the statements sqlx executes, and keeps their first lines.
#[derive(Clone, Default)]
struct StatementCounter {
    count: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<String>>>,
}

struct Summary(String);

impl tracing::field::Visit for Summary {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "summary" {
            self.0 = value.to_owned();
        }
    }
    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber> Layer<S> for StatementCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut summary = Summary(String::new());
            event.record(&mut summary);
            if summary.0.starts_with("PRAGMA") {
                return;
            }
            self.count.fetch_add(1, Ordering::SeqCst);
            self.seen.lock().unwrap().push(summary.0);
        }
    }
}

impl StatementCounter {
    /// How many statements `get` of `page` runs, and which.
    async fn statements(
        &self,
        browser: &mut Browser,
        page: &str,
        rows: usize,
    ) -> (usize, Vec<String>) {
        self.seen.lock().unwrap().clear();
        let before = self.count.load(Ordering::SeqCst);
        let reply = browser.get(page).await;
        let count = self.count.load(Ordering::SeqCst) - before;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        assert_eq!(reply.event_ids().len(), rows, "{page}");
        (count, self.seen.lock().unwrap().clone())
    }
}

#[tokio::test]
async fn statements_per_page_do_not_grow_with_the_events_on_it() {
    let counter = StatementCounter::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(counter.clone()))
        .expect("this binary installs the only subscriber");

    for backend in ["sqlite", "postgres"] {
        let mut per_page: Vec<(String, Vec<usize>)> = Vec::new();
        for members in [0, 24, 249] {
            let auditor = match backend {
                "sqlite" => common::sqlite("web_queries").await,
                _ => match common::postgres("web_queries").await {
                    Some(auditor) => auditor,
                    None => continue,
                },
            };
            example_app::schema::migrate(&auditor).await.unwrap();
            let c = cast(&auditor).await;
            add_members(&auditor, &c, &c.apollo, members).await;
            let mut browser = Browser::new(&auditor);
            browser.sign_in("alice", PASSWORD).await;
            // Events on each page's source: Apollo's creation plus one per
            // member; alice acted on all of those, and was created and given
            // a password; everything also has each member's creation and
            // the rest of the cast's events.
            let apollo = 1 + members;
            let alice = 2 + 3 + 2 * members;
            let global = 7 + 2 * members;
            for (page, source) in [
                (format!("/projects/{}", c.apollo.id), apollo),
                (format!("/users/{}", c.alice.id), alice),
                ("/".to_owned(), global),
            ] {
                let rows = source.min(25);
                // The first request opens connections; count the second.
                counter.statements(&mut browser, &page, rows).await;
                let (count, statements) = counter.statements(&mut browser, &page, rows).await;
                eprintln!(
                    "{backend}: {page} over {source} events: {count} statements {statements:?}"
                );
                let route = page.split('/').nth(1).unwrap_or_default().to_owned();
                match per_page.iter_mut().find(|(r, _)| *r == route) {
                    Some((_, counts)) => counts.push(count),
                    None => per_page.push((route, vec![count])),
                }
            }
            assert!(apollo == 1 || apollo >= 25);
        }
        for (route, counts) in &per_page {
            assert_eq!(counts.len(), 3, "{backend} /{route}");
            assert!(
                counts.iter().all(|c| *c == counts[0]),
                "{backend} /{route}: statements grew with the events: {counts:?}"
            );
            // The session (a row since sessions live in the database),
            // its user, the page's own lookups, the events, one lookup per
            // kind of reference: a handful, never one per event.
            assert!(
                (3..=7).contains(&counts[0]),
                "{backend} /{route}: {counts:?}"
            );
        }
    }
}
