//! Who performed an audited change.

use serde::{Deserialize, Serialize};

use crate::text::printable;

/// The one actor a transaction acts for: a person, or a named system process
/// (a data migration, a scheduled job, a management command). Stored rows say which.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A signed-in user.
    User {
        /// The user's id.
        id: String,
        /// The username at the time, shown if the user is later removed.
        username: String,
    },
    /// A named system process.
    System {
        /// The process's name (`nightly-role-sync`).
        name: String,
    },
}

impl Actor {
    /// A user actor.
    pub fn user(id: impl ToString, username: impl Into<String>) -> Self {
        Actor::User {
            id: id.to_string(),
            username: username.into(),
        }
    }

    /// A system-process actor.
    pub fn system(name: impl Into<String>) -> Self {
        Actor::System { name: name.into() }
    }

    /// `user` or `system`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } => "user",
            Actor::System { .. } => "system",
        }
    }

    /// The stored id: the user's id, or the process name.
    pub fn id(&self) -> &str {
        match self {
            Actor::User { id, .. } => id,
            Actor::System { name } => name,
        }
    }

    /// The stored display name: the username, or the process name.
    pub fn name(&self) -> &str {
        match self {
            Actor::User { username, .. } => username,
            Actor::System { name } => name,
        }
    }

    /// Rebuilds an actor from its stored columns; `None` for an unknown kind.
    pub(crate) fn from_stored(kind: &str, id: &str, name: &str) -> Option<Actor> {
        match kind {
            "user" => Some(Actor::User {
                id: id.to_owned(),
                username: name.to_owned(),
            }),
            "system" => Some(Actor::System {
                name: name.to_owned(),
            }),
            _ => None,
        }
    }
}

/// The username, or `system process NAME`, as [`printable`] text: a name
/// holding a newline or a bidirectional override cannot forge a line of
/// output.
impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User { username, .. } => f.write_str(&printable(username)),
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
    }
}
