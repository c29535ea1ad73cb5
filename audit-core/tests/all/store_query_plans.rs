//! Every page query is served by an index in the pages' order (by time,
//! `occurred_at`, then id, newest first), on both backends: the query plan
//! of each page (the global page, by type, by actor, by parent, target and
//! subject, a user's page as a union, each with and without a time range
//! and a cursor) reads one index range in order and sorts nothing but, for
//! a union, the few rows its limited parts picked. Checked with each
//! backend's own EXPLAIN on a log of 20,000 events whose ids are not in
//! time order, with the SQL and values `Auditor::query` sends
//! (`testing::query_sql`): on SQLite without and with `ANALYZE`, on
//! PostgreSQL after `ANALYZE` as a prepared statement's custom and generic
//! plans (sqlx prepares every statement, and PostgreSQL may switch a
//! prepared statement to its generic plan after five runs).

use audit_core::events::EntityRef;
use audit_core::query::{Condition, Cursor, EventQuery};
use audit_core::store::Backend;
use audit_core::testing::{self, BoundValue};
use audit_core::{Actor, Auditor};
use chrono::DateTime;

use crate::support;

/// Events in the log.
const EVENTS: i64 = 20_000;

/// The first event's time, microseconds (September 2020).
const BASE: i64 = 1_600_000_000_000_000;

/// Fills the log: event `i`'s time is a permutation of the ids (two events
/// a second, so pairs share a time), its actor one of 200 users, half of
/// the events target one of 1,000 parts, two thirds are on one of 300
/// widgets, a quarter about one of 250 users; one event in 100 is a part
/// added, one in 5 a widget created, the rest notes; a third were made in
/// one of 10 requests (jobs of many events), and half from one of 50
/// addresses.
fn fill_sql(backend: Backend) -> String {
    let (series, text) = match backend {
        Backend::Sqlite => (
            "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
             SELECT i FROM n)",
            "CAST(({}) AS TEXT)",
        ),
        _ => (
            "(SELECT generate_series(1::bigint, 20000) AS i)",
            "(({})::text)",
        ),
    };
    let text = |expr: &str| text.replace("{}", expr);
    format!(
        "INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, \
         actor_id, actor_name, target_kind, target_id, parent_kind, parent_id, subject_kind, \
         subject_id, command_name, command_id, payload, request_id, client_address) \
         SELECT {BASE} + ((i * 7919) % {EVENTS}) / 2 * 1000000, \
         CASE WHEN i % 100 = 0 THEN 'part_added' WHEN i % 5 = 0 THEN 'widget_created' \
         ELSE 'note_written' END, \
         1, 'user', {actor}, 'someone', \
         CASE WHEN i % 2 = 0 THEN 'part' END, CASE WHEN i % 2 = 0 THEN {part} END, \
         CASE WHEN i % 3 <> 0 THEN 'widget' END, CASE WHEN i % 3 <> 0 THEN {widget} END, \
         CASE WHEN i % 4 = 0 THEN 'user' END, CASE WHEN i % 4 = 0 THEN {subject} END, \
         'fill', 'c', '{{}}', \
         CASE WHEN i % 3 = 0 THEN 'r' || {request} END, \
         CASE WHEN i % 2 = 1 THEN '10.0.0.' || {address} END FROM {series} AS n",
        actor = text("i % 200"),
        part = text("i % 1000"),
        widget = text("i % 300"),
        subject = text("i % 250"),
        request = text("i % 10"),
        address = text("i % 50"),
    )
}

/// One page query and what its plan must use.
struct Case {
    name: String,
    query: EventQuery,
    /// Indexes the plan must read (any one of each inner list).
    indexes: Vec<Vec<&'static str>>,
    /// A union of limited parts: its outer query sorts the parts' rows (at
    /// most a page and one row each) once.
    union: bool,
    /// The rows of one value may be few (a request's, an address's):
    /// PostgreSQL may take them from the index as a bitmap and sort them
    /// when it expects fewer than a page (which the generic plan of a time
    /// range does).
    few: bool,
}

fn case(name: &str, query: EventQuery, indexes: &[&[&'static str]], union: bool) -> Case {
    Case {
        name: name.to_owned(),
        query: query.limit(25),
        indexes: indexes.iter().map(|any| any.to_vec()).collect(),
        union,
        few: false,
    }
}

const BY_TIME: &str = "audit_events_by_time";
const BY_TYPE: &str = "audit_events_by_type_time";
const BY_ACTOR: &str = "audit_events_by_actor_time";
const BY_PARENT: &str = "audit_events_by_parent_time";
const BY_TARGET: &str = "audit_events_by_target_time";
const BY_SUBJECT: &str = "audit_events_by_subject_time";
const BY_REQUEST: &str = "audit_events_by_request_time";
const BY_CLIENT: &str = "audit_events_by_client_time";

/// Every page query, plain, in a time range, and at a cursor deep in the
/// log (both ways).
fn cases() -> Vec<Case> {
    let user = || Actor::user(7, "someone");
    let widget = |id: &str| EntityRef::new("widget", id);
    let pages: Vec<(&str, EventQuery, Vec<&[&'static str]>, bool)> = vec![
        ("global", EventQuery::new(), vec![&[BY_TIME]], false),
        (
            "type",
            EventQuery::new().types(["part_added"]),
            vec![&[BY_TYPE]],
            false,
        ),
        (
            "types (a union)",
            EventQuery::new().types(["part_added", "widget_created"]),
            vec![&[BY_TYPE]],
            true,
        ),
        (
            "actor",
            EventQuery::new().actor(&user()),
            vec![&[BY_ACTOR]],
            false,
        ),
        (
            "request",
            EventQuery::new().request_id("r4"),
            vec![&[BY_REQUEST]],
            false,
        ),
        (
            "client address",
            EventQuery::new().client_address("10.0.0.7".parse().unwrap()),
            vec![&[BY_CLIENT]],
            false,
        ),
        (
            "parent (a project's page)",
            EventQuery::new().parent(widget("7")),
            vec![&[BY_PARENT]],
            false,
        ),
        (
            "target",
            EventQuery::new().target(EntityRef::new("part", "8")),
            vec![&[BY_TARGET]],
            false,
        ),
        (
            "subject",
            EventQuery::new().subject(EntityRef::new("user", "8")),
            vec![&[BY_SUBJECT]],
            false,
        ),
        (
            "parent and actor (a project's page by one actor)",
            EventQuery::new().parent(widget("7")).actor(&user()),
            vec![&[BY_PARENT, BY_ACTOR]],
            false,
        ),
        (
            "parent and type",
            EventQuery::new().parent(widget("7")).types(["part_added"]),
            vec![&[BY_PARENT, BY_TYPE]],
            false,
        ),
        (
            "a user's page (a union)",
            EventQuery::new().any_of([
                Condition::Actor(user()),
                Condition::Subject(EntityRef::new("user", "7")),
                Condition::Target(widget("7")),
            ]),
            vec![&[BY_ACTOR], &[BY_SUBJECT], &[BY_TARGET]],
            true,
        ),
        (
            "a user's page with their projects' activity (a union)",
            EventQuery::new().any_of([
                Condition::Actor(user()),
                Condition::Subject(EntityRef::new("user", "7")),
                Condition::Parent(widget("7")),
            ]),
            vec![&[BY_ACTOR], &[BY_SUBJECT], &[BY_PARENT]],
            true,
        ),
    ];
    let t = |seconds: i64| DateTime::from_timestamp_micros(BASE + seconds * 1_000_000).unwrap();
    // A cursor at an event in the middle of the log, as a page prints it.
    let middle = BASE + 5_000 * 1_000_000;
    let older: Cursor = format!("tb{middle:x}x{:x}", 12_345).parse().unwrap();
    let newer: Cursor = format!("ta{middle:x}x{:x}", 12_345).parse().unwrap();
    let mut cases = Vec::new();
    for (name, query, indexes, union) in pages {
        let ranged = query.clone().since(t(2_000)).until(t(8_000));
        cases.push(case(name, query.clone(), &indexes, union));
        cases.push(case(
            &format!("{name}, since"),
            query.clone().since(t(2_000)),
            &indexes,
            union,
        ));
        cases.push(case(
            &format!("{name}, until"),
            query.clone().until(t(8_000)),
            &indexes,
            union,
        ));
        cases.push(case(
            &format!("{name}, since and until"),
            ranged.clone(),
            &indexes,
            union,
        ));
        cases.push(case(
            &format!("{name}, older page"),
            query.clone().cursor(older),
            &indexes,
            union,
        ));
        cases.push(case(
            &format!("{name}, newer page"),
            query.clone().cursor(newer),
            &indexes,
            union,
        ));
        cases.push(case(
            &format!("{name}, range, older page"),
            ranged.clone().cursor(older),
            &indexes,
            union,
        ));
        cases.push(case(
            &format!("{name}, range, newer page"),
            ranged.cursor(newer),
            &indexes,
            union,
        ));
    }
    for case in &mut cases {
        case.few = case.name.starts_with("request") || case.name.starts_with("client address");
    }
    cases
}

/// Each line of SQLite's `EXPLAIN QUERY PLAN` of `case`.
async fn sqlite_plan(auditor: &Auditor, case: &Case) -> Vec<String> {
    let (sql, binds) = testing::query_sql(Backend::Sqlite, &case.query);
    let audit_core::store::Pool::Sqlite(pool) = auditor.pool() else {
        unreachable!("a SQLite auditor")
    };
    let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {sql}"
    )));
    for bind in &binds {
        query = match bind {
            BoundValue::Text(s) => query.bind(s.clone()),
            BoundValue::Int(i) => query.bind(*i),
        };
    }
    let rows = query.fetch_all(pool).await.unwrap();
    rows.into_iter().map(|(.., detail)| detail).collect()
}

/// PostgreSQL's plan of `case`, run as sqlx runs it (a prepared statement)
/// with `mode` (`force_custom_plan` or `force_generic_plan`): its lines.
async fn postgres_plan(auditor: &Auditor, case: &Case, mode: &str) -> Vec<String> {
    let (sql, binds) = testing::query_sql(Backend::Postgres, &case.query);
    let audit_core::store::Pool::Postgres(pool) = auditor.pool() else {
        unreachable!("a PostgreSQL auditor")
    };
    let values: Vec<String> = binds
        .iter()
        .map(|b| match b {
            BoundValue::Text(s) => format!("'{}'", s.replace('\'', "''")),
            BoundValue::Int(i) => i.to_string(),
        })
        .collect();
    let mut conn = pool.acquire().await.unwrap();
    let script = format!("SET plan_cache_mode = {mode}; PREPARE page AS {sql}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(script))
        .execute(&mut *conn)
        .await
        .unwrap();
    let arguments = if values.is_empty() {
        String::new()
    } else {
        format!("({})", values.join(", "))
    };
    let lines: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "EXPLAIN EXECUTE page{arguments}"
    )))
    .persistent(false)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    sqlx::raw_sql("DEALLOCATE page; RESET plan_cache_mode")
        .execute(&mut *conn)
        .await
        .unwrap();
    lines
}

/// What is wrong with `plan` for `case`, if anything.
fn problems(backend: Backend, case: &Case, plan: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let text = plan.join("\n");
    for any in &case.indexes {
        if !any.iter().any(|index| {
            plan.iter().any(|line| match backend {
                Backend::Sqlite => {
                    line.contains(&format!("INDEX {index} "))
                        || line.ends_with(&format!("INDEX {index}"))
                }
                _ => {
                    line.contains(&format!(" using {index} on "))
                        || (case.few && line.contains(&format!("Bitmap Index Scan on {index} ")))
                }
            })
        }) {
            problems.push(format!("reads none of {any:?}"));
        }
    }
    let sorts = match backend {
        Backend::Sqlite => {
            // A table read without an index, or with the primary key only
            // where it is no page's order.
            for line in plan {
                if line.contains("SCAN audit_events") && !line.contains("INDEX") {
                    problems.push(format!("reads the whole table: {line}"));
                }
            }
            plan.iter()
                .filter(|l| l.contains("TEMP B-TREE FOR ORDER BY"))
                .count()
        }
        _ => {
            if text.contains("Seq Scan") {
                problems.push("reads the whole table (Seq Scan)".to_owned());
            }
            let sorts: Vec<usize> = plan
                .iter()
                .enumerate()
                .filter(|(_, l)| {
                    // A Sort node, not its `Sort Key:` or `Sort Method:` line.
                    let node = l.trim_start().trim_start_matches("->").trim_start();
                    node.starts_with("Sort  (") || node.starts_with("Incremental Sort")
                })
                .map(|(i, _)| i)
                .collect();
            // The union's one sort is the outer query's, right under its
            // limit (or under the `Result` that computes, for the rows
            // kept, each one's place in commit order).
            let under_limit = match plan.get(1) {
                Some(line)
                    if line
                        .trim_start()
                        .trim_start_matches("->")
                        .trim_start()
                        .starts_with("Result") =>
                {
                    2
                }
                _ => 1,
            };
            if case.union && sorts.len() == 1 && sorts[0] != under_limit {
                problems.push("the union's sort is not its outer query's".to_owned());
            }
            sorts.len()
        }
    };
    let allowed = usize::from(case.union);
    let few_sorted = case.few && sorts == 1 && text.contains("Bitmap Index Scan on");
    if sorts != allowed && !few_sorted {
        problems.push(format!("{sorts} sorts (expected {allowed})"));
    }
    problems
}

#[tokio::test]
async fn every_page_query_reads_an_index_in_time_order_and_sorts_nothing() {
    for auditor in support::databases("query_plans").await {
        let backend = auditor.backend();
        let label = testing::label(&auditor);
        testing::execute(&auditor, &fill_sql(backend))
            .await
            .unwrap();
        assert_eq!(support::events(&auditor).await, EVENTS, "{label}");
        let cases = cases();
        let mut failures = Vec::new();
        let mut check = |setting: &str, case: &Case, plan: Vec<String>| {
            let found = problems(backend, case, &plan);
            if !found.is_empty() {
                failures.push(format!(
                    "{label} ({setting}) {}: {}\n    {}",
                    case.name,
                    found.join("; "),
                    plan.join("\n    ")
                ));
            }
        };
        match backend {
            Backend::Sqlite => {
                // As most SQLite files are (no statistics), then analyzed.
                for setting in ["without ANALYZE", "after ANALYZE"] {
                    if setting == "after ANALYZE" {
                        testing::execute(&auditor, "ANALYZE").await.unwrap();
                    }
                    for case in &cases {
                        let plan = sqlite_plan(&auditor, case).await;
                        check(setting, case, plan);
                    }
                }
            }
            _ => {
                testing::execute(&auditor, "ANALYZE audit_events")
                    .await
                    .unwrap();
                for mode in ["force_custom_plan", "force_generic_plan"] {
                    for case in &cases {
                        let plan = postgres_plan(&auditor, case, mode).await;
                        check(mode, case, plan);
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
