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

/// A query over the log. Filters combine with AND; results are newest first.
#[derive(Debug, Clone)]
pub struct EventQuery {
    parent: Option<EntityRef>,
    target: Option<EntityRef>,
    subject: Option<EntityRef>,
    actor: Option<(String, String)>,
    types: Vec<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    limit: u32,
    after: Option<Cursor>,
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery {
            parent: None,
            target: None,
            subject: None,
            actor: None,
            types: Vec::new(),
            since: None,
            until: None,
            limit: 25,
            after: None,
        }
    }
}

impl EventQuery {
    /// All events, 25 a page.
    pub fn new() -> Self {
        EventQuery::default()
    }

    /// Events whose parent is `parent` (everything on a project, say).
    pub fn parent(mut self, parent: EntityRef) -> Self {
        self.parent = Some(parent);
        self
    }

    /// Events whose target is `target`.
    pub fn target(mut self, target: EntityRef) -> Self {
        self.target = Some(target);
        self
    }

    /// Events about `subject`.
    pub fn subject(mut self, subject: EntityRef) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Events performed by `actor`.
    pub fn actor(mut self, actor: &Actor) -> Self {
        self.actor = Some((actor.kind().to_owned(), actor.id().to_owned()));
        self
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

    /// Continue after the page that returned `cursor`.
    pub fn after(mut self, cursor: Cursor) -> Self {
        self.after = Some(cursor);
        self
    }
}

/// Where the next page starts. Opaque: print it and parse it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    before_id: i64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{:x}", self.before_id)
    }
}

impl FromStr for Cursor {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix('b')
            .filter(|hex| !hex.is_empty() && hex.len() <= 16)
            .and_then(|hex| i64::from_str_radix(hex, 16).ok())
            .filter(|id| *id > 0)
            .map(|before_id| Cursor { before_id })
            .ok_or_else(|| AuditError::InvalidCursor(s.chars().take(64).collect()))
    }
}

/// One page of events, newest first.
#[derive(Debug, Clone)]
pub struct Page<E> {
    /// The events.
    pub events: Vec<StoredEvent<E>>,
    /// The cursor of the next (older) page, if there is one.
    pub next: Option<Cursor>,
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

fn build_sql(backend: Backend, q: &EventQuery) -> (String, Vec<Bind>) {
    let payload = match backend {
        Backend::Sqlite => "payload",
        Backend::Postgres => "payload::text",
    };
    let mut sql = format!(
        "SELECT id, occurred_at, event_type, payload_version, actor_kind, actor_id, actor_name, \
         target_kind, target_id, parent_kind, parent_id, subject_kind, subject_id, \
         command_name, command_id, {payload} FROM audit_events WHERE TRUE"
    );
    let mut binds = Vec::new();
    let mut push = |sql: &mut String, clause: &str, bind: Bind| {
        binds.push(bind);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    for (column, value) in [
        ("parent", &q.parent),
        ("target", &q.target),
        ("subject", &q.subject),
    ] {
        if let Some(r) = value {
            push(
                &mut sql,
                &format!(" AND {column}_kind = ?"),
                Bind::Text(r.kind.to_string()),
            );
            push(
                &mut sql,
                &format!(" AND {column}_id = ?"),
                Bind::Text(r.id.clone()),
            );
        }
    }
    if let Some((kind, id)) = &q.actor {
        push(&mut sql, " AND actor_kind = ?", Bind::Text(kind.clone()));
        push(&mut sql, " AND actor_id = ?", Bind::Text(id.clone()));
    }
    if !q.types.is_empty() {
        sql.push_str(" AND event_type IN (");
        for (i, code) in q.types.iter().enumerate() {
            let sep = if i == 0 { "?" } else { ", ?" };
            push(&mut sql, sep, Bind::Text(code.clone()));
        }
        sql.push(')');
    }
    if let Some(since) = q.since {
        push(
            &mut sql,
            " AND occurred_at >= ?",
            Bind::Int(since.timestamp_micros()),
        );
    }
    if let Some(until) = q.until {
        push(
            &mut sql,
            " AND occurred_at < ?",
            Bind::Int(until.timestamp_micros()),
        );
    }
    if let Some(cursor) = q.after {
        push(&mut sql, " AND id < ?", Bind::Int(cursor.before_id));
    }
    push(
        &mut sql,
        " ORDER BY id DESC LIMIT ?",
        Bind::Int(i64::from(q.limit) + 1),
    );
    (sql, binds)
}

pub(crate) async fn run<E: EventCatalog>(
    auditor: &Auditor,
    q: &EventQuery,
) -> Result<Page<E>, AuditError> {
    let (sql, binds) = build_sql(auditor.backend(), q);
    let rows: Vec<RawRow> = on_backend!(auditor.target(), pool => {
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
    let limit = q.limit as usize;
    let next = (rows.len() > limit).then(|| Cursor {
        before_id: rows[limit - 1].id,
    });
    let events = rows.into_iter().take(limit).map(decode_row).collect();
    Ok(Page { events, next })
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
        let cursor = Cursor { before_id: 1234 };
        assert_eq!(cursor.to_string().parse::<Cursor>().unwrap(), cursor);
        for bad in [
            "",
            "b",
            "x12",
            "b-1",
            "b0",
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
            .after(Cursor { before_id: 9 })
            .limit(10);
        let (sql, binds) = build_sql(Backend::Postgres, &q);
        assert!(sql.contains("parent_kind = $1 AND parent_id = $2"), "{sql}");
        assert!(sql.contains("event_type IN ($3, $4)"), "{sql}");
        assert!(sql.contains("id < $5 ORDER BY id DESC LIMIT $6"), "{sql}");
        assert_eq!(binds.len(), 6);
    }
}
