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

use super::session::tx_target;
use super::{AuditError, Auditor, Backend, classify, on_backend};
use crate::actor::Actor;

/// The type code of the event that records a prune. Codes declared in a
/// catalog cannot contain `:`, so it never collides with an application's;
/// catalogs read it as an unknown event, rendered generically.
pub const PRUNED_EVENT_CODE: &str = "audit:log_pruned";

/// The SQL that differs between backends.
struct Dialect {
    grant: &'static str,
    revoke: &'static str,
    record: &'static str,
}

const SQLITE: Dialect = Dialect {
    grant: "INSERT INTO audit_retention_permit (granted) VALUES (1)",
    revoke: "DELETE FROM audit_retention_permit",
    record: "INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, \
             actor_id, actor_name, command_name, command_id, payload) \
             VALUES ($1, $2, 1, $3, $4, $5, 'prune_before', $6, $7)",
};

const POSTGRES: Dialect = Dialect {
    grant: "SELECT set_config('audit.retention_permit', 'granted', true)",
    revoke: "SELECT set_config('audit.retention_permit', '', true)",
    record: "INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, \
             actor_id, actor_name, command_name, command_id, payload) \
             VALUES ($1, $2, 1, $3, $4, $5, 'prune_before', $6, $7::jsonb)",
};

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
        let dialect = match self.backend() {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        };
        let mut tx = self.begin_tx().await?;
        let deleted = on_backend!(tx_target(&mut tx), conn => {
            sqlx::query(dialect.grant).execute(&mut *conn).await.map_err(classify)?;
            let deleted = sqlx::query("DELETE FROM audit_events WHERE occurred_at < $1")
                .bind(cutoff.timestamp_micros())
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected();
            sqlx::query(dialect.revoke).execute(&mut *conn).await?;
            let payload = serde_json::json!({
                "before": cutoff.to_rfc3339(),
                "deleted": deleted,
                "reason": reason,
            });
            sqlx::query(dialect.record)
                .bind(Utc::now().timestamp_micros())
                .bind(PRUNED_EVENT_CODE)
                .bind(actor.kind())
                .bind(actor.id())
                .bind(actor.name())
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(payload.to_string())
                .execute(&mut *conn)
                .await?;
            deleted
        });
        tx.commit().await?;
        Ok(deleted)
    }
}
