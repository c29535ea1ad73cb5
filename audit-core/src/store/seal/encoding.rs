//! The canonical encoding of an event for sealing: documented, independent
//! of the backend, and committing to each stored value separately, so that
//! a recorded erasure can put a personal value's hash (its commitment) in
//! its place and the event still verifies. Each seal records the version
//! it was made with; new seals use version 2, and version 1's seals keep
//! verifying.
//!
//! # Version 1
//!
//! Every stored value `v_i` of an event (its position's transaction, its
//! id, then the written columns in the order of `table::WRITTEN`) is hashed
//! on its own: `h_i = SHA-256("audit-seal-v1/value" || i || kind || len ||
//! bytes)`, where `i` is 4 bytes big endian, `kind` is 0 for NULL (then
//! nothing follows), 1 for an integer (`len` 8, then 8 bytes, big endian)
//! and 2 for text (`len` as 8 bytes big endian, then the UTF-8 bytes); the
//! payload is first written as canonical JSON (object keys sorted, no
//! whitespace, serde_json's own number and string forms), so PostgreSQL's
//! JSONB and SQLite's text give the same bytes. The event's hash is
//! `SHA-256("audit-seal-v1/event" || h_0 || ... || h_n)`, leaving out the
//! `h_i` of a NULL value of a column that schema version 8 or later added,
//! so that the events written before it keep their hashes.
//!
//! # Version 2
//!
//! As version 1, with `"audit-seal-v2/..."` as the prefixes, and:
//!
//! - The canonical JSON is RFC 8785's (`canonical.rs` specifies it), so no
//!   dependency's formatting can change a hash.
//! - A salted value (its salt is in the event's `personal` column, see
//!   `store/personal.rs`) is hashed as kind 3: `3 || salt (16 bytes) ||
//!   len || bytes`.
//! - The payload, and the `context` column, when they hold a JSON object,
//!   are hashed member by member: `h_i = SHA-256("audit-seal-v2/object" ||
//!   i || n || for each member, in RFC 8785's key order: len(key) || key ||
//!   m)`, `n` and the lengths 8 bytes big endian, where the member's hash
//!   `m = SHA-256("audit-seal-v2/member" || 2 || len || c)`, or `3 || salt
//!   || len || c` when the member's slot (`payload.<key>`, `context.<key>`)
//!   is salted, `c` being the member's canonical JSON. Other JSON is hashed
//!   as text, in its canonical form.
//!
//! # Both versions
//!
//! - The `personal` column itself is not one of the hashed values: its
//!   salts and commitments are part of the others' hashes.
//! - A value whose slot the `personal` column marks as erased is hashed as
//!   the commitment stored there (a column's `h_i`, a member's `m`),
//!   provided what is stored in its place is blank (NULL or empty text for
//!   a column, the JSON `null` for the payload and for a member); anything
//!   else stored there is hashed as itself, which no commitment matches.
//! - The chain starts at `SHA-256("audit-seal-v1/genesis" || log id)` and
//!   goes on with `c = SHA-256("audit-seal-v1/chain" || c || event hash)`,
//!   whatever the version of each seal, so one chain runs through seals of
//!   both; a seal's own hash commits to its version.

use sha2::{Digest, Sha256};

use super::canonical;
use crate::store::personal::{CONTEXT, Entry, PAYLOAD, PersonalMap, SALT_BYTES};
use crate::store::table::{PERSONAL_COLUMN, WRITTEN, WRITTEN_BEFORE_V8};

/// The version of the encoding new seals are made with.
pub(crate) const ENCODING: i64 = 2;

/// A SHA-256 hash.
pub(crate) type Hash = [u8; 32];

/// The name of value `i`: what a divergence names, and a whole column's
/// slot in the `personal` column.
pub(crate) fn value_name(i: usize) -> &'static str {
    match i {
        0 => "position",
        1 => "id",
        _ => WRITTEN.get(i - 2).map_or("unknown", |(name, _)| name),
    }
}

/// The names of the hashed values, in order.
pub(crate) fn value_names() -> impl Iterator<Item = &'static str> {
    (0..VALUES).map(value_name)
}

/// How many values an event has.
pub(crate) const VALUES: usize = 2 + WRITTEN.len();

/// The index among an event's values of the column named `name`.
pub(crate) const fn value_index(name: &str) -> usize {
    let mut i = 0;
    while i < WRITTEN.len() {
        if const_eq(WRITTEN[i].0, name) {
            return 2 + i;
        }
        i += 1;
    }
    panic!("invariant: the column is one of WRITTEN")
}

/// `a == b`, in a constant.
const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The index of the `personal` column among an event's values.
const PERSONAL_VALUE: usize = 2 + PERSONAL_COLUMN;

/// The index of the payload among an event's values.
const PAYLOAD_VALUE: usize = value_index("payload");

/// The index of the `context` column among an event's values.
const CONTEXT_VALUE: usize = value_index("context");

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

impl StoredValue {
    /// The text, if it is text.
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            StoredValue::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// Whether `value` is what value `i` holds once erased: NULL or empty text
/// (the name, which may not be NULL), and for the payload, which may not
/// be NULL either, the JSON `null`.
pub(crate) fn is_blank(i: usize, value: &StoredValue) -> bool {
    match value {
        StoredValue::Null => true,
        StoredValue::Text(text) => text.is_empty() || (i == PAYLOAD_VALUE && text == "null"),
        StoredValue::Int(_) => false,
    }
}

/// An event's stored values, in [`value_names`] order.
pub(crate) type StoredValues = Vec<StoredValue>;

/// The `personal` column among an event's values, as stored.
pub(crate) fn personal_text(values: &StoredValues) -> Option<&str> {
    values.get(PERSONAL_VALUE).and_then(StoredValue::text)
}

/// The `personal` column among an event's values.
pub(crate) fn personal_of(values: &StoredValues) -> PersonalMap {
    PersonalMap::parse(personal_text(values))
}

/// The event's hash under `encoding` (1 or 2) and the leading bytes of
/// each value's hash.
pub(crate) fn hash_event(values: &StoredValues, encoding: i64) -> (Hash, Vec<u8>) {
    let personal = personal_of(values);
    let v2 = encoding >= 2;
    let mut event = Sha256::new();
    event.update(if v2 {
        &b"audit-seal-v2/event"[..]
    } else {
        &b"audit-seal-v1/event"[..]
    });
    let mut tags = Vec::with_capacity(VALUES * TAG_BYTES);
    for (i, value) in values.iter().enumerate() {
        let (h, hashed) = if i == PERSONAL_VALUE {
            (hash_value(i, value, None, v2), false)
        } else {
            value_hash(i, value, &personal, v2)
        };
        if hashed {
            event.update(h);
        }
        tags.extend_from_slice(&h[..TAG_BYTES]);
    }
    (event.finalize().into(), tags)
}

/// `h_i` of value `i`, and whether it is part of the event's hash (a NULL
/// in a column added after version 1 is not).
fn value_hash(i: usize, value: &StoredValue, personal: &PersonalMap, v2: bool) -> (Hash, bool) {
    let name = value_name(i);
    if let Some(commitment) = erased_commitment(personal, name)
        && is_blank(i, value)
    {
        return (commitment, true);
    }
    if i >= 2 + WRITTEN_BEFORE_V8 && *value == StoredValue::Null {
        return (hash_value(i, value, None, v2), false);
    }
    (whole_value_hash(i, value, personal, v2), true)
}

/// `h_i` of value `i` as stored (not as an erased value), `personal`
/// giving the salts.
fn whole_value_hash(i: usize, value: &StoredValue, personal: &PersonalMap, v2: bool) -> Hash {
    let name = value_name(i);
    if !v2 {
        return match value {
            StoredValue::Text(text) if i == PAYLOAD_VALUE => {
                hash_value(i, &StoredValue::Text(canonical_json(text)), None, false)
            }
            other => hash_value(i, other, None, false),
        };
    }
    if (i == PAYLOAD_VALUE || i == CONTEXT_VALUE)
        && let Some(json) = value.text().and_then(canonical::parse)
    {
        if let serde_json::Value::Object(members) = &json {
            let prefix = if i == PAYLOAD_VALUE { PAYLOAD } else { CONTEXT };
            return hash_object(i, prefix, members, personal);
        }
        let canonical = StoredValue::Text(canonical::to_string(&json));
        return hash_value(i, &canonical, personal.salt(name), true);
    }
    hash_value(i, value, personal.salt(name), true)
}

/// The commitment `personal` keeps for `slot`, if it was erased.
fn erased_commitment(personal: &PersonalMap, slot: &str) -> Option<Hash> {
    match personal.get(slot) {
        Some(Entry::Erased { commitment, .. }) => Some(*commitment),
        _ => None,
    }
}

/// `h_i` of a NULL value, for each index and version: computed once, since
/// most events have several (the references they lack, the context).
static NULL_HASHES: std::sync::LazyLock<[Vec<Hash>; 2]> = std::sync::LazyLock::new(|| {
    [false, true].map(|v2| {
        (0..VALUES)
            .map(|i| compute_hash_value(i, &StoredValue::Null, None, v2))
            .collect()
    })
});

/// `h_i` of one value: salted (kind 3) when `salt` is given (version 2).
fn hash_value(
    index: usize,
    value: &StoredValue,
    salt: Option<&[u8; SALT_BYTES]>,
    v2: bool,
) -> Hash {
    match value {
        StoredValue::Null if index < VALUES => NULL_HASHES[usize::from(v2)][index],
        _ => compute_hash_value(index, value, salt, v2),
    }
}

/// [`hash_value`], computed.
fn compute_hash_value(
    index: usize,
    value: &StoredValue,
    salt: Option<&[u8; SALT_BYTES]>,
    v2: bool,
) -> Hash {
    let mut h = Sha256::new();
    h.update(if v2 {
        &b"audit-seal-v2/value"[..]
    } else {
        &b"audit-seal-v1/value"[..]
    });
    h.update((index as u32).to_be_bytes());
    match value {
        StoredValue::Null => h.update([0u8]),
        StoredValue::Int(i) => {
            h.update([1u8]);
            h.update(8u64.to_be_bytes());
            h.update(i.to_be_bytes());
        }
        StoredValue::Text(text) => {
            match salt {
                Some(salt) if v2 => {
                    h.update([3u8]);
                    h.update(salt);
                }
                _ => h.update([2u8]),
            }
            h.update((text.len() as u64).to_be_bytes());
            h.update(text.as_bytes());
        }
    }
    h.finalize().into()
}

/// `h_i` of a JSON object, member by member (version 2).
fn hash_object(
    index: usize,
    prefix: &str,
    members: &serde_json::Map<String, serde_json::Value>,
    personal: &PersonalMap,
) -> Hash {
    let mut sorted: Vec<(&String, &serde_json::Value)> = members.iter().collect();
    sorted.sort_by(|a, b| canonical::compare_keys(a.0, b.0));
    let mut h = Sha256::new();
    h.update(b"audit-seal-v2/object");
    h.update((index as u32).to_be_bytes());
    h.update((sorted.len() as u64).to_be_bytes());
    let mut slot = String::with_capacity(prefix.len() + 16);
    let mut canonical = String::new();
    for (key, value) in sorted {
        slot.clear();
        slot.push_str(prefix);
        slot.push_str(key);
        let m = match erased_commitment(personal, &slot) {
            Some(commitment) if value.is_null() => commitment,
            _ => {
                canonical.clear();
                canonical::write(value, &mut canonical);
                hash_member_text(&canonical, personal.salt(&slot))
            }
        };
        h.update((key.len() as u64).to_be_bytes());
        h.update(key.as_bytes());
        h.update(m);
    }
    h.finalize().into()
}

/// `m` of one member of a JSON object (version 2), salted when `salt` is
/// given: a member's commitment.
pub(crate) fn hash_member(value: &serde_json::Value, salt: Option<&[u8; SALT_BYTES]>) -> Hash {
    hash_member_text(&canonical::to_string(value), salt)
}

/// `m` of a member whose canonical JSON is `canonical`.
fn hash_member_text(canonical: &str, salt: Option<&[u8; SALT_BYTES]>) -> Hash {
    let mut h = Sha256::new();
    h.update(b"audit-seal-v2/member");
    match salt {
        Some(salt) => {
            h.update([3u8]);
            h.update(salt);
        }
        None => h.update([2u8]),
    }
    h.update((canonical.len() as u64).to_be_bytes());
    h.update(canonical.as_bytes());
    h.finalize().into()
}

/// The commitment of value `i` as a whole (what erasing the whole column
/// stores): its `h_i` under `encoding`, salted as `personal` says.
pub(crate) fn column_commitment(
    i: usize,
    value: &StoredValue,
    personal: &PersonalMap,
    encoding: i64,
) -> Hash {
    whole_value_hash(i, value, personal, encoding >= 2)
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
    pub encoding: i64,
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
        f.encoding,
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
        values[2 + PERSONAL_COLUMN] = StoredValue::Null;
        let (hash, tags) = hash_event(&values, ENCODING);
        values[5] = StoredValue::Null;
        let (other, other_tags) = hash_event(&values, ENCODING);
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
            before.update(hash_value(i, value, None, false));
        }
        let before: Hash = before.finalize().into();
        values.resize(VALUES, StoredValue::Null);
        assert_eq!(hash_event(&values, 1).0, before);
        values[CONTEXT_VALUE] = StoredValue::Text("{}".into());
        assert_ne!(hash_event(&values, 1).0, before);
    }

    /// A v9 event: every column set, the payload and context objects, and
    /// salts for the personal values.
    fn salted_event() -> StoredValues {
        let mut values: StoredValues = vec![StoredValue::Int(7), StoredValue::Int(42)];
        for (i, (name, _)) in WRITTEN.iter().enumerate() {
            values.push(match *name {
                "occurred_at" | "payload_version" => StoredValue::Int(i as i64),
                "payload" => StoredValue::Text(
                    r#"{"user": {"id": 2, "username": "bob"}, "roles": ["a", "b"], "n": 1.50}"#
                        .into(),
                ),
                "context" => StoredValue::Text(r#"{"user_agent": "Firefox", "host": "web-1"}"#.into()),
                "personal" => StoredValue::Text(format!(
                    r#"{{"actor_name":{{"salt":"{a}"}},"client_address":{{"salt":"{b}"}},"context.user_agent":{{"salt":"{c}"}},"payload.user":{{"salt":"{d}"}}}}"#,
                    a = "01".repeat(16),
                    b = "02".repeat(16),
                    c = "03".repeat(16),
                    d = "04".repeat(16),
                )),
                other => StoredValue::Text(format!("{other}-value")),
            });
        }
        values
    }

    /// `values` with `slot` marked erased with `commitment` in `personal`.
    fn mark_erased(values: &mut StoredValues, slot: &str, commitment: Hash) {
        let mut personal = personal_of(values);
        personal
            .0
            .insert(slot.to_owned(), Entry::Erased { commitment, by: 99 });
        values[PERSONAL_VALUE] = StoredValue::Text(personal.to_column().expect("entries"));
    }

    #[test]
    fn an_erased_value_hashes_as_its_commitment_and_nothing_else_does() {
        for encoding in [1, 2] {
            let values = salted_event();
            let (sealed, _) = hash_event(&values, encoding);
            // A whole column: blanked, its commitment in its place.
            for (name, blank) in [
                ("actor_name", StoredValue::Text(String::new())),
                ("client_address", StoredValue::Null),
                ("context", StoredValue::Null),
            ] {
                let i = value_index(name);
                let mut erased = values.clone();
                let commitment = column_commitment(i, &values[i], &personal_of(&values), encoding);
                erased[i] = blank;
                mark_erased(&mut erased, name, commitment);
                assert_eq!(
                    hash_event(&erased, encoding).0,
                    sealed,
                    "{name}, v{encoding}"
                );
                // Anything but a blank where the value was does not verify.
                erased[i] = StoredValue::Text("mallory".into());
                assert_ne!(
                    hash_event(&erased, encoding).0,
                    sealed,
                    "{name}, v{encoding}"
                );
                // Nor does another commitment.
                let mut forged = values.clone();
                forged[i] = StoredValue::Null;
                mark_erased(&mut forged, name, [0; 32]);
                assert_ne!(
                    hash_event(&forged, encoding).0,
                    sealed,
                    "{name}, v{encoding}"
                );
            }
        }
    }

    #[test]
    fn one_payload_field_is_erased_and_the_others_stay() {
        let values = salted_event();
        let (sealed, _) = hash_event(&values, 2);
        let personal = personal_of(&values);
        let payload: serde_json::Value =
            serde_json::from_str(values[PAYLOAD_VALUE].text().expect("payload")).expect("JSON");
        let commitment = hash_member(&payload["user"], personal.salt("payload.user"));
        let mut erased = values.clone();
        erased[PAYLOAD_VALUE] =
            StoredValue::Text(r#"{"user": null, "roles": ["a", "b"], "n": 1.50}"#.into());
        mark_erased(&mut erased, "payload.user", commitment);
        assert_eq!(hash_event(&erased, 2).0, sealed);
        // Another field changed still shows.
        erased[PAYLOAD_VALUE] =
            StoredValue::Text(r#"{"user": null, "roles": ["a"], "n": 1.50}"#.into());
        assert_ne!(hash_event(&erased, 2).0, sealed);
    }

    #[test]
    fn a_salt_is_part_of_the_hash_and_guesses_without_it_do_not_match() {
        let values = salted_event();
        let personal = personal_of(&values);
        let payload: serde_json::Value =
            serde_json::from_str(values[PAYLOAD_VALUE].text().expect("payload")).expect("JSON");
        let salted = hash_member(&payload["user"], personal.salt("payload.user"));
        assert_ne!(salted, hash_member(&payload["user"], None));
        assert_ne!(
            salted,
            hash_member(&payload["user"], Some(&[5; SALT_BYTES]))
        );
        // The salts themselves are sealed: a changed salt changes the hash.
        let mut resalted = values.clone();
        let mut map = personal.clone();
        map.0
            .insert("actor_name".into(), Entry::Salt([9; SALT_BYTES]));
        resalted[PERSONAL_VALUE] = StoredValue::Text(map.to_column().expect("entries"));
        assert_ne!(hash_event(&resalted, 2).0, hash_event(&values, 2).0);
    }

    /// Frozen: these hashes may never change, or every seal made with
    /// version 1 or 2 stops verifying. A change of a dependency (serde_json's
    /// number or string forms, sha2) or of this file that moves them is a
    /// break, not a test to update.
    #[test]
    fn the_hashes_of_a_known_event_are_frozen() {
        let values = salted_event();
        assert_eq!(
            hex::encode(hash_event(&values, 2).0),
            "7743d9d368ab8ba6f96f3d251e982b85a01467915f15c74f11f78218c4a54c7c"
        );
        assert_eq!(
            hex::encode(hash_event(&values, 1).0),
            "210fb6a1262571b77e14e38019dee1ab3d29c3310c5ca7fd26b5585fdf80f1d3"
        );
    }
}
