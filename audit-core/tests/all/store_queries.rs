//! Every filter of `EventQuery`, alone and combined, on every backend, and
//! the clamping of the page size.

use audit_core::query::{Condition, EventQuery, MAX_PAGE_SIZE};
use audit_core::{Actor, Auditor, testing};
use chrono::DateTime;

use crate::support::{self, PartRef, TestEvent, UserRef, WidgetRef, ids, page};

fn alice() -> Actor {
    Actor::user(1, "alice")
}

fn bob() -> Actor {
    Actor::user(2, "bob")
}

fn nightly() -> Actor {
    Actor::system("nightly")
}

/// Eight events in three transactions; returns their ids, oldest first:
///
/// | # | actor   | command       | event          | target   | parent    | subject |
/// |---|---------|---------------|----------------|----------|-----------|---------|
/// | 0 | alice   | create_widget | widget_created | widget 10| widget 10 |         |
/// | 1 | alice   | add_part      | part_added     | part 100 | widget 10 | user 2  |
/// | 2 | alice   | add_part      | note_written   |          | widget 10 |         |
/// | 3 | bob     | create_widget | widget_created | widget 20| widget 20 |         |
/// | 4 | bob     | add_part      | part_added     | part 200 | widget 20 | user 1  |
/// | 5 | bob     | add_part      | note_written   |          | widget 20 |         |
/// | 6 | nightly | write_note    | note_written   |          | widget 10 |         |
/// | 7 | nightly | write_note    | note_written   |          | widget 20 |         |
async fn fixture(auditor: &Auditor) -> Vec<i64> {
    for (actor, widget, part, owner) in [(alice(), 10, 100, 2), (bob(), 20, 200, 1)] {
        let mut audit = auditor.begin::<TestEvent>(actor).await.unwrap();
        let widget = support::create_widget(&mut audit, widget).await.unwrap();
        support::add_part(&mut audit, widget, part, UserRef(owner))
            .await
            .unwrap();
        audit.commit().await.unwrap();
    }
    let mut audit = auditor.begin::<TestEvent>(nightly()).await.unwrap();
    for widget in [10, 20] {
        support::write_note(&mut audit, WidgetRef(widget), "checked".into())
            .await
            .unwrap();
    }
    audit.commit().await.unwrap();

    let mut log = support::log(auditor).await;
    log.reverse();
    assert_eq!(
        support::codes(&log),
        [
            "widget_created",
            "part_added",
            "note_written",
            "widget_created",
            "part_added",
            "note_written",
            "note_written",
            "note_written"
        ],
        "{}: events are stored in the order they were emitted",
        testing::label(auditor)
    );
    let references = |i: usize| {
        let r = &log[i].references;
        (r.target.clone(), r.parent.clone(), r.subject.clone())
    };
    assert_eq!(
        references(1),
        (
            Some(PartRef(100).entity()),
            Some(WidgetRef(10).entity()),
            Some(UserRef(2).entity())
        )
    );
    assert_eq!(references(5), (None, Some(WidgetRef(20).entity()), None));
    ids(&log)
}

/// The ids of the matching events, newest first.
async fn matching(auditor: &Auditor, query: EventQuery) -> Vec<i64> {
    ids(&page(auditor, &query.limit(MAX_PAGE_SIZE)).await.events)
}

/// `e[i]` for each index, newest first.
fn pick(e: &[i64], indexes: &[usize]) -> Vec<i64> {
    let mut picked: Vec<i64> = indexes.iter().map(|&i| e[i]).collect();
    picked.sort_unstable_by(|a, b| b.cmp(a));
    picked
}

#[tokio::test]
async fn each_single_filter_selects_exactly_its_events() {
    for auditor in support::databases("single_filters").await {
        let label = testing::label(&auditor);
        let e = fixture(&auditor).await;
        let cases: Vec<(&str, EventQuery, Vec<usize>)> = vec![
            ("all", EventQuery::new(), (0..8).collect()),
            (
                "parent widget 10",
                EventQuery::new().parent(WidgetRef(10).entity()),
                vec![0, 1, 2, 6],
            ),
            (
                "parent of another kind, same id",
                EventQuery::new().parent(PartRef(10).entity()),
                vec![],
            ),
            (
                "target part 100",
                EventQuery::new().target(PartRef(100).entity()),
                vec![1],
            ),
            (
                "target widget 20",
                EventQuery::new().target(WidgetRef(20).entity()),
                vec![3],
            ),
            (
                "subject user 1",
                EventQuery::new().subject(UserRef(1).entity()),
                vec![4],
            ),
            (
                "actor alice",
                EventQuery::new().actor(&alice()),
                vec![0, 1, 2],
            ),
            (
                "actor by id, whatever the name stored",
                EventQuery::new().actor(&Actor::user(1, "renamed")),
                vec![0, 1, 2],
            ),
            (
                "system actor",
                EventQuery::new().actor(&nightly()),
                vec![6, 7],
            ),
            (
                "a system actor is not the user of the same id",
                EventQuery::new().actor(&Actor::system("1")),
                vec![],
            ),
            (
                "one type",
                EventQuery::new().types(["note_written"]),
                vec![2, 5, 6, 7],
            ),
            (
                "two types",
                EventQuery::new().types(["widget_created", "part_added"]),
                vec![0, 1, 3, 4],
            ),
            (
                "types added by two calls",
                EventQuery::new()
                    .types(["widget_created"])
                    .types(["part_added"]),
                vec![0, 1, 3, 4],
            ),
            (
                "an id that tries to be SQL is a value",
                EventQuery::new().parent(audit_core::events::EntityRef::new(
                    "widget",
                    "10' OR '1'='1",
                )),
                vec![],
            ),
            (
                "a kind that tries to be SQL is a value",
                EventQuery::new()
                    .target(audit_core::events::EntityRef::new("part' OR 1=1 --", "100")),
                vec![],
            ),
            (
                "an undeclared type",
                EventQuery::new().types(["widget_archived"]),
                vec![],
            ),
        ];
        for (name, query, expected) in cases {
            assert_eq!(
                matching(&auditor, query).await,
                pick(&e, &expected),
                "{label}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn conditions_combine_with_and() {
    for auditor in support::databases("and_filters").await {
        let label = testing::label(&auditor);
        let e = fixture(&auditor).await;
        let cases: Vec<(&str, EventQuery, Vec<usize>)> = vec![
            (
                "parent, actor and type",
                EventQuery::new()
                    .parent(WidgetRef(10).entity())
                    .actor(&alice())
                    .types(["note_written"]),
                vec![2],
            ),
            (
                "parent and actor",
                EventQuery::new()
                    .parent(WidgetRef(20).entity())
                    .actor(&nightly()),
                vec![7],
            ),
            (
                "target and subject",
                EventQuery::new()
                    .target(PartRef(200).entity())
                    .subject(UserRef(1).entity()),
                vec![4],
            ),
            (
                "target and a subject it does not have",
                EventQuery::new()
                    .target(PartRef(200).entity())
                    .subject(UserRef(2).entity()),
                vec![],
            ),
            (
                "two parents: no event has both",
                EventQuery::new()
                    .parent(WidgetRef(10).entity())
                    .parent(WidgetRef(20).entity()),
                vec![],
            ),
            (
                "the same parent twice",
                EventQuery::new()
                    .parent(WidgetRef(10).entity())
                    .only(Condition::Parent(WidgetRef(10).entity())),
                vec![0, 1, 2, 6],
            ),
            (
                "two actors: no event has both",
                EventQuery::new().actor(&alice()).actor(&bob()),
                vec![],
            ),
        ];
        for (name, query, expected) in cases {
            assert_eq!(
                matching(&auditor, query).await,
                pick(&e, &expected),
                "{label}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn any_of_groups_need_one_of_their_conditions() {
    for auditor in support::databases("any_of").await {
        let label = testing::label(&auditor);
        let e = fixture(&auditor).await;
        let cases: Vec<(&str, EventQuery, Vec<usize>)> = vec![
            ("an empty group", EventQuery::new().any_of([]), vec![]),
            (
                "an empty group next to a matching condition",
                EventQuery::new().actor(&alice()).any_of([]),
                vec![],
            ),
            (
                "one condition",
                EventQuery::new().any_of([Condition::Actor(bob())]),
                vec![3, 4, 5],
            ),
            (
                "several ids of one column",
                EventQuery::new().any_of([
                    Condition::Target(PartRef(100).entity()),
                    Condition::Target(PartRef(200).entity()),
                ]),
                vec![1, 4],
            ),
            (
                "several columns: what bob did, or what was done to user 2",
                EventQuery::new().any_of([
                    Condition::Actor(bob()),
                    Condition::Subject(UserRef(2).entity()),
                ]),
                vec![1, 3, 4, 5],
            ),
            (
                "several columns, overlapping matches listed once",
                EventQuery::new().any_of([
                    Condition::Actor(alice()),
                    Condition::Parent(WidgetRef(10).entity()),
                    Condition::Subject(UserRef(2).entity()),
                    Condition::Target(WidgetRef(10).entity()),
                ]),
                vec![0, 1, 2, 6],
            ),
            (
                "several columns and kinds: a user's log",
                EventQuery::new().any_of([
                    Condition::Actor(Actor::user(1, "alice")),
                    Condition::Subject(UserRef(1).entity()),
                    Condition::Parent(WidgetRef(20).entity()),
                ]),
                vec![0, 1, 2, 3, 4, 5, 7],
            ),
            (
                "a group AND a condition",
                EventQuery::new()
                    .parent(WidgetRef(20).entity())
                    .any_of([Condition::Actor(alice()), Condition::Actor(nightly())]),
                vec![7],
            ),
            (
                "a group over several columns AND a type",
                EventQuery::new()
                    .any_of([
                        Condition::Actor(bob()),
                        Condition::Subject(UserRef(2).entity()),
                    ])
                    .types(["part_added"]),
                vec![1, 4],
            ),
            (
                "two groups",
                EventQuery::new()
                    .any_of([Condition::Actor(alice()), Condition::Actor(bob())])
                    .any_of([
                        Condition::Target(PartRef(100).entity()),
                        Condition::Subject(UserRef(1).entity()),
                    ]),
                vec![1, 4],
            ),
            (
                "two groups over several columns",
                EventQuery::new()
                    .any_of([
                        Condition::Actor(nightly()),
                        Condition::Target(WidgetRef(10).entity()),
                    ])
                    .any_of([
                        Condition::Parent(WidgetRef(10).entity()),
                        Condition::Subject(UserRef(1).entity()),
                    ]),
                vec![0, 6],
            ),
            (
                "a group over several columns and an empty group",
                EventQuery::new()
                    .any_of([
                        Condition::Actor(bob()),
                        Condition::Subject(UserRef(2).entity()),
                    ])
                    .any_of([]),
                vec![],
            ),
        ];
        for (name, query, expected) in cases {
            assert_eq!(
                matching(&auditor, query).await,
                pick(&e, &expected),
                "{label}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn types_with_an_empty_list_matches_nothing() {
    for auditor in support::databases("empty_types").await {
        fixture(&auditor).await;
        let none: [&str; 0] = [];
        assert_eq!(
            matching(&auditor, EventQuery::new().types(none)).await,
            Vec::<i64>::new(),
            "{}",
            testing::label(&auditor)
        );
    }
}

#[tokio::test]
async fn since_is_inclusive_and_until_exclusive() {
    for auditor in support::databases("time_filters").await {
        let label = testing::label(&auditor);
        // Rows with fixed times, written by hand.
        support::insert_rows(
            &auditor,
            "(1000, 'note_written', 1, 'user', '1', 'alice', 'x', 'c1', '{\"widget\": 1, \"text\": \"a\"}'), \
             (2000, 'note_written', 1, 'user', '1', 'alice', 'x', 'c2', '{\"widget\": 1, \"text\": \"b\"}'), \
             (3000, 'note_written', 1, 'user', '2', 'bob', 'x', 'c3', '{\"widget\": 1, \"text\": \"c\"}')",
        )
        .await;
        let mut log = support::log(&auditor).await;
        log.reverse();
        let e = ids(&log);
        let t = |micros| DateTime::from_timestamp_micros(micros).unwrap();
        assert_eq!(log[1].occurred_at, t(2000));
        let cases: Vec<(&str, EventQuery, Vec<usize>)> = vec![
            ("since", EventQuery::new().since(t(2000)), vec![1, 2]),
            (
                "since, between",
                EventQuery::new().since(t(1001)),
                vec![1, 2],
            ),
            ("until", EventQuery::new().until(t(3000)), vec![0, 1]),
            (
                "until, between",
                EventQuery::new().until(t(2999)),
                vec![0, 1],
            ),
            (
                "since and until",
                EventQuery::new().since(t(2000)).until(t(3000)),
                vec![1],
            ),
            (
                "an empty range",
                EventQuery::new().since(t(2000)).until(t(2000)),
                vec![],
            ),
            (
                "since, until and an actor",
                EventQuery::new()
                    .since(t(1000))
                    .until(t(3001))
                    .actor(&Actor::user(2, "bob")),
                vec![2],
            ),
            ("after everything", EventQuery::new().since(t(3001)), vec![]),
        ];
        for (name, query, expected) in cases {
            assert_eq!(
                matching(&auditor, query).await,
                pick(&e, &expected),
                "{label}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn the_page_size_is_clamped_to_one_and_to_the_maximum() {
    for auditor in support::databases("limits").await {
        let label = testing::label(&auditor);
        let extra = 5;
        let mut audit = auditor
            .begin::<TestEvent>(Actor::system("t"))
            .await
            .unwrap();
        for i in 0..MAX_PAGE_SIZE + extra {
            support::write_note(&mut audit, WidgetRef(1), i.to_string())
                .await
                .unwrap();
        }
        audit.commit().await.unwrap();
        let total = (MAX_PAGE_SIZE + extra) as i64;
        assert_eq!(support::events(&auditor).await, total, "{label}");

        let one = page(&auditor, &EventQuery::new().limit(0)).await;
        assert_eq!(one.events.len(), 1, "{label}: limit 0");
        assert!(one.next.is_some(), "{label}");
        let default = page(&auditor, &EventQuery::new()).await;
        assert_eq!(default.events.len(), 25, "{label}: the default");
        for limit in [MAX_PAGE_SIZE, MAX_PAGE_SIZE + 1, u32::MAX] {
            let most = page(&auditor, &EventQuery::new().limit(limit)).await;
            assert_eq!(
                most.events.len(),
                MAX_PAGE_SIZE as usize,
                "{label}: limit {limit}"
            );
            let rest = page(
                &auditor,
                &EventQuery::new().limit(limit).cursor(most.next.unwrap()),
            )
            .await;
            assert_eq!(rest.events.len(), extra as usize, "{label}: limit {limit}");
            assert!(rest.next.is_none(), "{label}");
            // Stored in the order emitted, across SQLite's insert batches.
            let texts: Vec<String> = most
                .events
                .iter()
                .chain(&rest.events)
                .map(|e| support::payload(e)["text"].as_str().unwrap().to_owned())
                .collect();
            let emitted: Vec<String> = (0..MAX_PAGE_SIZE + extra)
                .rev()
                .map(|i| i.to_string())
                .collect();
            assert_eq!(texts, emitted, "{label}");
        }
    }
}

#[tokio::test]
async fn one_event_by_id_and_the_events_of_its_command() {
    for auditor in support::databases("query_one_event").await {
        let label = testing::label(&auditor);
        let ids = fixture(&auditor).await;
        let event = |id| {
            let auditor = auditor.clone();
            async move { auditor.event::<TestEvent>(id).await.unwrap() }
        };
        let found = event(ids[1]).await.expect("event 1 exists");
        assert_eq!(found.id, ids[1], "{label}");
        assert_eq!(found.event.code(), "part_added", "{label}");
        assert_eq!(found.actor, alice(), "{label}");
        for missing in [0, -1, ids[7] + 1, i64::MAX] {
            assert!(event(missing).await.is_none(), "{label}: {missing}");
        }

        let command = |id: i64, around: u32| {
            let auditor = auditor.clone();
            async move {
                let event = auditor.event::<TestEvent>(id).await.unwrap().unwrap();
                let of: Vec<i64> = auditor
                    .command_events(&event, around)
                    .await
                    .unwrap()
                    .iter()
                    .map(|e| e.id)
                    .collect();
                of
            }
        };
        // add_part wrote two events; create_widget, in the same
        // transaction, and each of nightly's two commands, one each.
        assert_eq!(command(ids[1], 10).await, [ids[1], ids[2]], "{label}");
        assert_eq!(command(ids[2], 10).await, [ids[1], ids[2]], "{label}");
        assert_eq!(command(ids[0], 10).await, [ids[0]], "{label}");
        assert_eq!(command(ids[6], 10).await, [ids[6]], "{label}");
        assert_eq!(command(ids[7], 10).await, [ids[7]], "{label}");
        // At most `around` either side, the event itself counted after.
        assert_eq!(command(ids[2], 1).await, [ids[1], ids[2]], "{label}");
        assert_eq!(command(ids[1], 1).await, [ids[1]], "{label}");
    }
}
