//! Validated names: a [`Username`] and a [`ProjectName`] are trimmed, not
//! empty, hold no control character (a newline or a tab would forge a line
//! of the command line's log) and no bidirectional formatting character
//! (U+202E and its kin would reorder what is shown), and fit in
//! [`MAX_NAME_BYTES`], the limit the sign-in form applies to usernames.

use std::fmt;
use std::str::FromStr;

use audit_core::text::is_bidi_formatting;

/// The longest name, in bytes of UTF-8: the sign-in form refuses longer
/// usernames, so a longer one could never sign in.
pub const MAX_NAME_BYTES: usize = 128;

/// Why a name is refused; each message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing left once leading and trailing whitespace is trimmed.
    #[error("a {kind} must not be empty or only whitespace")]
    Empty {
        /// What kind of name ("username", "project name").
        kind: &'static str,
    },
    /// Longer than [`MAX_NAME_BYTES`].
    #[error("a {kind} must be at most {max} bytes long (this one has {len})", max = MAX_NAME_BYTES)]
    TooLong {
        /// What kind of name.
        kind: &'static str,
        /// Its length in bytes, trimmed.
        len: usize,
    },
    /// Holds a control character (such as a newline or a tab).
    #[error("a {kind} must not contain control characters (found U+{code:04X})", code = *.found as u32)]
    Control {
        /// What kind of name.
        kind: &'static str,
        /// The first one found.
        found: char,
    },
    /// Holds a bidirectional formatting character (such as U+202E).
    #[error("a {kind} must not contain bidirectional formatting characters (found U+{code:04X})", code = *.found as u32)]
    Bidi {
        /// What kind of name.
        kind: &'static str,
        /// The first one found.
        found: char,
    },
}

/// Trims `raw` and checks it against every rule.
fn validate(kind: &'static str, raw: &str) -> Result<String, NameError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameError::Empty { kind });
    }
    if let Some(found) = name.chars().find(|c| c.is_control()) {
        return Err(NameError::Control { kind, found });
    }
    if let Some(found) = name.chars().find(|&c| is_bidi_formatting(c)) {
        return Err(NameError::Bidi { kind, found });
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong {
            kind,
            len: name.len(),
        });
    }
    Ok(name.to_owned())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Trims `raw` and checks it: not empty, no control or
            /// bidirectional formatting character, at most
            /// [`MAX_NAME_BYTES`] bytes.
            pub fn parse(raw: &str) -> Result<Self, NameError> {
                validate($kind, raw).map(Self)
            }

            /// The name, trimmed.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = NameError;
            fn from_str(raw: &str) -> Result<Self, NameError> {
                Self::parse(raw)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = NameError;
            fn try_from(raw: &str) -> Result<Self, NameError> {
                Self::parse(raw)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A user's name, checked (see the [module](self)).
    Username,
    "username"
);
name_type!(
    /// A project's name, checked (see the [module](self)).
    ProjectName,
    "project name"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed() {
        assert_eq!(Username::parse("  bob\t").unwrap().as_str(), "bob");
        assert_eq!(
            ProjectName::parse(" Apollo 11 ").unwrap().as_str(),
            "Apollo 11"
        );
    }

    #[test]
    fn every_rule_refuses_with_its_own_message() {
        let cases = [
            ("", "a username must not be empty or only whitespace"),
            ("   ", "a username must not be empty or only whitespace"),
            (
                "two\nlines",
                "a username must not contain control characters (found U+000A)",
            ),
            (
                "a\tb",
                "a username must not contain control characters (found U+0009)",
            ),
            (
                "a\u{85}b",
                "a username must not contain control characters (found U+0085)",
            ),
            (
                "evil\u{202E}txt",
                "a username must not contain bidirectional formatting characters (found U+202E)",
            ),
            (
                "x\u{2067}y",
                "a username must not contain bidirectional formatting characters (found U+2067)",
            ),
        ];
        for (raw, message) in cases {
            assert_eq!(
                Username::parse(raw).unwrap_err().to_string(),
                message,
                "{raw:?}"
            );
        }
        assert_eq!(
            ProjectName::parse("").unwrap_err().to_string(),
            "a project name must not be empty or only whitespace"
        );
    }

    #[test]
    fn the_length_limit_is_the_sign_in_forms() {
        assert!(Username::parse(&"a".repeat(MAX_NAME_BYTES)).is_ok());
        assert_eq!(
            Username::parse(&"a".repeat(300)).unwrap_err().to_string(),
            "a username must be at most 128 bytes long (this one has 300)"
        );
        // Bytes, not characters: 65 two-byte characters are 130 bytes.
        assert!(ProjectName::parse(&"é".repeat(65)).is_err());
        assert!(ProjectName::parse(&"é".repeat(64)).is_ok());
    }
}
