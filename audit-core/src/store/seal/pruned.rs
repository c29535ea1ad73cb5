//! Which missing sealed events a prune explains. A prune record
//! (`audit:log_pruned`) explains a sealed event that is gone only when:
//!
//! - the record comes after the event in the log (it was written by the
//!   prune that deleted it, or later), and the event occurred before the
//!   record's cutoff, itself not after the record's own time;
//! - the record's range (version 2: its first and last deleted position)
//!   holds the event's position; a record of version 1 (before ranges) has
//!   no range, and is trusted by its cutoff alone;
//! - the record is itself sealed and intact (its seal entry gives its
//!   hash): a record written after the last seal explains nothing yet;
//! - (version 2) the sealed events it explains are exactly as many as it
//!   says, and their entries' hashes give its digest.
//!
//! Each missing event goes to the first record, in log order, that may
//! explain it: a prune deletes every event before its cutoff in its range,
//! so a later one never deletes an event an earlier one's range and cutoff
//! cover. A record that fails its checks explains nothing, and says why
//! (`Divergence::PruneRecordNotSealed`, `Divergence::PruneRecordMismatch`).

use sha2::{Digest, Sha256};

use super::divergence::Divergence;
use super::raw::Entry;
use crate::backend::Db;
use crate::on_backend;
use crate::store::error::AuditError;
use crate::store::position::Position;
use crate::store::table::{EVENTS_TABLE, PRUNED_EVENT_CODE};

/// What one record says it deleted.
#[derive(Debug)]
enum Claim {
    /// Version 1: events before the cutoff, anywhere before the record.
    Cutoff,
    /// Version 2: events before the cutoff within a range, and of the
    /// sealed ones, how many and their digest.
    Range {
        first: Position,
        last: Position,
        sealed: i64,
        digest: String,
    },
}

/// One prune record and the missing events it explains so far.
#[derive(Debug)]
struct Record {
    id: i64,
    position: Position,
    before: i64,
    claim: Claim,
    /// Whether its own seal entry gave its hash.
    sealed: bool,
    explained: Vec<i64>,
    hasher: Sha256,
}

/// The prune records of the log, in log order, and what they explain.
#[derive(Debug, Default)]
pub(super) struct PruneRecords {
    records: Vec<Record>,
}

impl PruneRecords {
    /// Reads every prune record of the log. A record whose payload cannot
    /// be read explains nothing.
    pub(super) async fn read(db: Db<'_>) -> Result<Self, AuditError> {
        let dialect = db.backend().dialect();
        let sql = format!(
            "SELECT id, {} AS position_tx, occurred_at, payload_version, {} FROM {EVENTS_TABLE} \
             WHERE event_type = $1",
            dialect.position_tx, dialect.payload_as_text
        );
        let rows: Vec<(i64, i64, i64, i64, String)> = on_backend!(db, conn => {
            // Our own statement; the code is bound.
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(PRUNED_EVENT_CODE)
                .fetch_all(conn)
                .await?
        });
        let mut records: Vec<Record> = rows
            .into_iter()
            .filter_map(|(id, tx, occurred_at, version, payload)| {
                let payload: serde_json::Value = serde_json::from_str(&payload).ok()?;
                let (before, claim) = match version {
                    1 => (before_of(&payload)?, Claim::Cutoff),
                    2 => (payload["before_micros"].as_i64()?, range_of(&payload)?),
                    _ => return None,
                };
                (before <= occurred_at).then(|| Record {
                    id,
                    position: Position::new(tx, id),
                    before,
                    claim,
                    sealed: false,
                    explained: Vec::new(),
                    hasher: Sha256::new(),
                })
            })
            .collect();
        records.sort_by_key(|r| r.position);
        Ok(PruneRecords { records })
    }

    /// The event at `position` is sealed, and its entry gave its hash: if
    /// it is a prune record, it may explain what it deleted. (Called for
    /// every sealed event: a binary search of the records, in log order.)
    pub(super) fn sealed_intact(&mut self, position: Position) {
        if let Ok(found) = self.records.binary_search_by_key(&position, |r| r.position) {
            self.records[found].sealed = true;
        }
    }

    /// Gives a missing sealed event to the first record that may explain
    /// it; false when none may. Only records after it may, so the search
    /// starts there.
    pub(super) fn explain(&mut self, entry: &Entry) -> bool {
        let position = entry.position;
        let later = self.records.partition_point(|r| r.position <= position);
        let record = self.records[later..].iter_mut().find(|r| {
            entry.occurred_at < r.before
                && match &r.claim {
                    Claim::Cutoff => true,
                    Claim::Range { first, last, .. } => *first <= position && position <= *last,
                }
        });
        match record {
            Some(record) => {
                record.explained.push(position.id());
                record.hasher.update(entry.event_hash.as_bytes());
                true
            }
            None => false,
        }
    }

    /// The number of events the records explain, after their checks; each
    /// failure goes to `divergences`, and the ids of the events a sealed
    /// record fails to explain to `deleted`. (A record not sealed yet is one
    /// divergence, however many events it would explain.)
    pub(super) fn settle(self, deleted: &mut Vec<i64>, divergences: &mut Vec<Divergence>) -> u64 {
        let mut pruned = 0;
        for record in self.records {
            let count = record.explained.len() as i64;
            if !record.sealed {
                // One divergence for the record, not one per event: the
                // usual case is a prune not sealed yet.
                if count > 0 {
                    divergences.push(Divergence::PruneRecordNotSealed {
                        id: record.id,
                        events: count as u64,
                    });
                }
                continue;
            }
            let matches = match &record.claim {
                Claim::Cutoff => true,
                Claim::Range { sealed, digest, .. } => {
                    *sealed == count && *digest == hex::encode(record.hasher.finalize())
                }
            };
            if matches {
                pruned += count as u64;
            } else {
                divergences.push(Divergence::PruneRecordMismatch { id: record.id });
                deleted.extend(record.explained);
            }
        }
        pruned
    }
}

/// A version-1 record's cutoff: its `before`, an RFC 3339 time.
fn before_of(payload: &serde_json::Value) -> Option<i64> {
    let before = payload["before"].as_str()?;
    Some(
        chrono::DateTime::parse_from_rfc3339(before)
            .ok()?
            .timestamp_micros(),
    )
}

/// A version-2 record's claim; a record that deleted nothing has no range
/// (and explains nothing).
fn range_of(payload: &serde_json::Value) -> Option<Claim> {
    let position = |key: &str| {
        let pair = payload[key].as_array()?;
        match pair.as_slice() {
            [tx, id] => Some(Position::new(tx.as_i64()?, id.as_i64()?)),
            _ => None,
        }
    };
    Some(Claim::Range {
        first: position("first")?,
        last: position("last")?,
        sealed: payload["sealed"].as_i64()?,
        digest: payload["sealed_digest"].as_str()?.to_owned(),
    })
}
