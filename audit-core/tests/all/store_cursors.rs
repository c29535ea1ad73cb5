//! Keyset pagination: `Page::next` to the oldest page and `Page::prev` back
//! to the newest, with and without filters, every event exactly once.

use std::collections::BTreeSet;

use audit_core::query::{Condition, Cursor, EventQuery, ParseError};
use audit_core::{Actor, Auditor, testing};

use crate::support::{self, TestEvent, UserRef, WidgetRef, ids, page};

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
    for good in ["b0", "a0", "b7fffffffffffffff", "a1F"] {
        let cursor: Cursor = good.parse().unwrap();
        assert_eq!(cursor.to_string(), good.to_lowercase(), "{good}");
    }
}
