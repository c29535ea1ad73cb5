//! The staff area's domain values as they appear in audit events.

use std::fmt;
use std::str::FromStr;

use audit_core::events::{EntityRef, Erasable, Reference};
use audit_core::present::{PresentContext, Presentable, Shown};
use serde::{Deserialize, Serialize};

/// A reference to a user, with the username at the time of the event so the
/// log stays readable after the user is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    /// The user's id.
    pub id: i64,
    /// The username when the event happened.
    pub username: String,
}

/// A reference to a project, with its name at the time of the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRef {
    /// The project's id.
    pub id: i64,
    /// The project's name when the event happened.
    pub name: String,
}

/// The id of a project membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MembershipId(pub i64);

impl Reference for UserRef {
    fn entity_ref(&self) -> EntityRef {
        EntityRef::new("user", self.id.to_string())
    }
}

impl Reference for ProjectRef {
    fn entity_ref(&self) -> EntityRef {
        EntityRef::new("project", self.id.to_string())
    }
}

impl Reference for MembershipId {
    fn entity_ref(&self) -> EntityRef {
        EntityRef::new("membership", self.0.to_string())
    }
}

/// Shown, as the reference shows it, for a user whose stored name is empty
/// or blank: a user a payload refers to, or the actor of an event.
pub const UNKNOWN_USER: &str = "Unknown User";

/// Shown for a project that no longer exists.
pub const MISSING_PROJECT: &str = "a project";

/// The username of a user erased from the log ([`UserRef`]'s erased value).
pub const ERASED_USER: &str = "an erased user";

/// What a `#[personal]` `user` field reads back as once the user was erased
/// from the log: no id (ids start at 1) and [`ERASED_USER`].
impl Erasable for UserRef {
    fn erased() -> Self {
        UserRef {
            id: 0,
            username: ERASED_USER.into(),
        }
    }
}

impl Presentable for UserRef {
    /// "an erased user", without a link, for a user erased from the log
    /// (the erased value: a user named so who was not erased keeps it); a
    /// link to the user as they are now; the stored username without a
    /// link if they no longer exist; "Unknown User" if the stored name is
    /// empty or blank.
    fn present(&self, cx: &PresentContext) -> Shown {
        if *self == UserRef::erased() {
            return Shown::text(ERASED_USER);
        }
        match cx.resolved(&self.entity_ref()) {
            Some(resolved) => Shown::resolved(resolved),
            None if self.username.trim().is_empty() => Shown::text(UNKNOWN_USER),
            None => Shown::text(&self.username),
        }
    }
}

impl Presentable for ProjectRef {
    /// A link to the project as it is now, or "a project" if it is gone.
    fn present(&self, cx: &PresentContext) -> Shown {
        match cx.resolved(&self.entity_ref()) {
            Some(resolved) => Shown::resolved(resolved),
            None => Shown::text(MISSING_PROJECT),
        }
    }
}

impl Presentable for MembershipId {
    fn present(&self, _: &PresentContext) -> Shown {
        Shown::text(format!("membership {}", self.0))
    }
}

/// A role a user can hold, globally or in a project. Stored by its stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Runs code against a project's data.
    ProjectDeveloper,
    /// Reads a project's outputs.
    ProjectCollaborator,
    /// Reviews outputs before release (a global role).
    OutputChecker,
    /// Administers the staff area (a global role).
    StaffAreaAdministrator,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 4] = [
        Role::ProjectDeveloper,
        Role::ProjectCollaborator,
        Role::OutputChecker,
        Role::StaffAreaAdministrator,
    ];

    /// The stable name, as stored and as typed on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::ProjectDeveloper => "ProjectDeveloper",
            Role::ProjectCollaborator => "ProjectCollaborator",
            Role::OutputChecker => "OutputChecker",
            Role::StaffAreaAdministrator => "StaffAreaAdministrator",
        }
    }

    /// A human label.
    pub fn label(self) -> &'static str {
        match self {
            Role::ProjectDeveloper => "Project developer",
            Role::ProjectCollaborator => "Project collaborator",
            Role::OutputChecker => "Output checker",
            Role::StaffAreaAdministrator => "Staff area administrator",
        }
    }
}

/// A name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role `{0}`; roles are ProjectDeveloper, ProjectCollaborator, OutputChecker, StaffAreaAdministrator"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| UnknownRole(name.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A set of roles in the order they were given (as the reference keeps
/// them), each at most once: adding a role already present keeps its first
/// place. Stored as a JSON array in that order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Role>", into = "Vec<Role>")]
pub struct Roles(Vec<Role>);

impl Roles {
    /// No roles.
    pub fn new() -> Self {
        Roles::default()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `role` at the end unless it is already present; whether it was added.
    pub fn insert(&mut self, role: Role) -> bool {
        if self.0.contains(&role) {
            false
        } else {
            self.0.push(role);
            true
        }
    }

    /// Whether `role` is one of them.
    pub fn contains(&self, role: &Role) -> bool {
        self.0.contains(role)
    }

    /// The roles, in the order they were given.
    pub fn iter(&self) -> std::slice::Iter<'_, Role> {
        self.0.iter()
    }
}

impl From<Vec<Role>> for Roles {
    /// Keeps the first of any duplicates.
    fn from(roles: Vec<Role>) -> Self {
        roles.into_iter().collect()
    }
}

impl From<Roles> for Vec<Role> {
    fn from(roles: Roles) -> Self {
        roles.0
    }
}

impl FromIterator<Role> for Roles {
    /// Keeps the order given, and the first of any duplicates.
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        let mut roles = Roles::new();
        for role in iter {
            roles.insert(role);
        }
        roles
    }
}

impl Presentable for Roles {
    fn present(&self, cx: &PresentContext) -> Shown {
        let labels: Vec<&str> = self.0.iter().map(|r| r.label()).collect();
        labels.present(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erased_user_shows_as_erased_without_a_link() {
        let erased = UserRef::erased();
        assert_eq!((erased.id, erased.username.as_str()), (0, ERASED_USER));
        let mut cx = PresentContext::new();
        cx.insert(
            &erased.entity_ref(),
            audit_core::present::Resolved {
                label: "someone".into(),
                href: Some("/users/0".into()),
            },
        );
        let shown = erased.present(&cx);
        assert_eq!(shown, Shown::text(ERASED_USER));
        let alice = UserRef {
            id: 1,
            username: "alice".into(),
        };
        assert_eq!(alice.present(&PresentContext::new()), Shown::text("alice"));
    }

    #[test]
    fn roles_are_stored_by_stable_name() {
        let roles: Roles = [Role::OutputChecker, Role::ProjectDeveloper]
            .into_iter()
            .collect();
        let json = serde_json::to_string(&roles).unwrap();
        assert_eq!(json, r#"["OutputChecker","ProjectDeveloper"]"#);
        assert_eq!(serde_json::from_str::<Roles>(&json).unwrap(), roles);
        for role in Role::ALL {
            assert_eq!(role.name().parse::<Role>(), Ok(role));
        }
        assert_eq!("Admin".parse::<Role>(), Err(UnknownRole("Admin".into())));
    }

    #[test]
    fn roles_keep_the_order_given_without_duplicates() {
        let roles: Roles = [
            Role::ProjectCollaborator,
            Role::ProjectDeveloper,
            Role::ProjectCollaborator,
        ]
        .into_iter()
        .collect();
        let order: Vec<Role> = roles.iter().copied().collect();
        assert_eq!(order, [Role::ProjectCollaborator, Role::ProjectDeveloper]);
        let json = serde_json::to_string(&roles).unwrap();
        assert_eq!(json, r#"["ProjectCollaborator","ProjectDeveloper"]"#);
        let read: Roles = serde_json::from_str(
            r#"["ProjectCollaborator","ProjectDeveloper","ProjectCollaborator"]"#,
        )
        .unwrap();
        assert_eq!(read, roles);
    }
}
