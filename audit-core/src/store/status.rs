//! The schema's state, read for every start from the database's catalog
//! alone: no DDL and no lock that a reader or writer of any table could
//! hold up. What a sound schema holds is defined in `schema.rs` and, for
//! each backend's own objects, in its module (`Storage::check_objects`).

use super::auditor::Auditor;
use super::backends::with_storage;
use super::error::AuditError;
use super::schema::{LOG_CREATED_CODE, OWN_TABLES, SCHEMA_VERSION};
use super::table::{EVENTS_TABLE, events_table};
use crate::backend::Db;
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
        let absent = with_storage!(self.pool(), _, S => S::ABSENT_TABLES);
        for table in expected_tables(absent) {
            if !present.contains(&table) {
                problems.push(format!("table `{table}` is missing"));
            }
        }
        if problems.is_empty() {
            self.check_identity(&mut problems).await?;
            with_storage!(self.pool(), pool, S => S::check_objects(pool, &mut problems).await)?;
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
        with_storage!(self.pool(), pool, S => S::has_audit_functions(pool).await)
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
}

/// The tables a sound schema has, but for the backend's `absent` ones.
fn expected_tables(absent: &[&str]) -> Vec<&'static str> {
    OWN_TABLES
        .into_iter()
        .filter(|t| !absent.contains(t))
        .collect()
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
