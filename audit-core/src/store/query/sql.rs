//! The SQL of a query: numbered placeholders and the values to bind, one
//! index-served part per column of an OR group.

use std::borrow::Cow;

use super::cursor::{Cursor, Direction, Edge};
use super::filter::{Condition, EventQuery};
use crate::backend::Backend;
use crate::store::table::{EVENTS_TABLE, select_list};

/// A value bound to a query's placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bind {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

/// Builds the SQL text with numbered placeholders (`$1`, which SQLite reads
/// too) and the values to bind, in order.
struct SqlBuilder {
    sql: String,
    binds: Vec<Bind>,
}

impl SqlBuilder {
    fn push_str(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    fn bind(&mut self, value: Bind) {
        self.binds.push(value);
        self.sql.push_str(&format!("${}", self.binds.len()));
    }

    fn text(&mut self, value: &str) {
        self.bind(Bind::Text(value.to_owned()));
    }

    /// `(<column>_kind = ? AND <column>_id IN (?, ...))` for one entity
    /// kind; `(<column> IN (?, ...))` for a column without kinds.
    fn entities(&mut self, column: &str, kind: Option<&str>, ids: &[Cow<'_, str>]) {
        match kind {
            Some(kind) => {
                self.push_str(&format!("({column}_kind = "));
                self.text(kind);
                self.push_str(&format!(" AND {column}_id "));
            }
            None => self.push_str(&format!("({column} ")),
        }
        if let [id] = ids {
            self.push_str("= ");
            self.text(id);
        } else {
            self.push_str("IN (");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    self.push_str(", ");
                }
                self.text(id);
            }
            self.push_str(")");
        }
        self.push_str(")");
    }

    /// The conditions joined with `joiner`.
    fn conditions(&mut self, conditions: &[Condition], joiner: &str) {
        for (i, ((column, kind), ids)) in fold(conditions, joiner == " OR ").iter().enumerate() {
            if i > 0 {
                self.push_str(joiner);
            }
            self.entities(column, *kind, ids);
        }
    }

    /// Every filter of `q` after `WHERE`, the cursor's included; in a part
    /// of a union, the OR group it splits is replaced by one of its parts,
    /// or the list of types by one type.
    fn filters(&mut self, q: &EventQuery, part: Option<Part<'_>>) {
        // Id 0 is the log's anchor (`audit_log_identity`), not an event.
        self.push_str("id > 0");
        if !q.all.is_empty() {
            self.push_str(" AND ");
            self.conditions(&q.all, " AND ");
        }
        for (i, group) in q.any.iter().enumerate() {
            match part {
                Some(Part::Group(at, ((column, kind), ids))) if at == i => {
                    self.push_str(" AND ");
                    self.entities(column, *kind, ids);
                }
                _ if group.is_empty() => self.push_str(" AND FALSE"),
                _ => {
                    self.push_str(" AND (");
                    self.conditions(group, " OR ");
                    self.push_str(")");
                }
            }
        }
        match (q.types.as_deref(), part) {
            (_, Some(Part::Type(code))) => {
                self.push_str(" AND event_type = ");
                self.text(code);
            }
            (None, _) => {}
            (Some([]), _) => self.push_str(" AND FALSE"),
            (Some(types), _) => {
                self.push_str(" AND event_type IN (");
                for (i, code) in types.iter().enumerate() {
                    if i > 0 {
                        self.push_str(", ");
                    }
                    self.text(code);
                }
                self.push_str(")");
            }
        }
        let (lower, upper) = bounds(q);
        match lower {
            Some(Lower::AtLeast(since)) => {
                self.push_str(" AND occurred_at >= ");
                self.bind(Bind::Int(since));
            }
            Some(Lower::After(edge)) => self.edge(">", edge),
            None => {}
        }
        match upper {
            Some(Upper::Before(until)) => {
                self.push_str(" AND occurred_at < ");
                self.bind(Bind::Int(until));
            }
            Some(Upper::Below(edge)) => self.edge("<", edge),
            None => {}
        }
    }

    /// ` AND (occurred_at, id) <op> (?, ?)`: the events past a cursor's
    /// edge, one range of every page index (`occurred_at DESC, id DESC`
    /// after its equality columns) on both backends.
    fn edge(&mut self, op: &str, edge: Edge) {
        self.push_str(&format!(" AND (occurred_at, id) {op} ("));
        self.bind(Bind::Int(edge.occurred_at));
        self.push_str(", ");
        self.bind(Bind::Int(edge.id));
        self.push_str(")");
    }

    /// ` ORDER BY occurred_at …, id … LIMIT n`: the pages' order (newest
    /// first, or oldest first towards a newer page), one more row than the
    /// page, to know whether another page follows. The limit is written
    /// out, not bound (it is a number of ours, `1..=MAX_PAGE_SIZE + 1`): a
    /// plan PostgreSQL keeps for a prepared statement (its generic plan)
    /// then knows how few rows a union's parts bring, and reads their rows
    /// by id instead of the whole table.
    fn order_and_limit(&mut self, q: &EventQuery) {
        let order = match q.cursor {
            Some(Cursor {
                direction: Direction::Newer,
                ..
            }) => "ASC",
            _ => "DESC",
        };
        self.push_str(&format!(
            " ORDER BY occurred_at {order}, id {order} LIMIT {}",
            u64::from(q.limit) + 1
        ));
    }
}

/// The lower bound of a query's events in the pages' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lower {
    /// `occurred_at >= since`.
    AtLeast(i64),
    /// After a cursor's edge: `(occurred_at, id) > edge`.
    After(Edge),
}

/// The upper bound of a query's events in the pages' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upper {
    /// `occurred_at < until`.
    Before(i64),
    /// Below a cursor's edge: `(occurred_at, id) < edge`.
    Below(Edge),
}

/// The time range and the cursor of `q` as at most one bound on each side:
/// where a cursor and a time bound limit the same side, whichever is
/// tighter implies the other (an edge below `until` keeps every event
/// below it before `until`; an edge at or after `until` is passed by
/// every event before `until`), so only it is written. The planner then
/// has one range of the index to read on each side (SQLite uses only one
/// of two upper bounds on a column, and might pick the looser).
fn bounds(q: &EventQuery) -> (Option<Lower>, Option<Upper>) {
    let since = q.since.map(|t| t.timestamp_micros());
    let until = q.until.map(|t| t.timestamp_micros());
    let mut lower = since.map(Lower::AtLeast);
    let mut upper = until.map(Upper::Before);
    match q.cursor {
        Some(Cursor {
            edge,
            direction: Direction::Older,
        }) if until.is_none_or(|until| edge.occurred_at < until) => {
            upper = Some(Upper::Below(edge));
        }
        Some(Cursor {
            edge,
            direction: Direction::Newer,
        }) if since.is_none_or(|since| edge.occurred_at >= since) => {
            lower = Some(Lower::After(edge));
        }
        _ => {}
    }
    (lower, upper)
}

/// Conditions on one column and kind (none for a column without kinds:
/// the request id, the client address), with the values any of which may
/// match.
type Folded<'q> = ((&'static str, Option<&'q str>), Vec<Cow<'q, str>>);

/// What one subquery of a union stands for.
#[derive(Clone, Copy)]
enum Part<'a> {
    /// One column and kind of the OR group at this index.
    Group(usize, &'a Folded<'a>),
    /// One of the types asked for.
    Type(&'a str),
}

/// How a query is split into a union of limited parts, one per index.
enum Split<'q> {
    /// The first OR group over several columns: one part per column.
    Group(usize, Vec<Folded<'q>>),
    /// Several types and no condition on a reference or an actor: one part
    /// per type, each a range of the type's index. (In one list, SQLite
    /// reads the types' index and sorts every event of those types, which
    /// may be much of the log; PostgreSQL reads the time index and filters,
    /// which is long when the types are rare.)
    Types(Vec<&'q str>),
}

/// The most types a query splits into a union of parts; more stay one list.
const MAX_TYPE_PARTS: usize = 32;

/// How `q` is split, if it is.
fn split_of(q: &EventQuery) -> Option<Split<'_>> {
    let group = q
        .any
        .iter()
        .enumerate()
        .map(|(i, group)| (i, fold(group, true)))
        .find(|(_, parts)| parts.len() > 1);
    if let Some((at, parts)) = group {
        return Some(Split::Group(at, parts));
    }
    let mut types: Vec<&str> = Vec::new();
    for code in q.types.as_deref().unwrap_or_default() {
        if !types.contains(&code.as_str()) {
            types.push(code);
        }
    }
    let unindexed = q.all.is_empty() && q.any.is_empty();
    (unindexed && (2..=MAX_TYPE_PARTS).contains(&types.len())).then_some(Split::Types(types))
}

/// Groups `conditions` by column and kind. Under OR, ids of one column
/// and kind fold into one `IN` list, which one index serves; under AND they
/// stay apart (two different ids of one column never both hold).
fn fold(conditions: &[Condition], or: bool) -> Vec<Folded<'_>> {
    let mut folded: Vec<Folded<'_>> = Vec::new();
    for condition in conditions {
        let (key, id): (_, Cow<'_, str>) = match condition {
            Condition::Parent(e) => (("parent", Some(&*e.kind)), e.id.as_str().into()),
            Condition::Target(e) => (("target", Some(&*e.kind)), e.id.as_str().into()),
            Condition::Subject(e) => (("subject", Some(&*e.kind)), e.id.as_str().into()),
            Condition::Actor(a) => (("actor", Some(a.kind())), a.id().into()),
            Condition::RequestId(id) => (("request_id", None), id.as_str().into()),
            Condition::ClientAddress(address) => {
                (("client_address", None), address.to_string().into())
            }
        };
        match folded.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ids)) if or => ids.push(id),
            _ => folded.push((key, vec![id])),
        }
    }
    folded
}

/// The page's SQL: the events in the pages' order, by time
/// (`occurred_at`) then id, newest first, which every page index holds
/// after its equality columns (`store/schema.rs`, version 7). An OR group
/// over several columns is run as a UNION of one limited subquery per
/// column, each served by that column's index, instead of one filter that
/// makes the planner walk the whole log in order (measured on PostgreSQL,
/// a user's page of a 1,000,000-event log: 123 ms, against 1.3 ms as a
/// union; see BENCHMARKS.md); only the union's rows, at most one page and
/// one row per part, are sorted again. Several types, asked for without a
/// condition whose index would serve, are a union too: one part per type.
pub(super) fn build_sql(backend: Backend, q: &EventQuery) -> (String, Vec<Bind>) {
    let dialect = backend.dialect();
    let select = select_list(dialect.payload_as_text, dialect.position_tx);
    let mut b = SqlBuilder {
        sql: format!("SELECT {select} FROM {EVENTS_TABLE} WHERE "),
        binds: Vec::new(),
    };
    let split = split_of(q);
    let parts: Vec<Part<'_>> = match &split {
        None => Vec::new(),
        Some(Split::Group(at, parts)) => parts.iter().map(|p| Part::Group(*at, p)).collect(),
        Some(Split::Types(types)) => types.iter().map(|t| Part::Type(t)).collect(),
    };
    match parts.as_slice() {
        [] => b.filters(q, None),
        parts => {
            b.push_str("id IN (");
            for (n, part) in parts.iter().enumerate() {
                if n > 0 {
                    b.push_str(" UNION ");
                }
                b.push_str(&format!(
                    "SELECT id FROM (SELECT id FROM {EVENTS_TABLE} WHERE "
                ));
                b.filters(q, Some(*part));
                b.order_and_limit(q);
                b.push_str(&format!(") AS part{n}"));
            }
            b.push_str(")");
        }
    }
    b.order_and_limit(q);
    (b.sql, b.binds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use crate::reference::EntityRef;
    use crate::store::query::cursor::Cursor;
    use crate::store::query::filter::{Condition, EventQuery};
    use chrono::DateTime;

    #[test]
    fn filters_become_numbered_placeholders() {
        let q = EventQuery::new()
            .parent(EntityRef::new("project", "7"))
            .types(["a", "b"])
            .cursor(Cursor::older_than(Edge::new(1000, 9)))
            .limit(10);
        let (sql, binds) = build_sql(Backend::Postgres, &q);
        assert!(sql.contains("parent_kind = $1 AND parent_id = $2"), "{sql}");
        assert!(sql.contains("event_type IN ($3, $4)"), "{sql}");
        assert!(
            sql.ends_with(
                "AND (occurred_at, id) < ($5, $6) ORDER BY occurred_at DESC, id DESC LIMIT 11"
            ),
            "{sql}"
        );
        assert_eq!(&binds[4..], [Bind::Int(1000), Bind::Int(9)]);
    }

    #[test]
    fn a_cursor_and_a_time_range_make_one_bound_on_each_side() {
        let t = |micros| DateTime::from_timestamp_micros(micros).unwrap();
        let sql = |q: EventQuery| {
            let (sql, binds) = build_sql(Backend::Sqlite, &q);
            let filters = sql.split_once(" WHERE ").unwrap().1.to_owned();
            (filters, binds)
        };
        let range = EventQuery::new().since(t(100)).until(t(200));
        // No cursor: the range.
        let (filters, binds) = sql(range.clone());
        assert_eq!(
            filters,
            "id > 0 AND occurred_at >= $1 AND occurred_at < $2 \
             ORDER BY occurred_at DESC, id DESC LIMIT 26"
        );
        assert_eq!(binds, [Bind::Int(100), Bind::Int(200)]);
        // Older than an edge inside the range: the edge replaces `until`.
        let (filters, binds) = sql(range.clone().cursor(Cursor::older_than(Edge::new(150, 7))));
        assert_eq!(
            filters,
            "id > 0 AND occurred_at >= $1 AND (occurred_at, id) < ($2, $3) \
             ORDER BY occurred_at DESC, id DESC LIMIT 26"
        );
        assert_eq!(binds, [Bind::Int(100), Bind::Int(150), Bind::Int(7)]);
        // Older than an edge at or after `until`: `until` is the tighter.
        for at in [200, 900] {
            let (filters, _) = sql(range.clone().cursor(Cursor::older_than(Edge::new(at, 7))));
            assert_eq!(
                filters,
                "id > 0 AND occurred_at >= $1 AND occurred_at < $2 \
                 ORDER BY occurred_at DESC, id DESC LIMIT 26"
            );
        }
        // Newer than an edge at or after `since`: the edge replaces `since`.
        for at in [100, 150] {
            let (filters, binds) = sql(range.clone().cursor(Cursor::newer_than(Edge::new(at, 7))));
            assert_eq!(
                filters,
                "id > 0 AND (occurred_at, id) > ($1, $2) AND occurred_at < $3 \
                 ORDER BY occurred_at ASC, id ASC LIMIT 26"
            );
            assert_eq!(binds, [Bind::Int(at), Bind::Int(7), Bind::Int(200)]);
        }
        // Newer than an edge before `since`: `since` is the tighter.
        let (filters, _) = sql(range.cursor(Cursor::newer_than(Edge::new(99, 7))));
        assert_eq!(
            filters,
            "id > 0 AND occurred_at >= $1 AND occurred_at < $2 \
             ORDER BY occurred_at ASC, id ASC LIMIT 26"
        );
        // No range: the edge alone.
        let (filters, _) = sql(EventQuery::new().cursor(Cursor::older_than(Edge::new(-5, 7))));
        assert_eq!(
            filters,
            "id > 0 AND (occurred_at, id) < ($1, $2) ORDER BY occurred_at DESC, id DESC LIMIT 26"
        );
    }

    #[test]
    fn an_or_group_over_several_columns_is_a_union_of_limited_parts() {
        let q = EventQuery::new()
            .any_of([
                Condition::Actor(Actor::user(7, "ada")),
                Condition::Subject(EntityRef::new("user", "7")),
                Condition::Parent(EntityRef::new("project", "1")),
                Condition::Parent(EntityRef::new("project", "2")),
            ])
            .types(["t"])
            .cursor(Cursor::newer_than(Edge::new(5000, 40)))
            .limit(10);
        let (sql, binds) = build_sql(Backend::Sqlite, &q);
        let part = |n: usize, cond: &str, first: usize| {
            format!(
                "SELECT id FROM (SELECT id FROM audit_events WHERE id > 0 AND {cond} \
                 AND event_type IN (${first}) AND (occurred_at, id) > (${}, ${}) \
                 ORDER BY occurred_at ASC, id ASC LIMIT 11) AS part{n}",
                first + 1,
                first + 2,
            )
        };
        let expected = format!(
            "FROM audit_events WHERE id IN ({} UNION {} UNION {}) \
             ORDER BY occurred_at ASC, id ASC LIMIT 11",
            part(0, "(actor_kind = $1 AND actor_id = $2)", 3),
            part(1, "(subject_kind = $6 AND subject_id = $7)", 8),
            part(2, "(parent_kind = $11 AND parent_id IN ($12, $13))", 14),
        );
        assert!(sql.ends_with(&expected), "{sql}\n{expected}");
        assert_eq!(binds.len(), 16);
        // A group on one column and kind needs no union.
        let q = EventQuery::new().any_of([
            Condition::Parent(EntityRef::new("project", "1")),
            Condition::Parent(EntityRef::new("project", "2")),
        ]);
        let (sql, _) = build_sql(Backend::Sqlite, &q);
        assert!(
            sql.ends_with(
                "WHERE id > 0 AND ((parent_kind = $1 AND parent_id IN ($2, $3))) \
                 ORDER BY occurred_at DESC, id DESC LIMIT 26"
            ),
            "{sql}"
        );
    }

    #[test]
    fn several_types_alone_are_a_union_of_one_part_per_type() {
        let q = EventQuery::new().types(["a", "b", "a"]).limit(10);
        let (sql, binds) = build_sql(Backend::Postgres, &q);
        let part = |n: usize, code: usize| {
            format!(
                "SELECT id FROM (SELECT id FROM audit_events WHERE id > 0 AND event_type = ${code} \
                 ORDER BY occurred_at DESC, id DESC LIMIT 11) AS part{n}"
            )
        };
        let expected = format!(
            "FROM audit_events WHERE id IN ({} UNION {}) \
             ORDER BY occurred_at DESC, id DESC LIMIT 11",
            part(0, 1),
            part(1, 2)
        );
        assert!(sql.ends_with(&expected), "{sql}\n{expected}");
        assert_eq!(binds, [Bind::Text("a".into()), Bind::Text("b".into())]);
        // With a condition whose index serves, or one type, they stay a list.
        let q = EventQuery::new()
            .actor(&Actor::system("job"))
            .types(["a", "b"]);
        let (sql, _) = build_sql(Backend::Sqlite, &q);
        assert!(
            !sql.contains("UNION") && sql.contains("event_type IN ($3, $4)"),
            "{sql}"
        );
        let (sql, _) = build_sql(Backend::Sqlite, &EventQuery::new().types(["a"]));
        assert!(
            !sql.contains("UNION") && sql.contains("event_type IN ($1)"),
            "{sql}"
        );
    }

    #[test]
    fn an_empty_any_of_group_matches_nothing_and_and_keeps_ids_apart() {
        let (sql, _) = build_sql(Backend::Sqlite, &EventQuery::new().any_of([]));
        assert!(
            sql.ends_with("WHERE id > 0 AND FALSE ORDER BY occurred_at DESC, id DESC LIMIT 26"),
            "{sql}"
        );
        let q = EventQuery::new()
            .parent(EntityRef::new("project", "1"))
            .parent(EntityRef::new("project", "2"));
        let (sql, _) = build_sql(Backend::Sqlite, &q);
        assert!(
            sql.contains(
                "(parent_kind = $1 AND parent_id = $2) AND (parent_kind = $3 AND parent_id = $4)"
            ),
            "{sql}"
        );
    }
}
