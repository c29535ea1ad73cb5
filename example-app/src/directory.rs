//! Reading users and projects: the lookups the command line and the web
//! pages share. Each function is one query.

use audit_core::{Auditor, on_backend};

use crate::domain::{ProjectRef, Roles, UserRef};
use crate::natural::natural_cmp;

/// A user as the staff area needs them: who they are, their global roles,
/// and their password hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// The user's id.
    pub id: i64,
    /// The username.
    pub username: String,
    /// Global roles; empty when the stored value cannot be read.
    pub roles: Roles,
    /// The argon2 hash in PHC format, if a password was set.
    pub password_hash: Option<String>,
}

impl Account {
    /// The reference events use.
    pub fn user_ref(&self) -> UserRef {
        UserRef {
            id: self.id,
            username: self.username.clone(),
        }
    }
}

type AccountRow = (i64, String, String, Option<String>);

fn from_row((id, username, roles, password_hash): AccountRow) -> Account {
    let roles = serde_json::from_str(&roles).unwrap_or_else(|e| {
        tracing::warn!(user = id, "unreadable roles, treated as none: {e}");
        Roles::new()
    });
    Account {
        id,
        username,
        roles,
        password_hash,
    }
}

/// A query of `users` returning [`AccountRow`]s, ending in `$rest`.
macro_rules! accounts_where {
    ($rest:literal) => {
        concat!(
            "SELECT id, username, roles, password_hash FROM users ",
            $rest
        )
    };
}

/// The user named `username`.
pub async fn account_named(auditor: &Auditor, username: &str) -> sqlx::Result<Option<Account>> {
    let row: Option<AccountRow> = on_backend!(auditor.pool(), pool => {
        sqlx::query_as(accounts_where!("WHERE username = $1")).bind(username).fetch_optional(pool).await?
    });
    Ok(row.map(from_row))
}

/// The user with id `id`.
pub async fn account(auditor: &Auditor, id: i64) -> sqlx::Result<Option<Account>> {
    let row: Option<AccountRow> = on_backend!(auditor.pool(), pool => {
        sqlx::query_as(accounts_where!("WHERE id = $1")).bind(id).fetch_optional(pool).await?
    });
    Ok(row.map(from_row))
}

/// Every user, by username in natural order (`user2` before `user10`).
pub async fn accounts(auditor: &Auditor) -> sqlx::Result<Vec<Account>> {
    let rows: Vec<AccountRow> = on_backend!(auditor.pool(), pool => {
        sqlx::query_as(accounts_where!("")).fetch_all(pool).await?
    });
    let mut accounts: Vec<Account> = rows.into_iter().map(from_row).collect();
    accounts.sort_by(|a, b| natural_cmp(&a.username, &b.username));
    Ok(accounts)
}

/// The project named `name`.
pub async fn project_named(auditor: &Auditor, name: &str) -> sqlx::Result<Option<ProjectRef>> {
    let row: Option<(i64, String)> = on_backend!(auditor.pool(), pool => {
        sqlx::query_as("SELECT id, name FROM projects WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(|(id, name)| ProjectRef { id, name }))
}

/// The project with id `id`.
pub async fn project(auditor: &Auditor, id: i64) -> sqlx::Result<Option<ProjectRef>> {
    let row: Option<(i64, String)> = on_backend!(auditor.pool(), pool => {
        sqlx::query_as("SELECT id, name FROM projects WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(|(id, name)| ProjectRef { id, name }))
}

/// Every project, by name in natural order (`v2` before `v10`).
pub async fn projects(auditor: &Auditor) -> sqlx::Result<Vec<ProjectRef>> {
    let rows: Vec<(i64, String)> = on_backend!(auditor.pool(), pool => {
        sqlx::query_as("SELECT id, name FROM projects")
            .fetch_all(pool)
            .await?
    });
    let mut projects: Vec<ProjectRef> = rows
        .into_iter()
        .map(|(id, name)| ProjectRef { id, name })
        .collect();
    projects.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    Ok(projects)
}

/// The projects `user` is a member of now.
pub async fn projects_of(auditor: &Auditor, user: i64) -> sqlx::Result<Vec<ProjectRef>> {
    let rows: Vec<(i64, String)> = on_backend!(auditor.pool(), pool => {
        sqlx::query_as(
            "SELECT p.id, p.name FROM memberships m JOIN projects p ON p.id = m.project_id \
             WHERE m.user_id = $1 ORDER BY p.name",
        )
        .bind(user)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, name)| ProjectRef { id, name })
        .collect())
}

/// A member of a project, with their roles there.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The user.
    pub user: UserRef,
    /// Their roles in the project; empty when the stored value cannot be
    /// read.
    pub roles: Roles,
}

fn member_from_row((id, username, roles): (i64, String, String)) -> Member {
    let roles = serde_json::from_str(&roles).unwrap_or_else(|e| {
        tracing::warn!(user = id, "unreadable member roles, treated as none: {e}");
        Roles::new()
    });
    Member {
        user: UserRef { id, username },
        roles,
    }
}

/// The members of `project` now, by username in natural order.
pub async fn members(auditor: &Auditor, project: i64) -> sqlx::Result<Vec<Member>> {
    let rows: Vec<(i64, String, String)> = on_backend!(auditor.pool(), pool => {
        sqlx::query_as(
            "SELECT u.id, u.username, m.roles FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.project_id = $1",
        )
        .bind(project)
        .fetch_all(pool)
        .await?
    });
    let mut members: Vec<Member> = rows.into_iter().map(member_from_row).collect();
    members.sort_by(|a, b| natural_cmp(&a.user.username, &b.user.username));
    Ok(members)
}

/// The membership of the user `user` in `project`, if they are a member.
pub async fn member(auditor: &Auditor, project: i64, user: i64) -> sqlx::Result<Option<Member>> {
    let row: Option<(i64, String, String)> = on_backend!(auditor.pool(), pool => {
        sqlx::query_as(
            "SELECT u.id, u.username, m.roles FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.project_id = $1 AND m.user_id = $2",
        )
        .bind(project)
        .bind(user)
        .fetch_optional(pool)
        .await?
    });
    Ok(row.map(member_from_row))
}
