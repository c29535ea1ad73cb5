//! The staff area's changes as the command line and the web pages both make
//! them: the same lookups by name, the same rules and messages, and the same
//! way of running a command: one audited transaction acting for who makes
//! the change, with where it comes from ([`Context`]), made again from the
//! start when the database refuses it because of a concurrent one.
//!
//! Each change takes what the caller already knows (a project and a user it
//! found by name on the command line, by id in a web address) and the
//! values typed, which it checks itself: a name by the rules of
//! [`crate::names`], roles by their stable names, a list of usernames
//! all or nothing.

use audit_core::commands::{Isolation, RetryPolicy, Retryable};
use audit_core::erasure::{ErasureReport, Subject};
use audit_core::{Actor, AuditError, Auditor, Context};

use crate::auth::PasswordHash;
use crate::commands::{self, CommandError, StaffAudit};
use crate::directory::{self, Account};
use crate::domain::{MembershipId, ProjectRef, Role, Roles, UnknownRole, UserRef};
use crate::events::StaffEvent;
use crate::names::{NameError, ProjectName, Username};

/// Why a change was not made. Every message is one line, the same on the
/// command line and on the web pages.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No user has this name.
    #[error("unknown user `{0}`")]
    UnknownUser(String),
    /// No project has this name.
    #[error("unknown project `{0}`")]
    UnknownProject(String),
    /// A list of users to add is empty.
    #[error("name at least one user")]
    NoUsers,
    /// A list of users names one of them twice.
    #[error("user `{0}` is named twice")]
    NamedTwice(String),
    /// One of a list of usernames is refused (the message is the reason's).
    #[error("{error}")]
    InList {
        /// Its place in the list, from 1.
        position: usize,
        /// Why.
        error: Box<ChangeError>,
    },
    /// A name breaks one of the rules of [`crate::names`].
    #[error(transparent)]
    Name(#[from] NameError),
    /// A role that does not exist.
    #[error(transparent)]
    Role(#[from] UnknownRole),
    /// The command refused the change (a member already, say).
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The audited transaction failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// A lookup failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl ChangeError {
    /// The reason itself, when this is one name of a list refused.
    pub fn reason(&self) -> &ChangeError {
        match self {
            ChangeError::InList { error, .. } => error.reason(),
            other => other,
        }
    }

    /// Whether the person making the change can fix it (a name, a role, a
    /// member already...), rather than the program or the database failing.
    pub fn is_refusal(&self) -> bool {
        match self.reason() {
            ChangeError::Command(e) => !matches!(
                e,
                CommandError::Audit(_) | CommandError::Database(_) | CommandError::Roles(_)
            ),
            ChangeError::Audit(_) | ChangeError::Database(_) => false,
            _ => true,
        }
    }
}

impl Retryable for ChangeError {
    fn is_retryable(&self) -> bool {
        match self {
            ChangeError::Command(e) => e.is_retryable(),
            ChangeError::Audit(e) => e.is_retryable(),
            ChangeError::Database(e) => e.is_retryable(),
            ChangeError::InList { error, .. } => error.is_retryable(),
            _ => false,
        }
    }
}

/// The account named `username`, which must follow the name rules (a name
/// that breaks them cannot have been created, and would otherwise be echoed
/// in the error, newlines and all).
pub async fn find_account(auditor: &Auditor, username: &str) -> Result<Account, ChangeError> {
    let username = Username::parse(username)?;
    directory::account_named(auditor, username.as_str())
        .await?
        .ok_or_else(|| ChangeError::UnknownUser(username.as_str().to_owned()))
}

/// The user named `username` (see [`find_account`]).
pub async fn find_user(auditor: &Auditor, username: &str) -> Result<UserRef, ChangeError> {
    Ok(find_account(auditor, username).await?.user_ref())
}

/// The project named `name`, which must follow the name rules.
pub async fn find_project(auditor: &Auditor, name: &str) -> Result<ProjectRef, ChangeError> {
    let name = ProjectName::parse(name)?;
    directory::project_named(auditor, name.as_str())
        .await?
        .ok_or_else(|| ChangeError::UnknownProject(name.as_str().to_owned()))
}

/// The users named in `usernames`, in order: at least one, each by the
/// name rules, each once, each existing. The first that is not is the
/// error ([`ChangeError::InList`], with its place).
pub async fn find_users<S: AsRef<str>>(
    auditor: &Auditor,
    usernames: &[S],
) -> Result<Vec<UserRef>, ChangeError> {
    if usernames.is_empty() {
        return Err(ChangeError::NoUsers);
    }
    let mut users: Vec<UserRef> = Vec::with_capacity(usernames.len());
    for (i, username) in usernames.iter().enumerate() {
        let in_list = |error| ChangeError::InList {
            position: i + 1,
            error: Box::new(error),
        };
        let name = Username::parse(username.as_ref()).map_err(|e| in_list(e.into()))?;
        if users.iter().any(|u| u.username == name.as_str()) {
            return Err(in_list(ChangeError::NamedTwice(name.as_str().to_owned())));
        }
        users.push(find_user(auditor, name.as_str()).await.map_err(in_list)?);
    }
    Ok(users)
}

/// The roles named (by their stable names, [`Role::name`]), in the order
/// given, each once.
pub fn parse_roles<S: AsRef<str>>(names: &[S]) -> Result<Roles, ChangeError> {
    names
        .iter()
        .map(|name| name.as_ref().parse::<Role>().map_err(ChangeError::from))
        .collect()
}

/// How a change runs: READ COMMITTED on PostgreSQL (the commands' locking
/// reads need to see the latest committed row), and made again from the
/// start, up to 10 times in all, when the database refuses it because of a
/// concurrent transaction (a deadlock or a serialization failure on
/// PostgreSQL, a busy database on SQLite).
pub fn retry_policy() -> RetryPolicy {
    RetryPolicy::default()
        .isolation(Isolation::Default)
        .attempts(10)
}

/// What a change returned, and how many events it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded<T> {
    /// The command's value.
    pub value: T,
    /// The events recorded with it.
    pub events: usize,
}

/// Who makes changes (a member of staff, or a system process), over which
/// database, and from where: every change runs in a transaction of its
/// own acting for `actor`, with `context` set on it.
#[derive(Debug, Clone)]
pub struct Changes {
    auditor: Auditor,
    actor: Actor,
    context: Context,
}

impl Changes {
    /// Changes to `auditor`'s database by `actor`, made from `context`.
    pub fn new(auditor: Auditor, actor: Actor, context: Context) -> Self {
        Changes {
            auditor,
            actor,
            context,
        }
    }

    /// Runs `change` with `args` in one audited transaction (the context
    /// set before it runs) and commits it, through [`Auditor::transact`]:
    /// when the database refuses it because of a concurrent transaction,
    /// it runs again from the start with a fresh copy of `args`.
    pub async fn record<A, T, F>(&self, args: A, change: F) -> Result<Recorded<T>, ChangeError>
    where
        A: Clone + Send + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a mut StaffAudit, A) -> audit_core::commands::Attempt<'a, T, ChangeError>
            + Copy
            + Send
            + 'static,
    {
        let context = &self.context;
        self.auditor
            .transact::<StaffEvent, _, ChangeError, _>(
                self.actor.clone(),
                retry_policy(),
                |audit| {
                    let args = args.clone();
                    let context = context.clone();
                    Box::pin(async move {
                        audit.set_context(context)?;
                        let value = change(&mut *audit, args).await?;
                        Ok(Recorded {
                            value,
                            events: audit.pending_events(),
                        })
                    })
                },
            )
            .await
    }

    /// Creates the user `username` (by the name rules) with global `roles`.
    pub async fn add_user(
        &self,
        username: &str,
        roles: Roles,
    ) -> Result<Recorded<UserRef>, ChangeError> {
        let username = Username::parse(username)?;
        self.record((username, roles), |audit, (username, roles)| {
            Box::pin(async move { Ok(commands::add_user(audit, username.as_str(), roles).await?) })
        })
        .await
    }

    /// Sets `user`'s password (hashed before, outside the transaction).
    pub async fn set_password(
        &self,
        user: &UserRef,
        password: PasswordHash,
    ) -> Result<Recorded<()>, ChangeError> {
        self.record((user.clone(), password), |audit, (user, password)| {
            Box::pin(async move { Ok(commands::set_password(audit, &user, password).await?) })
        })
        .await
    }

    /// Creates the project `name` (by the name rules).
    pub async fn add_project(&self, name: &str) -> Result<Recorded<ProjectRef>, ChangeError> {
        let name = ProjectName::parse(name)?;
        self.record(name, |audit, name| {
            Box::pin(async move { Ok(commands::add_project(audit, name.as_str()).await?) })
        })
        .await
    }

    /// Adds the users named in `usernames` ([`find_users`]) to `project`
    /// with `roles`, all or nothing.
    pub async fn add_members<S: AsRef<str>>(
        &self,
        project: &ProjectRef,
        usernames: &[S],
        roles: Roles,
    ) -> Result<Recorded<Vec<MembershipId>>, ChangeError> {
        let users = find_users(&self.auditor, usernames).await?;
        self.record(
            (project.clone(), users, roles),
            |audit, (project, users, roles)| {
                Box::pin(
                    async move { Ok(commands::add_members(audit, &project, &users, roles).await?) },
                )
            },
        )
        .await
    }

    /// Sets `user`'s roles in `project`.
    pub async fn update_member_roles(
        &self,
        project: &ProjectRef,
        user: &UserRef,
        roles: Roles,
    ) -> Result<Recorded<()>, ChangeError> {
        self.record(
            (project.clone(), user.clone(), roles),
            |audit, (project, user, roles)| {
                Box::pin(async move {
                    Ok(commands::update_member_roles(audit, &project, &user, roles).await?)
                })
            },
        )
        .await
    }

    /// Removes `user` from `project`.
    pub async fn remove_member(
        &self,
        project: &ProjectRef,
        user: &UserRef,
    ) -> Result<Recorded<()>, ChangeError> {
        self.record((project.clone(), user.clone()), |audit, (project, user)| {
            Box::pin(async move { Ok(commands::remove_member(audit, &project, &user).await?) })
        })
        .await
    }

    /// Sets `user`'s global roles.
    pub async fn update_user_roles(
        &self,
        user: &UserRef,
        roles: Roles,
    ) -> Result<Recorded<()>, ChangeError> {
        self.record((user.clone(), roles), |audit, (user, roles)| {
            Box::pin(async move { Ok(commands::update_user_roles(audit, &user, roles).await?) })
        })
        .await
    }

    /// Removes `user`'s account, memberships and sign-in records as one
    /// recorded command ([`commands::remove_user`]), then erases every
    /// personal value about them from the log ([`Auditor::erase`]) with
    /// `reason`.
    pub async fn erase_user(
        &self,
        user: &UserRef,
        reason: &str,
    ) -> Result<(Recorded<()>, ErasureReport), ChangeError> {
        let removed = self
            .record(user.clone(), |audit, user| {
                Box::pin(async move { Ok(commands::remove_user(audit, &user).await?) })
            })
            .await?;
        let report = self.erase_user_id(user.id, reason).await?;
        Ok((removed, report))
    }

    /// Erases every personal value about the user with `id` from the log
    /// (their account already removed: an `erase-user` cut short), with
    /// `reason`.
    pub async fn erase_user_id(&self, id: i64, reason: &str) -> Result<ErasureReport, ChangeError> {
        Ok(self
            .auditor
            .erase::<StaffEvent>(&Subject::user(id), &self.actor, reason)
            .await?)
    }

    /// Clears all of `user`'s roles, global and in every project, as one
    /// command.
    pub async fn clear_user_roles(&self, user: &UserRef) -> Result<Recorded<()>, ChangeError> {
        self.record(user.clone(), |audit, user| {
            Box::pin(async move { Ok(user.clear_roles(audit).await?) })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_read_by_their_stable_names_in_order() {
        let roles = parse_roles(&["ProjectCollaborator", "ProjectDeveloper"]).unwrap();
        let order: Vec<Role> = roles.iter().copied().collect();
        assert_eq!(order, [Role::ProjectCollaborator, Role::ProjectDeveloper]);
        let none: [&str; 0] = [];
        assert!(parse_roles(&none).unwrap().is_empty());
        let bad = parse_roles(&["ProjectDeveloper", "Admin"]).unwrap_err();
        assert!(bad.to_string().starts_with("unknown role `Admin`"), "{bad}");
        assert!(bad.is_refusal());
    }

    #[tokio::test]
    async fn every_change_runs_with_its_context_set() {
        let auditor = audit_core::testing::sqlite("changes_context").await;
        crate::schema::migrate(&auditor).await.unwrap();
        let context = Context::new()
            .with_request_id("req-9")
            .with_route("POST /projects");
        let changes = Changes::new(auditor, Actor::system("test"), context.clone());
        let seen = changes
            .record((), |audit, ()| {
                Box::pin(async move { Ok(audit.context().clone()) })
            })
            .await
            .unwrap();
        assert_eq!(seen.value, context);
        assert_eq!(seen.events, 0);
    }

    #[tokio::test]
    async fn a_list_of_users_names_the_first_that_is_wrong() {
        let auditor = audit_core::testing::sqlite("changes_find_users").await;
        crate::schema::migrate(&auditor).await.unwrap();
        let changes = Changes::new(auditor.clone(), Actor::system("test"), Context::new());
        changes.add_user("bob", Roles::new()).await.unwrap();
        changes.add_user("carol", Roles::new()).await.unwrap();
        let found = find_users(&auditor, &["bob", " carol "]).await.unwrap();
        let names: Vec<&str> = found.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["bob", "carol"]);
        let none: [&str; 0] = [];
        assert!(matches!(
            find_users(&auditor, &none).await,
            Err(ChangeError::NoUsers)
        ));
        for (list, position, message) in [
            (vec!["bob", "ghost", "x\ty"], 2, "unknown user `ghost`"),
            (
                vec!["bob", "x\ty"],
                2,
                "a username must not contain control characters (found U+0009)",
            ),
            (vec!["bob", "carol", "bob "], 3, "user `bob` is named twice"),
        ] {
            let error = find_users(&auditor, &list).await.unwrap_err();
            assert_eq!(error.to_string(), message, "{list:?}");
            assert!(
                matches!(error, ChangeError::InList { position: p, .. } if p == position),
                "{error:?}"
            );
            assert!(error.is_refusal());
        }
    }
}
