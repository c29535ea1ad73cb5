//! Retention: the one maintenance path that removes audit events.
//!
//! The append-only triggers refuse every `DELETE` on the events table but
//! the ones [`Auditor::prune_before`] makes, and never let the log's own
//! records (`audit:` codes: prunes, repairs, the first event) go, so that
//! every prune leaves its trail. On PostgreSQL the permit is a row that only
//! the schema owner may write, through `audit_prune_batch`, which refuses
//! any other caller and any cutoff newer than the minimum retention stored
//! in the schema (`audit_settings`), and writes the prune's record itself,
//! in the transaction that deletes; on SQLite the permit is a row of
//! `audit_retention_permit`, and whoever has the file can write it.
//!
//! Each record names what its batch deleted: the first and last position
//! and, of the deleted events that were sealed, their number and a digest
//! of their seal entries' hashes. Verification accepts a sealed event as
//! pruned only by a record that is itself sealed and intact and matches
//! exactly the events missing in its range (`seal/verify.rs`).
//!
//! Events go in batches, each its own transaction that records what it
//! deleted, so that writers are not held up for long (SQLite has one write
//! lock) and a prune cut short leaves every deletion recorded.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::append;
use super::auditor::Auditor;
use super::backends::{PruneBatch, with_storage};
use super::error::{AuditError, classify};
use super::personal;
use super::table::{EventRow, PRUNE_COMMAND};
use crate::actor::Actor;
use crate::backend::Db;
use crate::on_backend;
use crate::reference::References;

/// Events deleted per transaction.
const BATCH: i64 = 5_000;

impl Auditor {
    /// Deletes every event that occurred before `cutoff`, acting as
    /// `actor`, and records `audit:log_pruned` events saying how many went,
    /// which ones (the first and last position, and a digest of the sealed
    /// ones' hashes, which [`verify`](Auditor::verify) checks) and why; the
    /// log's own records are never deleted. Returns the number of events
    /// deleted.
    ///
    /// Refused ([`AuditError::CutoffTooRecent`]) when `cutoff` is later than
    /// now minus the minimum retention: the larger of the one stored in the
    /// schema ([`Auditor::set_min_retention`], 30 days at first) and this
    /// auditor's own ([`Auditor::with_min_retention`]). Concurrent prunes
    /// run one batch at a time. On PostgreSQL only the schema's owner may
    /// prune: `audit_prune_batch` itself refuses any other role and any
    /// cutoff the stored minimum does not allow, and writes the record in
    /// the transaction that deletes.
    pub async fn prune_before(
        &self,
        actor: &Actor,
        cutoff: DateTime<Utc>,
        reason: &str,
    ) -> Result<u64, AuditError> {
        let stored = stored_min_retention(self.pool().acquire().await?.db()).await?;
        let stored = Duration::from_micros(u64::try_from(stored).unwrap_or(0));
        let min_retention = self.min_retention().max(stored);
        let latest_allowed =
            Utc::now() - chrono::Duration::from_std(min_retention).unwrap_or(chrono::Duration::MAX);
        if cutoff > latest_allowed {
            return Err(AuditError::CutoffTooRecent {
                cutoff,
                latest_allowed,
                min_retention_secs: min_retention.as_secs(),
            });
        }
        let mut total = 0;
        for number in 1.. {
            // One prune at a time: concurrent ones wait for this batch.
            let mut tx = self.begin_locked(PRUNE_LOCK).await?;
            let batch = PruneBatch {
                cutoff: cutoff.timestamp_micros(),
                max_rows: BATCH,
                number,
                actor,
                reason,
            };
            // Up to `BATCH` of the oldest events before `cutoff` that are not
            // the log's own records, through the one way the backend
            // permits, and the record of them.
            let deleted = with_storage!(tx.db(), conn, S => S::prune_batch(conn, &batch).await?);
            if deleted == 0 && number > 1 {
                tx.rollback().await?;
                break;
            }
            total += deleted;
            tx.commit().await?;
            if deleted < BATCH as u64 {
                break;
            }
        }
        Ok(total)
    }

    /// Stores `min_retention` in the schema as the minimum age of events a
    /// prune may delete, acting as `actor`, and records an
    /// `audit:retention_changed` event with the old and new value and
    /// `reason`. On PostgreSQL only the schema's owner may (no other role
    /// may write `audit_settings`), and `audit_prune_batch` enforces it
    /// whoever calls it; on SQLite whoever has the file may.
    pub async fn set_min_retention(
        &self,
        actor: &Actor,
        min_retention: Duration,
        reason: &str,
    ) -> Result<(), AuditError> {
        let micros = i64::try_from(min_retention.as_micros()).unwrap_or(i64::MAX);
        let mut tx = self.begin_locked(PRUNE_LOCK).await?;
        let before = stored_min_retention(tx.db()).await?;
        on_backend!(tx.db(), conn => {
            sqlx::query("UPDATE audit_settings SET min_retention_micros = $1")
                .bind(micros)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
        });
        let payload = serde_json::json!({
            "before_secs": before / 1_000_000,
            "after_secs": micros / 1_000_000,
            "reason": reason,
        });
        let record = EventRow {
            occurred_at: Utc::now().timestamp_micros(),
            code: RETENTION_CHANGED_CODE,
            version: 1,
            references: References::default(),
            command_name: PRUNE_COMMAND,
            command_id: uuid::Uuid::new_v4().to_string(),
            payload: payload.to_string(),
            context: None,
            personal: personal::salted(actor, None, &[])?,
        };
        append::write(tx.db(), actor, &[record]).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The minimum retention stored in the schema, in microseconds (the
/// largest there is, when none is).
async fn stored_min_retention(db: Db<'_>) -> Result<i64, AuditError> {
    let micros: Option<i64> = on_backend!(db, conn => {
        sqlx::query_scalar("SELECT min(min_retention_micros) FROM audit_settings")
            .fetch_one(conn)
            .await
            .map_err(classify)?
    });
    Ok(micros.unwrap_or(i64::MAX))
}

/// The type code of the record of a change of the stored minimum retention.
pub(crate) const RETENTION_CHANGED_CODE: &str = "audit:retention_changed";

/// The advisory lock that serializes prunes on PostgreSQL.
const PRUNE_LOCK: i64 = 4_242_424_243;
