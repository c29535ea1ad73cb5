//! Reading the log: combinable filters, newest first, keyset pagination.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{AuditError, Auditor, Backend, on_backend};
use crate::actor::Actor;
use crate::catalog::{EntityRef, EventCatalog, References};
use crate::decode::{Decoded, UnknownEvent, UnknownReason};
use crate::present::{PresentContext, Shown};

/// The most events one page may hold.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A query over the log: conditions that must all hold, groups of which at
/// least one must hold, newest first, a page at a time.
///
/// ```
/// # use audit_core::{Actor, Condition, EntityRef, EventQuery};
/// let user = EntityRef::new("user", "7");
/// // Everything user 7 did, everything about them, and everything on project 3.
/// let query = EventQuery::new().any_of([
///     Condition::Actor(Actor::user(7, "ada")),
///     Condition::Subject(user),
///     Condition::Parent(EntityRef::new("project", "3")),
/// ]);
/// ```
#[derive(Debug, Clone)]
pub struct EventQuery {
    all: Vec<Condition>,
    any: Vec<Vec<Condition>>,
    types: Vec<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    limit: u32,
    cursor: Option<Cursor>,
}

/// One condition on an event's indexed references or actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The event's parent is this entity (everything on a project, say).
    Parent(EntityRef),
    /// The event's target is this entity.
    Target(EntityRef),
    /// The event is about this entity.
    Subject(EntityRef),
    /// This actor performed the event.
    Actor(Actor),
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery {
            all: Vec::new(),
            any: Vec::new(),
            types: Vec::new(),
            since: None,
            until: None,
            limit: 25,
            cursor: None,
        }
    }
}

impl EventQuery {
    /// All events, 25 a page.
    pub fn new() -> Self {
        EventQuery::default()
    }

    /// Only events that meet `condition`; conditions added this way all hold.
    pub fn only(mut self, condition: Condition) -> Self {
        self.all.push(condition);
        self
    }

    /// Only events that meet at least one of `conditions`. Each call adds a
    /// group that must hold (groups combine with AND); an empty group
    /// matches no event.
    pub fn any_of(mut self, conditions: impl IntoIterator<Item = Condition>) -> Self {
        self.any.push(conditions.into_iter().collect());
        self
    }

    /// Events whose parent is `parent`: `only(Condition::Parent(parent))`.
    pub fn parent(self, parent: EntityRef) -> Self {
        self.only(Condition::Parent(parent))
    }

    /// Events whose target is `target`: `only(Condition::Target(target))`.
    pub fn target(self, target: EntityRef) -> Self {
        self.only(Condition::Target(target))
    }

    /// Events about `subject`: `only(Condition::Subject(subject))`.
    pub fn subject(self, subject: EntityRef) -> Self {
        self.only(Condition::Subject(subject))
    }

    /// Events performed by `actor`: `only(Condition::Actor(actor.clone()))`.
    pub fn actor(self, actor: &Actor) -> Self {
        self.only(Condition::Actor(actor.clone()))
    }

    /// Events of any of these type codes (all types when never called).
    pub fn types<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.types.extend(codes.into_iter().map(Into::into));
        self
    }

    /// Events at or after `since`.
    pub fn since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }

    /// Events before `until`.
    pub fn until(mut self, until: DateTime<Utc>) -> Self {
        self.until = Some(until);
        self
    }

    /// Page size, clamped to `1..=`[`MAX_PAGE_SIZE`].
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The page that `cursor` (a [`Page::next`] or [`Page::prev`] of the
    /// same query) points to; without it, the newest page.
    pub fn cursor(mut self, cursor: Cursor) -> Self {
        self.cursor = Some(cursor);
        self
    }
}

/// Where another page starts: the events older, or newer, than one event.
/// Opaque: print it (it is URL-safe) and parse it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    edge: i64,
    direction: Direction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Events with ids below the edge, newest first.
    Older,
    /// Events with ids above the edge: the page just newer than it.
    Newer,
}

impl Cursor {
    fn older_than(edge: i64) -> Self {
        Cursor {
            edge,
            direction: Direction::Older,
        }
    }

    fn newer_than(edge: i64) -> Self {
        Cursor {
            edge,
            direction: Direction::Newer,
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.direction {
            Direction::Older => 'b',
            Direction::Newer => 'a',
        };
        write!(f, "{tag}{:x}", self.edge)
    }
}

impl FromStr for Cursor {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || AuditError::InvalidCursor(s.chars().take(64).collect());
        let mut chars = s.chars();
        let direction = match chars.next() {
            Some('b') => Direction::Older,
            Some('a') => Direction::Newer,
            _ => return Err(invalid()),
        };
        let hex = chars.as_str();
        let valid_hex =
            !hex.is_empty() && hex.len() <= 16 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        let edge = valid_hex
            .then(|| i64::from_str_radix(hex, 16).ok())
            .flatten()
            .filter(|edge| *edge >= 0)
            .ok_or_else(invalid)?;
        Ok(Cursor { edge, direction })
    }
}

/// One page of events, newest first.
#[derive(Debug, Clone)]
pub struct Page<E> {
    /// The events.
    pub events: Vec<StoredEvent<E>>,
    /// The cursor of the next (older) page, if there is one. (On a page
    /// reached through a cursor to newer events it is always set: the page
    /// came from there. After pruning, it may lead to an empty page.)
    pub next: Option<Cursor>,
    /// The cursor of the previous (newer) page, if this is not the newest.
    /// (On a page reached through a cursor to older events it is always
    /// set, and may lead to an empty page if the cursor was not made by
    /// this query.)
    pub prev: Option<Cursor>,
}

/// An event as stored, with its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent<E> {
    /// Monotonic id.
    pub id: i64,
    /// When the command that emitted it ran.
    pub occurred_at: DateTime<Utc>,
    /// Who acted.
    pub actor: Actor,
    /// The name of the command that emitted it.
    pub command_name: String,
    /// The id shared by every event of one outermost command.
    pub command_id: String,
    /// The indexed references.
    pub references: References,
    /// The event, or what was stored if this program cannot read it.
    pub event: Decoded<E>,
}

impl<E: EventCatalog> StoredEvent<E> {
    /// The event as HTML: through its template when known; otherwise (an
    /// unknown event, or a template that failed) a generic line with the
    /// actor, the code and the time, and a logged warning. Never fails.
    pub fn render(&self, cx: &PresentContext) -> String {
        let failure = match &self.event {
            Decoded::Known(event) => match event.render(cx) {
                Ok(html) => return html,
                Err(e) => e.to_string(),
            },
            Decoded::Unknown(unknown) => unknown.reason.to_string(),
        };
        let code = self.event.code();
        tracing::warn!(
            event_id = self.id,
            code,
            "showing an audit event generically: {failure}"
        );
        let line = format!(
            "{} recorded an event of type `{code}` at {}",
            self.actor,
            self.occurred_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        Shown::text(line).to_string()
    }
}

enum Bind {
    Text(String),
    Int(i64),
}

/// One stored row, each column read on its own so that one unreadable
/// column makes that event unknown instead of failing the page.
struct RawRow {
    id: i64,
    occurred_at: Option<i64>,
    code: Column<String>,
    version: Column<i64>,
    actor: [Option<String>; 3],
    refs: [Option<String>; 6],
    command_name: Option<String>,
    command_id: Option<String>,
    payload: Column<String>,
}

/// A column's value, or why it could not be read.
type Column<T> = Result<T, String>;

fn read<'r, R, T>(row: &'r R, index: usize) -> Column<T>
where
    R: sqlx::Row,
    T: sqlx::Decode<'r, R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    row.try_get_unchecked::<T, _>(index)
        .map_err(|e| e.to_string())
}

fn read_row<'r, R>(row: &'r R) -> Result<RawRow, sqlx::Error>
where
    R: sqlx::Row,
    i64: sqlx::Decode<'r, R::Database>,
    Option<i64>: sqlx::Decode<'r, R::Database>,
    String: sqlx::Decode<'r, R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let text = |i| read::<R, Option<String>>(row, i).ok().flatten();
    Ok(RawRow {
        id: row.try_get_unchecked::<i64, _>(0)?,
        occurred_at: read::<R, Option<i64>>(row, 1).ok().flatten(),
        code: read(row, 2),
        version: read(row, 3),
        actor: [text(4), text(5), text(6)],
        refs: [text(7), text(8), text(9), text(10), text(11), text(12)],
        command_name: text(13),
        command_id: text(14),
        payload: read(row, 15),
    })
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
        self.push_str("TRUE");
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
        if !q.types.is_empty() {
            self.push_str(" AND event_type IN (");
            for (i, code) in q.types.iter().enumerate() {
                if i > 0 {
                    self.push_str(", ");
                }
                self.text(code);
            }
            self.push_str(")");
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
fn build_sql(backend: Backend, q: &EventQuery) -> (String, Vec<Bind>) {
    let payload = match backend {
        Backend::Sqlite => "payload",
        Backend::Postgres => "payload::text",
    };
    let mut b = SqlBuilder {
        sql: format!(
            "SELECT id, occurred_at, event_type, payload_version, actor_kind, actor_id, actor_name, \
             target_kind, target_id, parent_kind, parent_id, subject_kind, subject_id, \
             command_name, command_id, {payload} FROM audit_events WHERE "
        ),
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
                b.push_str("SELECT id FROM (SELECT id FROM audit_events WHERE ");
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

pub(crate) async fn run<E: EventCatalog>(
    auditor: &Auditor,
    q: &EventQuery,
) -> Result<Page<E>, AuditError> {
    let (sql, binds) = build_sql(auditor.backend(), q);
    let mut rows: Vec<RawRow> = on_backend!(auditor.target(), pool => {
        let mut query = sqlx::query(&sql);
        for bind in &binds {
            query = match bind {
                Bind::Text(s) => query.bind(s.as_str()),
                Bind::Int(i) => query.bind(*i),
            };
        }
        let rows = query.fetch_all(pool).await.map_err(super::classify)?;
        rows.iter().map(read_row).collect::<Result<_, _>>()?
    });
    let more = rows.len() > q.limit as usize;
    rows.truncate(q.limit as usize);
    if matches!(q.cursor, Some(c) if c.direction == Direction::Newer) {
        rows.reverse();
    }
    // Rows are newest first now. `more` says whether the fetch direction
    // had rows beyond this page; the other direction has rows whenever a
    // cursor led here, since a cursor is made from an event of the query.
    let oldest = rows.last().map(|r| r.id);
    let newest = rows.first().map(|r| r.id);
    let (next, prev) = match q.cursor {
        None => (oldest.filter(|_| more).map(Cursor::older_than), None),
        Some(Cursor {
            edge,
            direction: Direction::Older,
        }) => (
            oldest.filter(|_| more).map(Cursor::older_than),
            Some(Cursor::newer_than(
                newest.unwrap_or_else(|| edge.saturating_sub(1).max(0)),
            )),
        ),
        Some(Cursor {
            edge,
            direction: Direction::Newer,
        }) => (
            Some(Cursor::older_than(
                oldest.unwrap_or_else(|| edge.saturating_add(1)),
            )),
            newest.filter(|_| more).map(Cursor::newer_than),
        ),
    };
    let events = rows.into_iter().map(decode_row).collect();
    Ok(Page { events, next, prev })
}

fn entity(kind: Option<String>, id: Option<String>) -> Option<EntityRef> {
    Some(EntityRef::new(kind?, id?))
}

fn decode_row<E: EventCatalog>(row: RawRow) -> StoredEvent<E> {
    let [actor_kind, actor_id, actor_name] = row.actor;
    let actor_name = actor_name.unwrap_or_default();
    let actor = Actor::from_stored(
        actor_kind.as_deref().unwrap_or_default(),
        actor_id.unwrap_or_default(),
        actor_name.clone(),
    )
    .unwrap_or(Actor::System { name: actor_name });
    let [tk, ti, pk, pi, sk, si] = row.refs;
    let code = row.code.clone().unwrap_or_default();
    let version = row.version.clone().unwrap_or_default();
    let raw = row.payload.clone().unwrap_or_default();
    let unreadable = [
        ("event_type", row.code.err()),
        ("payload_version", row.version.err()),
        ("payload", row.payload.err()),
    ]
    .into_iter()
    .find_map(|(column, error)| Some((column, error?)));
    let event = match unreadable {
        Some((column, error)) => Decoded::Unknown(UnknownEvent {
            code,
            version,
            raw,
            reason: UnknownReason::UnreadableColumn { column, error },
        }),
        None => E::decode(&code, version, &raw),
    };
    StoredEvent {
        id: row.id,
        occurred_at: row
            .occurred_at
            .and_then(DateTime::from_timestamp_micros)
            .unwrap_or_default(),
        actor,
        references: References {
            target: entity(tk, ti),
            parent: entity(pk, pi),
            subject: entity(sk, si),
        },
        command_name: row.command_name.unwrap_or_default(),
        command_id: row.command_id.unwrap_or_default(),
        event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        for cursor in [Cursor::older_than(1234), Cursor::newer_than(0)] {
            assert_eq!(cursor.to_string().parse::<Cursor>().unwrap(), cursor);
        }
        for bad in [
            "",
            "b",
            "x12",
            "b-1",
            "a",
            "b+1",
            "a 1",
            "bzz",
            "1; DROP TABLE audit_events",
            "b10000000000000000",
        ] {
            assert!(
                matches!(bad.parse::<Cursor>(), Err(AuditError::InvalidCursor(_))),
                "{bad}"
            );
        }
    }

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
                "SELECT id FROM (SELECT id FROM audit_events WHERE TRUE AND {cond} \
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
            sql.ends_with("WHERE TRUE AND ((parent_kind = $1 AND parent_id IN ($2, $3))) ORDER BY id DESC LIMIT $4"),
            "{sql}"
        );
    }

    #[test]
    fn an_empty_any_of_group_matches_nothing_and_and_keeps_ids_apart() {
        let (sql, _) = build_sql(Backend::Sqlite, &EventQuery::new().any_of([]));
        assert!(
            sql.ends_with("WHERE TRUE AND FALSE ORDER BY id DESC LIMIT $1"),
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
