//! Retention: the one maintenance path that removes audit events.
//!
//! The append-only triggers refuse every `DELETE` on the events table except
//! inside [`Auditor::prune_before`], which opens a permit that lives only in
//! its own transaction (a `SET LOCAL` setting on PostgreSQL, a row of
//! `audit_retention_permit` on SQLite that is removed before commit) and
//! records its own event, `audit:log_pruned`, in the same transaction.
//!
//! The triggers stop mistakes and code paths that bypass the library; they do
//! not stop a database user who may drop triggers or grant the permit by hand.

use chrono::{DateTime, Utc};

use super::append;
use super::auditor::Auditor;
use super::error::{AuditError, classify};
use super::table::{EventRow, events_table};
use crate::actor::Actor;
use crate::on_backend;
use crate::reference::References;

/// The type code of the event that records a prune. Codes declared in a
/// catalog cannot contain `:`, so it never collides with an application's;
/// catalogs read it as an unknown event, rendered generically.
pub const PRUNED_EVENT_CODE: &str = "audit:log_pruned";

/// The command name the prune record is stored with.
const PRUNE_COMMAND: &str = "prune_before";

impl Auditor {
    /// Deletes every event that occurred before `cutoff`, acting as `actor`,
    /// and records an `audit:log_pruned` event saying how many went and
    /// why. Returns the number of events deleted.
    pub async fn prune_before(
        &self,
        actor: &Actor,
        cutoff: DateTime<Utc>,
        reason: &str,
    ) -> Result<u64, AuditError> {
        const DELETE: &str = concat!("DELETE FROM ", events_table!(), " WHERE occurred_at < $1");
        let dialect = self.backend().dialect();
        let mut tx = self.begin_tx().await?;
        let deleted = on_backend!(tx.db(), conn => {
            sqlx::query(dialect.grant_retention).execute(&mut *conn).await.map_err(classify)?;
            let deleted = sqlx::query(DELETE)
                .bind(cutoff.timestamp_micros())
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected();
            sqlx::query(dialect.revoke_retention).execute(&mut *conn).await?;
            deleted
        });
        let payload = serde_json::json!({
            "before": cutoff.to_rfc3339(),
            "deleted": deleted,
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
        Ok(deleted)
    }
}
