//! Decoding stored events, including the ones this program does not understand (G9).

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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnknownReason {
    /// The code is not declared in this catalog (an event from a newer
    /// program, or one that was removed).
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
    /// Written with an older payload version that this program no longer reads.
    #[error(
        "its payload version {stored} is older than the current version {current}, and no upcaster is declared for it"
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
    /// The payload is not JSON, or does not match the declared fields.
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
    if stored < 1 {
        return Err(UnknownReason::InvalidVersion(stored));
    }
    if stored > i64::from(current) {
        return Err(UnknownReason::NewerVersion {
            stored,
            supported: current,
        });
    }
    if stored < i64::from(current) {
        return Err(UnknownReason::OlderVersion { stored, current });
    }
    serde_json::from_str(raw).map_err(|e| UnknownReason::MalformedPayload(e.to_string()))
}
