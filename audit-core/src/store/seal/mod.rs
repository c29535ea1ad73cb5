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
//! all of it. What it does and does not catch is in README.md, "Is my log
//! intact?".

mod divergence;
mod encoding;
mod head;
mod key;
mod rows;
mod stored;
mod verify;

pub use divergence::Divergence;
pub use key::{SealKey, SealKeyError};
pub use verify::{VerifyOptions, VerifyReport};

use self::encoding::{ENCODING, extend, genesis, hash_event, hash_seal};
use self::head::head_of;
pub use self::head::{Head, SealReport};
use self::rows::events_after;
use self::stored::{SealRow, from_hex, insert_seal, latest_seal, log_id, write_entries};
use super::auditor::Auditor;
use super::error::AuditError;
use super::position::Position;
use crate::backend::{Db, Tx};

/// The most events one seal covers; [`Auditor::seal`] makes as many seals
/// as the unsealed part of the log needs.
const MAX_EVENTS_PER_SEAL: usize = 100_000;

/// The advisory lock that serializes sealing on PostgreSQL.
const SEAL_LOCK: i64 = 4_242_424_244;

impl Auditor {
    /// Seals the stable events not yet sealed (as many seals as needed, each
    /// at most 100,000 events), signing each seal with `key` if given, and
    /// returns the new head. Runs after commit, never on the write path;
    /// concurrent calls take turns. Signing needs the key only here: keep it
    /// out of the database (a key file or an environment variable).
    pub async fn seal(&self, key: Option<&SealKey>) -> Result<SealReport, AuditError> {
        let mut report = SealReport {
            seals: 0,
            events: 0,
            head: None,
        };
        loop {
            let mut tx = self.begin_sealing().await?;
            let log_id = log_id(tx.db()).await?;
            let last = latest_seal(tx.db()).await?;
            match seal_once(&mut tx, &log_id, last.as_ref(), key).await? {
                Some((seal, count)) => {
                    tx.commit().await?;
                    report.seals += 1;
                    report.events += count as u64;
                    report.head = Some(head_of(&log_id, &seal, self).await?);
                    if count < MAX_EVENTS_PER_SEAL {
                        return Ok(report);
                    }
                }
                None => {
                    tx.rollback().await?;
                    if report.head.is_none() {
                        report.head = match last {
                            Some(seal) => Some(head_of(&log_id, &seal, self).await?),
                            None => None,
                        };
                    }
                    return Ok(report);
                }
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

    /// A write transaction holding the sealing lock.
    async fn begin_sealing(&self) -> Result<Tx, AuditError> {
        let mut tx = self.begin_tx().await?;
        if let Db::Postgres(conn) = tx.db() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SEAL_LOCK)
                .execute(conn)
                .await?;
        }
        Ok(tx)
    }
}

/// Makes one seal over up to [`MAX_EVENTS_PER_SEAL`] stable events after
/// `last`; `None` when there are none.
async fn seal_once(
    tx: &mut Tx,
    log_id: &str,
    last: Option<&SealRow>,
    key: Option<&SealKey>,
) -> Result<Option<(SealRow, usize)>, AuditError> {
    let start = last.map_or(Position::START, |s| s.last);
    let mut chain = match last {
        Some(seal) => from_hex(&seal.chain_hash)?,
        None => genesis(log_id),
    };
    let seq = last.map_or(1, |s| s.seq + 1);
    let mut after = start;
    let mut first = None;
    let mut count = 0usize;
    let mut entries = Vec::new();
    while count < MAX_EVENTS_PER_SEAL {
        let events = events_after(tx.db(), after, None).await?;
        if events.is_empty() {
            break;
        }
        for event in events.iter().take(MAX_EVENTS_PER_SEAL - count) {
            let (hash, tags) = hash_event(&event.values);
            chain = extend(&chain, &hash);
            first.get_or_insert(event.position);
            after = event.position;
            count += 1;
            entries.push((
                event.position,
                event.occurred_at,
                hex::encode(hash),
                hex::encode(tags),
            ));
        }
        if entries.len() >= 2_000 || count >= MAX_EVENTS_PER_SEAL {
            write_entries(tx.db(), seq, &std::mem::take(&mut entries)).await?;
        }
    }
    let Some(first) = first else {
        return Ok(None);
    };
    write_entries(tx.db(), seq, &entries).await?;
    let prev = match last {
        Some(seal) => seal.seal_hash.clone(),
        None => hex::encode(genesis(log_id)),
    };
    let mut seal = SealRow {
        seq,
        encoding: ENCODING,
        first,
        last: after,
        count: count as i64,
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
    insert_seal(tx.db(), &seal).await?;
    Ok(Some((seal, count)))
}
