//! Event rows as one JSON document, the single value PostgreSQL's batch
//! INSERT binds: an array with one array per row, holding the row's values
//! in the order of `WRITTEN` (integers as numbers, text as strings, a
//! missing value as `null`; the payload as a string, parsed by the INSERT
//! as the JSONB it was before). The SQL expands it again
//! (`jsonb_array_elements`), taking each value by its index.
//!
//! Every string goes through `serde_json`'s escaping, the one function
//! that makes text safe inside the document; nothing is spliced into SQL.

use serde::ser::{Serialize, SerializeSeq, Serializer};

use crate::actor::Actor;
use crate::store::table::{EventRow, Value, WRITTEN};

/// `rows` as one JSON array of arrays (see the module's comment).
pub(crate) fn encode(rows: &[(&Actor, &EventRow)]) -> String {
    serde_json::to_string(&Rows(rows))
        .expect("invariant: rows of integers and strings always serialize to JSON")
}

/// Serializes every row, in order.
struct Rows<'a>(&'a [(&'a Actor, &'a EventRow)]);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (actor, row) in self.0 {
            seq.serialize_element(&Row(row.values(actor)))?;
        }
        seq.end()
    }
}

/// Serializes one row's values, in the order of `WRITTEN`.
struct Row<'a>([Value<'a>; WRITTEN.len()]);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for value in &self.0 {
            match value {
                Value::Int(i) => seq.serialize_element(i)?,
                Value::Text(text) => seq.serialize_element(text)?,
            }
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{EntityRef, References};

    #[test]
    fn rows_are_arrays_of_values_in_written_order() {
        let row = EventRow {
            occurred_at: -5,
            code: "c",
            version: 2,
            references: References {
                target: Some(EntityRef::new("project", "7")),
                ..References::default()
            },
            command_name: "n",
            command_id: "i".into(),
            payload: "{\"a\":\"\\\"\"}".into(),
            context: None,
            personal: None,
        };
        let actor = Actor::system("s\"\\");
        let json = encode(&[(&actor, &row), (&actor, &row)]);
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let first = &parsed[0];
        assert_eq!(first.as_array().map(Vec::len), Some(WRITTEN.len()));
        assert_eq!(first[0], -5);
        assert_eq!(first[2], 2);
        assert_eq!(first[4], "s\"\\");
        assert_eq!(first[6], "project");
        assert!(first[8].is_null());
        assert_eq!(first[14], row.payload.as_str());
        assert_eq!(parsed[1], parsed[0]);
    }
}
