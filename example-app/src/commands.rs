//! The staff area's commands: every change to users, projects and
//! memberships goes through one of these, with its audit events.

use audit_core::commands::WriteAccess;
use audit_core::{Audit, AuditError, auditable};

use crate::auth::PasswordHash;
use crate::domain::{MembershipId, ProjectRef, Roles, UserRef};
use crate::events::{
    ProjectCreated, ProjectMemberAdded, ProjectMemberRemoved, ProjectMemberUpdatedRoles,
    StaffEvent, UserCreated, UserPasswordSet, UserRemoved, UserUpdatedRoles,
};
use crate::models::{Membership, Project, User};
use crate::names::{NameError, ProjectName, Username};

/// An audited transaction of the staff area.
pub type StaffAudit = Audit<StaffEvent>;

/// What a command returns.
pub type CommandResult<T> = Result<T, CommandError>;

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
    /// The user is a member of the project already.
    #[error("{user} is already a member of {project}")]
    AlreadyAMember {
        /// The user's name.
        user: String,
        /// The project's name.
        project: String,
    },
    /// A user with this name exists already.
    #[error("user `{0}` already exists")]
    UserExists(String),
    /// A project with this name exists already.
    #[error("project `{0}` already exists")]
    ProjectExists(String),
    /// A user that does not exist.
    #[error("no user with id {0}")]
    NoSuchUser(i64),
    /// The row changed or went away while the command ran.
    #[error("{0} changed concurrently; try again")]
    Conflict(&'static str),
    /// A name breaks one of the rules of [`crate::names`].
    #[error(transparent)]
    Name(#[from] NameError),
    /// Roles could not be encoded or decoded.
    #[error("roles cannot be stored or read: {0}")]
    Roles(#[from] serde_json::Error),
}

impl audit_core::commands::Retryable for CommandError {
    fn is_retryable(&self) -> bool {
        match self {
            CommandError::Audit(e) => e.is_retryable(),
            CommandError::Database(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// `error` unless it is the database refusing a duplicate (a unique
/// violation, SQLite's and PostgreSQL's alike), which is `taken()`: the same
/// clear message on every backend instead of the driver's text.
fn unless_taken(error: sqlx::Error, taken: impl FnOnce() -> CommandError) -> CommandError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => taken(),
        _ => CommandError::Database(error),
    }
}

fn roles_json(roles: &Roles) -> Result<String, CommandError> {
    Ok(serde_json::to_string(roles)?)
}

/// Creates a user with global roles; `username` is checked as a
/// [`Username`] (trimmed first), so every caller gets the same rules.
#[auditable(emits(UserCreated))]
pub async fn add_user(cx: &mut StaffAudit, username: &str, roles: Roles) -> CommandResult<UserRef> {
    let username = Username::parse(username)?;
    let username = username.as_str();
    let row = User {
        id: 0,
        username: username.to_owned(),
        roles: roles_json(&roles)?,
        password_hash: None,
    };
    let id = User::insert(cx, &row)
        .await
        .map_err(|e| unless_taken(e, || CommandError::UserExists(username.to_owned())))?;
    let user = UserRef {
        id,
        username: username.to_owned(),
    };
    cx.emit(UserCreated {
        user: user.clone(),
        global_roles: roles,
    })?;
    Ok(user)
}

/// Creates a project, recording who created it (a user actor) and when;
/// `name` is checked as a [`ProjectName`] (trimmed first).
#[auditable(emits(ProjectCreated))]
pub async fn add_project(cx: &mut StaffAudit, name: &str) -> CommandResult<ProjectRef> {
    let name = ProjectName::parse(name)?;
    let name = name.as_str();
    let created_by = cx.actor().user_id().and_then(|id| id.parse().ok());
    let row = Project {
        id: 0,
        name: name.to_owned(),
        created_by,
        created_at: Some(chrono::Utc::now().timestamp_micros()),
    };
    let id = Project::insert(cx, &row)
        .await
        .map_err(|e| unless_taken(e, || CommandError::ProjectExists(name.to_owned())))?;
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
) -> CommandResult<MembershipId> {
    let existing: Option<i64> = audit_core::on_backend!(cx.db(), conn => {
        sqlx::query_scalar("SELECT id FROM memberships WHERE project_id = $1 AND user_id = $2")
            .bind(project.id)
            .bind(user.id)
            .fetch_optional(conn)
            .await?
    });
    if existing.is_some() {
        return Err(CommandError::AlreadyAMember {
            user: user.username.clone(),
            project: project.name.clone(),
        });
    }
    let row = Membership {
        id: 0,
        project_id: project.id,
        user_id: user.id,
        roles: roles_json(&roles)?,
    };
    // The check above misses a concurrent command adding the same member
    // first: the database's unique constraint catches it, with the same
    // message.
    let id = Membership::insert(cx, &row).await.map_err(|e| {
        unless_taken(e, || CommandError::AlreadyAMember {
            user: user.username.clone(),
            project: project.name.clone(),
        })
    })?;
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

/// Adds every one of `users` to `project` with `roles`, all or nothing:
/// one nested [`add_member`] per user, in one transaction, so a failure
/// on any of them (one is a member already, say) leaves none added and no
/// event. Every event shares this command's id and time.
///
/// It emits no event of its own: its nested commands do.
#[auditable]
pub async fn add_members(
    cx: &mut StaffAudit,
    project: &ProjectRef,
    users: &[UserRef],
    roles: Roles,
) -> CommandResult<Vec<MembershipId>> {
    let mut added = Vec::with_capacity(users.len());
    for user in users {
        added.push(add_member(cx, project, user, roles.clone()).await?);
    }
    Ok(added)
}

/// The membership of `user` in `project`.
async fn find_membership(
    cx: &mut (dyn WriteAccess<Membership> + Send),
    project: &ProjectRef,
    user: &UserRef,
) -> CommandResult<Membership> {
    let id: Option<i64> = audit_core::on_backend!(cx.write_db(), conn => {
        sqlx::query_scalar("SELECT id FROM memberships WHERE project_id = $1 AND user_id = $2")
            .bind(project.id)
            .bind(user.id)
            .fetch_optional(conn)
            .await?
    });
    // Locked until commit, so the roles read here are the `before` of the
    // change (G10): a concurrent command on this membership waits.
    let found = match id {
        Some(id) => Membership::find_for_update(cx, id).await?,
        None => None,
    };
    found.ok_or_else(|| CommandError::NotAMember {
        user: user.username.clone(),
        project: project.name.clone(),
    })
}

/// Sets a member's roles. Always records an event, even when the roles do
/// not change (the reference system does the same).
#[auditable(emits(ProjectMemberUpdatedRoles))]
pub async fn update_member_roles(
    cx: &mut StaffAudit,
    project: &ProjectRef,
    user: &UserRef,
    roles: Roles,
) -> CommandResult<()> {
    let mut membership = find_membership(cx, project, user).await?;
    let before: Roles = serde_json::from_str(&membership.roles)?;
    membership.roles = roles_json(&roles)?;
    if Membership::update(cx, &membership).await? != 1 {
        return Err(CommandError::Conflict("the membership"));
    }
    cx.emit(ProjectMemberUpdatedRoles {
        membership: MembershipId(membership.id),
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
) -> CommandResult<()> {
    update_member_roles(cx, project, user, Roles::new()).await?;
    let membership = find_membership(cx, project, user).await?;
    if Membership::delete(cx, membership.id).await? != 1 {
        return Err(CommandError::Conflict("the membership"));
    }
    cx.emit(ProjectMemberRemoved {
        membership: MembershipId(membership.id),
        project: project.clone(),
        user: user.clone(),
    })?;
    Ok(())
}

/// Reads `user`'s row, lets `edit` change it, and writes it back; returns
/// what `edit` returned.
async fn edit_user<T>(
    cx: &mut (dyn WriteAccess<User> + Send),
    user: &UserRef,
    edit: impl FnOnce(&mut User) -> Result<T, CommandError>,
) -> Result<T, CommandError> {
    // Locked until commit: what `edit` sees is still true when it commits.
    let mut row = User::find_for_update(cx, user.id)
        .await?
        .ok_or(CommandError::NoSuchUser(user.id))?;
    let out = edit(&mut row)?;
    if User::update(cx, &row).await? != 1 {
        return Err(CommandError::Conflict("the user"));
    }
    Ok(out)
}

/// Sets a user's global roles.
#[auditable(emits(UserUpdatedRoles))]
pub async fn update_user_roles(
    cx: &mut StaffAudit,
    user: &UserRef,
    roles: Roles,
) -> CommandResult<()> {
    let new_roles = roles_json(&roles)?;
    let before = edit_user(cx, user, |row| {
        let before: Roles = serde_json::from_str(&row.roles)?;
        row.roles = new_roles;
        Ok(before)
    })
    .await?;
    cx.emit(UserUpdatedRoles {
        user: user.clone(),
        before,
        after: roles,
    })?;
    Ok(())
}

/// Sets or replaces a user's password. Takes the hash, so that the
/// deliberately slow hashing happens before the transaction starts.
#[auditable(emits(UserPasswordSet))]
pub async fn set_password(
    cx: &mut StaffAudit,
    user: &UserRef,
    password: PasswordHash,
) -> CommandResult<()> {
    edit_user(cx, user, |row| {
        row.password_hash = Some(password.into_phc());
        Ok(())
    })
    .await?;
    cx.emit(UserPasswordSet { user: user.clone() })?;
    Ok(())
}

impl UserRef {
    /// Clears all of this user's roles: the global roles first, then each
    /// membership's roles (the reference's order), each through its own nested command (so each event
    /// names the command that made it, and all share this command's id).
    /// It emits no event itself.
    #[auditable]
    pub async fn clear_roles(&self, cx: &mut StaffAudit) -> CommandResult<()> {
        update_user_roles(cx, self, Roles::new()).await?;
        for project in projects_of(cx, self).await? {
            update_member_roles(cx, &project, self, Roles::new()).await?;
        }
        Ok(())
    }
}

/// The projects `user` is a member of, in id order.
async fn projects_of(cx: &mut StaffAudit, user: &UserRef) -> CommandResult<Vec<ProjectRef>> {
    let projects: Vec<(i64, String)> = audit_core::on_backend!(cx.db(), conn => {
        sqlx::query_as(
            "SELECT p.id, p.name FROM memberships m JOIN projects p ON p.id = m.project_id \
             WHERE m.user_id = $1 ORDER BY p.id",
        )
        .bind(user.id)
        .fetch_all(conn)
        .await?
    });
    Ok(projects
        .into_iter()
        .map(|(id, name)| ProjectRef { id, name })
        .collect())
}

/// Removes `user`'s account: each of their memberships (each its own
/// `project_member_removed`, through [`remove_member`]), their sessions and
/// sign-in attempts (the web area's state, not models), and the user's row;
/// records `user_removed`. What the log says of them stays until
/// `Auditor::erase` (the `erase-user` subcommand does both).
#[auditable(emits(UserRemoved))]
pub async fn remove_user(cx: &mut StaffAudit, user: &UserRef) -> CommandResult<()> {
    for project in projects_of(cx, user).await? {
        remove_member(cx, &project, user).await?;
    }
    let attempts_key = crate::web::throttle::key(&user.username);
    audit_core::on_backend!(cx.db(), conn => {
        sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
            .bind(user.id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM web_sign_in_attempts WHERE username = $1")
            .bind(&attempts_key)
            .execute(&mut *conn)
            .await?;
    });
    if User::delete(cx, user.id).await? != 1 {
        return Err(CommandError::NoSuchUser(user.id));
    }
    cx.emit(UserRemoved { user: user.clone() })?;
    Ok(())
}
