//! Passwords and who counts as staff.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash as PhcHash};

use crate::domain::{Role, Roles};

/// A password hashed with argon2 (argon2id, the crate's default cost), in
/// PHC string format. The only form in which a password is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// An empty password.
    #[error("the password is empty")]
    Empty,
    /// The operating system gave no randomness for the salt.
    #[error("no randomness for the salt: {0}")]
    Random(String),
    /// argon2 refused the input.
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

impl PasswordHash {
    /// Hashes `password` with a fresh random salt. Slow on purpose (tens of
    /// milliseconds): call it outside transactions and off async workers.
    pub fn new(password: &str) -> Result<Self, PasswordError> {
        if password.is_empty() {
            return Err(PasswordError::Empty);
        }
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| PasswordError::Random(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        Ok(PasswordHash(hash.to_string()))
    }

    /// The PHC string, as stored.
    pub fn into_phc(self) -> String {
        self.0
    }
}

/// A hash of a password nobody has, verified against when the username is
/// unknown so that a wrong username takes as long as a wrong password.
static DECOY: LazyLock<Option<String>> = LazyLock::new(|| {
    PasswordHash::new("decoy password for unknown usernames")
        .ok()
        .map(PasswordHash::into_phc)
});

/// Whether `password` matches `stored` (a PHC string). `None` (a user
/// without a password, or no such user) never matches, after spending the
/// same time as a real check. A malformed stored hash never matches.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => match DECOY.as_deref() {
            Some(decoy) => (decoy, false),
            None => return false,
        },
    };
    let Ok(parsed) = PhcHash::new(phc) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    real && matches
}

/// Whether a user with these global roles may use the staff area.
pub fn is_staff(roles: &Roles) -> bool {
    roles.contains(&Role::StaffAreaAdministrator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = PasswordHash::new("correct horse").unwrap();
        let phc = hash.clone().into_phc();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password(Some(&phc), "correct horse"));
        assert!(!verify_password(Some(&phc), "correct horse "));
        assert!(!verify_password(None, "correct horse"));
        assert!(!verify_password(Some("not a hash"), "correct horse"));
        assert_ne!(PasswordHash::new("correct horse").unwrap(), hash, "salted");
        assert!(matches!(PasswordHash::new(""), Err(PasswordError::Empty)));
        assert_eq!(format!("{hash:?}"), "PasswordHash(..)");
    }
}
