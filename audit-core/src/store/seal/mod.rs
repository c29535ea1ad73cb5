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

mod encoding;
mod key;
mod rows;
mod verify;

pub use key::{SealKey, SealKeyError};
pub use verify::{Divergence, VerifyOptions, VerifyReport};

use serde::{Deserialize, Serialize};

use self::encoding::{ENCODING, SealFields, extend, genesis, hash_event, hash_seal};
use self::rows::events_after;
use super::auditor::Auditor;
use super::error::{AuditError, classify};
use super::position::Position;
use crate::backend::{Db, Tx};
use crate::on_backend;

/// The most events one seal covers; [`Auditor::seal`] makes as many seals
/// as the unsealed part of the log needs.
const MAX_EVENTS_PER_SEAL: usize = 100_000;

/// The advisory lock that serializes sealing on PostgreSQL.
const SEAL_LOCK: i64 = 4_242_424_244;

/// The latest seal, in the form to keep outside the database: with it,
/// [`Auditor::verify`] tells whether the database still reaches the chain
/// it had (a log rebuilt from scratch does not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Head {
    /// The log's id (its anchor's command id).
    pub log_id: String,
    /// The seal's sequence number (1, 2, ...).
    pub seq: i64,
    /// The last position it covers.
    pub last_position: String,
    /// How many events the chain covers up to it, from the first seal.
    pub events: i64,
    /// The chain's value after its last event (hex).
    pub chain_hash: String,
    /// The seal's hash (hex).
    pub seal_hash: String,
    /// The signing key's id, if signed.
    pub key_id: Option<String>,
    /// The Ed25519 signature of the seal's hash (hex), if signed.
    pub signature: Option<String>,
}

/// What [`Auditor::seal`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SealReport {
    /// Seals made (0 when nothing new was stable).
    pub seals: usize,
    /// Events they cover.
    pub events: u64,
    /// The latest seal, made now or before; `None` while the log has none.
    pub head: Option<Head>,
}

/// One stored seal.
#[derive(Debug, Clone)]
pub(crate) struct SealRow {
    pub seq: i64,
    pub encoding: i64,
    pub first: Position,
    pub last: Position,
    pub count: i64,
    pub chain_hash: String,
    pub prev_seal_hash: String,
    pub seal_hash: String,
    pub sealed_at: i64,
    pub key_id: Option<String>,
    pub signature: Option<String>,
}

impl SealRow {
    /// The fields its hash commits to.
    fn fields(&self) -> SealFields<'_> {
        SealFields {
            seq: self.seq,
            first: (self.first.tx(), self.first.id()),
            last: (self.last.tx(), self.last.id()),
            count: self.count,
            chain: &self.chain_hash,
            prev: &self.prev_seal_hash,
            sealed_at: self.sealed_at,
        }
    }
}

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

/// Writes seal entries, a multi-row INSERT per 500 (6 values each).
async fn write_entries(
    mut db: Db<'_>,
    seq: i64,
    entries: &[(Position, i64, String, String)],
) -> Result<(), AuditError> {
    for chunk in entries.chunks(500) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = i * 6;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_seal_entries (seal_seq, tx, id, occurred_at, event_hash, \
             column_tags) VALUES {}",
            rows.join(", ")
        );
        on_backend!(db.reborrow(), conn => {
            // Our own statement with numbered placeholders; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (position, occurred_at, hash, tags) in chunk {
                query = query
                    .bind(seq)
                    .bind(position.tx())
                    .bind(position.id())
                    .bind(*occurred_at)
                    .bind(hash.clone())
                    .bind(tags.clone());
            }
            query.execute(conn).await.map_err(classify)?;
        });
    }
    Ok(())
}

/// Stores `seal`.
async fn insert_seal(db: Db<'_>, seal: &SealRow) -> Result<(), AuditError> {
    const SQL: &str = "INSERT INTO audit_seals (seq, encoding, first_tx, first_id, last_tx, \
        last_id, event_count, chain_hash, prev_seal_hash, seal_hash, sealed_at, key_id, signature) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    on_backend!(db, conn => {
        sqlx::query(SQL)
            .bind(seal.seq)
            .bind(seal.encoding)
            .bind(seal.first.tx())
            .bind(seal.first.id())
            .bind(seal.last.tx())
            .bind(seal.last.id())
            .bind(seal.count)
            .bind(seal.chain_hash.as_str())
            .bind(seal.prev_seal_hash.as_str())
            .bind(seal.seal_hash.as_str())
            .bind(seal.sealed_at)
            .bind(seal.key_id.as_deref())
            .bind(seal.signature.as_deref())
            .execute(conn)
            .await
            .map_err(classify)?;
    });
    Ok(())
}

/// The columns of a stored seal, in [`SealRow`] order.
const SEAL_COLUMNS: &str = "seq, encoding, first_tx, first_id, last_tx, last_id, event_count, \
    chain_hash, prev_seal_hash, seal_hash, sealed_at, key_id, signature";

type SealTuple = (
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
);

fn seal_row(t: SealTuple) -> SealRow {
    SealRow {
        seq: t.0,
        encoding: t.1,
        first: Position::new(t.2, t.3),
        last: Position::new(t.4, t.5),
        count: t.6,
        chain_hash: t.7,
        prev_seal_hash: t.8,
        seal_hash: t.9,
        sealed_at: t.10,
        key_id: t.11,
        signature: t.12,
    }
}

/// The latest seal, if any.
async fn latest_seal(db: Db<'_>) -> Result<Option<SealRow>, AuditError> {
    let sql = format!("SELECT {SEAL_COLUMNS} FROM audit_seals ORDER BY seq DESC LIMIT 1");
    let row: Option<SealTuple> = on_backend!(db, conn => {
        // A constant statement of our own.
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_optional(conn).await.map_err(classify)?
    });
    Ok(row.map(seal_row))
}

/// Every seal, in order.
pub(crate) async fn all_seals(db: Db<'_>) -> Result<Vec<SealRow>, AuditError> {
    let sql = format!("SELECT {SEAL_COLUMNS} FROM audit_seals ORDER BY seq");
    let rows: Vec<SealTuple> = on_backend!(db, conn => {
        // A constant statement of our own.
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(conn).await.map_err(classify)?
    });
    Ok(rows.into_iter().map(seal_row).collect())
}

/// The log's id, from `audit_log_identity`.
pub(crate) async fn log_id(db: Db<'_>) -> Result<String, AuditError> {
    let id: Option<String> = on_backend!(db, conn => {
        sqlx::query_scalar("SELECT log_id FROM audit_log_identity")
            .fetch_optional(conn)
            .await
            .map_err(classify)?
    });
    id.ok_or_else(|| AuditError::SchemaDamaged {
        problems: vec!["the log's identity is lost".into()],
    })
}

/// `seal` as a head, with the count of events sealed up to it.
async fn head_of(log_id: &str, seal: &SealRow, auditor: &Auditor) -> Result<Head, AuditError> {
    let events: i64 = on_backend!(auditor.pool(), pool => {
        sqlx::query_scalar("SELECT CAST(COALESCE(SUM(event_count), 0) AS BIGINT) FROM audit_seals WHERE seq <= $1")
            .bind(seal.seq)
            .fetch_one(pool)
            .await?
    });
    Ok(Head {
        log_id: log_id.to_owned(),
        seq: seal.seq,
        last_position: seal.last.to_string(),
        events,
        chain_hash: seal.chain_hash.clone(),
        seal_hash: seal.seal_hash.clone(),
        key_id: seal.key_id.clone(),
        signature: seal.signature.clone(),
    })
}

/// A hash from its hex form.
fn from_hex(text: &str) -> Result<encoding::Hash, AuditError> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash).map_err(|_| AuditError::SchemaDamaged {
        problems: vec![format!("a stored seal hash is not a hash: `{text}`")],
    })?;
    Ok(hash)
}
