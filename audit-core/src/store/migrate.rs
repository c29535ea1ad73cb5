//! The schema's life: migrations applied once each under a lock, a status
//! that a normal start reads without taking locks, a repair that is
//! recorded in the log, and the protection of immutable tables as a
//! migration step.

use super::append;
use super::auditor::Auditor;
use super::error::{AuditError, classify};
use super::schema::{
    self, LOG_CREATED_CODE, MIGRATIONS, OWN_TABLES, POSTGRES_FUNCTIONS, POSTGRES_TRIGGERS,
    PROTECTION_TRIGGERS, SCHEMA_REPAIRED_CODE, SCHEMA_VERSION, SQLITE_TRIGGERS,
};
use super::table::{EVENTS_TABLE, EventRow, WRITTEN, events_table};
use crate::actor::Actor;
use crate::backend::{Backend, Db, Pool, Tx};
use crate::on_backend;
use crate::reference::References;

/// What state a database's audit schema is in ([`Auditor::schema_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaStatus {
    /// No part of the audit schema exists: a new database.
    /// [`Auditor::migrate`] creates it.
    Absent,
    /// At this program's version, and sound.
    Current,
    /// At an older version: [`Auditor::migrate`] upgrades it.
    Outdated {
        /// The database's version.
        found: i64,
    },
    /// Made by a newer program.
    TooNew {
        /// The database's version.
        found: i64,
    },
    /// Something is missing or altered: [`Auditor::repair_schema`] restores it.
    Damaged {
        /// What is wrong, one sentence each.
        problems: Vec<String>,
    },
}

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
        let mut tx = self.begin_locked().await?;
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
            let script = migration.script(self.backend(), &schema);
            run_script(tx.db(), script).await?;
            record_version(tx.db(), migration.version).await?;
        }
        ensure_identity(tx.db()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The state of the audit schema, read from the database's catalog
    /// without taking locks (a start that only verifies never waits for a
    /// reader or a writer of any table).
    pub async fn schema_status(&self) -> Result<SchemaStatus, AuditError> {
        let backend = self.backend();
        let present = self.own_tables_present().await?;
        if present.is_empty() && !self.has_audit_functions().await? {
            return Ok(SchemaStatus::Absent);
        }
        if !present.contains(&"audit_schema") {
            return Ok(SchemaStatus::Damaged {
                problems: vec!["table `audit_schema` (the applied versions) is missing".into()],
            });
        }
        let version: Option<i64> = on_backend!(self.pool(), pool => {
            sqlx::query_scalar("SELECT MAX(version) FROM audit_schema").fetch_one(pool).await?
        });
        let Some(found) = version else {
            return Ok(SchemaStatus::Damaged {
                problems: vec!["no applied version is recorded in `audit_schema`".into()],
            });
        };
        if found > SCHEMA_VERSION {
            return Ok(SchemaStatus::TooNew { found });
        }
        if found < SCHEMA_VERSION {
            return Ok(SchemaStatus::Outdated { found });
        }
        let mut problems = Vec::new();
        for table in expected_tables(backend) {
            if !present.contains(&table) {
                problems.push(format!("table `{table}` is missing"));
            }
        }
        if problems.is_empty() {
            self.check_identity(&mut problems).await?;
            match backend {
                Backend::Sqlite => self.check_sqlite_triggers(&mut problems).await?,
                Backend::Postgres => self.check_postgres_objects(&mut problems).await?,
            }
        }
        Ok(if problems.is_empty() {
            SchemaStatus::Current
        } else {
            SchemaStatus::Damaged { problems }
        })
    }

    /// Checks that the audit schema is present, current and sound; the
    /// error names what is wrong and what repairs it.
    pub async fn verify_schema(&self) -> Result<(), AuditError> {
        match self.schema_status().await? {
            SchemaStatus::Current => Ok(()),
            SchemaStatus::Absent => Err(AuditError::SchemaMissing {
                missing: "table `audit_schema`".into(),
            }),
            SchemaStatus::Outdated { found } => Err(AuditError::SchemaOutdated {
                found,
                current: SCHEMA_VERSION,
            }),
            SchemaStatus::TooNew { found } => Err(AuditError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            }),
            SchemaStatus::Damaged { problems } => Err(AuditError::SchemaDamaged { problems }),
        }
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
        let mut tx = self.begin_locked().await?;
        let schema = current_schema(tx.db()).await?;
        for migration in &MIGRATIONS {
            let script = migration.script(self.backend(), &schema);
            run_script(tx.db(), script).await?;
        }
        let applied = applied_versions(tx.db()).await?;
        for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
            record_version(tx.db(), migration.version).await?;
        }
        if let Db::Postgres(conn) = tx.db() {
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM audit_protected_tables ORDER BY name")
                    .fetch_all(&mut *conn)
                    .await?;
            for table in tables.iter().filter(|t| schema::is_plain_identifier(t)) {
                // Checked to be a plain identifier just above.
                sqlx::raw_sql(sqlx::AssertSqlSafe(schema::protect_table(table)))
                    .execute(&mut *conn)
                    .await?;
            }
        }
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
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        let mut tx = self.begin_locked().await?;
        let Db::Postgres(conn) = tx.db() else {
            unreachable!("invariant: the backend was checked to be PostgreSQL");
        };
        let registered: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM audit_protected_tables WHERE name = $1)",
        )
        .bind(table)
        .fetch_one(&mut *conn)
        .await
        .map_err(classify)?;
        let mut missing = Vec::new();
        check_triggers(&mut *conn, table, &PROTECTION_TRIGGERS, &mut missing).await?;
        if registered && missing.is_empty() {
            tx.rollback().await?;
            return Ok(());
        }
        // `table` was checked to be a plain identifier above.
        sqlx::raw_sql(sqlx::AssertSqlSafe(schema::protect_table(table)))
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        tx.commit().await?;
        Ok(())
    }

    /// Grants `role` what an application needs of the log on PostgreSQL,
    /// and no more: `SELECT` on the audit tables and `INSERT` into the
    /// events table's written columns (not `id`: ids are the database's to
    /// assign; not `tx_id`). No `UPDATE`, `DELETE` or `TRUNCATE`, and no
    /// `EXECUTE` on the retention function: such a role cannot delete,
    /// rewrite or renumber events. Run it as the schema's owner. Give the
    /// role the application's own tables separately.
    ///
    /// SQLite has no roles: whoever can open the file has every right
    /// (tamper evidence is the answer there); this does nothing.
    pub async fn grant_application_role(&self, role: &str) -> Result<(), AuditError> {
        if !schema::is_plain_identifier(role) {
            return Err(AuditError::InvalidIdentifier(role.to_owned()));
        }
        let Pool::Postgres(pool) = self.pool() else {
            return Ok(());
        };
        let columns: Vec<&str> = WRITTEN.iter().map(|(name, _)| *name).collect();
        let sql = format!(
            "GRANT SELECT ON {EVENTS_TABLE}, audit_schema, audit_log_identity, \
             audit_protected_tables TO {role};
             GRANT INSERT ({}) ON {EVENTS_TABLE} TO {role};",
            columns.join(", ")
        );
        // `role` was checked to be a plain identifier above; the rest is ours.
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// A write transaction holding the migration lock.
    async fn begin_locked(&self) -> Result<Tx, AuditError> {
        let mut tx = self.begin_tx().await?;
        if let Db::Postgres(conn) = tx.db() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(conn)
                .await?;
        }
        Ok(tx)
    }

    /// Which of the audit schema's tables exist.
    async fn own_tables_present(&self) -> Result<Vec<&'static str>, AuditError> {
        let sql = self.backend().dialect().list_tables;
        let tables: Vec<String> = on_backend!(self.pool(), pool => {
            sqlx::query_scalar(sql).fetch_all(pool).await?
        });
        Ok(OWN_TABLES
            .into_iter()
            .filter(|own| tables.iter().any(|t| t == own))
            .collect())
    }

    /// Whether any function of the audit schema exists (PostgreSQL; they
    /// outlive a dropped table).
    async fn has_audit_functions(&self) -> Result<bool, AuditError> {
        let Pool::Postgres(pool) = self.pool() else {
            return Ok(false);
        };
        let names: Vec<String> = POSTGRES_FUNCTIONS
            .iter()
            .map(|(name, ..)| schema::expand(name, ""))
            .collect();
        let found: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_proc \
             WHERE pronamespace = current_schema()::regnamespace AND proname = ANY($1))",
        )
        .bind(names)
        .fetch_one(pool)
        .await?;
        Ok(found)
    }

    /// The log's first event is where `audit_log_identity` says: otherwise
    /// the events table was dropped and made again, or its identity lost.
    async fn check_identity(&self, problems: &mut Vec<String>) -> Result<(), AuditError> {
        if !identity_holds(self.pool().acquire().await?.db()).await? {
            problems.push(format!(
                "the log's identity is lost: its anchor (id 0, `{LOG_CREATED_CODE}`) is not in \
                 `{EVENTS_TABLE}`, so the table was dropped and made again"
            ));
        }
        Ok(())
    }

    /// SQLite's triggers are exactly the schema's.
    async fn check_sqlite_triggers(&self, problems: &mut Vec<String>) -> Result<(), AuditError> {
        let Pool::Sqlite(pool) = self.pool() else {
            return Ok(());
        };
        for (name, definition) in SQLITE_TRIGGERS {
            let name = schema::expand(name, "");
            let stored: Option<String> = sqlx::query_scalar(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = $1",
            )
            .bind(&name)
            .fetch_optional(pool)
            .await?;
            match stored {
                None => problems.push(format!("trigger `{name}` is missing")),
                Some(sql) if sql != schema::expand(definition, "") => {
                    problems.push(format!("trigger `{name}` was altered"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// PostgreSQL's functions hold the schema's code, and the events table
    /// and every registered protected table have their triggers, enabled.
    async fn check_postgres_objects(&self, problems: &mut Vec<String>) -> Result<(), AuditError> {
        let Pool::Postgres(pool) = self.pool() else {
            return Ok(());
        };
        let mut conn = pool.acquire().await?;
        for (name, _, _, body) in POSTGRES_FUNCTIONS {
            let name = schema::expand(name, "");
            let stored: Option<String> = sqlx::query_scalar(
                "SELECT prosrc FROM pg_proc \
                 WHERE pronamespace = current_schema()::regnamespace AND proname = $1",
            )
            .bind(&name)
            .fetch_optional(&mut *conn)
            .await?;
            match stored {
                None => problems.push(format!("function `{name}` is missing")),
                Some(source) if source != schema::expand(body, "") => {
                    problems.push(format!("function `{name}` was altered"))
                }
                Some(_) => {}
            }
        }
        check_triggers(&mut conn, EVENTS_TABLE, &POSTGRES_TRIGGERS, problems).await?;
        let protected: Vec<String> =
            sqlx::query_scalar("SELECT name FROM audit_protected_tables ORDER BY name")
                .fetch_all(&mut *conn)
                .await?;
        for table in protected {
            check_triggers(&mut conn, &table, &PROTECTION_TRIGGERS, problems).await?;
        }
        Ok(())
    }
}

/// The tables a sound schema of `backend` has.
fn expected_tables(backend: Backend) -> Vec<&'static str> {
    OWN_TABLES
        .into_iter()
        .filter(|t| backend == Backend::Postgres || *t != "audit_protected_tables")
        .collect()
}

/// Checks that `table` has each of `triggers` (name, function), enabled.
async fn check_triggers(
    conn: &mut sqlx::PgConnection,
    table: &str,
    triggers: &[(&str, &str)],
    problems: &mut Vec<String>,
) -> Result<(), AuditError> {
    const SQL: &str = "SELECT t.tgenabled <> 'D', p.proname::text FROM pg_trigger t \
        JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid \
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = $1 AND t.tgname = $2";
    for (name, function) in triggers {
        let (name, function) = (schema::expand(name, ""), schema::expand(function, ""));
        let found: Option<(bool, String)> = sqlx::query_as(SQL)
            .bind(table)
            .bind(&name)
            .fetch_optional(&mut *conn)
            .await?;
        match found {
            None => problems.push(format!("trigger `{name}` on `{table}` is missing")),
            Some((false, _)) => problems.push(format!("trigger `{name}` on `{table}` is disabled")),
            Some((true, runs)) if runs != function => problems.push(format!(
                "trigger `{name}` on `{table}` runs `{runs}` instead of `{function}`"
            )),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Whether the log's anchor (id 0) is where `audit_log_identity` says: one
/// identity row, and the anchor with its log id in the events table.
async fn identity_holds(db: Db<'_>) -> Result<bool, AuditError> {
    const MATCHING: &str = concat!(
        "SELECT COUNT(*) FROM audit_log_identity i JOIN ",
        events_table!(),
        " e ON e.id = 0 AND e.command_id = i.log_id AND e.event_type = $1"
    );
    let (rows, matching): (i64, i64) = on_backend!(db, conn => {
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log_identity")
            .fetch_one(&mut *conn)
            .await?;
        let matching: i64 = sqlx::query_scalar(MATCHING)
            .bind(LOG_CREATED_CODE)
            .fetch_one(&mut *conn)
            .await?;
        (rows, matching)
    });
    Ok(rows == 1 && matching == 1)
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

/// The schema the audit objects live in, quoted for DDL (PostgreSQL);
/// empty on SQLite, which has none.
async fn current_schema(db: Db<'_>) -> Result<String, AuditError> {
    Ok(match db {
        Db::Sqlite(_) => String::new(),
        Db::Postgres(conn) => {
            let name: String = sqlx::query_scalar("SELECT current_schema()")
                .fetch_one(conn)
                .await?;
            format!("\"{}\"", name.replace('"', "\"\""))
        }
    })
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
    }
}
