//! The staff area's own tables, next to the audit schema.

use audit_core::commands::Model;
use audit_core::store::{Backend, SCHEMA_VERSION, SchemaStatus};
use audit_core::{AuditError, Auditor, on_backend};

use crate::models::{Membership, User};

/// The table that records which of the staff area's migrations a database has.
pub const VERSIONS_TABLE: &str = "staff_schema";

/// The staff area's schema version this program creates and expects.
pub const STAFF_SCHEMA_VERSION: i64 = 3;

/// One version of the staff area's tables: its SQL on each backend.
struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: &'static str,
}

/// A [`Migration`] whose SQL is `schema/sqlite/<file>.sql` and
/// `schema/postgres/<file>.sql` (next to this crate's `Cargo.toml`),
/// compiled into the program, so the two backends' scripts of a version
/// always go together.
macro_rules! migration {
    ($version:literal, $file:literal) => {
        Migration {
            version: $version,
            sqlite: include_str!(concat!("../schema/sqlite/", $file, ".sql")),
            postgres: include_str!(concat!("../schema/postgres/", $file, ".sql")),
        }
    };
}

/// Every version, in order, each applied once (`staff_schema` records
/// them); what each one adds is said at the top of its files. A database
/// made before versions were recorded has version 1's tables, which
/// `CREATE TABLE IF NOT EXISTS` leaves as they are.
const MIGRATIONS: [Migration; 3] = [
    migration!(1, "001_staff_tables"),
    migration!(2, "002_project_creation"),
    migration!(3, "003_web_state"),
];

/// The web area's tables (version 3): mutable state, not models, and not
/// audited (a session or a failed sign-in is not a change to the staff area).
pub const WEB_TABLES: [&str; 3] = ["web_sessions", "web_sign_in_attempts", "web_secrets"];

/// The advisory lock under which the staff area migrates on PostgreSQL,
/// so that concurrent starts apply each version once. (SQLite's write
/// lock does the same there.)
const MIGRATION_LOCK: i64 = 7_171_717_171;

/// What a start does with the database: a new one gets its schema; one at
/// this program's version goes on without any DDL or lock; anything else is
/// refused with what to run (`migrate` for an older schema, `repair-schema`
/// for a damaged one).
pub async fn open(auditor: &Auditor) -> Result<(), StartError> {
    match auditor.schema_status().await? {
        SchemaStatus::Current => match staff_version(auditor).await? {
            STAFF_SCHEMA_VERSION => Ok(()),
            found if found > STAFF_SCHEMA_VERSION => Err(StartError::StaffTooNew { found }),
            found => Err(StartError::StaffOutdated { found }),
        },
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
    /// The staff area's tables are older than this program's.
    #[error(
        "the staff area's tables are at version {found}, older than this program's \
         ({STAFF_SCHEMA_VERSION}): run `example-app migrate` to upgrade them"
    )]
    StaffOutdated {
        /// The database's version (0: made before versions were recorded).
        found: i64,
    },
    /// The staff area's tables are newer than this program's.
    #[error(
        "the staff area's tables are at version {found}, newer than this program's \
         ({STAFF_SCHEMA_VERSION}): run a newer release"
    )]
    StaffTooNew {
        /// The database's version.
        found: i64,
    },
    /// A state this program does not know how to handle.
    #[error("the database's audit schema is in a state this program does not handle: {0}")]
    Unknown(String),
    /// The database failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Creates or upgrades the audit schema and the staff area's tables
/// (idempotent: each staff version once, under a lock), and protects the
/// immutable ones (on PostgreSQL, raw writes without an audit event are
/// refused). Run by `example-app migrate`, and by the first start on a new
/// database.
pub async fn migrate(auditor: &Auditor) -> Result<(), AuditError> {
    auditor.migrate().await?;
    on_backend!(auditor.pool(), pool => {
        let begin = match auditor.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        let mut tx = pool.begin_with(begin).await?;
        if auditor.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::raw_sql(CREATE_VERSIONS).execute(&mut *tx).await?;
        let found: Option<i64> = sqlx::query_scalar(SELECT_VERSION).fetch_one(&mut *tx).await?;
        for migration in MIGRATIONS.iter().filter(|m| m.version > found.unwrap_or(0)) {
            let ddl = match auditor.backend() {
                Backend::Sqlite => migration.sqlite,
                Backend::Postgres => migration.postgres,
            };
            sqlx::raw_sql(ddl).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO staff_schema (version) VALUES ($1)")
                .bind(migration.version)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    for table in [User::TABLE, Membership::TABLE] {
        auditor.protect_immutable_table(table).await?;
    }
    Ok(())
}

const CREATE_VERSIONS: &str = "CREATE TABLE IF NOT EXISTS staff_schema (version BIGINT NOT NULL)";
const SELECT_VERSION: &str = "SELECT MAX(version) FROM staff_schema";

/// The staff area's schema version in the database: 0 when none is
/// recorded (tables made before versions were, or none at all). Only reads.
pub async fn staff_version(auditor: &Auditor) -> Result<i64, AuditError> {
    let tables = auditor.unclassified_tables(&[]).await?;
    if !tables.iter().any(|t| t == VERSIONS_TABLE) {
        return Ok(0);
    }
    let found: Option<i64> = on_backend!(auditor.pool(), pool => {
        sqlx::query_scalar(SELECT_VERSION).fetch_one(pool).await?
    });
    Ok(found.unwrap_or(0))
}
