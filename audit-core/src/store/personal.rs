//! Personal values: which of an event's values are personal, their salts
//! while they are stored, and their commitments once erased.
//!
//! The `personal` column (schema version 9) holds, per event, a JSON
//! object from a *slot* (the value's name) to its entry:
//!
//! - `{"salt": "<32 hex digits>"}` while the value is stored: 16 random
//!   bytes the seal hashes with it (`seal/encoding.rs`), so that its hash
//!   cannot be found again by hashing guesses once the value and the salt
//!   are gone;
//! - `{"erased": "<64 hex digits>", "by": <id>}` once erased: the value's
//!   hash as the seal's encoding made it (its *commitment*), and the id of
//!   the `audit:subject_erased` record of the erasure (`store/erase.rs`).
//!
//! The slots: `actor_name` and `actor_as_name` (the names of who acted and
//! for whom), `client_address` and `context.user_agent`, personal by the
//! library's rule, and `payload.<field>` for each `#[personal]` field of
//! the event's catalog ([`EventType::personal_fields`]). The column is NULL
//! for an event with none (and for every row written before version 9).
//!
//! [`EventType::personal_fields`]: crate::catalog::EventType::personal_fields

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::context::ContextColumns;
use crate::store::error::AuditError;

/// The slot of the acting person's name.
pub(crate) const ACTOR_NAME: &str = "actor_name";
/// The slot of the name of the person acted for (an impersonation).
pub(crate) const ACTOR_AS_NAME: &str = "actor_as_name";
/// The slot of the client's address.
pub(crate) const CLIENT_ADDRESS: &str = "client_address";
/// The slot of the client's user agent, a member of the `context` column.
pub(crate) const USER_AGENT: &str = "context.user_agent";
/// The prefix of a slot of a payload field.
pub(crate) const PAYLOAD: &str = "payload.";
/// The prefix of a slot of a member of the `context` column.
pub(crate) const CONTEXT: &str = "context.";

/// How a page shows a person whose name was erased, where the name was.
pub const ERASED_NAME: &str = "an erased user";

/// Bytes of a salt.
pub(crate) const SALT_BYTES: usize = 16;

/// What the `personal` column says of one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// The value is stored, hashed with this salt.
    Salt([u8; SALT_BYTES]),
    /// The value was erased: its commitment, and the erasure record's id.
    Erased {
        /// The value's hash, as the seal's encoding made it.
        commitment: [u8; 32],
        /// The id of the `audit:subject_erased` event that erased it.
        by: i64,
    },
}

/// An event's `personal` column: slot to entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PersonalMap(pub BTreeMap<String, Entry>);

/// One entry as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    erased: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by: Option<i64>,
}

impl PersonalMap {
    /// The map a stored column holds; `None` (NULL) is the empty map, and
    /// so is text that is not a map of entries (which the seal then
    /// reports, since the values hash without their salts).
    pub(crate) fn parse(text: Option<&str>) -> PersonalMap {
        let Some(text) = text else {
            return PersonalMap::default();
        };
        let Ok(stored) = serde_json::from_str::<BTreeMap<String, StoredEntry>>(text) else {
            return PersonalMap::default();
        };
        let entries = stored
            .into_iter()
            .filter_map(|(slot, entry)| {
                let entry = match entry {
                    StoredEntry {
                        salt: Some(salt),
                        erased: None,
                        by: None,
                    } => Entry::Salt(decode_hex(&salt)?),
                    StoredEntry {
                        salt: None,
                        erased: Some(commitment),
                        by: Some(by),
                    } => Entry::Erased {
                        commitment: decode_hex(&commitment)?,
                        by,
                    },
                    _ => return None,
                };
                Some((slot, entry))
            })
            .collect();
        PersonalMap(entries)
    }

    /// The map as the column stores it; `None` when empty.
    pub(crate) fn to_column(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let stored: BTreeMap<&str, StoredEntry> = self
            .0
            .iter()
            .map(|(slot, entry)| {
                let stored = match entry {
                    Entry::Salt(salt) => StoredEntry {
                        salt: Some(hex::encode(salt)),
                        erased: None,
                        by: None,
                    },
                    Entry::Erased { commitment, by } => StoredEntry {
                        salt: None,
                        erased: Some(hex::encode(commitment)),
                        by: Some(*by),
                    },
                };
                (slot.as_str(), stored)
            })
            .collect();
        Some(
            serde_json::to_string(&stored)
                .expect("invariant: a map of strings and integers serializes to JSON"),
        )
    }

    /// The entry of `slot`.
    pub(crate) fn get(&self, slot: &str) -> Option<&Entry> {
        self.0.get(slot)
    }

    /// The salt of `slot`, while its value is stored.
    pub(crate) fn salt(&self, slot: &str) -> Option<&[u8; SALT_BYTES]> {
        match self.0.get(slot) {
            Some(Entry::Salt(salt)) => Some(salt),
            _ => None,
        }
    }

    /// Whether `slot` was erased.
    pub(crate) fn is_erased(&self, slot: &str) -> bool {
        matches!(self.0.get(slot), Some(Entry::Erased { .. }))
    }

    /// The erased slots: each with its commitment and record.
    pub(crate) fn erased(&self) -> impl Iterator<Item = (&str, &[u8; 32], i64)> {
        self.0.iter().filter_map(|(slot, entry)| match entry {
            Entry::Erased { commitment, by } => Some((slot.as_str(), commitment, *by)),
            Entry::Salt(_) => None,
        })
    }
}

/// The `personal` column of a new event: a fresh salt for each personal
/// value it has (the names of a person who acted and of one acted for, the
/// client's address and user agent, and each of `payload_fields`, the
/// catalog's `#[personal]` fields; a service's or a process's name is not
/// a person's). `None` when it has none. Fails only if the operating
/// system cannot give random bytes.
pub(crate) fn salted(
    actor: &Actor,
    context: Option<&ContextColumns>,
    payload_fields: &[&str],
) -> Result<Option<String>, AuditError> {
    let mut slots: Vec<String> = Vec::with_capacity(4 + payload_fields.len());
    if actor.user_id().is_some() {
        slots.push(ACTOR_NAME.to_owned());
    }
    if actor.as_name().is_some() {
        slots.push(ACTOR_AS_NAME.to_owned());
    }
    if let Some(context) = context {
        if context.client_address.is_some() {
            slots.push(CLIENT_ADDRESS.to_owned());
        }
        if context.has_user_agent {
            slots.push(USER_AGENT.to_owned());
        }
    }
    slots.extend(
        payload_fields
            .iter()
            .map(|field| format!("{PAYLOAD}{field}")),
    );
    if slots.is_empty() {
        return Ok(None);
    }
    let mut random = vec![0u8; slots.len() * SALT_BYTES];
    getrandom::fill(&mut random).map_err(|error| AuditError::Random(error.to_string()))?;
    let entries = slots
        .into_iter()
        .zip(random.chunks_exact(SALT_BYTES))
        .map(|(slot, salt)| {
            let salt: [u8; SALT_BYTES] = salt
                .try_into()
                .expect("invariant: chunks_exact gives SALT_BYTES bytes");
            (slot, Entry::Salt(salt))
        })
        .collect();
    Ok(PersonalMap(entries).to_column())
}

/// `N` bytes from `2N` hex digits.
fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    hex::decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_are_fresh_and_read_back() {
        let context = ContextColumns {
            request_id: None,
            client_address: Some("192.0.2.1".into()),
            rest: Some("{\"user_agent\":\"x\"}".into()),
            has_user_agent: true,
        };
        let actor = Actor::user(1, "alice").acting_as(2, "bob");
        let column = salted(&actor, Some(&context), &["user"]).expect("random bytes");
        let map = PersonalMap::parse(column.as_deref());
        let slots: Vec<&str> = map.0.keys().map(String::as_str).collect();
        assert_eq!(
            slots,
            [
                ACTOR_AS_NAME,
                ACTOR_NAME,
                CLIENT_ADDRESS,
                USER_AGENT,
                "payload.user"
            ]
        );
        let again = PersonalMap::parse(
            salted(&actor, Some(&context), &["user"])
                .expect("random bytes")
                .as_deref(),
        );
        assert_ne!(map.salt(ACTOR_NAME), again.salt(ACTOR_NAME));
        assert_eq!(map.to_column(), column);
    }

    #[test]
    fn erased_entries_round_trip_and_bad_text_reads_as_empty() {
        let mut map = PersonalMap::default();
        map.0.insert(
            ACTOR_NAME.into(),
            Entry::Erased {
                commitment: [7; 32],
                by: 42,
            },
        );
        let column = map.to_column();
        assert_eq!(PersonalMap::parse(column.as_deref()), map);
        assert!(map.is_erased(ACTOR_NAME));
        for bad in ["", "[]", "{\"a\":{\"salt\":\"zz\"}}", "{\"a\":{\"by\":1}}"] {
            assert_eq!(
                PersonalMap::parse(Some(bad)).0.len(),
                0,
                "{bad:?} reads as no entry"
            );
        }
    }
}
