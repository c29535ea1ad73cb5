//! A limit on repeated sign-in attempts, per username: after
//! [`MAX_FAILURES`] unsuccessful attempts within [`WINDOW`], that username
//! cannot sign in until the window has passed, whatever the password.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Unsuccessful sign-in attempts allowed within [`WINDOW`].
pub const MAX_FAILURES: u32 = 5;

/// How long attempts count, from the first.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Usernames tracked at most; beyond it the oldest entry is forgotten, so
/// a flood of made-up usernames cannot grow the table without bound.
const MAX_TRACKED: usize = 10_000;

/// Sign-in attempts per username, in this process.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    attempts: Mutex<HashMap<String, (u32, Instant)>>,
}

impl SignInThrottle {
    /// Reserves an attempt for `username` before its password is checked,
    /// so that parallel guesses count too; `Err` with the time left when
    /// the username is locked out. A successful sign-in gives the attempts
    /// back ([`succeeded`](Self::succeeded)).
    pub fn attempt(&self, username: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let key = key(username);
        let mut map = self.lock();
        if let Some((count, since)) = map.get_mut(&key) {
            match WINDOW.checked_sub(since.elapsed()) {
                Some(left) if *count >= MAX_FAILURES => return Err(left),
                Some(_) => {
                    *count += 1;
                    return Ok(());
                }
                None => {
                    *count = 1;
                    *since = now;
                    return Ok(());
                }
            }
        }
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        if map.len() >= MAX_TRACKED
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (_, since))| *since)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(key, (1, now));
        Ok(())
    }

    /// Forgets the attempts of `username` after a successful sign-in.
    pub fn succeeded(&self, username: &str) {
        self.lock().remove(&key(username));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        // Each operation leaves the map whole, so a poisoned lock is sound.
        self.attempts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Usernames differing only in case count as one, so that case cannot be
/// used to get more tries.
fn key(username: &str) -> String {
    username.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_attempts_without_success_lock_the_username_out() {
        let throttle = SignInThrottle::default();
        for _ in 0..MAX_FAILURES {
            assert_eq!(throttle.attempt("Alice"), Ok(()));
        }
        let left = throttle.attempt("ALICE").unwrap_err();
        assert!(left > WINDOW - Duration::from_secs(60));
        assert_eq!(throttle.attempt("bob"), Ok(()));
        throttle.succeeded("alice");
        assert_eq!(throttle.attempt("alice"), Ok(()));
    }

    #[test]
    fn the_table_stays_bounded() {
        let throttle = SignInThrottle::default();
        for i in 0..MAX_TRACKED + 10 {
            throttle.attempt(&format!("user{i}")).unwrap();
        }
        assert_eq!(throttle.lock().len(), MAX_TRACKED);
    }
}
