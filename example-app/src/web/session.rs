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

#[derive(Debug, Clone)]
struct Session {
    user_id: i64,
    csrf: String,
    credential: Option<String>,
    expires: Instant,
}

/// A live session: whose it is, and the token its forms must send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    /// The signed-in user.
    pub user_id: i64,
    /// The session's CSRF token.
    pub csrf: String,
    /// The user's password hash when they signed in: a session ends when
    /// the password changes.
    pub credential: Option<String>,
}

/// No randomness for a session token.
#[derive(Debug, thiserror::Error)]
#[error("no randomness for a session token: {0}")]
pub struct TokenError(String);

impl Sessions {
    /// Starts a session for `user_id`, signed in with the password whose
    /// hash is `credential`; returns its token.
    pub fn start(&self, user_id: i64, credential: Option<String>) -> Result<String, TokenError> {
        let token = random_token()?;
        let csrf = random_token()?;
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| s.expires > now);
        map.insert(
            token.clone(),
            Session {
                user_id,
                csrf,
                credential,
                expires: now + SESSION_LIFETIME,
            },
        );
        Ok(token)
    }

    /// The live session `token`, if it is one.
    pub fn live(&self, token: &str) -> Option<Live> {
        let map = self.lock();
        let session = map.get(token)?;
        (session.expires > Instant::now()).then(|| Live {
            user_id: session.user_id,
            csrf: session.csrf.clone(),
            credential: session.credential.clone(),
        })
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

/// 256 random bits, hex.
pub fn random_token() -> Result<String, TokenError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether two tokens are equal, in time that does not depend on where
/// they differ.
pub fn tokens_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of the cookie `name` the request carries, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The session token the request's cookies carry, if any.
pub fn token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE_NAME)
}

/// The cookie holding the sign-in form's CSRF token, before any session.
pub const SIGN_IN_COOKIE: &str = "staff_sign_in";

/// The `Set-Cookie` value for the sign-in form's token: HttpOnly,
/// SameSite=Strict, only sent to `/sign-in`, for an hour.
pub fn sign_in_cookie(token: &str, secure: bool) -> String {
    http_only_cookie(
        SIGN_IN_COOKIE,
        token,
        SameSite::Strict,
        "/sign-in",
        cookie::time::Duration::hours(1),
        secure,
    )
}

/// The `Set-Cookie` value that hands out `token`: HttpOnly, SameSite=Lax,
/// for the whole site, and Secure when the site is served over HTTPS.
pub fn set_cookie(token: &str, secure: bool) -> String {
    let lifetime = cookie::time::Duration::seconds(SESSION_LIFETIME.as_secs() as i64);
    http_only_cookie(COOKIE_NAME, token, SameSite::Lax, "/", lifetime, secure)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    let now = cookie::time::Duration::ZERO;
    http_only_cookie(COOKIE_NAME, "", SameSite::Lax, "/", now, secure)
}

/// An HttpOnly cookie, `Secure` when the site is served over HTTPS.
fn http_only_cookie(
    name: &'static str,
    value: &str,
    same_site: SameSite,
    path: &'static str,
    max_age: cookie::time::Duration,
    secure: bool,
) -> String {
    Cookie::build((name, value.to_owned()))
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .path(path)
        .max_age(max_age)
        .build()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_start_resolve_and_end() {
        let sessions = Sessions::default();
        let a = sessions.start(7, None).unwrap();
        let b = sessions.start(7, Some("hash".into())).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        let live = sessions.live(&a).unwrap();
        assert_eq!(live.user_id, 7);
        assert_ne!(live.csrf, sessions.live(&b).unwrap().csrf);
        sessions.end(&a);
        assert_eq!(sessions.live(&a), None);
        assert_eq!(sessions.live(&b).map(|l| l.user_id), Some(7));
        assert_eq!(sessions.live("forged"), None);
        assert!(tokens_match("ab", "ab"));
        assert!(!tokens_match("ab", "ac") && !tokens_match("ab", "abc") && !tokens_match("", ""));
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
