//! Seals (G11): a hash chain over the stable part of the log, built after
//! commit so the write path stays free, optionally signed with a key the
//! database never sees, and a head to keep elsewhere.
//!
//! Each seal covers the events after the previous seal's last position, up
//! to the stable end of the log (see `position.rs`), in position order. It
//! records, per event, the event's hash and the leading bytes of each
//! value's hash (`audit_seal_entries`), and for itself the range, the count,
//! the chain's value after its last event, the previous seal's hash and its
//! own (`audit_seals`); both tables are append-only. `verify.rs` recomputes
//! all of it. What it does and does not catch is in the docs of the public
//! `seals` module (`src/seals.rs`), "Is my log intact?".

pub(crate) mod canonical;
mod divergence;
pub(crate) mod encoding;
mod erasures;
mod hashing;
mod head;
mod key;
mod pruned;
pub(crate) mod raw;
pub(crate) mod rows;
mod stored;
mod verify;

pub use divergence::Divergence;
pub use erasures::Erasure;
pub use key::{SealKey, SealKeyError};
pub use verify::{VerifyOptions, VerifyReport};

use self::encoding::{ENCODING, Hash, extend, genesis, hash_seal};
use self::head::head_of;
pub use self::head::{Head, SealReport};
use self::rows::events_after;
use self::stored::{SealRow, from_hex, insert_seal, latest_seal, log_id, write_entries};
use super::auditor::Auditor;
use super::error::AuditError;
use super::position::Position;
use crate::backend::Db;

/// The most events one seal covers; [`Auditor::seal`] makes as many seals
/// as the unsealed part of the log needs. Kept small so that each seal's
/// write transaction (SQLite's one write lock) is short.
const MAX_EVENTS_PER_SEAL: usize = 10_000;

/// The advisory lock that serializes sealing on PostgreSQL.
const SEAL_LOCK: i64 = 4_242_424_244;

/// A seal made, not yet written: its row and its entries.
struct Prepared {
    seal: SealRow,
    entries: Vec<(Position, i64, String, String)>,
}

impl Auditor {
    /// Seals the stable events not yet sealed (as many seals as needed, each
    /// at most 10,000 events), signing each seal with `key` if given, and
    /// returns the new head. Runs after commit, never on the write path:
    /// events are read and hashed outside any write transaction, which is
    /// then held only to write the entries and the seal (so writers are
    /// held up as little as SQLite's one write lock allows). Concurrent
    /// calls take turns; one that finds another's seal written meanwhile
    /// starts again from it. Signing needs the key only here: keep it out of
    /// the database (a key file or an environment variable).
    ///
    /// Every committed event is sealed, in position order (commit order,
    /// see [`Auditor::read_after`]). A transaction that holds other
    /// writers' commits up (PostgreSQL), seen as the call ends, is named by
    /// [`SealReport::held_back`].
    #[tracing::instrument(
        name = "audit.seal",
        skip_all,
        fields(backend = self.backend().name(), signed = key.is_some())
    )]
    pub async fn seal(&self, key: Option<&SealKey>) -> Result<SealReport, AuditError> {
        let mut report = SealReport {
            seals: 0,
            events: 0,
            head: None,
            held_back: None,
        };
        loop {
            let (log_id, last, prepared) = {
                let mut conn = self.pool().acquire().await?;
                let log_id = log_id(conn.db()).await?;
                let last = latest_seal(conn.db()).await?;
                let prepared = prepare(conn.db(), &log_id, last.as_ref(), key).await?;
                (log_id, last, prepared)
            };
            let Some(prepared) = prepared else {
                if report.head.is_none()
                    && let Some(seal) = &last
                {
                    report.head = Some(head_of(&log_id, seal, self).await?);
                }
                report.held_back = self.held_back().await?;
                return Ok(report);
            };
            let mut tx = self.begin_locked(SEAL_LOCK).await?;
            let still_last = latest_seal(tx.db()).await?.map(|s| s.seq);
            if still_last != last.as_ref().map(|s| s.seq) {
                // Another sealer went first: start again from its seal.
                tx.rollback().await?;
                continue;
            }
            write_entries(tx.db(), prepared.seal.seq, &prepared.entries).await?;
            insert_seal(tx.db(), &prepared.seal).await?;
            tx.commit().await?;
            let count = prepared.entries.len();
            report.seals += 1;
            report.events += count as u64;
            report.head = Some(head_of(&log_id, &prepared.seal, self).await?);
            if count < MAX_EVENTS_PER_SEAL {
                report.held_back = self.held_back().await?;
                return Ok(report);
            }
        }
    }

    /// The latest seal as a [`Head`], to keep outside the database.
    pub async fn head(&self) -> Result<Option<Head>, AuditError> {
        let mut conn = self.pool().acquire().await?;
        let log_id = log_id(conn.db()).await?;
        let Some(seal) = latest_seal(conn.db()).await? else {
            return Ok(None);
        };
        Ok(Some(head_of(&log_id, &seal, self).await?))
    }
}

/// Extends `chain` with each of `hashed`, in order, and makes their entries.
fn add_entries(
    entries: &mut Vec<(Position, i64, String, String)>,
    chain: &mut Hash,
    hashed: Vec<hashing::Hashed>,
) {
    for hashing::Hashed { event, hash, tags } in hashed {
        *chain = extend(chain, &hash);
        entries.push((
            event.position,
            event.occurred_at,
            hex::encode(hash),
            hex::encode(tags),
        ));
    }
}

/// Reads and hashes up to [`MAX_EVENTS_PER_SEAL`] stable events after
/// `last` and makes their seal, without writing anything; `None` when there
/// are none.
async fn prepare(
    mut db: Db<'_>,
    log_id: &str,
    last: Option<&SealRow>,
    key: Option<&SealKey>,
) -> Result<Option<Prepared>, AuditError> {
    let start = last.map_or(Position::START, |s| s.last);
    let mut chain = match last {
        Some(seal) => from_hex(&seal.chain_hash)?,
        None => genesis(log_id),
    };
    let seq = last.map_or(1, |s| s.seq + 1);
    let mut after = start;
    let mut read = 0;
    let mut entries = Vec::new();
    // Each chunk is hashed while the next is read.
    let mut hashing = None;
    while read < MAX_EVENTS_PER_SEAL {
        let mut events = events_after(db.reborrow(), after, None).await?;
        events.truncate(MAX_EVENTS_PER_SEAL - read);
        let Some(last) = events.last() else {
            break;
        };
        after = last.position;
        read += events.len();
        let previous = hashing.replace(hashing::start(events, ENCODING));
        if let Some(previous) = previous {
            add_entries(&mut entries, &mut chain, hashing::finish(previous).await);
        }
    }
    if let Some(last) = hashing {
        add_entries(&mut entries, &mut chain, hashing::finish(last).await);
    }
    let Some(first) = entries.first().map(|(position, ..)| *position) else {
        return Ok(None);
    };
    let prev = match last {
        Some(seal) => seal.seal_hash.clone(),
        None => hex::encode(genesis(log_id)),
    };
    let mut seal = SealRow {
        seq,
        encoding: ENCODING,
        first,
        last: after,
        count: entries.len() as i64,
        chain_hash: hex::encode(chain),
        prev_seal_hash: prev,
        seal_hash: String::new(),
        sealed_at: chrono::Utc::now().timestamp_micros(),
        key_id: key.map(SealKey::key_id),
        signature: None,
    };
    let hash = hash_seal(&seal.fields());
    seal.seal_hash = hex::encode(hash);
    seal.signature = key.map(|k| k.sign(&hash));
    Ok(Some(Prepared { seal, entries }))
}
