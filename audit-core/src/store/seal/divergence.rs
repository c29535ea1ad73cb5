//! What verification can find: each way the log differs from its seals.

use std::fmt;

/// One way the log differs from what its seals say.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Divergence {
    /// A sealed event's value changed.
    EventEdited {
        /// The event's id.
        id: i64,
        /// The value that changed (`payload`, `actor_name`, ...; `position`
        /// when it moved).
        column: &'static str,
    },
    /// A sealed event is gone (and no prune explains it).
    EventDeleted {
        /// The event's id.
        id: i64,
    },
    /// A sealed event was deleted and an event with its id written again
    /// (elsewhere in the log).
    EventReplaced {
        /// The event's id.
        id: i64,
    },
    /// An event sits inside a sealed range that its seal does not cover.
    EventInserted {
        /// The event's id.
        id: i64,
    },
    /// A seal is missing from the sequence.
    SealMissing {
        /// The missing seal's number.
        seq: i64,
    },
    /// A seal's fields no longer give its hash.
    SealAltered {
        /// The seal's number.
        seq: i64,
    },
    /// A seal does not follow the previous one.
    SealChainBroken {
        /// The seal's number.
        seq: i64,
    },
    /// A seal's entries do not give its chain hash and count.
    EntriesAltered {
        /// The seal's number.
        seq: i64,
    },
    /// A seal has no signature, and a public key was given.
    Unsigned {
        /// The seal's number.
        seq: i64,
    },
    /// A seal's signature does not verify with the given public key.
    BadSignature {
        /// The seal's number.
        seq: i64,
    },
    /// Sealed events are gone, and the prune record that would explain them
    /// is not sealed itself (written after the last seal): seal, then
    /// verify again. A record forged to hide a deletion stays unexplained
    /// until someone seals it.
    PruneRecordNotSealed {
        /// The record's id.
        id: i64,
        /// The sealed events it would explain.
        events: u64,
    },
    /// A sealed prune record does not match the sealed events missing in
    /// its range (their number or their hashes' digest): events were
    /// deleted that the prune did not delete, or the record was not
    /// written by the prune that deleted them.
    PruneRecordMismatch {
        /// The record's id.
        id: i64,
    },
    /// The database no longer holds the seal of a head kept elsewhere: the
    /// chain was rewritten.
    HeadNotReached {
        /// The head's seal number.
        seq: i64,
    },
    /// A sealed event holds an erased value that no erasure record lists
    /// (its record is missing, or does not name this value): a value was
    /// replaced by its hash outside `Auditor::erase`.
    ErasureNotRecorded {
        /// The event's id.
        id: i64,
        /// The value's slot (`actor_name`, `payload.user`, ...).
        slot: String,
    },
    /// An erasure record lists a value of a sealed event that is not
    /// erased there.
    ErasureNotApplied {
        /// The record's id.
        record: i64,
        /// The event's id.
        id: i64,
    },
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Divergence::EventEdited { id, column } => {
                write!(
                    f,
                    "event {id} was edited: its `{column}` differs from when it was sealed"
                )
            }
            Divergence::EventDeleted { id } => {
                write!(f, "event {id} was deleted after it was sealed")
            }
            Divergence::EventReplaced { id } => write!(
                f,
                "event {id} was deleted after it was sealed and written again under its id"
            ),
            Divergence::EventInserted { id } => {
                write!(f, "event {id} was inserted into a sealed range")
            }
            Divergence::SealMissing { seq } => write!(f, "seal {seq} is missing"),
            Divergence::SealAltered { seq } => write!(f, "seal {seq} was altered"),
            Divergence::SealChainBroken { seq } => {
                write!(f, "seal {seq} does not follow the seal before it")
            }
            Divergence::EntriesAltered { seq } => {
                write!(f, "the entries of seal {seq} do not give its chain")
            }
            Divergence::Unsigned { seq } => write!(f, "seal {seq} is not signed"),
            Divergence::BadSignature { seq } => {
                write!(
                    f,
                    "seal {seq}'s signature does not verify with the given key"
                )
            }
            Divergence::PruneRecordNotSealed { id, events } => write!(
                f,
                "{events} sealed event(s) are gone, and prune record {id}, which would explain \
                 them, is not sealed itself: seal the log, then verify again"
            ),
            Divergence::PruneRecordMismatch { id } => write!(
                f,
                "prune record {id} does not match the sealed events missing in its range: \
                 events were deleted that its prune did not delete"
            ),
            Divergence::ErasureNotRecorded { id, slot } => write!(
                f,
                "event {id}'s `{slot}` was replaced by its hash, and no erasure record lists it"
            ),
            Divergence::ErasureNotApplied { record, id } => write!(
                f,
                "erasure record {record} lists a value of event {id} that is not erased"
            ),
            Divergence::HeadNotReached { seq } => write!(
                f,
                "the database does not reach the head kept elsewhere (seal {seq}): the chain was rewritten"
            ),
        }
    }
}
