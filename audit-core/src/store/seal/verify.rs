//! Verification: recompute every seal from the stored seals, their entries
//! and the events, and name the first place each diverges.

use std::borrow::Cow;

use super::divergence::Divergence;
use super::encoding::{ENCODING, TAG_BYTES, extend, genesis, hash_event, hash_seal, value_names};
use super::erasures::{Erasure, Erasures};
use super::hashing::{self, Hashed};
use super::head::Head;
use super::key::{PublicKey, SealKeyError};
use super::pruned::PruneRecords;
use super::raw::{Entry, RawEvent};
use super::rows::{entries_after, events_after};
use super::stored::{SealRow, all_seals, from_hex, log_id};
use crate::backend::Db;
use crate::on_backend;
use crate::store::auditor::Auditor;
use crate::store::error::AuditError;
use crate::store::position::Position;
use crate::store::table::events_table;

/// What [`Auditor::verify`] checks beyond the database itself.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct VerifyOptions {
    against: Option<Head>,
    public_key: Option<PublicKey>,
}

impl VerifyOptions {
    /// Only what the database holds.
    pub fn new() -> Self {
        VerifyOptions::default()
    }

    /// Also check that the database still reaches `head`, a head exported
    /// earlier and kept elsewhere: a log rebuilt from scratch does not.
    pub fn against(mut self, head: Head) -> Self {
        self.against = Some(head);
        self
    }

    /// Also require every seal to be signed by the key whose public half is
    /// `hex` (64 hex digits).
    pub fn public_key(mut self, hex: &str) -> Result<Self, SealKeyError> {
        self.public_key = Some(PublicKey::from_hex(hex)?);
        Ok(self)
    }
}

/// What [`Auditor::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct VerifyReport {
    /// Seals checked.
    pub seals: usize,
    /// Sealed events checked against their entries.
    pub events: u64,
    /// Sealed events missing because a recorded prune deleted them.
    pub pruned: u64,
    /// Each erasure the log records, with how many values it erased
    /// ([`Auditor::erase`]); their values verify as their commitments.
    pub erasures: Vec<Erasure>,
    /// Everything that differs, in log order.
    pub divergences: Vec<Divergence>,
}

impl VerifyReport {
    /// Whether everything checked.
    pub fn is_intact(&self) -> bool {
        self.divergences.is_empty()
    }
}

impl Auditor {
    /// Recomputes the chain of seals from the events and reports every
    /// divergence: an edited event (and which value), a deleted, replaced or
    /// inserted one, a missing or altered seal, entries that do not give
    /// their seal, a missing or bad signature (with
    /// [`VerifyOptions::public_key`]), and a head kept elsewhere that the
    /// database no longer reaches ([`VerifyOptions::against`]).
    ///
    /// Events after the last seal (the unsealed window) are not checked;
    /// seal often. Events a recorded prune deleted are counted as pruned.
    /// Whoever holds both the database and the signing key can rewrite the
    /// log and its seals undetectably, unless a head was kept elsewhere.
    #[tracing::instrument(name = "audit.verify", skip_all, fields(backend = self.backend().name()))]
    pub async fn verify(&self, options: &VerifyOptions) -> Result<VerifyReport, AuditError> {
        let mut conn = self.pool().acquire().await?;
        let log_id = log_id(conn.db()).await?;
        let seals = all_seals(conn.db()).await?;
        let mut report = VerifyReport {
            seals: seals.len(),
            ..VerifyReport::default()
        };
        check_seals(&log_id, &seals, options, &mut report.divergences)?;
        if let Some(head) = &options.against {
            let reached = head.log_id == log_id
                && seals
                    .iter()
                    .any(|s| s.seq == head.seq && s.seal_hash == head.seal_hash);
            if !reached {
                report
                    .divergences
                    .push(Divergence::HeadNotReached { seq: head.seq });
            }
        }
        let records = PruneRecords::read(conn.db()).await?;
        let mut erasures = Erasures::read(conn.db()).await?;
        check_events(
            conn.db(),
            &log_id,
            &seals,
            records,
            &mut erasures,
            &mut report,
        )
        .await?;
        report.erasures = erasures.settle(&mut report.divergences);
        Ok(report)
    }
}

/// Each seal follows the one before, gives its own hash, and is signed when
/// a key is asked for.
fn check_seals(
    log_id: &str,
    seals: &[SealRow],
    options: &VerifyOptions,
    divergences: &mut Vec<Divergence>,
) -> Result<(), AuditError> {
    let mut prev = hex::encode(genesis(log_id));
    for (n, seal) in seals.iter().enumerate() {
        let expected_seq = n as i64 + 1;
        if seal.seq != expected_seq {
            divergences.push(Divergence::SealMissing { seq: expected_seq });
        }
        if seal.prev_seal_hash != prev {
            divergences.push(Divergence::SealChainBroken { seq: seal.seq });
        }
        let hash = hash_seal(&seal.fields());
        if hex::encode(hash) != seal.seal_hash {
            divergences.push(Divergence::SealAltered { seq: seal.seq });
        }
        if let Some(key) = &options.public_key {
            match &seal.signature {
                None => divergences.push(Divergence::Unsigned { seq: seal.seq }),
                Some(signature) => {
                    let signed = from_hex(&seal.seal_hash)?;
                    let by_key = seal.key_id.as_deref() == Some(key.key_id().as_str());
                    if !by_key || !key.verifies(&signed, signature) {
                        divergences.push(Divergence::BadSignature { seq: seal.seq });
                    }
                }
            }
        }
        prev = seal.seal_hash.clone();
    }
    Ok(())
}

/// Walks the entries and the events in position order, together, and
/// checks each sealed event and each seal's chain.
async fn check_events(
    mut db: Db<'_>,
    log_id: &str,
    seals: &[SealRow],
    mut records: PruneRecords,
    erasures: &mut Erasures,
    report: &mut VerifyReport,
) -> Result<(), AuditError> {
    let Some(last_sealed) = seals.last().map(|s| s.last) else {
        return Ok(());
    };
    let mut chain = genesis(log_id);
    let mut seal_index = 0;
    let mut count = 0i64;
    let mut entries_from = Position::START;
    let mut events_from = Position::START;
    let mut deleted = Vec::new();
    loop {
        let entries = entries_after(db.reborrow(), entries_from).await?;
        let window_end = entries.last().map_or(last_sealed, |e| e.position);
        let events = events_until(db.reborrow(), events_from, window_end).await?;
        events_from = window_end;
        // Hashed under the current encoding on every core; an event sealed
        // with another is hashed again when compared.
        let hashed = hashing::finish(hashing::start(events, ENCODING)).await;
        let mut events = hashed.into_iter().peekable();
        for entry in &entries {
            while let Some(Hashed { event, .. }) =
                events.next_if(|e| e.event.position < entry.position)
            {
                report.divergences.push(Divergence::EventInserted {
                    id: event.position.id(),
                });
            }
            match events.next_if(|e| e.event.position == entry.position) {
                Some(event) => {
                    report.events += 1;
                    let encoding = seals
                        .get(seal_index)
                        .filter(|seal| seal.seq == entry.seal_seq)
                        .or_else(|| seals.iter().find(|seal| seal.seq == entry.seal_seq))
                        .map_or(ENCODING, |seal| seal.encoding);
                    let intact = compare(entry, &event, encoding, &mut report.divergences);
                    erasures.sealed(&event.event);
                    if intact {
                        records.sealed_intact(entry.position);
                    }
                }
                // Explained, or not, once every record is known (`settle`).
                None if records.explain(entry) => {}
                None => deleted.push(entry.position.id()),
            }
            let in_its_seal = seals
                .get(seal_index)
                .is_some_and(|seal| seal.seq == entry.seal_seq);
            if !in_its_seal {
                report.divergences.push(Divergence::EntriesAltered {
                    seq: entry.seal_seq,
                });
            }
            // The chain as the seals made it, from their entries.
            let event_hash = from_hex(&entry.event_hash).unwrap_or([0; 32]);
            chain = extend(&chain, &event_hash);
            count += 1;
            while let Some(seal) = seals.get(seal_index) {
                if entry.position < seal.last {
                    break;
                }
                if entry.position > seal.last
                    || hex::encode(chain) != seal.chain_hash
                    || count != seal.count
                {
                    report
                        .divergences
                        .push(Divergence::EntriesAltered { seq: seal.seq });
                }
                // Go on from the seal's own chain, so one bad seal does not
                // make every later one look bad.
                chain = from_hex(&seal.chain_hash).unwrap_or(chain);
                count = 0;
                seal_index += 1;
            }
        }
        for Hashed { event, .. } in events {
            report.divergences.push(Divergence::EventInserted {
                id: event.position.id(),
            });
        }
        match entries.last() {
            Some(last) => entries_from = last.position,
            None => break,
        }
    }
    for seal in &seals[seal_index.min(seals.len())..] {
        report
            .divergences
            .push(Divergence::EntriesAltered { seq: seal.seq });
    }
    report.pruned += records.settle(&mut deleted, &mut report.divergences);
    deleted.sort_unstable();
    for id in deleted {
        let again: i64 = on_backend!(db.reborrow(), conn => {
            sqlx::query_scalar(concat!("SELECT COUNT(*) FROM ", events_table!(), " WHERE id = $1"))
                .bind(id)
                .fetch_one(conn)
                .await?
        });
        report.divergences.push(if again > 0 {
            Divergence::EventReplaced { id }
        } else {
            Divergence::EventDeleted { id }
        });
    }
    Ok(())
}

/// Every event after `after` up to `until`, in position order.
async fn events_until(
    mut db: Db<'_>,
    mut after: Position,
    until: Position,
) -> Result<Vec<RawEvent>, AuditError> {
    let mut all = Vec::new();
    loop {
        let chunk = events_after(db.reborrow(), after, Some(until)).await?;
        match chunk.last() {
            Some(last) => after = last.position,
            None => return Ok(all),
        }
        all.extend(chunk);
    }
}

/// One sealed event against its entry: whether it gives the entry's hash;
/// otherwise the first value that differs goes to `divergences`.
fn compare(
    entry: &Entry,
    hashed: &Hashed,
    encoding: i64,
    divergences: &mut Vec<Divergence>,
) -> bool {
    let event = &hashed.event;
    let (hash, tags) = if encoding == ENCODING {
        (hashed.hash, Cow::Borrowed(&hashed.tags[..]))
    } else {
        let (hash, tags) = hash_event(&event.values, encoding);
        (hash, Cow::Owned(tags))
    };
    if hex::encode(hash) == entry.event_hash {
        return true;
    }
    let stored = hex::decode(&entry.column_tags).unwrap_or_default();
    let column = value_names()
        .enumerate()
        .find(|(i, _)| {
            let range = i * TAG_BYTES..(i + 1) * TAG_BYTES;
            stored.get(range.clone()) != tags.get(range)
        })
        .map_or("unknown", |(_, name)| name);
    divergences.push(Divergence::EventEdited {
        id: event.position.id(),
        column,
    });
    false
}
