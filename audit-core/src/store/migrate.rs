//! Changing the schema: migrations applied once each under a lock, a
//! repair that is recorded in the log, the protection of immutable tables
//! as a migration step, and the application role's grants.

use super::append;
use super::auditor::Auditor;
use super::backends::with_storage;
use super::error::AuditError;
use super::schema::{self, LOG_CREATED_CODE, MIGRATIONS, SCHEMA_REPAIRED_CODE, SCHEMA_VERSION};
use super::status::{SchemaStatus, identity_holds};
use super::table::{EventRow, events_table};
use crate::actor::Actor;
use crate::backend::Db;
use crate::on_backend;
use crate::reference::References;

/// The advisory lock that migrations, repairs and protections take on
/// PostgreSQL, so that concurrent starts apply each change once.
const MIGRATION_LOCK: i64 = 4_242_424_242;

/// The command name the schema's own records are stored with.
const MIGRATE_COMMAND: &str = "migrate";

impl Auditor {
    /// Applies the migrations the database lacks, each once and in order,
    /// under a lock (an advisory lock on PostgreSQL; SQLite's write lock).
    /// Idempotent; a new database gets the whole schema. It never repairs a
    /// damaged schema: that is [`repair_schema`](Self::repair_schema)'s job,
    /// which records what it found.
    pub async fn migrate(&self) -> Result<(), AuditError> {
        let mut tx = self.begin_locked(MIGRATION_LOCK).await?;
        let applied = applied_versions(tx.db()).await?;
        let newest = applied.iter().copied().max().unwrap_or(0);
        if newest > SCHEMA_VERSION {
            return Err(AuditError::SchemaTooNew {
                found: newest,
                supported: SCHEMA_VERSION,
            });
        }
        let schema = current_schema(tx.db()).await?;
        for migration in MIGRATIONS.iter().filter(|m| m.version > newest) {
            tracing::info!(
                version = migration.version,
                "applying audit schema migration: {}",
                migration.description
            );
            before_script(tx.db(), migration.version).await?;
            let script = migration_script(tx.db(), migration.version, &schema);
            run_script(tx.db(), script).await?;
            record_version(tx.db(), migration.version).await?;
        }
        ensure_identity(tx.db()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Restores a damaged schema: runs every migration's script again
    /// (each creates what is missing and replaces what it defines), protects
    /// the registered tables again, gives a re-created events table a new
    /// identity, and records an `audit:schema_repaired` event, acting as
    /// `actor`, that lists what was wrong and why it was repaired. Returns
    /// what was wrong (nothing, and no event, for a sound schema).
    ///
    /// A repair cannot bring back events that were deleted with a dropped
    /// table; its record says that the log was damaged, and when.
    pub async fn repair_schema(
        &self,
        actor: &Actor,
        reason: &str,
    ) -> Result<Vec<String>, AuditError> {
        let problems = match self.schema_status().await? {
            SchemaStatus::Current => return Ok(Vec::new()),
            SchemaStatus::Damaged { problems } => problems,
            SchemaStatus::Absent => {
                return Err(AuditError::SchemaMissing {
                    missing: "table `audit_schema`".into(),
                });
            }
            SchemaStatus::Outdated { found } => {
                return Err(AuditError::SchemaOutdated {
                    found,
                    current: SCHEMA_VERSION,
                });
            }
            SchemaStatus::TooNew { found } => {
                return Err(AuditError::SchemaTooNew {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
        };
        let mut tx = self.begin_locked(MIGRATION_LOCK).await?;
        let schema = current_schema(tx.db()).await?;
        for migration in &MIGRATIONS {
            before_script(tx.db(), migration.version).await?;
            let script = migration_script(tx.db(), migration.version, &schema);
            run_script(tx.db(), script).await?;
        }
        let applied = applied_versions(tx.db()).await?;
        for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
            record_version(tx.db(), migration.version).await?;
        }
        // What the scripts do not restore (PostgreSQL: the registered tables' protection).
        with_storage!(tx.db(), conn, S => S::after_repair(conn).await)?;
        if !identity_holds(tx.db()).await? {
            // The table was made again: the log starts anew (a new anchor,
            // unless one survived), and says so below.
            on_backend!(tx.db(), conn => {
                sqlx::query("DELETE FROM audit_log_identity").execute(&mut *conn).await?;
            });
        }
        ensure_identity(tx.db()).await?;
        let payload = serde_json::json!({ "problems": problems, "reason": reason });
        let record = schema_record(SCHEMA_REPAIRED_CODE, &payload);
        append::write(tx.db(), actor, &[record]).await?;
        tx.commit().await?;
        tracing::warn!(?problems, reason, "the audit schema was repaired");
        Ok(problems)
    }

    /// Protects an immutable model's table, as a migration step: on
    /// PostgreSQL, triggers refuse, at commit, any `INSERT`, `UPDATE` or
    /// `DELETE` of `table` in a transaction that records no audit event
    /// (raw SQL from `psql` included), and any `TRUNCATE`; the table is
    /// registered, so that [`schema_status`](Self::schema_status) checks its
    /// triggers and [`repair_schema`](Self::repair_schema) restores them.
    /// Idempotent: when the triggers are in place it changes nothing (no
    /// DDL, so no lock that readers of the table could hold up). Run it
    /// where the application migrates, not at every start.
    ///
    /// On SQLite it only checks the name: SQLite has no transaction identity
    /// a trigger could compare, so there the guarantee is the compile-time
    /// one (only commands get write access to an immutable model).
    pub async fn protect_immutable_table(&self, table: &str) -> Result<(), AuditError> {
        if !schema::is_plain_identifier(table) {
            return Err(AuditError::InvalidIdentifier(table.to_owned()));
        }
        if !with_storage!(self.pool(), _, S => S::PROTECTS_TABLES) {
            return Ok(());
        }
        let mut tx = self.begin_locked(MIGRATION_LOCK).await?;
        if with_storage!(tx.db(), conn, S => S::protect_table(conn, table).await)? {
            tx.commit().await?;
        } else {
            // Protected already: nothing changed.
            tx.rollback().await?;
        }
        Ok(())
    }

    /// Grants `role` what an application needs of the log on PostgreSQL,
    /// and no more: `USAGE` on the schema the log is in (the connection's
    /// current schema), `SELECT` on the audit tables (not the retention permit
    /// or the seals) and `INSERT` into the events table's written columns
    /// (not `id`: ids are the database's to assign; not `tx_id`). No
    /// `UPDATE`, `DELETE` or `TRUNCATE`, and no `EXECUTE` on the retention
    /// function: such a role cannot delete, rewrite or renumber events, nor
    /// write the log's own records (`audit:` codes: a trigger refuses them
    /// from any role but the owner). It may import events
    /// ([`Auditor::import`]) through `EXECUTE` on `audit_import_batch`, the
    /// owner's function that writes each import key only with its event,
    /// and the run's record; it may not insert keys itself. Run it as the
    /// schema's owner. Give the role the application's own tables
    /// separately.
    ///
    /// Any right on the audit tables or functions beyond these, held by a
    /// role other than the owner, is damage that
    /// [`schema_status`](Self::schema_status) reports and
    /// [`repair_schema`](Self::repair_schema) takes back.
    ///
    /// SQLite has no roles: whoever can open the file has every right
    /// (tamper evidence is the answer there); this does nothing.
    pub async fn grant_application_role(&self, role: &str) -> Result<(), AuditError> {
        if !schema::is_plain_identifier(role) {
            return Err(AuditError::InvalidIdentifier(role.to_owned()));
        }
        with_storage!(self.pool(), pool, S => S::grant_role(pool, role).await)
    }
}

/// The versions recorded in `audit_schema` (made if missing, in its first shape).
async fn applied_versions(db: Db<'_>) -> Result<Vec<i64>, AuditError> {
    let versions = on_backend!(db, conn => {
        sqlx::query("CREATE TABLE IF NOT EXISTS audit_schema (version BIGINT NOT NULL)")
            .execute(&mut *conn)
            .await?;
        sqlx::query_scalar("SELECT version FROM audit_schema").fetch_all(&mut *conn).await?
    });
    Ok(versions)
}

/// Records that `version` was applied.
async fn record_version(db: Db<'_>, version: i64) -> Result<(), AuditError> {
    on_backend!(db, conn => {
        sqlx::query("INSERT INTO audit_schema (version) VALUES ($1)")
            .bind(version)
            .execute(conn)
            .await?;
    });
    Ok(())
}

/// Runs one migration script.
async fn run_script(db: Db<'_>, script: String) -> Result<(), AuditError> {
    on_backend!(db, conn => {
        // The schema's own DDL, with our table and schema names.
        sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute(conn).await?;
    });
    Ok(())
}

/// What migration `version` does before its script (`Storage::before_script`).
async fn before_script(db: Db<'_>, version: i64) -> Result<(), AuditError> {
    with_storage!(db, conn, S => S::before_script(conn, version).await)
}

/// The schema the audit objects live in, quoted for DDL (PostgreSQL);
/// empty on SQLite, which has none.
async fn current_schema(db: Db<'_>) -> Result<String, AuditError> {
    with_storage!(db, conn, S => S::current_schema(conn).await)
}

/// The script of migration `version` on the backend of `db`, in `schema`.
fn migration_script(db: Db<'_>, version: i64, schema: &str) -> String {
    with_storage!(db, _, S => S::migration_script(version, schema))
}

/// Writes the log's anchor and its identity, unless it has one.
async fn ensure_identity(mut db: Db<'_>) -> Result<(), AuditError> {
    let existing: i64 = on_backend!(db.reborrow(), conn => {
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log_identity").fetch_one(conn).await?
    });
    if existing > 0 {
        return Ok(());
    }
    const ANCHOR: &str = concat!(
        "SELECT command_id FROM ",
        events_table!(),
        " WHERE id = 0 AND event_type = $1"
    );
    // An anchor that outlived its identity row keeps the log's id.
    let surviving: Option<String> = on_backend!(db.reborrow(), conn => {
        sqlx::query_scalar(ANCHOR).bind(LOG_CREATED_CODE).fetch_optional(conn).await?
    });
    let log_id = match surviving {
        Some(log_id) => log_id,
        None => {
            let payload = serde_json::json!({ "schema_version": SCHEMA_VERSION });
            let anchor = schema_record(LOG_CREATED_CODE, &payload);
            append::write_anchor(db.reborrow(), &Actor::system("audit-core"), &anchor).await?;
            anchor.command_id
        }
    };
    on_backend!(db, conn => {
        sqlx::query("INSERT INTO audit_log_identity (log_id) VALUES ($1)")
            .bind(&log_id)
            .execute(conn)
            .await?;
    });
    Ok(())
}

/// A record of the schema's own, with a new command id.
fn schema_record(code: &'static str, payload: &serde_json::Value) -> EventRow {
    EventRow {
        occurred_at: chrono::Utc::now().timestamp_micros(),
        code,
        version: 1,
        references: References::default(),
        command_name: MIGRATE_COMMAND,
        command_id: uuid::Uuid::new_v4().to_string(),
        payload: payload.to_string(),
        context: None,
        personal: None,
    }
}
