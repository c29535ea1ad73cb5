//! The staff area's own tables, next to the audit schema.

use audit_core::{AuditError, Auditor, Backend, Model, SCHEMA_VERSION, SchemaStatus, on_backend};

use crate::models::{Membership, User};

const SQLITE: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL DEFAULT '[]',
    password_hash TEXT
);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    roles TEXT NOT NULL DEFAULT '[]',
    UNIQUE (project_id, user_id)
);
";

const POSTGRES: &str = "
CREATE TABLE IF NOT EXISTS users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL DEFAULT '[]',
    password_hash TEXT
);
CREATE TABLE IF NOT EXISTS projects (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS memberships (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    roles TEXT NOT NULL DEFAULT '[]',
    UNIQUE (project_id, user_id)
);
";

/// What a start does with the database: a new one gets its schema; one at
/// this program's version goes on without any DDL or lock; anything else is
/// refused with what to run (`migrate` for an older schema, `repair-schema`
/// for a damaged one).
pub async fn open(auditor: &Auditor) -> Result<(), StartError> {
    match auditor.schema_status().await? {
        SchemaStatus::Current => Ok(()),
        SchemaStatus::Absent => {
            // A new database has none of the staff area's tables either; one
            // that has them lost its whole audit schema, log included.
            let tables = auditor.unclassified_tables(&[]).await?;
            if tables.is_empty() {
                Ok(migrate(auditor).await?)
            } else {
                Err(StartError::LogMissing { tables })
            }
        }
        SchemaStatus::Outdated { found } => Err(StartError::Outdated { found }),
        SchemaStatus::TooNew { found } => Err(StartError::TooNew { found }),
        SchemaStatus::Damaged { problems } => Err(StartError::Damaged { problems }),
        other => Err(StartError::Unknown(format!("{other:?}"))),
    }
}

/// Why a start refused the database.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The audit schema is older than this program's.
    #[error(
        "the database's audit schema is at version {found}, older than this program's \
         ({SCHEMA_VERSION}): run `example-app migrate` to upgrade it"
    )]
    Outdated {
        /// The database's version.
        found: i64,
    },
    /// The audit schema is newer than this program's.
    #[error(
        "the database's audit schema is at version {found}, newer than this program's \
         ({SCHEMA_VERSION}): run a newer release"
    )]
    TooNew {
        /// The database's version.
        found: i64,
    },
    /// Part of the audit schema is missing or altered.
    #[error(
        "the database's audit schema is damaged: {}. Run `example-app repair-schema --reason \"...\"` \
         to restore it; the repair is recorded in the audit log",
        problems.join("; ")
    )]
    Damaged {
        /// What is wrong.
        problems: Vec<String>,
    },
    /// The staff area's tables exist, but no part of the audit schema.
    #[error(
        "the database has the staff area's tables ({}) but no audit log: it was dropped. \
         Run `example-app migrate` to start a new, empty log (the old one is lost)",
        tables.join(", ")
    )]
    LogMissing {
        /// The application tables found.
        tables: Vec<String>,
    },
    /// A state this program does not know how to handle.
    #[error("the database's audit schema is in a state this program does not handle: {0}")]
    Unknown(String),
    /// The database failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Creates or upgrades the audit schema and the staff area's tables
/// (idempotent), and protects the immutable ones (on PostgreSQL, raw writes
/// without an audit event are refused). Run by `example-app migrate`, and
/// by the first start on a new database.
pub async fn migrate(auditor: &Auditor) -> Result<(), AuditError> {
    auditor.migrate().await?;
    let ddl = match auditor.backend() {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    on_backend!(auditor.pool(), pool => {
        sqlx::raw_sql(ddl).execute(pool).await?;
    });
    for table in [User::TABLE, Membership::TABLE] {
        auditor.protect_immutable_table(table).await?;
    }
    Ok(())
}
