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

use super::{AuditError, Auditor, Pool, classify};
use crate::actor::Actor;

/// The type code of the event that records a prune. Codes declared in a
/// catalog cannot contain `:`, so it never collides with an application's;
/// catalogs read it as an unknown event, rendered generically.
pub const PRUNED_EVENT_CODE: &str = "audit:log_pruned";

const RECORD_PRUNE: &str = "INSERT INTO audit_events (occurred_at, event_type, payload_version, \
    actor_kind, actor_id, actor_name, command_name, command_id, payload) \
    VALUES ($1, $2, 1, $3, $4, $5, 'prune_before', $6, $7)";

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
        let now = Utc::now();
        let command_id = uuid::Uuid::new_v4().to_string();
        let cutoff_us = cutoff.timestamp_micros();
        let delete = "DELETE FROM audit_events WHERE occurred_at < $1";
        let payload = |deleted: u64| {
            serde_json::json!({
                "before": cutoff.to_rfc3339(),
                "deleted": deleted,
                "reason": reason,
            })
            .to_string()
        };
        let deleted = match &self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                sqlx::query("INSERT INTO audit_retention_permit (granted) VALUES (1)")
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                let deleted = sqlx::query(delete)
                    .bind(cutoff_us)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query("DELETE FROM audit_retention_permit")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(RECORD_PRUNE)
                    .bind(now.timestamp_micros())
                    .bind(PRUNED_EVENT_CODE)
                    .bind(actor.kind())
                    .bind(actor.id())
                    .bind(actor.name())
                    .bind(&command_id)
                    .bind(payload(deleted))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                deleted
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT set_config('audit.retention_permit', 'granted', true)")
                    .execute(&mut *tx)
                    .await?;
                let deleted = sqlx::query(delete)
                    .bind(cutoff_us)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                sqlx::query("SELECT set_config('audit.retention_permit', '', true)")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&RECORD_PRUNE.replace("$7", "$7::jsonb"))
                    .bind(now.timestamp_micros())
                    .bind(PRUNED_EVENT_CODE)
                    .bind(actor.kind())
                    .bind(actor.id())
                    .bind(actor.name())
                    .bind(&command_id)
                    .bind(payload(deleted))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                deleted
            }
        };
        Ok(deleted)
    }
}
