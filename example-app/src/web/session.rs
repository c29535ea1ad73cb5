//! Server-side sessions: the cookie holds a random token, the server maps
//! it to a user until it expires or the user signs out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use cookie::{Cookie, SameSite};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "staff_session";

/// How long a session lasts after sign-in.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// The signed-in sessions of one server process.
#[derive(Debug, Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

#[derive(Debug, Clone, Copy)]
struct Session {
    user_id: i64,
    expires: Instant,
}

/// No randomness for a session token.
#[derive(Debug, thiserror::Error)]
#[error("no randomness for a session token: {0}")]
pub struct TokenError(String);

impl Sessions {
    /// Starts a session for `user_id`; returns its token (256 random bits, hex).
    pub fn start(&self, user_id: i64) -> Result<String, TokenError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| TokenError(e.to_string()))?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| s.expires > now);
        map.insert(
            token.clone(),
            Session {
                user_id,
                expires: now + SESSION_LIFETIME,
            },
        );
        Ok(token)
    }

    /// The user of the live session `token`.
    pub fn user(&self, token: &str) -> Option<i64> {
        let session = *self.lock().get(token)?;
        (session.expires > Instant::now()).then_some(session.user_id)
    }

    /// Ends the session `token`.
    pub fn end(&self, token: &str) {
        self.lock().remove(token);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (each operation is a single insert, remove or retain), so a
        // poisoned lock is still sound to use.
        self.by_token
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The session token the request's cookies carry, if any.
pub fn token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .map(|c| c.value().to_owned())
}

/// The `Set-Cookie` value that hands out `token`: HttpOnly, SameSite=Lax,
/// for the whole site, and Secure when the site is served over HTTPS.
pub fn set_cookie(token: &str, secure: bool) -> String {
    Cookie::build((COOKIE_NAME, token.to_owned()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::seconds(
            SESSION_LIFETIME.as_secs() as i64
        ))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    Cookie::build((COOKIE_NAME, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_start_resolve_and_end() {
        let sessions = Sessions::default();
        let a = sessions.start(7).unwrap();
        let b = sessions.start(7).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(sessions.user(&a), Some(7));
        sessions.end(&a);
        assert_eq!(sessions.user(&a), None);
        assert_eq!(sessions.user(&b), Some(7));
        assert_eq!(sessions.user("forged"), None);
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site() {
        let set = set_cookie("abc", false);
        assert!(set.starts_with("staff_session=abc;"), "{set}");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        assert!(!set.contains("Secure"), "{set}");
        assert!(set_cookie("abc", true).contains("Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; staff_session=tok; b=2".parse().unwrap());
        assert_eq!(token(&headers).as_deref(), Some("tok"));
    }
}
