//! The staff area's audit events: the whole catalog, in one declaration.

use crate::domain::{MembershipId, ProjectRef, Roles, UserRef};

/// Older payload versions that stored rows may hold, and how each is read
/// as the next version (`upgrade(from = .., with = ..)` in the catalog).
/// `audit-events.lock` records every version's fields.
pub mod upgrades {
    use super::UserCreated;
    use crate::domain::{Roles, UserRef};

    /// Version 1 payloads, as they were stored.
    pub mod v1 {
        use super::{Roles, UserRef};

        /// `user_created` at version 1.
        #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
        pub struct UserCreated {
            /// The new user.
            pub user: UserRef,
            /// Initial global roles.
            pub roles: Roles,
        }
    }

    /// `user_created` version 1 to 2: `roles` became `global_roles`.
    pub fn user_created_v1(old: v1::UserCreated) -> UserCreated {
        UserCreated {
            user: old.user,
            global_roles: old.roles,
        }
    }
}

/// Audit events of the staff area.
#[audit_core::events(templates = "templates/audit")]
pub enum StaffEvent {
    /// A project was created.
    #[event(
        code = "project_created",
        label = "Project created",
        group = "Projects"
    )]
    ProjectCreated {
        /// The new project.
        #[target]
        #[parent]
        project: ProjectRef,
    },

    /// A user became a member of a project.
    #[event(
        code = "project_member_added",
        label = "User added",
        group = "Project members"
    )]
    ProjectMemberAdded {
        /// The new membership.
        #[target]
        membership: MembershipId,
        /// The project joined.
        #[parent]
        project: ProjectRef,
        /// The user who joined.
        #[subject]
        user: UserRef,
    },

    /// A user's membership of a project ended.
    #[event(
        code = "project_member_removed",
        label = "User removed",
        group = "Project members"
    )]
    ProjectMemberRemoved {
        /// The membership that ended.
        #[target]
        membership: MembershipId,
        /// The project left.
        #[parent]
        project: ProjectRef,
        /// The user who left.
        #[subject]
        user: UserRef,
    },

    /// A member's roles in a project changed (or were set again unchanged).
    #[event(
        code = "project_member_updated_roles",
        label = "User's roles updated",
        group = "Project members"
    )]
    ProjectMemberUpdatedRoles {
        /// The membership.
        #[target]
        membership: MembershipId,
        /// Its project.
        #[parent]
        project: ProjectRef,
        /// Its user.
        #[subject]
        user: UserRef,
        /// Roles before the change.
        before: Roles,
        /// Roles after the change.
        after: Roles,
    },

    /// A user was created, with their initial global roles.
    ///
    /// Version 2 names the roles `global_roles` (version 1 called them
    /// `roles`, which read like a project's); version 1 rows are upgraded by
    /// [`upgrades::user_created_v1`].
    #[event(
        code = "user_created",
        label = "User created",
        group = "Users",
        version = 2,
        upgrade(from = 1, with = upgrades::user_created_v1)
    )]
    UserCreated {
        /// The new user.
        #[target]
        #[subject]
        user: UserRef,
        /// Initial global roles.
        global_roles: Roles,
    },

    /// A user's password was set or replaced. The hash is not recorded.
    #[event(
        code = "user_password_set",
        label = "User's password set",
        group = "Users"
    )]
    UserPasswordSet {
        /// The user.
        #[target]
        #[subject]
        user: UserRef,
    },

    /// A user's global roles changed.
    #[event(
        code = "user_updated_roles",
        label = "User's global roles updated",
        group = "Users"
    )]
    UserUpdatedRoles {
        /// The user.
        #[target]
        #[subject]
        user: UserRef,
        /// Roles before the change.
        before: Roles,
        /// Roles after the change.
        after: Roles,
    },
}
