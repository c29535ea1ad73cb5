//! The staff area's own tables, next to the audit schema.

use audit_core::{AuditError, Auditor, Backend, Model, on_backend};

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

/// Creates the audit schema and the staff area's tables (idempotent), and
/// protects the immutable ones (on PostgreSQL, raw writes without an audit
/// event are refused).
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
