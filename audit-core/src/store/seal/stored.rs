//! The seal tables: writing seals and their entries, reading them back.

use super::encoding::{self, SealFields};
use crate::backend::Db;
use crate::on_backend;
use crate::store::backends::with_storage;
use crate::store::error::{AuditError, classify};
use crate::store::position::Position;

/// Writes seal entries: one statement per 5,000, each backend binding them
/// its own way (`Storage::insert_seal_entries`).
pub(super) async fn write_entries(
    mut db: Db<'_>,
    seq: i64,
    entries: &[(Position, i64, String, String)],
) -> Result<(), AuditError> {
    for chunk in entries.chunks(5_000) {
        with_storage!(db.reborrow(), conn, S => S::insert_seal_entries(conn, seq, chunk).await)?;
    }
    Ok(())
}

/// Stores `seal`.
pub(super) async fn insert_seal(db: Db<'_>, seal: &SealRow) -> Result<(), AuditError> {
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
pub(super) async fn latest_seal(db: Db<'_>) -> Result<Option<SealRow>, AuditError> {
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
    pub(super) fn fields(&self) -> SealFields<'_> {
        SealFields {
            seq: self.seq,
            encoding: self.encoding,
            first: (self.first.tx(), self.first.id()),
            last: (self.last.tx(), self.last.id()),
            count: self.count,
            chain: &self.chain_hash,
            prev: &self.prev_seal_hash,
            sealed_at: self.sealed_at,
        }
    }
}

/// A hash from its hex form.
pub(super) fn from_hex(text: &str) -> Result<encoding::Hash, AuditError> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash).map_err(|_| AuditError::SchemaDamaged {
        problems: vec![format!("a stored seal hash is not a hash: `{text}`")],
    })?;
    Ok(hash)
}
