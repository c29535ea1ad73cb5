//! The one definition of the events table: its name, and the columns that
//! the append, query and retention paths share, in one order.

use std::sync::{Arc, LazyLock};

use crate::actor::Actor;
use crate::context::ContextColumns;
use crate::reference::{EntityRef, References};

/// The events table's name, as a literal, so that statements can be built
/// with `concat!` at compile time.
macro_rules! events_table {
    () => {
        "audit_events"
    };
}
pub(crate) use events_table;

/// The events table.
pub const EVENTS_TABLE: &str = events_table!();

/// The command name of every imported event ([`Auditor::import`]):
/// `audit:import`. No `#[auditable]` command has it (a Rust path never
/// holds a lone `:`), so a row with it was imported.
///
/// [`Auditor::import`]: crate::Auditor::import
pub const IMPORT_COMMAND: &str = "audit:import";

/// The type code of the event that records a prune. Codes declared in a
/// catalog cannot contain `:`, so it never collides with an application's;
/// catalogs read it as an unknown event, rendered generically.
pub const PRUNED_EVENT_CODE: &str = "audit:log_pruned";

/// The command name the prune record is stored with.
pub(crate) const PRUNE_COMMAND: &str = "prune_before";

/// The type code of the record an import run writes in each transaction
/// that imports something: `audit:events_imported`. Never pruned.
pub const IMPORTED_EVENT_CODE: &str = "audit:events_imported";

/// The type code of the record of an erasure ([`Auditor::erase`]):
/// `audit:subject_erased`. Never pruned.
///
/// [`Auditor::erase`]: crate::Auditor::erase
pub const ERASED_EVENT_CODE: &str = "audit:subject_erased";

/// The command name an erasure's record is stored with.
pub(crate) const ERASE_COMMAND: &str = "erase";

/// The command name an import run's own record is stored with.
pub(crate) const IMPORT_RECORD_COMMAND: &str = "import";

/// How a column's values travel to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    /// A 64-bit integer, never NULL.
    Int,
    /// Text, possibly NULL.
    Text,
    /// JSON text (JSONB on PostgreSQL).
    Json,
}

/// The columns an event row is written with, in the order of [`EventRow::values`].
/// (The table also has `id`, assigned by the database, and on PostgreSQL
/// `tx_id`, the writing transaction.) The first [`WRITTEN_BEFORE_V8`] are
/// version 1's; schema version 8 added the next five and version 9 the
/// last, all NULL in the rows written before them.
pub(crate) const WRITTEN: [(&str, ColumnType); 21] = [
    ("occurred_at", ColumnType::Int),
    ("event_type", ColumnType::Text),
    ("payload_version", ColumnType::Int),
    ("actor_kind", ColumnType::Text),
    ("actor_id", ColumnType::Text),
    ("actor_name", ColumnType::Text),
    ("target_kind", ColumnType::Text),
    ("target_id", ColumnType::Text),
    ("parent_kind", ColumnType::Text),
    ("parent_id", ColumnType::Text),
    ("subject_kind", ColumnType::Text),
    ("subject_id", ColumnType::Text),
    ("command_name", ColumnType::Text),
    ("command_id", ColumnType::Text),
    ("payload", ColumnType::Json),
    // Version 8: the person acted for (an impersonation), and the context.
    ("actor_as_id", ColumnType::Text),
    ("actor_as_name", ColumnType::Text),
    ("request_id", ColumnType::Text),
    ("client_address", ColumnType::Text),
    ("context", ColumnType::Text),
    // Version 9: the salts and commitments of the personal values
    // (`store/personal.rs`).
    ("personal", ColumnType::Text),
];

/// How many of [`WRITTEN`]'s columns the events table had before schema
/// version 8.
pub(crate) const WRITTEN_BEFORE_V8: usize = 15;

/// How many of [`WRITTEN`]'s columns the events table had before schema
/// version 9.
pub(crate) const WRITTEN_BEFORE_V9: usize = 20;

/// The index in [`WRITTEN`] of `personal`, the salts and commitments of an
/// event's personal values: not a value of the event's own, so the seal
/// does not hash it as one (`seal/encoding.rs`).
pub(crate) const PERSONAL_COLUMN: usize = WRITTEN_BEFORE_V9;

/// The columns schema version 8 added to the events table (all text).
pub(crate) fn added_in_v8() -> impl Iterator<Item = &'static str> {
    WRITTEN[WRITTEN_BEFORE_V8..WRITTEN_BEFORE_V9]
        .iter()
        .map(|(name, _)| *name)
}

/// The columns schema version 9 added to the events table (all text).
pub(crate) fn added_in_v9() -> impl Iterator<Item = &'static str> {
    WRITTEN[WRITTEN_BEFORE_V9..].iter().map(|(name, _)| *name)
}

/// The written columns' names, comma-separated (made once: the append
/// path uses them at every commit).
pub(crate) fn written_names() -> &'static str {
    static NAMES: LazyLock<String> = LazyLock::new(|| {
        let names: Vec<&str> = WRITTEN.iter().map(|(name, _)| *name).collect();
        names.join(", ")
    });
    &NAMES
}

/// The select list of a stored row: `id`, then every written column, the
/// payload as text (`payload_as_text`, from the backend's dialect), then
/// the writing transaction's id as `position_tx` (`position_tx`, likewise).
pub(crate) fn select_list(payload_as_text: &str, position_tx: &str) -> String {
    let mut list = String::from("id");
    for (name, ty) in WRITTEN {
        list.push_str(", ");
        list.push_str(if ty == ColumnType::Json {
            payload_as_text
        } else {
            name
        });
    }
    list.push_str(", ");
    list.push_str(position_tx);
    list.push_str(" AS position_tx");
    list
}

/// One value of a written column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// An integer column's value.
    Int(i64),
    /// A text or JSON column's value.
    Text(Option<&'a str>),
}

/// One event row as it is written.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    /// Microseconds since the Unix epoch (UTC).
    pub occurred_at: i64,
    /// The event's type code.
    pub code: &'static str,
    /// The payload's version.
    pub version: u32,
    /// The event's indexed references.
    pub references: References,
    /// The command that emitted it.
    pub command_name: &'static str,
    /// The id shared by the events of one outermost command.
    pub command_id: String,
    /// The payload as JSON text.
    pub payload: String,
    /// The context of the command, shared by its events; `None` when it
    /// has none.
    pub context: Option<Arc<ContextColumns>>,
    /// The salts of its personal values, as the `personal` column stores
    /// them (`store/personal.rs`); `None` when it has none.
    pub personal: Option<String>,
}

impl EventRow {
    /// The row's values in the order of [`WRITTEN`], acting for `actor`.
    pub(crate) fn values<'a>(&'a self, actor: &'a Actor) -> [Value<'a>; WRITTEN.len()] {
        let kind = |r: &'a Option<EntityRef>| Value::Text(r.as_ref().map(|r| r.kind.as_ref()));
        let id = |r: &'a Option<EntityRef>| Value::Text(r.as_ref().map(|r| r.id.as_str()));
        let refs = &self.references;
        let context = self.context.as_deref();
        [
            Value::Int(self.occurred_at),
            Value::Text(Some(self.code)),
            Value::Int(i64::from(self.version)),
            Value::Text(Some(actor.kind())),
            Value::Text(Some(actor.id())),
            Value::Text(Some(actor.name())),
            kind(&refs.target),
            id(&refs.target),
            kind(&refs.parent),
            id(&refs.parent),
            kind(&refs.subject),
            id(&refs.subject),
            Value::Text(Some(self.command_name)),
            Value::Text(Some(&self.command_id)),
            Value::Text(Some(&self.payload)),
            Value::Text(actor.as_id()),
            Value::Text(actor.as_name()),
            Value::Text(context.and_then(|c| c.request_id.as_deref())),
            Value::Text(context.and_then(|c| c.client_address.as_deref())),
            Value::Text(context.and_then(|c| c.rest.as_deref())),
            Value::Text(self.personal.as_deref()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_the_declared_column_types() {
        let row = EventRow {
            occurred_at: 1,
            code: "c",
            version: 1,
            references: References::default(),
            command_name: "n",
            command_id: "i".into(),
            payload: "{}".into(),
            context: None,
            personal: None,
        };
        for ((name, ty), value) in WRITTEN.iter().zip(row.values(&Actor::system("s"))) {
            let is_int = matches!(value, Value::Int(_));
            assert_eq!(is_int, *ty == ColumnType::Int, "{name}");
        }
    }

    #[test]
    fn the_select_list_reads_the_payload_as_text() {
        let list = select_list("payload::text", "tx_id::text::int8");
        assert!(list.starts_with("id, occurred_at, event_type,"), "{list}");
        assert!(
            list.ends_with(
                "command_id, payload::text, actor_as_id, actor_as_name, request_id, \
                 client_address, context, personal, tx_id::text::int8 AS position_tx"
            ),
            "{list}"
        );
    }
}
