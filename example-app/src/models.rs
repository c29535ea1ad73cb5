//! The staff area's tables, each classified. Users (with their global roles)
//! and project memberships are immutable: only commands write them.

use audit_core::commands::Model;

/// A user and their global roles (stored as JSON role names).
#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "users", immutable)]
pub struct User {
    /// Primary key.
    #[model(id)]
    pub id: i64,
    /// Unique username.
    pub username: String,
    /// Global roles, as a JSON array of role names.
    pub roles: String,
    /// The password as an argon2 hash in PHC format; without one the user
    /// cannot sign in.
    pub password_hash: Option<String>,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "projects", mutable)]
pub struct Project {
    /// Primary key.
    #[model(id)]
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The user who created it; `None` for a system process, or a project
    /// made before this was recorded.
    pub created_by: Option<i64>,
    /// When it was created, in microseconds since the Unix epoch (UTC);
    /// `None` for a project made before this was recorded.
    pub created_at: Option<i64>,
}

/// A user's membership of a project, with its roles.
#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "memberships", immutable)]
pub struct Membership {
    /// Primary key.
    #[model(id)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The member.
    pub user_id: i64,
    /// Roles in the project, as a JSON array of role names.
    pub roles: String,
}

/// Every model's table: the classification the application is checked against.
pub const CLASSIFIED_TABLES: [&str; 3] = [User::TABLE, Project::TABLE, Membership::TABLE];
