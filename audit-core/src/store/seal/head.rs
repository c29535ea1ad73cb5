//! The head: the latest seal, in the form to keep outside the database.

use serde::{Deserialize, Serialize};

use super::stored::SealRow;
use crate::on_backend;
use crate::store::auditor::Auditor;
use crate::store::error::AuditError;
use crate::store::position::HeldBack;

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
    /// A transaction that holds other writers' commits up (PostgreSQL's
    /// commit clock), seen as this call ended: their events are not
    /// committed yet, so not sealed. `None` when none does, and always on
    /// SQLite.
    pub held_back: Option<HeldBack>,
}

/// `seal` as a head, with the count of events sealed up to it.
pub(super) async fn head_of(
    log_id: &str,
    seal: &SealRow,
    auditor: &Auditor,
) -> Result<Head, AuditError> {
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
