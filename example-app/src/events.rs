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
            /// The new user (personal, as in the current version: `null`
            /// once erased).
            #[serde(deserialize_with = "super::erasable")]
            pub user: UserRef,
            /// Initial global roles.
            pub roles: Roles,
        }
    }

    /// Reads a personal field of an older version as the catalog reads the
    /// current one: `null`, what erasing the value leaves, as the type's
    /// erased value.
    fn erasable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: serde::Deserialize<'de> + audit_core::events::Erasable,
    {
        let stored: Option<T> = serde::Deserialize::deserialize(deserializer)?;
        Ok(stored.unwrap_or_else(T::erased))
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
///
/// Every payload field says whether it holds data about a person
/// (`classify_personal`): the user an event is about does (`#[personal]`),
/// and is erased with that user; nothing else does.
#[audit_core::events(templates = "templates/audit", classify_personal)]
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
        #[not_personal]
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
        #[not_personal]
        membership: MembershipId,
        /// The project joined.
        #[parent]
        #[not_personal]
        project: ProjectRef,
        /// The user who joined.
        #[subject]
        #[personal]
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
        #[not_personal]
        membership: MembershipId,
        /// The project left.
        #[parent]
        #[not_personal]
        project: ProjectRef,
        /// The user who left.
        #[subject]
        #[personal]
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
        #[not_personal]
        membership: MembershipId,
        /// Its project.
        #[parent]
        #[not_personal]
        project: ProjectRef,
        /// Its user.
        #[subject]
        #[personal]
        user: UserRef,
        /// Roles before the change.
        #[not_personal]
        before: Roles,
        /// Roles after the change.
        #[not_personal]
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
        #[personal]
        user: UserRef,
        /// Initial global roles.
        #[not_personal]
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
        #[personal]
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
        #[personal]
        user: UserRef,
        /// Roles before the change.
        #[not_personal]
        before: Roles,
        /// Roles after the change.
        #[not_personal]
        after: Roles,
    },

    /// A user's account was removed, with their memberships and sign-in
    /// records (`erase-user` then erases them from the log).
    #[event(code = "user_removed", label = "User removed", group = "Users")]
    UserRemoved {
        /// The user.
        #[target]
        #[subject]
        #[personal]
        user: UserRef,
    },
}

#[cfg(test)]
mod tests {
    use audit_core::events::{Decoded, EventCatalog};
    use audit_core::present::PresentContext;

    use super::{StaffEvent, StaffEventType};

    #[test]
    fn the_users_events_are_about_are_their_personal_fields() {
        for event_type in StaffEventType::ALL {
            let expected: &[&str] = match event_type {
                StaffEventType::ProjectCreated => &[],
                _ => &["user"],
            };
            assert_eq!(event_type.personal_fields(), expected, "{event_type}");
        }
    }

    #[test]
    fn an_erased_user_reads_back_and_shows_as_erased_at_every_version() {
        let cx = PresentContext::new();
        for (version, payload) in [
            (2, r#"{"user":null,"global_roles":["OutputChecker"]}"#),
            (1, r#"{"user":null,"roles":["OutputChecker"]}"#),
        ] {
            let Decoded::Known(event) = StaffEvent::decode("user_created", version, payload) else {
                panic!("version {version} not read");
            };
            assert_eq!(
                event.render(&cx).unwrap(),
                "created user an erased user with global roles Output checker",
                "version {version}"
            );
        }
    }
}
