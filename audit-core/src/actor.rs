//! Who performed an audited change.

use serde::{Deserialize, Serialize};

use crate::text::printable;

/// Who a transaction acts for: a person, a person acting on behalf of
/// another, a service account or API key, or a named system process. Stored
/// rows say which.
///
/// The enum is `#[non_exhaustive]`: kinds may be added, so a `match` on it
/// needs a `_` arm (show [`Display`](std::fmt::Display), or
/// [`kind`](Actor::kind), [`id`](Actor::id) and [`name`](Actor::name), which
/// every kind has).
///
/// ```
/// use audit_core::Actor;
///
/// assert_eq!(Actor::user(1, "alice").to_string(), "alice");
/// assert_eq!(Actor::user(1, "alice").acting_as(2, "bob").to_string(), "alice (as bob)");
/// assert_eq!(Actor::service("ci-deploy", "CI deploy key").to_string(), "service CI deploy key");
/// assert_eq!(Actor::system("nightly-sync").to_string(), "system process nightly-sync");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Actor {
    /// A signed-in person ([`Actor::user`]).
    #[non_exhaustive]
    User {
        /// The user's id.
        id: String,
        /// The username at the time, shown if the user is later removed.
        username: String,
    },
    /// A signed-in person acting on behalf of another (impersonation,
    /// support access): both are recorded, the person who really acted
    /// first ([`Actor::acting_as`]). Shown "alice (as bob)"; stored as
    /// kind `user` with the person acted for beside it, so filters by actor
    /// find it under the person who acted.
    #[non_exhaustive]
    Impersonation {
        /// The id of the person who acted.
        id: String,
        /// Their username at the time.
        username: String,
        /// The id of the person acted for.
        as_id: String,
        /// Their username at the time.
        as_username: String,
    },
    /// A service account or an API key, by its id and name, never its
    /// secret ([`Actor::service`]).
    #[non_exhaustive]
    Service {
        /// The account's or key's id (`ci-deploy`, a key's public prefix).
        id: String,
        /// Its name as shown.
        name: String,
    },
    /// A named system process: a data migration, a scheduled job, a
    /// management command ([`Actor::system`]).
    #[non_exhaustive]
    System {
        /// The process's name (`nightly-role-sync`).
        name: String,
    },
}

impl Actor {
    /// A person.
    pub fn user(id: impl ToString, username: impl Into<String>) -> Self {
        Actor::User {
            id: id.to_string(),
            username: username.into(),
        }
    }

    /// This person acting on behalf of the person `as_id`, `as_username`
    /// (impersonation). Any other kind of actor is returned unchanged: only
    /// a person acts as another.
    pub fn acting_as(self, as_id: impl ToString, as_username: impl Into<String>) -> Self {
        match self {
            Actor::User { id, username } | Actor::Impersonation { id, username, .. } => {
                Actor::Impersonation {
                    id,
                    username,
                    as_id: as_id.to_string(),
                    as_username: as_username.into(),
                }
            }
            other => other,
        }
    }

    /// A service account or API key: its id and the name shown (never its
    /// secret).
    pub fn service(id: impl ToString, name: impl Into<String>) -> Self {
        Actor::Service {
            id: id.to_string(),
            name: name.into(),
        }
    }

    /// A system process.
    pub fn system(name: impl Into<String>) -> Self {
        Actor::System { name: name.into() }
    }

    /// `user` (a person, acting as themselves or as another), `service` or
    /// `system`, as stored: filters by actor find what a person did under
    /// `user` and their id, whomever they acted as.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } | Actor::Impersonation { .. } => "user",
            Actor::Service { .. } => "service",
            Actor::System { .. } => "system",
        }
    }

    /// The stored id: of the person who acted, of the service, or the
    /// process name.
    pub fn id(&self) -> &str {
        match self {
            Actor::User { id, .. }
            | Actor::Impersonation { id, .. }
            | Actor::Service { id, .. } => id,
            Actor::System { name } => name,
        }
    }

    /// The stored display name: of the person who acted, of the service, or
    /// the process name.
    pub fn name(&self) -> &str {
        match self {
            Actor::User { username, .. } | Actor::Impersonation { username, .. } => username,
            Actor::Service { name, .. } | Actor::System { name } => name,
        }
    }

    /// The id of the person a person acted for (impersonation), if any.
    pub fn as_id(&self) -> Option<&str> {
        match self {
            Actor::Impersonation { as_id, .. } => Some(as_id),
            _ => None,
        }
    }

    /// The username of the person a person acted for (impersonation), if any.
    pub fn as_name(&self) -> Option<&str> {
        match self {
            Actor::Impersonation { as_username, .. } => Some(as_username),
            _ => None,
        }
    }

    /// The id of the person who acted, for a person or a person acting as
    /// another; `None` for a service or a process.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User { id, .. } | Actor::Impersonation { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Rebuilds an actor from its stored columns (a person with the person
    /// they acted for is an impersonation); `None` for an unknown kind.
    pub(crate) fn from_stored(
        kind: &str,
        id: &str,
        name: &str,
        as_id: Option<&str>,
        as_name: Option<&str>,
    ) -> Option<Actor> {
        match kind {
            "user" => Some(match (as_id, as_name) {
                (Some(as_id), Some(as_name)) => Actor::user(id, name).acting_as(as_id, as_name),
                _ => Actor::user(id, name),
            }),
            "service" => Some(Actor::service(id, name)),
            "system" => Some(Actor::system(name)),
            _ => None,
        }
    }
}

/// The username, `alice (as bob)`, `service NAME` or `system process NAME`,
/// as [`printable`] text: a name holding a newline or a bidirectional
/// override cannot forge a line of output.
impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User { username, .. } => f.write_str(&printable(username)),
            Actor::Impersonation {
                username,
                as_username,
                ..
            } => write!(f, "{} (as {})", printable(username), printable(as_username)),
            Actor::Service { name, .. } => write!(f, "service {}", printable(name)),
            Actor::System { name } => write!(f, "system process {}", printable(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_escapes_what_could_forge_a_line() {
        assert_eq!(Actor::user(1, "alice").to_string(), "alice");
        assert_eq!(
            Actor::user(2, "bob\n  #9 root\u{202e}").to_string(),
            r"bob\n  #9 root\u{202e}"
        );
        assert_eq!(
            Actor::system("job\r\u{1b}[2K").to_string(),
            r"system process job\r\u{1b}[2K"
        );
        assert_eq!(
            Actor::user(1, "alice")
                .acting_as(2, "bob\u{202e})")
                .to_string(),
            r"alice (as bob\u{202e}))"
        );
    }

    #[test]
    fn every_kind_reads_back_from_its_stored_columns() {
        for actor in [
            Actor::user(1, "alice"),
            Actor::user(1, "alice").acting_as(2, "bob"),
            Actor::service("ci", "CI key"),
            Actor::system("job"),
        ] {
            let back = Actor::from_stored(
                actor.kind(),
                actor.id(),
                actor.name(),
                actor.as_id(),
                actor.as_name(),
            );
            assert_eq!(back.as_ref(), Some(&actor));
        }
        assert_eq!(
            Actor::from_stored("impersonation", "1", "a", None, None),
            None
        );
        assert_eq!(Actor::from_stored("robot", "1", "a", None, None), None);
    }

    #[test]
    fn only_a_person_acts_as_another() {
        assert_eq!(
            Actor::system("job").acting_as(2, "bob"),
            Actor::system("job")
        );
        assert_eq!(
            Actor::user(1, "a").acting_as(2, "b").acting_as(3, "c"),
            Actor::user(1, "a").acting_as(3, "c")
        );
    }
}
