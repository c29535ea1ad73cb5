//! Decoding stored events, including the ones this program does not understand (G9).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A stored event after decoding: either typed, or kept as it was stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded<E> {
    /// An event of the catalog, at a version this program reads.
    Known(E),
    /// A row this program cannot read; see [`UnknownEvent::reason`].
    Unknown(UnknownEvent),
}

/// A stored event that this program could not decode, with everything that was stored.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownEvent {
    /// The stored type code.
    pub code: String,
    /// The stored payload version.
    pub version: i64,
    /// The stored payload as the database returns it (PostgreSQL's JSONB
    /// normalizes whitespace and key order).
    pub raw: String,
    /// Why it could not be decoded.
    pub reason: UnknownReason,
}

/// Why a stored event could not be decoded. More reasons may come, so a
/// `match` on it needs a `_` arm.
///
/// The reasons keep apart what a reader may want to do about a row: a code
/// this program does not declare ([`UnknownCode`](Self::UnknownCode)), a
/// version written by a newer program ([`NewerVersion`](Self::NewerVersion)),
/// an older version this program has no upgrade for
/// ([`OlderVersion`](Self::OlderVersion)), and a payload that does not match
/// its version, or whose upgrade failed
/// ([`MalformedPayload`](Self::MalformedPayload)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnknownReason {
    /// The code is not declared in this catalog: an event of a newer
    /// program, or one removed from the catalog (an event that is kept for
    /// reading is marked `retired` instead, and still decodes).
    #[error("its code is not declared in this program's event catalog")]
    UnknownCode,
    /// Written by a newer program with a newer payload.
    #[error(
        "its payload version {stored} is newer than version {supported}, the newest this program reads"
    )]
    NewerVersion {
        /// The stored version.
        stored: i64,
        /// The newest version this program reads.
        supported: u32,
    },
    /// Written at an older payload version that no declared upgrade
    /// (`upgrade(from = ..)` on the event) reads.
    #[error(
        "its payload version {stored} is older than the current version {current}, and no upgrade from it is declared"
    )]
    OlderVersion {
        /// The stored version.
        stored: i64,
        /// The current version.
        current: u32,
    },
    /// The stored version is not a version at all.
    #[error("its payload version {0} is invalid: versions start at 1")]
    InvalidVersion(i64),
    /// A column of the stored row could not be read as its declared type
    /// (a row written by hand with the wrong storage type, say).
    #[error("its stored `{column}` column cannot be read: {error}")]
    UnreadableColumn {
        /// The column.
        column: &'static str,
        /// The database driver's error.
        error: String,
    },
    /// The payload is not JSON or does not match the fields of its stored
    /// version, or an upgrade from that version failed (the message says
    /// which).
    #[error("its payload does not match the declared fields: {0}")]
    MalformedPayload(String),
}

/// Decodes one payload stored at version `stored` for an event whose current
/// version is `current`.
pub(crate) fn decode_payload<P: DeserializeOwned>(
    stored: i64,
    current: u32,
    raw: &str,
) -> Result<P, UnknownReason> {
    payload_version(stored, current, current)?;
    read_payload(raw)
}

/// Checks a stored version against what an event reads: `current`, and
/// every version from `oldest` (its oldest upgrade) up. Returns the version.
pub(crate) fn payload_version(
    stored: i64,
    current: u32,
    oldest: u32,
) -> Result<u32, UnknownReason> {
    if stored < 1 {
        return Err(UnknownReason::InvalidVersion(stored));
    }
    if stored > i64::from(current) {
        return Err(UnknownReason::NewerVersion {
            stored,
            supported: current,
        });
    }
    if stored < i64::from(oldest) {
        return Err(UnknownReason::OlderVersion { stored, current });
    }
    Ok(u32::try_from(stored).expect("invariant: 1 <= stored <= current, a u32"))
}

/// Reads a stored payload as the payload type of its version.
pub(crate) fn read_payload<P: DeserializeOwned>(raw: &str) -> Result<P, UnknownReason> {
    serde_json::from_str(raw).map_err(|e| UnknownReason::MalformedPayload(e.to_string()))
}

/// Reads a stored payload as JSON, for an upgrade that works on JSON.
pub(crate) fn read_json(raw: &str) -> Result<serde_json::Value, UnknownReason> {
    read_payload(raw)
}

/// Turns the payload an upgrade to version `version` produced into JSON, for
/// a next upgrade that works on JSON.
pub(crate) fn to_json<P: Serialize>(
    payload: &P,
    version: u32,
) -> Result<serde_json::Value, UnknownReason> {
    serde_json::to_value(payload).map_err(|e| {
        UnknownReason::MalformedPayload(format!(
            "the payload upgraded to version {version} cannot be turned into JSON: {e}"
        ))
    })
}

/// Reads the JSON that an upgrade to version `version` produced as that
/// version's payload type.
pub(crate) fn from_json<P: DeserializeOwned>(
    value: serde_json::Value,
    version: u32,
) -> Result<P, UnknownReason> {
    serde_json::from_value(value).map_err(|e| {
        UnknownReason::MalformedPayload(format!(
            "the upgrade to version {version} produced a payload that does not match it: {e}"
        ))
    })
}

/// Runs an upgrade written on JSON from version `from` to the next one; its
/// error makes the row unknown, saying which upgrade failed.
pub(crate) fn upgrade_json(
    upgrade: impl FnOnce(serde_json::Value) -> Result<serde_json::Value, String>,
    value: serde_json::Value,
    from: u32,
) -> Result<serde_json::Value, UnknownReason> {
    upgrade(value).map_err(|e| {
        UnknownReason::MalformedPayload(format!(
            "the upgrade from version {from} to {} failed: {e}",
            from + 1
        ))
    })
}
