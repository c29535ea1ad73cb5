//! Retention: the one maintenance path that removes audit events.
//!
//! The append-only triggers refuse every `DELETE` on the events table but
//! the ones [`Auditor::prune_before`] makes, and never let the log's own
//! records (`audit:` codes: prunes, repairs, the first event) go, so that
//! every prune leaves its trail. On PostgreSQL the permit is a row that only
//! the schema owner's `audit_prune_batch` function may write (a role without
//! `EXECUTE` on it cannot delete events at all); on SQLite it is a row of
//! `audit_retention_permit`, and whoever has the file can write it.
//!
//! Events go in batches, each its own transaction that records what it
//! deleted, so that writers are not held up for long (SQLite has one write
//! lock) and a prune cut short leaves every deletion recorded.

use chrono::{DateTime, Utc};

use super::append;
use super::auditor::Auditor;
use super::backends::with_storage;
use super::error::AuditError;
use super::table::EventRow;
use crate::actor::Actor;
use crate::reference::References;

/// The type code of the event that records a prune. Codes declared in a
/// catalog cannot contain `:`, so it never collides with an application's;
/// catalogs read it as an unknown event, rendered generically.
pub const PRUNED_EVENT_CODE: &str = "audit:log_pruned";

/// The command name the prune record is stored with.
const PRUNE_COMMAND: &str = "prune_before";

/// Events deleted per transaction.
const BATCH: i64 = 5_000;

impl Auditor {
    /// Deletes every event that occurred before `cutoff`, acting as
    /// `actor`, and records `audit:log_pruned` events saying how many went
    /// and why; the log's own records are never deleted. Returns the number
    /// of events deleted.
    ///
    /// Refused ([`AuditError::CutoffTooRecent`]) when `cutoff` is later than
    /// now minus the minimum retention ([`Auditor::with_min_retention`], 30
    /// days by default). Concurrent prunes run one batch at a time. On
    /// PostgreSQL the connected role needs `EXECUTE` on `audit_prune_batch`
    /// (the schema owner has it; [`Auditor::grant_application_role`] does
    /// not give it).
    pub async fn prune_before(
        &self,
        actor: &Actor,
        cutoff: DateTime<Utc>,
        reason: &str,
    ) -> Result<u64, AuditError> {
        let min_retention = self.min_retention();
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
        for batch in 1.. {
            // One prune at a time: concurrent ones wait for this batch.
            let mut tx = self.begin_locked(PRUNE_LOCK).await?;
            // Up to `BATCH` of the oldest events before `cutoff` that are not
            // the log's own records, through the one way the backend permits.
            let deleted = with_storage!(tx.db(), conn, S => {
                S::delete_batch(conn, cutoff.timestamp_micros(), BATCH).await?
            });
            if deleted == 0 && batch > 1 {
                tx.rollback().await?;
                break;
            }
            total += deleted;
            let payload = serde_json::json!({
                "before": cutoff.to_rfc3339(),
                "deleted": deleted,
                "batch": batch,
                "reason": reason,
            });
            let record = EventRow {
                occurred_at: Utc::now().timestamp_micros(),
                code: PRUNED_EVENT_CODE,
                version: 1,
                references: References::default(),
                command_name: PRUNE_COMMAND,
                command_id: uuid::Uuid::new_v4().to_string(),
                payload: payload.to_string(),
            };
            append::write(tx.db(), actor, &[record]).await?;
            tx.commit().await?;
            if deleted < BATCH as u64 {
                break;
            }
        }
        Ok(total)
    }
}

/// The advisory lock that serializes prunes on PostgreSQL.
const PRUNE_LOCK: i64 = 4_242_424_243;
