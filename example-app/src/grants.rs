//! The application's own PostgreSQL role, set up as a deployment does: the
//! schema's owner migrates, then grants a role of the application's own
//! what it needs (`example-app grant-application-role ROLE`), and the
//! application connects as that role. The role gets the audit log's rights
//! ([`Auditor::grant_application_role`]) and the staff area's tables' rights
//! of [`APP_TABLE_GRANTS`] (`schema/postgres/grants.sql`), nothing more:
//! no `TRUNCATE`, no DDL, no `UPDATE` or `DELETE` of events.
//!
//! SQLite has no roles: whoever can open the file has every right, so
//! there is nothing to grant, and [`grant_application_role`] says so
//! ([`GrantError::NoRolesOnSqlite`]) rather than succeed.

use std::fmt;

use audit_core::store::{Pool, SchemaStatus};
use audit_core::text::printable;
use audit_core::{AuditError, Auditor};

use crate::schema::{self, StartError};

/// The staff area's tables' grants, `{role}` standing for the role
/// (`schema/postgres/grants.sql`, next to the tables' migrations, so that a
/// change of the schema shows the grants it needs beside it).
pub const APP_TABLE_GRANTS: &str = include_str!("../schema/postgres/grants.sql");

/// The longest role name PostgreSQL keeps, in bytes.
const MAX_ROLE_BYTES: usize = 63;

/// A role name that can be written into `GRANT` unquoted: lowercase ASCII
/// letters, digits and `_`, starting with a letter or `_`, at most 63
/// bytes, and not one PostgreSQL reserves (`public`, which means every
/// role; `none`; `pg_...`, the server's own roles).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleName(String);

/// Why a role name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleNameError {
    /// Not a plain lowercase identifier.
    #[error(
        "`{}` is not a plain PostgreSQL identifier: a role name here is lowercase ASCII \
         letters, digits and `_`, starting with a letter or `_`, at most {MAX_ROLE_BYTES} bytes",
        printable(.0)
    )]
    NotPlain(String),
    /// A name PostgreSQL reserves.
    #[error(
        "`{0}` is reserved by PostgreSQL (`public` means every role, `none` no role, and \
         `pg_` names are the server's own roles): name the application's own role"
    )]
    Reserved(String),
}

impl RoleName {
    /// Checks `raw` (not trimmed: a role name has no spaces).
    pub fn parse(raw: &str) -> Result<Self, RoleNameError> {
        let mut chars = raw.chars();
        let plain = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && raw.len() <= MAX_ROLE_BYTES;
        if !plain {
            return Err(RoleNameError::NotPlain(raw.to_owned()));
        }
        if raw == "public" || raw == "none" || raw.starts_with("pg_") {
            return Err(RoleNameError::Reserved(raw.to_owned()));
        }
        Ok(RoleName(raw.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a role was not set up.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The role's name is refused.
    #[error(transparent)]
    Name(#[from] RoleNameError),
    /// The database is SQLite, which has no roles.
    #[error(
        "SQLite has no roles: whoever can open the database file has every right, so there \
         is nothing to grant. Keep the file readable by the application's user only, and \
         seal the log (`example-app seal`) so that an edit is detected"
    )]
    NoRolesOnSqlite,
    /// The database has no schema yet.
    #[error(
        "the database has no schema yet: run `example-app migrate` as the schema's owner \
         first, then grant"
    )]
    NoSchema,
    /// The schema is not this program's current one (a start would refuse it).
    #[error(transparent)]
    Schema(#[from] StartError),
    /// The role does not exist.
    #[error(
        "role `{0}` does not exist: create it first (for example `CREATE ROLE {0} LOGIN \
         PASSWORD '...'`), then grant"
    )]
    UnknownRole(RoleName),
    /// The name is an SQL keyword (a role made with a quoted name).
    #[error("`{0}` is an SQL keyword: give the application a role whose name needs no quoting")]
    Keyword(RoleName),
    /// The role is a superuser.
    #[error(
        "`{0}` is a superuser, which has every right whatever is granted: connect the \
         application with a role of its own"
    )]
    Superuser(RoleName),
    /// The role owns the staff area's tables, or is a member of their owner.
    #[error(
        "`{0}` owns the staff area's tables (or is a member of their owner), with every \
         right on them: the application's role must be a role of its own, below the owner"
    )]
    Owner(RoleName),
    /// The audit log's grants failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The staff area's tables' grants ([`APP_TABLE_GRANTS`]) for `role`.
pub fn app_table_grants(role: &RoleName) -> String {
    APP_TABLE_GRANTS.replace("{role}", role.as_str())
}

/// Sets up `role`, an existing PostgreSQL role, as the application's own:
/// the audit log's rights ([`Auditor::grant_application_role`]), then
/// exactly the staff area's tables' rights of [`APP_TABLE_GRANTS`] (revoked
/// first, in one transaction). Idempotent. Run as the schema's owner on a
/// current schema; `auditor` is connected as that owner. Returns the
/// checked name.
///
/// Refused, before any change: a name that is not a plain identifier or is
/// reserved, SQLite (no roles), a database without a current schema, a role
/// that does not exist, whose name is an SQL keyword, that is a superuser,
/// or that owns the tables (or is a member of their owner).
pub async fn grant_application_role(auditor: &Auditor, role: &str) -> Result<RoleName, GrantError> {
    let role = RoleName::parse(role)?;
    let pool = match auditor.pool() {
        Pool::Postgres(pool) => pool,
        Pool::Sqlite(_) => return Err(GrantError::NoRolesOnSqlite),
    };
    if auditor.schema_status().await? == SchemaStatus::Absent {
        return Err(GrantError::NoSchema);
    }
    // Only reads here: the schema exists, so a start never migrates it.
    schema::open(auditor).await?;
    let found: Option<(bool, bool, bool)> = sqlx::query_as(
        "SELECT r.rolsuper, quote_ident(r.rolname) <> r.rolname, \
         pg_has_role(r.oid, c.relowner, 'MEMBER') \
         FROM pg_roles r, pg_class c WHERE r.rolname = $1 AND c.oid = 'users'::regclass",
    )
    .bind(role.as_str())
    .fetch_optional(pool)
    .await?;
    match found {
        None => return Err(GrantError::UnknownRole(role)),
        Some((true, _, _)) => return Err(GrantError::Superuser(role)),
        Some((_, true, _)) => return Err(GrantError::Keyword(role)),
        Some((_, _, true)) => return Err(GrantError::Owner(role)),
        Some((false, false, false)) => {}
    }
    auditor.grant_application_role(role.as_str()).await?;
    // Several statements in one query string: one transaction. The role
    // was checked to be a plain identifier, not a keyword; the rest is ours.
    sqlx::raw_sql(sqlx::AssertSqlSafe(app_table_grants(&role)))
        .execute(pool)
        .await?;
    Ok(role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::CLASSIFIED_TABLES;
    use crate::schema::{VERSIONS_TABLE, WEB_TABLES};

    #[test]
    fn a_plain_name_is_taken_as_it_is() {
        for name in ["app", "_app", "staff_area_2", &"a".repeat(63)] {
            assert_eq!(RoleName::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn anything_else_is_refused_saying_why() {
        for name in [
            "",
            "App",
            "1app",
            "app-role",
            " app",
            "app; DROP TABLE users",
            "\"app\"",
            "appé",
            &"a".repeat(64),
        ] {
            assert_eq!(
                RoleName::parse(name),
                Err(RoleNameError::NotPlain(name.to_owned())),
                "{name:?}"
            );
        }
        for name in ["public", "none", "pg_monitor", "pg_write_all_data"] {
            assert_eq!(
                RoleName::parse(name),
                Err(RoleNameError::Reserved(name.to_owned()))
            );
        }
        // A name that would forge a line is shown escaped.
        assert_eq!(
            RoleName::parse("a\nb").unwrap_err().to_string(),
            "`a\\nb` is not a plain PostgreSQL identifier: a role name here is lowercase \
             ASCII letters, digits and `_`, starting with a letter or `_`, at most 63 bytes"
        );
    }

    #[test]
    fn the_grants_name_every_table_of_the_staff_area_and_the_role_everywhere() {
        let role = RoleName::parse("staff_app").unwrap();
        let sql = app_table_grants(&role);
        assert!(!sql.contains("{role}"));
        let mut tables = CLASSIFIED_TABLES.to_vec();
        tables.push(VERSIONS_TABLE);
        tables.extend(WEB_TABLES);
        for table in tables {
            assert!(
                sql.contains(&format!(" ON {table} TO staff_app;")),
                "grants.sql grants nothing on `{table}`"
            );
        }
        for refused in [
            "TRUNCATE",
            "REFERENCES",
            "TRIGGER",
            "ALL PRIVILEGES",
            "GRANT OPTION",
        ] {
            let granted = sql
                .lines()
                .filter(|line| line.starts_with("GRANT"))
                .any(|line| line.contains(refused));
            assert!(!granted, "grants.sql grants {refused}");
        }
    }
}
