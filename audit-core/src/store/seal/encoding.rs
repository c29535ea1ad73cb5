//! The canonical encoding of an event for sealing, version 1: documented,
//! independent of the backend, and committing to each stored value
//! separately.
//!
//! Every stored value `v_i` of an event (its position's transaction, its
//! id, then the written columns in the order of `table::WRITTEN`) is hashed
//! on its own: `h_i = SHA-256("audit-seal-v1/value" || i || kind || len ||
//! bytes)`, where `kind` is 0 for NULL, 1 for an integer (8 bytes, big
//! endian) and 2 for text (UTF-8); the payload is first written as
//! canonical JSON (object keys sorted, no whitespace), so PostgreSQL's JSONB
//! and SQLite's text give the same bytes. The event's hash is
//! `SHA-256("audit-seal-v1/event" || h_0 || ... || h_n)`, leaving out the
//! `h_i` of a NULL value of a column that schema version 8 added (the
//! actor acted for, the context), so that the events written before it
//! keep their hashes and their seals verify: a later, recorded
//! erasure of personal data can replace a value by its `h_i` and the event
//! still verifies. The chain starts at `SHA-256("audit-seal-v1/genesis" ||
//! log id)` and goes on with `c = SHA-256("audit-seal-v1/chain" || c ||
//! event hash)`.

use sha2::{Digest, Sha256};

use crate::store::table::{ColumnType, WRITTEN, WRITTEN_BEFORE_V8};

/// The version of this encoding, stored with each seal.
pub(crate) const ENCODING: i64 = 1;

/// A SHA-256 hash.
pub(crate) type Hash = [u8; 32];

/// The names of the hashed values, in order: what a divergence names.
pub(crate) fn value_names() -> impl Iterator<Item = &'static str> {
    ["position", "id"]
        .into_iter()
        .chain(WRITTEN.iter().map(|(name, _)| *name))
}

/// How many values an event has.
pub(crate) const VALUES: usize = 2 + WRITTEN.len();

/// Bytes of each value's hash kept next to the event's hash, to name the
/// value that changed (a 1 in 2^32 chance of missing which one).
pub(crate) const TAG_BYTES: usize = 4;

/// One stored value, as read back from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoredValue {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text (the payload as stored, before canonicalization).
    Text(String),
}

/// An event's stored values, in [`value_names`] order.
pub(crate) type StoredValues = Vec<StoredValue>;

/// The event's hash and the leading bytes of each value's hash.
pub(crate) fn hash_event(values: &StoredValues) -> (Hash, Vec<u8>) {
    let mut event = Sha256::new();
    event.update(b"audit-seal-v1/event");
    let mut tags = Vec::with_capacity(VALUES * TAG_BYTES);
    let payload_index = 2 + WRITTEN
        .iter()
        .position(|(_, ty)| *ty == ColumnType::Json)
        .unwrap_or(WRITTEN.len());
    for (i, value) in values.iter().enumerate() {
        let added_later = i >= 2 + WRITTEN_BEFORE_V8;
        let canonical;
        let value = match value {
            StoredValue::Text(text) if i == payload_index => {
                canonical = canonical_json(text);
                StoredValue::Text(canonical)
            }
            other => other.clone(),
        };
        let h = hash_value(i, &value);
        if !(added_later && value == StoredValue::Null) {
            event.update(h);
        }
        tags.extend_from_slice(&h[..TAG_BYTES]);
    }
    (event.finalize().into(), tags)
}

/// `h_i` of one value.
fn hash_value(index: usize, value: &StoredValue) -> Hash {
    let mut h = Sha256::new();
    h.update(b"audit-seal-v1/value");
    h.update((index as u32).to_be_bytes());
    match value {
        StoredValue::Null => h.update([0u8]),
        StoredValue::Int(i) => {
            h.update([1u8]);
            h.update(8u64.to_be_bytes());
            h.update(i.to_be_bytes());
        }
        StoredValue::Text(text) => {
            h.update([2u8]);
            h.update((text.len() as u64).to_be_bytes());
            h.update(text.as_bytes());
        }
    }
    h.finalize().into()
}

/// The chain's value before its first event, for the log `log_id`.
pub(crate) fn genesis(log_id: &str) -> Hash {
    let mut h = Sha256::new();
    h.update(b"audit-seal-v1/genesis");
    h.update(log_id.as_bytes());
    h.finalize().into()
}

/// The chain's value after `event`.
pub(crate) fn extend(chain: &Hash, event: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(b"audit-seal-v1/chain");
    h.update(chain);
    h.update(event);
    h.finalize().into()
}

/// The fields a seal's hash commits to.
pub(crate) struct SealFields<'a> {
    pub seq: i64,
    pub first: (i64, i64),
    pub last: (i64, i64),
    pub count: i64,
    pub chain: &'a str,
    pub prev: &'a str,
    pub sealed_at: i64,
}

/// A seal's hash.
pub(crate) fn hash_seal(f: &SealFields<'_>) -> Hash {
    let mut h = Sha256::new();
    h.update(b"audit-seal-v1/seal");
    for n in [
        f.seq,
        ENCODING,
        f.first.0,
        f.first.1,
        f.last.0,
        f.last.1,
        f.count,
        f.sealed_at,
    ] {
        h.update(n.to_be_bytes());
    }
    h.update(f.chain.as_bytes());
    h.update(f.prev.as_bytes());
    h.finalize().into()
}

/// `text` as canonical JSON (sorted keys, no whitespace); text that is not
/// JSON is kept as it is. This is version 1's form and must not change (the
/// seals made with it must keep verifying), though it leaves numbers and
/// strings to serde_json's formatting; version 2 is to use the fully
/// specified form of [`super::canonical`] (RFC 8785, integers kept exact).
pub(crate) fn canonical_json(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => {
            let mut out = String::with_capacity(text.len());
            write_canonical(&value, &mut out);
            out
        }
        Err(_) => text.to_owned(),
    }
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        assert_eq!(
            canonical_json(r#"{ "b": [1, {"d": 2, "c": 1.5}], "a": "x" }"#),
            r#"{"a":"x","b":[1,{"c":1.5,"d":2}]}"#
        );
        assert_eq!(canonical_json("not json"), "not json");
    }

    #[test]
    fn one_changed_value_changes_the_event_hash_and_only_its_tag() {
        let mut values: StoredValues = vec![StoredValue::Int(0), StoredValue::Int(1)];
        values.extend((0..WRITTEN.len()).map(|i| StoredValue::Text(format!("v{i}"))));
        let (hash, tags) = hash_event(&values);
        values[5] = StoredValue::Null;
        let (other, other_tags) = hash_event(&values);
        assert_ne!(hash, other);
        let changed: Vec<usize> = (0..VALUES)
            .filter(|i| {
                tags[i * TAG_BYTES..][..TAG_BYTES] != other_tags[i * TAG_BYTES..][..TAG_BYTES]
            })
            .collect();
        assert_eq!(changed, [5]);
        assert_eq!(value_names().count(), VALUES);
    }

    #[test]
    fn a_null_in_a_column_added_later_leaves_the_hash_as_it_was() {
        let mut values: StoredValues = vec![StoredValue::Int(0), StoredValue::Int(1)];
        values.extend((0..WRITTEN_BEFORE_V8).map(|i| StoredValue::Text(format!("v{i}"))));
        // The hash of version 1's values alone, as written before version 8.
        let mut before = Sha256::new();
        before.update(b"audit-seal-v1/event");
        for (i, value) in values.iter().enumerate() {
            before.update(hash_value(i, value));
        }
        let before: Hash = before.finalize().into();
        values.resize(VALUES, StoredValue::Null);
        assert_eq!(hash_event(&values).0, before);
        values[VALUES - 1] = StoredValue::Text("{}".into());
        assert_ne!(hash_event(&values).0, before);
    }
}
