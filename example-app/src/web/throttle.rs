//! A limit on repeated failed sign-ins, per username: after
//! [`MAX_FAILURES`] within [`WINDOW`], that username cannot sign in until
//! the window has passed, whatever the password.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins allowed within [`WINDOW`].
pub const MAX_FAILURES: u32 = 5;

/// How long failures count, from the first.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed sign-ins per username, in this process.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl SignInThrottle {
    /// How long `username` must still wait, if it is locked out.
    pub fn locked_for(&self, username: &str) -> Option<Duration> {
        let map = self.lock();
        let (count, since) = map.get(&key(username))?;
        let left = WINDOW.checked_sub(since.elapsed())?;
        (*count >= MAX_FAILURES).then_some(left)
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, username: &str) {
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        let entry = map.entry(key(username)).or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
    }

    /// Forgets the failures of `username` after a successful sign-in.
    pub fn succeeded(&self, username: &str) {
        self.lock().remove(&key(username));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        // Each operation leaves the map whole, so a poisoned lock is sound.
        self.failures
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
    fn five_failures_lock_the_username_out() {
        let throttle = SignInThrottle::default();
        for _ in 0..MAX_FAILURES - 1 {
            throttle.failed("Alice");
        }
        assert_eq!(throttle.locked_for("alice"), None);
        throttle.failed("alice");
        let left = throttle.locked_for("ALICE").unwrap();
        assert!(left > WINDOW - Duration::from_secs(60));
        assert_eq!(throttle.locked_for("bob"), None);
        throttle.succeeded("alice");
        assert_eq!(throttle.locked_for("alice"), None);
    }
}
