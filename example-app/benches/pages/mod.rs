//! The scale bench's four pages (project, user, type, global), each two
//! ways: through `Auditor::query`, and by hand through sqlx: the same SQL
//! text the library sends (checked against `audit_core::testing::query_sql`),
//! the same binds, `fetch_all`, and every column read into an owned value,
//! as a user would write it to show the page without the library. Shared by
//! `benches/scale.rs` and the profiling driver `examples/query_profile.rs`.
#![allow(dead_code)]

use std::time::Instant;

use audit_core::events::EntityRef;
use audit_core::query::{Condition, EventQuery};
use audit_core::store::Backend;
use audit_core::testing::{BoundValue, query_sql};
use audit_core::{Actor, Auditor};
use example_app::events::StaffEvent;
use sqlx::Row;

/// Events per page.
pub const PAGE: u32 = 25;

/// The user whose page is measured.
pub const USER: i64 = 4242;

/// The pages, by name.
pub const NAMES: [&str; 4] = ["project", "user", "type", "global"];

/// The query of page `name` (one of [`NAMES`]), 25 events.
pub fn query(name: &str) -> EventQuery {
    let q = match name {
        "project" => EventQuery::new().parent(EntityRef::new("project", "7")),
        "user" => EventQuery::new().any_of([
            Condition::Actor(Actor::user(USER, format!("user-{USER}"))),
            Condition::Subject(EntityRef::new("user", USER.to_string())),
        ]),
        "type" => EventQuery::new().types(["project_member_removed"]),
        "global" => EventQuery::new(),
        _ => panic!("no page {name}"),
    };
    q.limit(PAGE)
}

/// One row as the hand-written code reads it: every column, owned.
#[derive(Debug)]
pub struct HandRow {
    pub id: i64,
    pub occurred_at: i64,
    pub event_type: String,
    pub payload_version: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_name: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub parent_kind: Option<String>,
    pub parent_id: Option<String>,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub command_name: String,
    pub command_id: String,
    pub payload: String,
    pub position_tx: i64,
}

/// The SQL of each page by hand, as the library writes it; `$p` is the
/// payload column and `$tx` the transaction column of the backend.
macro_rules! page_sql {
    ($payload:literal, $tx:literal, $where:literal) => {
        concat!(
            "SELECT id, occurred_at, event_type, payload_version, actor_kind, actor_id, ",
            "actor_name, target_kind, target_id, parent_kind, parent_id, subject_kind, ",
            "subject_id, command_name, command_id, ",
            $payload,
            ", ",
            $tx,
            " AS position_tx FROM audit_events WHERE ",
            $where
        )
    };
}

macro_rules! both {
    ($where:literal) => {
        (
            page_sql!("payload", "0", $where),
            page_sql!("payload::text", "tx_id::text::int8", $where),
        )
    };
}

/// Page `name`'s hand-written SQL on `backend`, and its binds. Pages are
/// in time order (`occurred_at`, then id, newest first); the limit, one
/// more row than the page, is written out, not bound.
pub fn hand_sql(name: &str, backend: Backend) -> (&'static str, Vec<BoundValue>) {
    let text = |s: &str| BoundValue::Text(s.to_owned());
    let ((sqlite, postgres), binds) = match name {
        "project" => (
            both!(
                "id > 0 AND (parent_kind = $1 AND parent_id = $2) \
                 ORDER BY occurred_at DESC, id DESC LIMIT 26"
            ),
            vec![text("project"), text("7")],
        ),
        "user" => (
            both!(
                "id IN (SELECT id FROM (SELECT id FROM audit_events WHERE id > 0 AND \
                 (actor_kind = $1 AND actor_id = $2) ORDER BY occurred_at DESC, id DESC \
                 LIMIT 26) AS part0 \
                 UNION SELECT id FROM (SELECT id FROM audit_events WHERE id > 0 AND \
                 (subject_kind = $3 AND subject_id = $4) ORDER BY occurred_at DESC, id DESC \
                 LIMIT 26) AS part1) \
                 ORDER BY occurred_at DESC, id DESC LIMIT 26"
            ),
            vec![text("user"), text("4242"), text("user"), text("4242")],
        ),
        "type" => (
            both!("id > 0 AND event_type IN ($1) ORDER BY occurred_at DESC, id DESC LIMIT 26"),
            vec![text("project_member_removed")],
        ),
        "global" => (
            both!("id > 0 ORDER BY occurred_at DESC, id DESC LIMIT 26"),
            vec![],
        ),
        _ => panic!("no page {name}"),
    };
    let sql = match backend {
        Backend::Sqlite => sqlite,
        Backend::Postgres => postgres,
    };
    (sql, binds)
}

/// Panics unless every hand-written page is the library's SQL and binds.
pub fn check_hand_sql() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for name in NAMES {
            let (sql, binds) = hand_sql(name, backend);
            let (lib_sql, lib_binds) = query_sql(backend, &query(name));
            assert_eq!(sql, lib_sql, "{name} on {backend:?}: the hand SQL differs");
            assert_eq!(binds, lib_binds, "{name} on {backend:?}: the binds differ");
        }
    }
}

/// Reads one row by column index, in the select list's order.
fn read<R>(row: &R) -> HandRow
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    HandRow {
        id: row.get(0),
        occurred_at: row.get(1),
        event_type: row.get(2),
        payload_version: row.get(3),
        actor_kind: row.get(4),
        actor_id: row.get(5),
        actor_name: row.get(6),
        target_kind: row.get(7),
        target_id: row.get(8),
        parent_kind: row.get(9),
        parent_id: row.get(10),
        subject_kind: row.get(11),
        subject_id: row.get(12),
        command_name: row.get(13),
        command_id: row.get(14),
        payload: row.get(15),
        position_tx: row.get(16),
    }
}

/// Page `name` by hand: the newest 26 rows (one more than the page, as the
/// library asks), the binds written out, every column read into an owned value.
pub async fn hand_page(auditor: &Auditor, name: &str) -> Vec<HandRow> {
    let (sql, _) = hand_sql(name, auditor.backend());
    audit_core::on_backend!(auditor.pool(), pool => {
        let q = sqlx::query(sql);
        let q = match name {
            "project" => q.bind("project").bind("7"),
            "user" => q.bind("user").bind("4242").bind("user").bind("4242"),
            "type" => q.bind("project_member_removed"),
            _ => q,
        };
        q.fetch_all(pool).await.unwrap().iter().map(read).collect()
    })
}

/// The scale bench's SQLite database of `events` events (it must exist).
pub fn sqlite_path(events: u64) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/audit-scale")
        .join(format!("scale-{events}.db"))
}

/// The scale bench's PostgreSQL database name for `events` events.
pub fn postgres_name(events: u64) -> String {
    format!("audit_scale_{events}")
}

/// Library against hand for one page, timed in alternating rounds.
pub struct Ratio {
    /// Median over the rounds of the library's mean µs per page.
    pub library_us: f64,
    /// Median over the rounds of the hand-written code's mean µs per page.
    pub hand_us: f64,
    /// The per-round ratio library / hand: median, min, max.
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// Times page `name` `runs` times through the library and `runs` times by
/// hand, in each of `rounds` rounds (which goes first alternates), after
/// one untimed block of each: a ratio measured side by side, which holds
/// on a shared machine where two criterion benchmarks run one after the
/// other do not.
pub async fn compare(auditor: &Auditor, name: &str, runs: u32, rounds: u32) -> Ratio {
    let query = query(name);
    let library = async || {
        let start = Instant::now();
        for _ in 0..runs {
            let page = auditor.query::<StaffEvent>(&query).await.expect("a page");
            std::hint::black_box(page);
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(runs)
    };
    let hand = async || {
        let start = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(hand_page(auditor, name).await);
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(runs)
    };
    library().await;
    hand().await;
    let mut times = Vec::new();
    for round in 0..rounds {
        times.push(if round % 2 == 0 {
            let l = library().await;
            (l, hand().await)
        } else {
            let h = hand().await;
            (library().await, h)
        });
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratios: Vec<f64> = times.iter().map(|(l, h)| l / h).collect();
    Ratio {
        library_us: median(times.iter().map(|t| t.0).collect()),
        hand_us: median(times.iter().map(|t| t.1).collect()),
        min: ratios.iter().copied().fold(f64::MAX, f64::min),
        max: ratios.iter().copied().fold(f64::MIN, f64::max),
        median: median(ratios),
    }
}
