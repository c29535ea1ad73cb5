//! Reading stored rows: each column on its own, so that one unreadable
//! column makes that event unknown instead of failing the page (G9).
//!
//! Columns are read by their index in the select list
//! (`table::select_list`), not by name (a name is looked up on every read),
//! and text is borrowed from the row until the event takes its own copy.

use chrono::DateTime;

use super::cursor::Edge;
use super::stored::StoredEvent;
use crate::actor::Actor;
use crate::catalog::EventCatalog;
use crate::context::Context;
use crate::decode::{Decoded, UnknownEvent, UnknownReason};
use crate::reference::{EntityRef, References};
use crate::store::personal::{ACTOR_AS_NAME, ACTOR_NAME, ERASED_NAME, PersonalMap};
use crate::store::position::Position;

/// Where each column stands in `table::select_list`: `id`, the written
/// columns in the order of `table::WRITTEN`, then `position_tx`.
mod index {
    pub(super) const ID: usize = 0;
    pub(super) const OCCURRED_AT: usize = 1;
    pub(super) const EVENT_TYPE: usize = 2;
    pub(super) const PAYLOAD_VERSION: usize = 3;
    /// `actor_kind`, `actor_id`, `actor_name`.
    pub(super) const ACTOR: usize = 4;
    /// `target_kind`, `target_id`, `parent_kind`, `parent_id`,
    /// `subject_kind`, `subject_id`.
    pub(super) const REFS: usize = 7;
    pub(super) const COMMAND_NAME: usize = 13;
    pub(super) const COMMAND_ID: usize = 14;
    pub(super) const PAYLOAD: usize = 15;
    /// `actor_as_id`, `actor_as_name`.
    pub(super) const ACTOR_AS: usize = 16;
    /// `request_id`, `client_address`, `context`.
    pub(super) const CONTEXT: usize = 18;
    pub(super) const PERSONAL: usize = 21;
    pub(super) const POSITION_TX: usize = 22;
}

/// One stored row, each column read on its own (text borrowed from the
/// row) so that one unreadable column makes that event unknown instead of
/// failing the page.
struct RawRow<'r> {
    /// The event's id, the one column that must be readable.
    id: i64,
    /// The writing transaction's id (0 on SQLite).
    position_tx: i64,
    occurred_at: Option<i64>,
    code: Column<&'r str>,
    version: Column<i64>,
    actor: [Option<&'r str>; 3],
    refs: [Option<&'r str>; 6],
    command_name: Option<&'r str>,
    command_id: Option<&'r str>,
    payload: Column<&'r str>,
    actor_as: [Option<&'r str>; 2],
    context: [Option<&'r str>; 3],
    personal: Option<&'r str>,
}

/// A column's value, or why it could not be read.
type Column<T> = Result<T, String>;

/// The number of columns in the select list.
const COLUMNS: usize = index::POSITION_TX + 1;

/// Which columns of one result set hold values of the type read from them
/// (checked once, from the columns' types), so that each value is decoded
/// without checking its type again. Only where every value has its
/// column's type (PostgreSQL); SQLite lets each value have its own storage
/// type, so there every value is checked as it is read.
struct Checked([bool; COLUMNS]);

impl Checked {
    /// The checks of the result set whose first row is `row`;
    /// `by_column` says whether values have their column's type
    /// (`Dialect::values_have_column_type`).
    fn of<R>(row: Option<&R>, by_column: bool) -> Checked
    where
        R: sqlx::Row,
        i64: sqlx::Type<R::Database>,
        str: sqlx::Type<R::Database>,
    {
        use sqlx::{Column as _, TypeInfo as _};
        let mut checked = [false; COLUMNS];
        if let (Some(row), true) = (row, by_column) {
            for (i, column) in row.columns().iter().take(COLUMNS).enumerate() {
                let ty = column.type_info();
                let integer = matches!(
                    i,
                    index::ID | index::OCCURRED_AT | index::PAYLOAD_VERSION | index::POSITION_TX
                );
                checked[i] = !ty.is_null()
                    && if integer {
                        <i64 as sqlx::Type<R::Database>>::compatible(ty)
                    } else {
                        <str as sqlx::Type<R::Database>>::compatible(ty)
                    };
            }
        }
        Checked(checked)
    }
}

/// Reads one column, checking the stored value's type unless its column
/// was checked: SQLite lets a column hold any storage type, and an
/// unchecked read would turn a REAL or TEXT version into a truncated
/// number instead of an unreadable column.
fn read<'r, R, T>(row: &'r R, column: usize, checked: &Checked) -> Column<T>
where
    R: sqlx::Row,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let value = if checked.0[column] {
        row.try_get_unchecked::<T, _>(column)
    } else {
        row.try_get::<T, _>(column)
    };
    value.map_err(|e| e.to_string())
}

/// Reads a row of the table's select list (`table::select_list`) by column index.
fn read_row<'r, R>(row: &'r R, checked: &Checked) -> Result<RawRow<'r>, sqlx::Error>
where
    R: sqlx::Row,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let text = |column| {
        read::<R, Option<&'r str>>(row, column, checked)
            .ok()
            .flatten()
    };
    let actor = |i| text(index::ACTOR + i);
    let reference = |i| text(index::REFS + i);
    Ok(RawRow {
        id: row.try_get_unchecked::<i64, _>(index::ID)?,
        position_tx: row.try_get_unchecked::<i64, _>(index::POSITION_TX)?,
        occurred_at: read::<R, Option<i64>>(row, index::OCCURRED_AT, checked)
            .ok()
            .flatten(),
        code: read(row, index::EVENT_TYPE, checked),
        version: read(row, index::PAYLOAD_VERSION, checked),
        actor: [actor(0), actor(1), actor(2)],
        refs: [
            reference(0),
            reference(1),
            reference(2),
            reference(3),
            reference(4),
            reference(5),
        ],
        command_name: text(index::COMMAND_NAME),
        command_id: text(index::COMMAND_ID),
        payload: read(row, index::PAYLOAD, checked),
        actor_as: [text(index::ACTOR_AS), text(index::ACTOR_AS + 1)],
        context: [
            text(index::CONTEXT),
            text(index::CONTEXT + 1),
            text(index::CONTEXT + 2),
        ],
        personal: text(index::PERSONAL),
    })
}

fn entity(kind: Option<&str>, id: Option<&str>) -> Option<EntityRef> {
    Some(EntityRef::new(kind?.to_owned(), id?))
}

/// The event of a row read by `read_row`: decoded through the catalog,
/// or unknown with the reason (an unreadable column's included).
fn decode_row<E: EventCatalog>(row: RawRow<'_>) -> StoredEvent<E> {
    let [actor_kind, actor_id, mut actor_name] = row.actor;
    let [as_id, mut as_name] = row.actor_as;
    // An erased name reads as such (the cheap test first: most rows have
    // nothing erased).
    if let Some(personal) = row.personal.filter(|p| p.contains("\"erased\"")) {
        let personal = PersonalMap::parse(Some(personal));
        if personal.is_erased(ACTOR_NAME) {
            actor_name = Some(ERASED_NAME);
        }
        if personal.is_erased(ACTOR_AS_NAME) {
            as_name = Some(ERASED_NAME);
        }
    }
    let actor_name = actor_name.unwrap_or_default();
    let actor = Actor::from_stored(
        actor_kind.unwrap_or_default(),
        actor_id.unwrap_or_default(),
        actor_name,
        as_id,
        as_name,
    )
    .unwrap_or_else(|| Actor::system(actor_name));
    let [request_id, client_address, context] = row.context;
    let [tk, ti, pk, pi, sk, si] = row.refs;
    let code = *row.code.as_ref().unwrap_or(&"");
    let version = *row.version.as_ref().unwrap_or(&0);
    let raw = *row.payload.as_ref().unwrap_or(&"");
    let unreadable = [
        ("event_type", row.code.err()),
        ("payload_version", row.version.err()),
        ("payload", row.payload.err()),
    ]
    .into_iter()
    .find_map(|(column, error)| Some((column, error?)));
    let event = match unreadable {
        Some((column, error)) => Decoded::Unknown(UnknownEvent {
            code: code.to_owned(),
            version,
            raw: raw.to_owned(),
            reason: UnknownReason::UnreadableColumn { column, error },
        }),
        None => E::decode(code, version, raw),
    };
    StoredEvent {
        id: row.id,
        position: Position::new(row.position_tx, row.id),
        occurred_at: row
            .occurred_at
            .and_then(DateTime::from_timestamp_micros)
            .unwrap_or_default(),
        actor,
        context: Context::from_columns(request_id, client_address, context),
        references: References {
            target: entity(tk, ti),
            parent: entity(pk, pi),
            subject: entity(sk, si),
        },
        command_name: row.command_name.unwrap_or_default().to_owned(),
        command_id: row.command_id.unwrap_or_default().to_owned(),
        payload_version: version,
        payload: raw.to_owned(),
        event,
    }
}

/// Where the row stands in the pages' order (`cursor::Edge`): its time as
/// the database compares it, and its id. A time SQLite holds in another
/// storage type than an integer (a damaged file) cannot be given back
/// exactly: a REAL is taken as the integer below it, and TEXT or a BLOB,
/// which SQLite sorts after every number, as the largest time, so that a
/// cursor from such a row still leads on to the rows whose time is a
/// number, and never back to the newest page (paging among damaged rows
/// themselves may skip or repeat one of them).
pub(super) fn edge_of<'r, R>(row: &'r R) -> Result<Edge, sqlx::Error>
where
    R: sqlx::Row,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let id = row.try_get_unchecked::<i64, _>(index::ID)?;
    let occurred_at = match row.try_get::<i64, _>(index::OCCURRED_AT) {
        Ok(time) => time,
        Err(_) => match row.try_get::<f64, _>(index::OCCURRED_AT) {
            // Saturating: NaN is 0, and infinities the ends of the range.
            Ok(time) => time.floor() as i64,
            Err(_) => i64::MAX,
        },
    };
    Ok(Edge::new(occurred_at, id))
}

/// Reads and decodes rows of the table's select list, all of one result
/// set; `by_column` is the backend's `Dialect::values_have_column_type`.
pub(in crate::store) fn events_of<'r, R, E>(
    rows: &'r [R],
    by_column: bool,
) -> Result<Vec<StoredEvent<E>>, sqlx::Error>
where
    R: sqlx::Row,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    str: sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
    E: EventCatalog,
{
    let checked = Checked::of(rows.first(), by_column);
    rows.iter()
        .map(|row| read_row(row, &checked).map(decode_row))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::index;
    use crate::store::table::select_list;

    #[test]
    fn the_indexes_follow_the_select_list() {
        let list = select_list("payload", "0");
        let columns: Vec<&str> = list.split(", ").collect();
        let at = |name: &str| {
            columns
                .iter()
                .position(|c| *c == name)
                .unwrap_or_else(|| panic!("{name} in {list}"))
        };
        assert_eq!(at("id"), index::ID);
        assert_eq!(at("occurred_at"), index::OCCURRED_AT);
        assert_eq!(at("event_type"), index::EVENT_TYPE);
        assert_eq!(at("payload_version"), index::PAYLOAD_VERSION);
        for (i, name) in ["actor_kind", "actor_id", "actor_name"].iter().enumerate() {
            assert_eq!(at(name), index::ACTOR + i);
        }
        let refs = [
            "target_kind",
            "target_id",
            "parent_kind",
            "parent_id",
            "subject_kind",
            "subject_id",
        ];
        for (i, name) in refs.iter().enumerate() {
            assert_eq!(at(name), index::REFS + i);
        }
        assert_eq!(at("command_name"), index::COMMAND_NAME);
        assert_eq!(at("command_id"), index::COMMAND_ID);
        assert_eq!(at("payload"), index::PAYLOAD);
        assert_eq!(at("actor_as_id"), index::ACTOR_AS);
        assert_eq!(at("actor_as_name"), index::ACTOR_AS + 1);
        assert_eq!(at("request_id"), index::CONTEXT);
        assert_eq!(at("client_address"), index::CONTEXT + 1);
        assert_eq!(at("context"), index::CONTEXT + 2);
        assert_eq!(at("personal"), index::PERSONAL);
        assert_eq!(at("0 AS position_tx"), index::POSITION_TX);
        assert_eq!(columns.len(), index::POSITION_TX + 1);
    }
}
