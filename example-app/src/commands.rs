//! The staff area's commands: every change to users' roles, projects and
//! memberships goes through one of these, with its audit events.

use audit_core::{Audit, AuditError, auditable, with_db};

use crate::domain::{MembershipId, ProjectRef, Roles, UserRef};
use crate::events::{
    ProjectCreated, ProjectMemberAdded, ProjectMemberRemoved, ProjectMemberUpdatedRoles,
    StaffEvent, UserUpdatedRoles,
};

/// An audited transaction of the staff area.
pub type StaffAudit = Audit<StaffEvent>;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Recording the audit events failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The application's own SQL failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The user is not a member of the project.
    #[error("{user} is not a member of {project}")]
    NotAMember {
        /// The user's name.
        user: String,
        /// The project's name.
        project: String,
    },
    /// Stored roles that this program cannot read.
    #[error("stored roles are unreadable: {0}")]
    CorruptRoles(#[from] serde_json::Error),
}

fn roles_json(roles: &Roles) -> Result<String, CommandError> {
    Ok(serde_json::to_string(roles)?)
}

/// Creates a user with global roles.
#[auditable(emits(UserUpdatedRoles?))]
pub async fn add_user(
    cx: &mut StaffAudit,
    username: &str,
    roles: Roles,
) -> Result<UserRef, CommandError> {
    let json = roles_json(&roles)?;
    let id: i64 = with_db!(cx.db(), conn => {
        sqlx::query_scalar("INSERT INTO users (username, roles) VALUES ($1, $2) RETURNING id")
            .bind(username)
            .bind(&json)
            .fetch_one(conn)
            .await?
    });
    let user = UserRef {
        id,
        username: username.to_owned(),
    };
    if !roles.is_empty() {
        cx.emit(UserUpdatedRoles {
            user: user.clone(),
            before: Roles::new(),
            after: roles,
        })?;
    }
    Ok(user)
}

/// Creates a project.
#[auditable(emits(ProjectCreated))]
pub async fn add_project(cx: &mut StaffAudit, name: &str) -> Result<ProjectRef, CommandError> {
    let id: i64 = with_db!(cx.db(), conn => {
        sqlx::query_scalar("INSERT INTO projects (name) VALUES ($1) RETURNING id")
            .bind(name)
            .fetch_one(conn)
            .await?
    });
    let project = ProjectRef {
        id,
        name: name.to_owned(),
    };
    cx.emit(ProjectCreated {
        project: project.clone(),
    })?;
    Ok(project)
}

/// Adds `user` to `project` with `roles`: a member-added event, then a
/// roles event when `roles` is not empty, both of one command.
#[auditable(emits(ProjectMemberAdded, ProjectMemberUpdatedRoles?))]
pub async fn add_member(
    cx: &mut StaffAudit,
    project: &ProjectRef,
    user: &UserRef,
    roles: Roles,
) -> Result<MembershipId, CommandError> {
    let json = roles_json(&roles)?;
    let id: i64 = with_db!(cx.db(), conn => {
        sqlx::query_scalar(
            "INSERT INTO memberships (project_id, user_id, roles) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(project.id)
        .bind(user.id)
        .bind(&json)
        .fetch_one(conn)
        .await?
    });
    let membership = MembershipId(id);
    cx.emit(ProjectMemberAdded {
        membership,
        project: project.clone(),
        user: user.clone(),
    })?;
    if !roles.is_empty() {
        cx.emit(ProjectMemberUpdatedRoles {
            membership,
            project: project.clone(),
            user: user.clone(),
            before: Roles::new(),
            after: roles,
        })?;
    }
    Ok(membership)
}

/// The membership of `user` in `project` and its roles.
async fn find_membership(
    cx: &mut StaffAudit,
    project: &ProjectRef,
    user: &UserRef,
) -> Result<(MembershipId, Roles), CommandError> {
    let row: Option<(i64, String)> = with_db!(cx.db(), conn => {
        sqlx::query_as("SELECT id, roles FROM memberships WHERE project_id = $1 AND user_id = $2")
            .bind(project.id)
            .bind(user.id)
            .fetch_optional(conn)
            .await?
    });
    let (id, roles) = row.ok_or_else(|| CommandError::NotAMember {
        user: user.username.clone(),
        project: project.name.clone(),
    })?;
    Ok((MembershipId(id), serde_json::from_str(&roles)?))
}

/// Sets a member's roles. Always records an event, even when the roles do
/// not change (the reference system does the same).
#[auditable(emits(ProjectMemberUpdatedRoles))]
pub async fn update_member_roles(
    cx: &mut StaffAudit,
    project: &ProjectRef,
    user: &UserRef,
    roles: Roles,
) -> Result<(), CommandError> {
    let (membership, before) = find_membership(cx, project, user).await?;
    let json = roles_json(&roles)?;
    with_db!(cx.db(), conn => {
        sqlx::query("UPDATE memberships SET roles = $1 WHERE id = $2")
            .bind(&json)
            .bind(membership.0)
            .execute(conn)
            .await?
            .rows_affected()
    });
    cx.emit(ProjectMemberUpdatedRoles {
        membership,
        project: project.clone(),
        user: user.clone(),
        before,
        after: roles,
    })?;
    Ok(())
}

/// Removes `user` from `project`: first clears the member's roles (a nested
/// command, with its own event), then deletes the membership.
#[auditable(emits(ProjectMemberRemoved))]
pub async fn remove_member(
    cx: &mut StaffAudit,
    project: &ProjectRef,
    user: &UserRef,
) -> Result<(), CommandError> {
    update_member_roles(cx, project, user, Roles::new()).await?;
    let (membership, _) = find_membership(cx, project, user).await?;
    with_db!(cx.db(), conn => {
        sqlx::query("DELETE FROM memberships WHERE id = $1")
            .bind(membership.0)
            .execute(conn)
            .await?
            .rows_affected()
    });
    cx.emit(ProjectMemberRemoved {
        membership,
        project: project.clone(),
        user: user.clone(),
    })?;
    Ok(())
}

/// Sets a user's global roles.
#[auditable(emits(UserUpdatedRoles))]
pub async fn update_user_roles(
    cx: &mut StaffAudit,
    user: &UserRef,
    roles: Roles,
) -> Result<(), CommandError> {
    let stored: String = with_db!(cx.db(), conn => {
        sqlx::query_scalar("SELECT roles FROM users WHERE id = $1")
            .bind(user.id)
            .fetch_one(conn)
            .await?
    });
    let before: Roles = serde_json::from_str(&stored)?;
    let json = roles_json(&roles)?;
    with_db!(cx.db(), conn => {
        sqlx::query("UPDATE users SET roles = $1 WHERE id = $2")
            .bind(&json)
            .bind(user.id)
            .execute(conn)
            .await?
            .rows_affected()
    });
    cx.emit(UserUpdatedRoles {
        user: user.clone(),
        before,
        after: roles,
    })?;
    Ok(())
}
