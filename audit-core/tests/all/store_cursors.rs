//! Keyset pagination: `Page::next` to the oldest page and `Page::prev` back
//! to the newest, with and without filters, every event exactly once, in
//! the pages' order: by the events' time (`occurred_at`), then id, newest
//! first, whatever order their ids are in (imported events keep their own
//! time), and while events are written between pages.

use std::collections::BTreeSet;

use audit_core::query::{Condition, Cursor, EventQuery, ParseError};
use audit_core::store::Import;
use audit_core::{Actor, Auditor, testing};
use chrono::{DateTime, Duration, Utc};

use crate::support::{
    self, NoteWritten, PartAdded, PartRef, TestEvent, UserRef, WidgetCreated, WidgetRef, ids, page,
};

/// Commits `n` notes in one transaction, note `i` on widget `widget(i)`;
/// returns the ids of the whole log, newest first.
async fn notes(auditor: &Auditor, n: usize, widget: impl Fn(usize) -> i64) -> Vec<i64> {
    let mut audit = auditor
        .begin::<TestEvent>(Actor::system("t"))
        .await
        .unwrap();
    for i in 0..n {
        support::write_note(&mut audit, WidgetRef(widget(i)), i.to_string())
            .await
            .unwrap();
    }
    audit.commit().await.unwrap();
    ids(&support::log(auditor).await)
}

/// `query` with `cursor`, passed through its text as a web page would.
fn at(query: &EventQuery, cursor: Cursor) -> EventQuery {
    let text = cursor.to_string();
    assert!(
        text.chars().all(|c| c.is_ascii_alphanumeric()),
        "a cursor is URL-safe: {text}"
    );
    query.clone().cursor(text.parse().unwrap())
}

/// Pages through `query` with `next` to the end, then with `prev` back to
/// the start; checks both walks against `expected` (newest first) cut in
/// pages of `limit`, and returns the number of pages.
async fn walk(auditor: &Auditor, query: EventQuery, limit: u32, expected: &[i64]) -> usize {
    let label = testing::label(auditor);
    let query = query.limit(limit);
    let chunks: Vec<Vec<i64>> = expected
        .chunks(limit as usize)
        .map(<[i64]>::to_vec)
        .collect();

    // Forward.
    let mut forward = Vec::new();
    let mut current = page(auditor, &query).await;
    assert!(
        current.prev.is_none(),
        "{label}: the newest page has no prev"
    );
    loop {
        forward.push(ids(&current.events));
        if forward.len() > 1 {
            assert!(current.prev.is_some(), "{label}: page {}", forward.len());
        }
        match current.next {
            Some(next) => current = page(auditor, &at(&query, next)).await,
            None => break,
        }
    }
    assert_eq!(forward, chunks, "{label}: forward");

    // And back, from the oldest page.
    let mut backward = vec![ids(&current.events)];
    while let Some(prev) = current.prev {
        current = page(auditor, &at(&query, prev)).await;
        backward.push(ids(&current.events));
        assert!(
            current.next.is_some(),
            "{label}: a page reached by prev has a next"
        );
        assert!(
            backward.len() <= chunks.len(),
            "{label}: prev went past the newest page"
        );
    }
    backward.reverse();
    assert_eq!(backward, chunks, "{label}: backward");

    let all: Vec<i64> = forward.concat();
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "{label}: an event was repeated");
    assert_eq!(all, expected, "{label}: an event was missed");
    chunks.len()
}

#[tokio::test]
async fn next_to_the_end_and_prev_back_visit_every_event_once() {
    for auditor in support::databases("cursor_walk").await {
        let label = testing::label(&auditor);
        let all = notes(&auditor, 23, |_| 1).await;
        assert_eq!(all.len(), 23, "{label}");
        assert!(all.windows(2).all(|w| w[0] > w[1]), "{label}: newest first");
        assert_eq!(
            walk(&auditor, EventQuery::new(), 5, &all).await,
            5,
            "{label}"
        );
        // Pages that divide the log evenly, a page of one, and one page for all.
        assert_eq!(walk(&auditor, EventQuery::new(), 23, &all).await, 1);
        assert_eq!(walk(&auditor, EventQuery::new(), 1, &all).await, 23);
        assert_eq!(walk(&auditor, EventQuery::new(), 100, &all).await, 1);
    }
}

#[tokio::test]
async fn cursors_page_through_a_filtered_log() {
    for auditor in support::databases("cursor_filter").await {
        let label = testing::label(&auditor);
        // Every third note is on widget 1, the rest on widget 2.
        let all = notes(&auditor, 23, |i| if i % 3 == 0 { 1 } else { 2 }).await;
        let log = support::log(&auditor).await;
        let on = |widget: i64| -> Vec<i64> {
            log.iter()
                .filter(|e| e.references.parent == Some(WidgetRef(widget).entity()))
                .map(|e| e.id)
                .collect()
        };
        let (one, two) = (on(1), on(2));
        assert_eq!((one.len(), two.len()), (8, 15), "{label}");
        let query = EventQuery::new().parent(WidgetRef(1).entity());
        assert_eq!(walk(&auditor, query, 3, &one).await, 3, "{label}");
        let query = EventQuery::new().parent(WidgetRef(2).entity());
        assert_eq!(walk(&auditor, query, 5, &two).await, 3, "{label}");
        // A group over several columns runs as a union; it pages the same.
        let query = EventQuery::new().any_of([
            Condition::Parent(WidgetRef(1).entity()),
            Condition::Actor(Actor::system("nobody")),
        ]);
        assert_eq!(walk(&auditor, query, 3, &one).await, 3, "{label}");
        let query = EventQuery::new().any_of([
            Condition::Parent(WidgetRef(2).entity()),
            Condition::Actor(Actor::system("t")),
        ]);
        assert_eq!(walk(&auditor, query, 4, &all).await, 6, "{label}");
    }
}

#[tokio::test]
async fn cursors_page_through_a_union_of_several_columns() {
    for auditor in support::databases("cursor_union").await {
        let label = testing::label(&auditor);
        // Alice builds widgets for bob and bob for alice, in turn.
        let (alice, bob) = (Actor::user(1, "alice"), Actor::user(2, "bob"));
        for i in 0..6 {
            let (actor, owner) = if i % 2 == 0 {
                (alice.clone(), UserRef(2))
            } else {
                (bob.clone(), UserRef(1))
            };
            let mut audit = auditor.begin::<TestEvent>(actor).await.unwrap();
            support::build_widget(&mut audit, i, owner).await.unwrap();
            audit.commit().await.unwrap();
        }
        let log = support::log(&auditor).await;
        // Alice's log: what she did, and what was done for her.
        let expected: Vec<i64> = log
            .iter()
            .filter(|e| e.actor == alice || e.references.subject == Some(UserRef(1).entity()))
            .map(|e| e.id)
            .collect();
        assert_eq!(expected.len(), 3 * 4 + 3, "{label}");
        let query = EventQuery::new().any_of([
            Condition::Actor(alice.clone()),
            Condition::Subject(UserRef(1).entity()),
        ]);
        for limit in [1, 2, 4, 15] {
            walk(&auditor, query.clone(), limit, &expected).await;
        }
    }
}

#[tokio::test]
async fn events_written_while_paging_shift_no_older_page() {
    for auditor in support::databases("cursor_live").await {
        let label = testing::label(&auditor);
        let before = notes(&auditor, 12, |_| 1).await;
        let query = EventQuery::new().limit(5);
        let first = page(&auditor, &query).await;
        assert_eq!(ids(&first.events), before[..5], "{label}");

        // Three newer events arrive while the reader looks at page one.
        let now = notes(&auditor, 3, |_| 1).await;
        let newer = &now[..3];
        let second = page(&auditor, &at(&query, first.next.unwrap())).await;
        assert_eq!(ids(&second.events), before[5..10], "{label}");

        // Back up: the old first page, then the new events, then the top.
        let back = page(&auditor, &at(&query, second.prev.unwrap())).await;
        assert_eq!(ids(&back.events), before[..5], "{label}");
        let top = page(&auditor, &at(&query, back.prev.unwrap())).await;
        assert_eq!(ids(&top.events), newer, "{label}");
        assert!(top.prev.is_none(), "{label}");
    }
}

#[tokio::test]
async fn an_empty_log_has_one_empty_page() {
    for auditor in support::databases("cursor_empty").await {
        let empty = page(&auditor, &EventQuery::new()).await;
        assert!(empty.events.is_empty());
        assert!(empty.next.is_none() && empty.prev.is_none());
    }
}

#[tokio::test]
async fn a_cursor_that_is_not_one_is_a_typed_error() {
    for bad in [
        "",
        "b",
        "a",
        "zzz",
        "c10",
        "b-5",
        "b+5",
        "B10",
        "b 10",
        "b10 ",
        "1 OR 1=1",
        "b1; DROP TABLE audit_events",
        "b10000000000000000",
        "bffffffffffffffff",
        "b×1",
        "t",
        "tb",
        "tb1",
        "tb1x",
        "tbx1",
        "tc1x1",
        "tb1x1 ",
        "tb1x-1",
        "tb1xx1",
        "tb10000000000000000x1",
        "tb1x8000000000000000",
        "Tb1x1",
        "tb1X1",
    ] {
        match bad.parse::<Cursor>() {
            Err(ParseError::Cursor(shown)) => {
                assert_eq!(shown, bad.chars().take(64).collect::<String>())
            }
            other => panic!("`{bad}`: {other:?}"),
        }
    }
    let long = format!("x{}", "0".repeat(100));
    match long.parse::<Cursor>() {
        Err(ParseError::Cursor(shown)) => assert_eq!(shown.len(), 64),
        other => panic!("{other:?}"),
    }
    for good in [
        "tb0x0",
        "ta0x0",
        "tb18c2f3e4a5b6c7x7fffffffffffffff",
        "taffffffffffffffffx1",
        "ta1Fx2A",
    ] {
        let cursor: Cursor = good.parse().unwrap();
        assert_eq!(cursor.to_string(), good.to_lowercase(), "{good}");
    }
    // The cursors of the pages ordered by id (an id alone) are outdated:
    // refused with an error of their own that says what to do.
    for old in ["b0", "a0", "b7fffffffffffffff", "a1F", "b1f"] {
        match old.parse::<Cursor>() {
            Err(error @ ParseError::OutdatedCursor(_)) => {
                assert_eq!(error.input(), old);
                let message = error.to_string();
                assert!(
                    message.contains("ordered by id") && message.contains("newest page"),
                    "{message}"
                );
            }
            other => panic!("`{old}`: {other:?}"),
        }
    }
}

/// A small deterministic generator (xorshift), so that a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// An event as stored, read by hand from the table (not through a page):
/// what the expected pages are computed from.
#[derive(Debug, Clone)]
struct Row {
    id: i64,
    /// `occurred_at`, microseconds.
    time: i64,
    event_type: String,
    actor_id: String,
    parent: Option<String>,
    target: Option<(String, String)>,
    subject: Option<String>,
}

type RawRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every event of the log, read by hand, newest first by (time, id).
async fn rows(auditor: &Auditor) -> Vec<Row> {
    let sql = "SELECT id, occurred_at, event_type, actor_id, parent_id, target_kind, target_id, \
               subject_id FROM audit_events WHERE id > 0";
    let raw: Vec<RawRow> = audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::query_as(sql).fetch_all(pool).await.unwrap()
    });
    let mut rows: Vec<Row> = raw
        .into_iter()
        .map(
            |(id, time, event_type, actor_id, parent, tk, ti, subject)| Row {
                id,
                time,
                event_type,
                actor_id,
                parent,
                target: tk.zip(ti),
                subject,
            },
        )
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse((r.time, r.id)));
    rows
}

/// Whether a row is one a query asks for.
type Matches = fn(&Row) -> bool;

/// The ids of `rows` that `keep` keeps, in order.
fn expected(rows: &[Row], keep: impl Fn(&Row) -> bool) -> Vec<i64> {
    rows.iter().filter(|r| keep(r)).map(|r| r.id).collect()
}

/// A time `days` before now, whole seconds plus `micros`.
fn days_ago(now: DateTime<Utc>, days: i64, micros: i64) -> DateTime<Utc> {
    now - Duration::days(days) + Duration::microseconds(micros)
}

/// A log whose ids are not in time order: live commands (now), and events
/// imported in three runs whose times are spread over five years in an
/// order of their own, several sharing one time (so the id breaks ties),
/// by three actors, on four widgets, some about users.
async fn shuffled_log(auditor: &Auditor) -> Vec<Row> {
    let mut rng = Rng(0x5eed_cafe);
    let now = Utc::now() - Duration::hours(1);
    support::commit_widget(auditor, Actor::user(1, "alice"), 1).await;
    let actors = [
        Actor::user(1, "alice"),
        Actor::user(2, "bob"),
        Actor::system("legacy"),
    ];
    let mut key = 0;
    for run in 0..3 {
        let mut import = Import::<TestEvent>::new(format!("run-{run}"));
        for _ in 0..14 {
            key += 1;
            // One time in three repeats the one before it.
            let days = rng.below(5 * 365) as i64;
            let time = if key % 3 == 0 {
                days_ago(now, 1000, 0)
            } else {
                days_ago(now, days, rng.below(1_000_000) as i64)
            };
            let actor = actors[rng.below(3) as usize].clone();
            let widget = WidgetRef(1 + rng.below(4) as i64);
            let k = format!("e{key}");
            match rng.below(3) {
                0 => import.event(
                    k,
                    time,
                    actor,
                    NoteWritten {
                        widget,
                        text: format!("n{key}"),
                    },
                ),
                1 => import.event(
                    k,
                    time,
                    actor,
                    PartAdded {
                        part: PartRef(key),
                        widget,
                        owner: UserRef(1 + rng.below(2) as i64),
                    },
                ),
                _ => import.event(
                    k,
                    time,
                    actor,
                    WidgetCreated {
                        widget,
                        name: format!("w{key}"),
                    },
                ),
            }
            .unwrap();
        }
        auditor
            .import(&Actor::system("backfill"), &import)
            .await
            .unwrap();
        // And a live command between the runs: now, between ids of the past.
        let mut audit = auditor
            .begin::<TestEvent>(Actor::user(2, "bob"))
            .await
            .unwrap();
        support::write_note(&mut audit, WidgetRef(2), format!("live {run}"))
            .await
            .unwrap();
        audit.commit().await.unwrap();
    }
    rows(auditor).await
}

#[tokio::test]
async fn pages_are_in_time_order_whatever_the_ids() {
    for auditor in support::databases("cursor_time_order").await {
        let label = testing::label(&auditor);
        let log = shuffled_log(&auditor).await;
        assert_eq!(
            log.len(),
            1 + 3 * 14 + 3 * 2,
            "{label}: events and import records"
        );
        let by_id: Vec<i64> = {
            let mut ids: Vec<i64> = log.iter().map(|r| r.id).collect();
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids
        };
        let by_time = expected(&log, |_| true);
        assert_ne!(
            by_time, by_id,
            "{label}: the fixture's ids are not in time order"
        );

        // The newest page: this week's events above the imported ones, the
        // newest import (the highest id of the past) among its own time's.
        let first = page(&auditor, &EventQuery::new().limit(1000)).await;
        assert_eq!(ids(&first.events), by_time, "{label}");
        let times: Vec<_> = first.events.iter().map(|e| (e.occurred_at, e.id)).collect();
        assert!(times.windows(2).all(|w| w[0] > w[1]), "{label}: {times:?}");
        let newest_import = log
            .iter()
            .filter(|r| r.event_type != "audit:events_imported")
            .filter(|r| r.time < (Utc::now() - Duration::days(1)).timestamp_micros())
            .map(|r| r.id)
            .max()
            .unwrap();
        let at = by_time.iter().position(|id| *id == newest_import).unwrap();
        assert!(
            at > 3 + 3,
            "{label}: the last import is listed by its time, at {at}"
        );

        // Every page size, every filter: each event once, in (time, id)
        // order, forward with `next` and back with `prev`.
        let alice = Actor::user(1, "alice");
        let widget = |w: &str| Some(w.to_owned());
        // A range of past years (the times a thousand days ago, which
        // several events share, inside it).
        let mid = Utc::now() - Duration::days(300);
        let early = Utc::now() - Duration::days(1500);
        // The widget that most events target (each import's widget is random).
        let target = (1..=4)
            .max_by_key(|w| {
                let kind = ("widget".to_owned(), w.to_string());
                log.iter()
                    .filter(|r| r.target.as_ref() == Some(&kind))
                    .count()
            })
            .unwrap();
        // The widget most events between `early` and `mid` are on.
        let range = early.timestamp_micros()..mid.timestamp_micros();
        let in_range = (1..=4)
            .max_by_key(|w| {
                let parent = Some(w.to_string());
                log.iter()
                    .filter(|r| r.parent == parent && range.contains(&r.time))
                    .count()
            })
            .unwrap();
        let queries: Vec<(&str, EventQuery, Vec<i64>)> = vec![
            ("all", EventQuery::new(), by_time.clone()),
            (
                "parent",
                EventQuery::new().parent(WidgetRef(2).entity()),
                expected(&log, |r| r.parent == widget("2")),
            ),
            (
                "actor",
                EventQuery::new().actor(&alice),
                expected(&log, |r| r.actor_id == "1"),
            ),
            (
                "type",
                EventQuery::new().types(["note_written"]),
                expected(&log, |r| r.event_type == "note_written"),
            ),
            (
                "types",
                EventQuery::new().types(["part_added", "widget_created"]),
                expected(&log, |r| {
                    r.event_type == "part_added" || r.event_type == "widget_created"
                }),
            ),
            (
                "subject",
                EventQuery::new().subject(UserRef(2).entity()),
                expected(&log, |r| r.subject.as_deref() == Some("2")),
            ),
            (
                "target",
                EventQuery::new().target(WidgetRef(target).entity()),
                expected(&log, |r| {
                    r.target == Some(("widget".to_owned(), target.to_string()))
                }),
            ),
            (
                "a user's log (a union)",
                EventQuery::new().any_of([
                    Condition::Actor(alice.clone()),
                    Condition::Subject(UserRef(1).entity()),
                    Condition::Parent(WidgetRef(4).entity()),
                ]),
                expected(&log, |r| {
                    r.actor_id == "1"
                        || r.subject.as_deref() == Some("1")
                        || r.parent == widget("4")
                }),
            ),
            (
                "since",
                EventQuery::new().since(mid),
                expected(&log, |r| r.time >= mid.timestamp_micros()),
            ),
            (
                "until",
                EventQuery::new().until(mid),
                expected(&log, |r| r.time < mid.timestamp_micros()),
            ),
            (
                "since and until, on a parent",
                EventQuery::new()
                    .parent(WidgetRef(in_range).entity())
                    .since(early)
                    .until(mid),
                expected(&log, |r| {
                    r.parent == Some(in_range.to_string()) && range.contains(&r.time)
                }),
            ),
            (
                "a union in a time range",
                EventQuery::new()
                    .any_of([
                        Condition::Actor(alice.clone()),
                        Condition::Subject(UserRef(2).entity()),
                    ])
                    .since(early)
                    .until(mid),
                expected(&log, |r| {
                    (r.actor_id == "1" || r.subject.as_deref() == Some("2"))
                        && (early.timestamp_micros()..mid.timestamp_micros()).contains(&r.time)
                }),
            ),
        ];
        for (name, query, expected) in queries {
            assert!(
                expected.len() >= 3,
                "{label} {name}: {} events",
                expected.len()
            );
            for limit in [1, 2, 5, 50] {
                walk(&auditor, query.clone(), limit, &expected).await;
            }
        }
    }
}

#[tokio::test]
async fn events_written_between_pages_neither_repeat_nor_hide_an_event() {
    for auditor in support::databases("cursor_time_live").await {
        let label = testing::label(&auditor);
        let start = shuffled_log(&auditor).await;
        let mut rng = Rng(0xdead_beef);
        let now = Utc::now() - Duration::hours(1);
        // Numbers the imported events (their keys) across the queries.
        let mut n = 0;
        let queries: [(EventQuery, Matches); 3] = [
            (EventQuery::new(), |_| true),
            (EventQuery::new().parent(WidgetRef(2).entity()), |r| {
                r.parent.as_deref() == Some("2")
            }),
            (
                EventQuery::new().any_of([
                    Condition::Actor(Actor::user(1, "alice")),
                    Condition::Subject(UserRef(1).entity()),
                ]),
                |r| r.actor_id == "1" || r.subject.as_deref() == Some("1"),
            ),
        ];
        for (query, matches) in queries {
            let query = query.limit(4);
            let there = rows(&auditor).await;
            let mut seen: Vec<(i64, i64)> = Vec::new();
            let mut current = page(&auditor, &query).await;
            // New events whose place was still ahead of the reader when
            // they were written: those, and only those, must show.
            let mut ahead: BTreeSet<i64> = BTreeSet::new();
            let mut written: BTreeSet<i64> = BTreeSet::new();
            loop {
                seen.extend(
                    current
                        .events
                        .iter()
                        .map(|e| (e.occurred_at.timestamp_micros(), e.id)),
                );
                let Some(next) = current.next else { break };
                let edge = *seen.last().unwrap();
                // Between two pages: a live event (now, above the first
                // page), an import at a random time of the past five years,
                // one at the edge's own time (its id is higher, so its
                // place is above the edge: behind the reader) and one older
                // than any (ahead of the reader, whatever the edge).
                let before = rows(&auditor).await;
                let mut audit = auditor
                    .begin::<TestEvent>(Actor::user(1, "alice"))
                    .await
                    .unwrap();
                support::write_note(&mut audit, WidgetRef(2), "live".into())
                    .await
                    .unwrap();
                audit.commit().await.unwrap();
                let mut import = Import::<TestEvent>::new("late");
                for (k, time) in [
                    (
                        "random",
                        days_ago(now, rng.below(5 * 365) as i64, rng.below(1_000_000) as i64),
                    ),
                    ("edge", DateTime::from_timestamp_micros(edge.0).unwrap()),
                    ("oldest", days_ago(now, 6 * 365, n)),
                ] {
                    n += 1;
                    let widget = WidgetRef(2);
                    import
                        .event(
                            format!("{k}-{n}"),
                            time,
                            Actor::user(1, "alice"),
                            PartAdded {
                                part: PartRef(1000 + n),
                                widget,
                                owner: UserRef(1),
                            },
                        )
                        .unwrap();
                }
                auditor
                    .import(&Actor::system("late"), &import)
                    .await
                    .unwrap();
                let before: BTreeSet<i64> = before.iter().map(|r| r.id).collect();
                for row in rows(&auditor).await {
                    if !before.contains(&row.id) {
                        written.insert(row.id);
                        if (row.time, row.id) < edge {
                            ahead.insert(row.id);
                        }
                    }
                }
                current = page(&auditor, &query.clone().cursor(next)).await;
            }
            let seen_ids: Vec<i64> = seen.iter().map(|(_, id)| *id).collect();
            let distinct: BTreeSet<i64> = seen_ids.iter().copied().collect();
            assert_eq!(
                distinct.len(),
                seen_ids.len(),
                "{label}: an event was repeated"
            );
            assert!(
                seen.windows(2).all(|w| w[0] > w[1]),
                "{label}: out of (time, id) order: {seen:?}"
            );
            // What the query matched when paging began, and what was
            // written ahead of the reader and matches it, all of it.
            let end = rows(&auditor).await;
            let matching: BTreeSet<i64> = end.iter().filter(|r| matches(r)).map(|r| r.id).collect();
            let must: BTreeSet<i64> = there
                .iter()
                .map(|r| r.id)
                .chain(ahead.iter().copied())
                .filter(|id| matching.contains(id))
                .collect();
            let missed: Vec<&i64> = must.difference(&distinct).collect();
            assert!(missed.is_empty(), "{label}: missed {missed:?}");
            // Nothing written behind the reader showed.
            let behind: Vec<&i64> = distinct
                .iter()
                .filter(|id| written.contains(id) && !ahead.contains(id))
                .collect();
            assert!(behind.is_empty(), "{label}: {behind:?}");
            assert!(
                !ahead.is_empty() && written.len() > ahead.len(),
                "{label}: events written both ahead of the reader and behind"
            );
            // And back up with `prev` from the last page: every event of
            // the query now, once each, in order.
            let mut back = ids(&current.events);
            while let Some(prev) = current.prev {
                current = page(&auditor, &query.clone().cursor(prev)).await;
                let mut newer = ids(&current.events);
                newer.extend(back);
                back = newer;
            }
            let now_matching: Vec<i64> = end
                .iter()
                .map(|r| r.id)
                .filter(|id| matching.contains(id))
                .collect();
            assert_eq!(back, now_matching, "{label}: back up to the newest page");
        }
        assert!(start.len() > 40, "{label}");
    }
}
