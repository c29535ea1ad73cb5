//! The schema's state, read for every start from the database's catalog
//! alone: no DDL and no lock that a reader or writer of any table could
//! hold up. What a sound schema holds is defined in `schema.rs`.

use super::auditor::Auditor;
use super::error::AuditError;
use super::schema::{self, LOG_CREATED_CODE, OWN_TABLES, SCHEMA_VERSION};
#[cfg(feature = "postgres")]
use super::schema::{
    POSTGRES_FUNCTIONS, POSTGRES_IMPORT_TRIGGERS, POSTGRES_SEAL_TRIGGERS, POSTGRES_TRIGGERS,
    PROTECTION_TRIGGERS,
};
#[cfg(feature = "sqlite")]
use super::schema::SQLITE_TRIGGERS;
use super::table::{EVENTS_TABLE, events_table};
use crate::backend::{Backend, Db, Pool};
use crate::on_backend;

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

impl Auditor {
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
                #[cfg(feature = "sqlite")]
                Backend::Sqlite => self.check_sqlite_triggers(&mut problems).await?,
                #[cfg(feature = "postgres")]
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
        #[cfg(feature = "postgres")]
        if let Pool::Postgres(pool) = self.pool() {
            return has_postgres_functions(pool).await;
        }
        Ok(false)
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
    #[cfg(feature = "sqlite")]
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
    #[cfg(feature = "postgres")]
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
        for (table, name, function) in POSTGRES_SEAL_TRIGGERS
            .into_iter()
            .chain(POSTGRES_IMPORT_TRIGGERS)
        {
            check_triggers(&mut conn, table, &[(name, function)], problems).await?;
        }
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
        .filter(|t| backend.is_postgres() || *t != "audit_protected_tables")
        .collect()
}

/// Checks that `table` has each of `triggers` (name, function), enabled.
#[cfg(feature = "postgres")]
pub(super) async fn check_triggers(
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
pub(super) async fn identity_holds(db: Db<'_>) -> Result<bool, AuditError> {
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

/// Whether any function of the audit schema exists in PostgreSQL's current schema.
#[cfg(feature = "postgres")]
async fn has_postgres_functions(pool: &sqlx::PgPool) -> Result<bool, AuditError> {
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
