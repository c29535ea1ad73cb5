//! Passwords and who counts as staff.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use argon2::password_hash::{Output, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash as PhcHash, Version};
use tokio::sync::Semaphore;

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
/// Allocates argon2's memory for this one call: the web area verifies
/// through a [`Verifiers`] pool instead.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    verify_with(stored, password, &mut Vec::new())
}

/// The check itself, with `memory` as argon2's working memory (grown to
/// what the stored hash's parameters need when it is too small).
fn verify_with(stored: Option<&str>, password: &str, memory: &mut Vec<Block>) -> bool {
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
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut out,
        &mut memory[..],
    );
    // `Output`'s equality is constant-time.
    let matches = hashed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected);
    real && matches
}

/// A fixed number of argon2 working memories (about 19 MiB each at the
/// default cost), each allocated on first use and then reused: password
/// checks wait for a free one, so however many sign-ins arrive, at most
/// `size` checks run at once and their memory is allocated once, not once
/// per sign-in (which left hundreds of MiB in the allocator's arenas).
#[derive(Debug)]
pub struct Verifiers {
    permits: Arc<Semaphore>,
    free: Mutex<Vec<Vec<Block>>>,
    size: usize,
    allocated: AtomicUsize,
    in_use: AtomicUsize,
    most_in_use: AtomicUsize,
}

/// The pool is gone (closed); never happens while a [`Verifiers`] lives.
#[derive(Debug, thiserror::Error)]
#[error("the password verification pool is closed")]
pub struct PoolClosed;

impl Verifiers {
    /// A pool of `size` memories (at least one).
    pub fn new(size: usize) -> Self {
        let size = size.max(1);
        Verifiers {
            permits: Arc::new(Semaphore::new(size)),
            free: Mutex::new(Vec::with_capacity(size)),
            size,
            allocated: AtomicUsize::new(0),
            in_use: AtomicUsize::new(0),
            most_in_use: AtomicUsize::new(0),
        }
    }

    /// Checks `password` against `stored` as [`verify_password`] does, on a
    /// blocking thread, once a memory of the pool is free.
    pub async fn verify(
        self: &Arc<Self>,
        stored: Option<String>,
        password: String,
    ) -> Result<bool, PoolClosed> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PoolClosed)?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut memory = pool.take();
            let valid = verify_with(stored.as_deref(), &password, &mut memory);
            pool.put_back(memory);
            valid
        })
        .await
        .map_err(|_| PoolClosed)
    }

    /// A free memory (a new, empty one while fewer than `size` exist; the
    /// permit held makes sure no more ever do).
    fn take(&self) -> Vec<Block> {
        let now = self.in_use.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_use.fetch_max(now, Ordering::SeqCst);
        let reused = self.lock().pop();
        reused.unwrap_or_else(|| {
            self.allocated.fetch_add(1, Ordering::SeqCst);
            Vec::new()
        })
    }

    fn put_back(&self, memory: Vec<Block>) {
        self.lock().push(memory);
        self.in_use.fetch_sub(1, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
        // A push or a pop cannot leave the list half-changed.
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many memories the pool holds at most.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many memories have been allocated so far.
    pub fn allocated(&self) -> usize {
        self.allocated.load(Ordering::SeqCst)
    }

    /// The most checks that ever ran at once.
    pub fn most_in_use(&self) -> usize {
        self.most_in_use.load(Ordering::SeqCst)
    }
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_pool_bounds_concurrent_checks_and_reuses_their_memory() {
        let phc = PasswordHash::new("correct horse").unwrap().into_phc();
        let pool = Arc::new(Verifiers::new(2));
        let checks: Vec<_> = (0..12)
            .map(|i| {
                let pool = Arc::clone(&pool);
                let phc = phc.clone();
                let password = if i % 3 == 0 { "correct horse" } else { "wrong" };
                tokio::spawn(async move {
                    let stored = (i % 4 != 1).then_some(phc);
                    let expected = stored.is_some() && password == "correct horse";
                    let valid = pool.verify(stored, password.to_owned()).await.unwrap();
                    (valid, expected)
                })
            })
            .collect();
        for check in checks {
            let (valid, expected) = check.await.unwrap();
            assert_eq!(valid, expected);
        }
        assert!(pool.most_in_use() <= 2, "{}", pool.most_in_use());
        assert!(pool.most_in_use() >= 1);
        assert!(pool.allocated() <= 2, "{}", pool.allocated());
        assert_eq!(
            pool.lock().len(),
            pool.allocated(),
            "every memory came back"
        );
        assert!(
            pool.lock()
                .iter()
                .all(|m| m.len() == Params::DEFAULT.block_count()),
            "sized once, for the default cost"
        );
    }
}
