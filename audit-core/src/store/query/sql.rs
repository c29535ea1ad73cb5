//! The SQL of a query: numbered placeholders and the values to bind, one
//! index-served part per column of an OR group.

use super::cursor::{Cursor, Direction};
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

    /// `(<column>_kind = ? AND <column>_id IN (?, ...))` for one entity kind.
    fn entities(&mut self, column: &str, kind: &str, ids: &[&str]) {
        self.push_str(&format!("({column}_kind = "));
        self.text(kind);
        self.push_str(&format!(" AND {column}_id "));
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
            self.entities(column, kind, ids);
        }
    }

    /// Every filter of `q` after `WHERE`, the cursor's included; with
    /// `split`, the OR group at that index is replaced by one of its parts.
    fn filters(&mut self, q: &EventQuery, split: Option<(usize, &Folded<'_>)>) {
        // Id 0 is the log's anchor (`audit_log_identity`), not an event.
        self.push_str("id > 0");
        if !q.all.is_empty() {
            self.push_str(" AND ");
            self.conditions(&q.all, " AND ");
        }
        for (i, group) in q.any.iter().enumerate() {
            match split {
                Some((at, ((column, kind), ids))) if at == i => {
                    self.push_str(" AND ");
                    self.entities(column, kind, ids);
                }
                _ if group.is_empty() => self.push_str(" AND FALSE"),
                _ => {
                    self.push_str(" AND (");
                    self.conditions(group, " OR ");
                    self.push_str(")");
                }
            }
        }
        match q.types.as_deref() {
            None => {}
            Some([]) => self.push_str(" AND FALSE"),
            Some(types) => {
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
        if let Some(since) = q.since {
            self.push_str(" AND occurred_at >= ");
            self.bind(Bind::Int(since.timestamp_micros()));
        }
        if let Some(until) = q.until {
            self.push_str(" AND occurred_at < ");
            self.bind(Bind::Int(until.timestamp_micros()));
        }
        match q.cursor {
            Some(Cursor {
                edge,
                direction: Direction::Newer,
            }) => {
                self.push_str(" AND id > ");
                self.bind(Bind::Int(edge));
            }
            Some(Cursor {
                edge,
                direction: Direction::Older,
            }) => {
                self.push_str(" AND id < ");
                self.bind(Bind::Int(edge));
            }
            None => {}
        }
    }

    /// ` ORDER BY id … LIMIT …`: one more row than the page, to know
    /// whether another page follows.
    fn order_and_limit(&mut self, q: &EventQuery) {
        let order = match q.cursor {
            Some(Cursor {
                direction: Direction::Newer,
                ..
            }) => "ASC",
            _ => "DESC",
        };
        self.push_str(&format!(" ORDER BY id {order} LIMIT "));
        self.bind(Bind::Int(i64::from(q.limit) + 1));
    }
}

/// Conditions on one column and kind, with the ids any of which may match.
type Folded<'q> = ((&'static str, &'q str), Vec<&'q str>);

/// Groups `conditions` by column and kind. Under OR, ids of one column
/// and kind fold into one `IN` list, which one index serves; under AND they
/// stay apart (two different ids of one column never both hold).
fn fold(conditions: &[Condition], or: bool) -> Vec<Folded<'_>> {
    let mut folded: Vec<Folded<'_>> = Vec::new();
    for condition in conditions {
        let (key, id) = match condition {
            Condition::Parent(e) => (("parent", &*e.kind), e.id.as_str()),
            Condition::Target(e) => (("target", &*e.kind), e.id.as_str()),
            Condition::Subject(e) => (("subject", &*e.kind), e.id.as_str()),
            Condition::Actor(a) => (("actor", a.kind()), a.id()),
        };
        match folded.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ids)) if or => ids.push(id),
            _ => folded.push((key, vec![id])),
        }
    }
    folded
}

/// The page's SQL. An OR group over several columns is run as a UNION of
/// one limited subquery per column, each served by that column's index,
/// instead of one filter that makes the planner walk the whole log in id
/// order (measured on PostgreSQL, a user's page of a 1,000,000-event log:
/// 123 ms, against 1.3 ms as a union; see BENCHMARKS.md).
pub(super) fn build_sql(backend: Backend, q: &EventQuery) -> (String, Vec<Bind>) {
    let dialect = backend.dialect();
    let select = select_list(dialect.payload_as_text, dialect.position_tx);
    let mut b = SqlBuilder {
        sql: format!("SELECT {select} FROM {EVENTS_TABLE} WHERE "),
        binds: Vec::new(),
    };
    let split = q
        .any
        .iter()
        .enumerate()
        .map(|(i, group)| (i, fold(group, true)))
        .find(|(_, parts)| parts.len() > 1);
    match split {
        None => b.filters(q, None),
        Some((at, parts)) => {
            b.push_str("id IN (");
            for (n, part) in parts.iter().enumerate() {
                if n > 0 {
                    b.push_str(" UNION ");
                }
                b.push_str(&format!(
                    "SELECT id FROM (SELECT id FROM {EVENTS_TABLE} WHERE "
                ));
                b.filters(q, Some((at, part)));
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

    #[test]
    fn filters_become_numbered_placeholders() {
        let q = EventQuery::new()
            .parent(EntityRef::new("project", "7"))
            .types(["a", "b"])
            .cursor(Cursor::older_than(9))
            .limit(10);
        let (sql, binds) = build_sql(Backend::Postgres, &q);
        assert!(sql.contains("parent_kind = $1 AND parent_id = $2"), "{sql}");
        assert!(sql.contains("event_type IN ($3, $4)"), "{sql}");
        assert!(sql.contains("id < $5 ORDER BY id DESC LIMIT $6"), "{sql}");
        assert_eq!(binds.len(), 6);
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
            .cursor(Cursor::newer_than(40))
            .limit(10);
        let (sql, binds) = build_sql(Backend::Sqlite, &q);
        let part = |n: usize, cond: &str, first: usize| {
            format!(
                "SELECT id FROM (SELECT id FROM audit_events WHERE id > 0 AND {cond} \
                 AND event_type IN (${first}) AND id > ${} ORDER BY id ASC LIMIT ${}) AS part{n}",
                first + 1,
                first + 2
            )
        };
        let expected = format!(
            "FROM audit_events WHERE id IN ({} UNION {} UNION {}) ORDER BY id ASC LIMIT $17",
            part(0, "(actor_kind = $1 AND actor_id = $2)", 3),
            part(1, "(subject_kind = $6 AND subject_id = $7)", 8),
            part(2, "(parent_kind = $11 AND parent_id IN ($12, $13))", 14),
        );
        assert!(sql.ends_with(&expected), "{sql}\n{expected}");
        assert_eq!(binds.len(), 17);
        // A group on one column and kind needs no union.
        let q = EventQuery::new().any_of([
            Condition::Parent(EntityRef::new("project", "1")),
            Condition::Parent(EntityRef::new("project", "2")),
        ]);
        let (sql, _) = build_sql(Backend::Sqlite, &q);
        assert!(
            sql.ends_with("WHERE id > 0 AND ((parent_kind = $1 AND parent_id IN ($2, $3))) ORDER BY id DESC LIMIT $4"),
            "{sql}"
        );
    }

    #[test]
    fn an_empty_any_of_group_matches_nothing_and_and_keeps_ids_apart() {
        let (sql, _) = build_sql(Backend::Sqlite, &EventQuery::new().any_of([]));
        assert!(
            sql.ends_with("WHERE id > 0 AND FALSE ORDER BY id DESC LIMIT $1"),
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
