//! Reading stored rows: each column on its own, so that one unreadable
//! column makes that event unknown instead of failing the page (G9).

use chrono::DateTime;

use super::stored::StoredEvent;
use crate::actor::Actor;
use crate::catalog::EventCatalog;
use crate::decode::{Decoded, UnknownEvent, UnknownReason};
use crate::reference::{EntityRef, References};
use crate::store::position::Position;

/// One stored row, each column read on its own so that one unreadable
/// column makes that event unknown instead of failing the page.
pub(in crate::store) struct RawRow {
    /// The event's id, the one column that must be readable.
    pub(super) id: i64,
    /// The writing transaction's id (0 on SQLite).
    position_tx: i64,
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

/// Reads one column, checking the stored value's type: SQLite lets a
/// column hold any storage type, and an unchecked read would turn a REAL
/// or TEXT version into a truncated number instead of an unreadable column.
fn read<'r, R, T>(row: &'r R, column: &str) -> Column<T>
where
    R: sqlx::Row,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
{
    row.try_get::<T, _>(column).map_err(|e| e.to_string())
}

/// Reads a row of the table's select list (`table::select_list`) by column name.
pub(in crate::store) fn read_row<'r, R>(row: &'r R) -> Result<RawRow, sqlx::Error>
where
    R: sqlx::Row,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
{
    let text = |column| read::<R, Option<String>>(row, column).ok().flatten();
    Ok(RawRow {
        id: row.try_get_unchecked::<i64, _>("id")?,
        position_tx: row.try_get_unchecked::<i64, _>("position_tx")?,
        occurred_at: read::<R, Option<i64>>(row, "occurred_at").ok().flatten(),
        code: read(row, "event_type"),
        version: read(row, "payload_version"),
        actor: [text("actor_kind"), text("actor_id"), text("actor_name")],
        refs: [
            text("target_kind"),
            text("target_id"),
            text("parent_kind"),
            text("parent_id"),
            text("subject_kind"),
            text("subject_id"),
        ],
        command_name: text("command_name"),
        command_id: text("command_id"),
        payload: read(row, "payload"),
    })
}

fn entity(kind: Option<String>, id: Option<String>) -> Option<EntityRef> {
    Some(EntityRef::new(kind?, id?))
}

pub(in crate::store) fn decode_row<E: EventCatalog>(row: RawRow) -> StoredEvent<E> {
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
            raw: raw.clone(),
            reason: UnknownReason::UnreadableColumn { column, error },
        }),
        None => E::decode(&code, version, &raw),
    };
    StoredEvent {
        id: row.id,
        position: Position::new(row.position_tx, row.id),
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
        payload_version: version,
        payload: raw,
        event,
    }
}
