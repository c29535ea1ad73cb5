//! Server-side sessions, in the database (`web_sessions`, staff schema
//! version 3): the cookie holds a random token, the table maps the token's
//! SHA-256 to a user until the session expires or the user signs out. Every
//! instance over the database sees the same sessions, a restart keeps them,
//! and someone who can read the table cannot use a row as a cookie.

use std::time::Duration;

use audit_core::{Auditor, on_backend};
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

/// The session cookie's name over plain HTTP.
pub const COOKIE_NAME: &str = "staff_session";

/// The session cookie's name over HTTPS (`secure_cookies`): the `__Host-`
/// prefix makes browsers refuse the cookie unless this host set it,
/// Secure and for `/`, so a sibling subdomain cannot plant a session of its
/// own choosing (which would sign the victim in as the attacker).
pub const SECURE_COOKIE_NAME: &str = "__Host-staff_session";

/// How long a session lasts after sign-in.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// The signed-in sessions, kept in the database.
#[derive(Debug, Clone)]
pub struct Sessions {
    auditor: Auditor,
}

/// A live session: whose it is, and the token its forms must send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    /// The signed-in user.
    pub user_id: i64,
    /// The session's CSRF token.
    pub csrf: String,
    /// The SHA-256 of the user's password hash when they signed in: a
    /// session ends when the password changes.
    credential: Option<String>,
}

impl Live {
    /// Whether the session was started with the password whose hash is
    /// `password_hash` (the user's current one).
    pub fn signed_in_with(&self, password_hash: Option<&str>) -> bool {
        self.credential == password_hash.map(sha256_hex)
    }
}

/// A session (or a sign-in form token) could not be made, read or
/// written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No randomness for a token.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The database failed.
    #[error("the web area's tables: {0}")]
    Database(#[from] sqlx::Error),
}

/// No randomness for a session token.
#[derive(Debug, thiserror::Error)]
#[error("no randomness for a session token: {0}")]
pub struct TokenError(String);

impl Sessions {
    /// The sessions stored in `auditor`'s database.
    pub fn new(auditor: Auditor) -> Self {
        Sessions { auditor }
    }

    /// Starts a session for `user_id`, signed in with the password whose
    /// hash is `password_hash`; returns its token. Removes expired sessions
    /// on the way (the only cleanup there is, and all there needs to be).
    pub async fn start(
        &self,
        user_id: i64,
        password_hash: Option<&str>,
    ) -> Result<String, SessionError> {
        let token = random_token()?;
        let csrf = random_token()?;
        let now = now();
        let expires = now + SESSION_LIFETIME.as_secs() as i64;
        let credential = password_hash.map(sha256_hex);
        on_backend!(self.auditor.pool(), pool => {
            sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO web_sessions (token_hash, user_id, csrf, credential, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(sha256_hex(&token))
            .bind(user_id)
            .bind(&csrf)
            .bind(credential)
            .bind(expires)
            .execute(pool)
            .await?;
        });
        Ok(token)
    }

    /// The live session `token`, if it is one.
    pub async fn live(&self, token: &str) -> Result<Option<Live>, SessionError> {
        let row: Option<(i64, String, Option<String>)> = on_backend!(self.auditor.pool(), pool => {
            sqlx::query_as(
                "SELECT user_id, csrf, credential FROM web_sessions \
                 WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(sha256_hex(token))
            .bind(now())
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(user_id, csrf, credential)| Live {
            user_id,
            csrf,
            credential,
        }))
    }

    /// Ends the session `token`.
    pub async fn end(&self, token: &str) -> Result<(), SessionError> {
        on_backend!(self.auditor.pool(), pool => {
            sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
                .bind(sha256_hex(token))
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

/// Seconds since the Unix epoch: the web tables' clock, the same for every
/// instance (as far as their clocks agree).
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The SHA-256 of `text`, hex.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// 256 random bits, hex.
pub fn random_token() -> Result<String, TokenError> {
    Ok(hex::encode(random_bytes()?))
}

/// 256 random bits.
pub fn random_bytes() -> Result<[u8; 32], TokenError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError(e.to_string()))?;
    Ok(bytes)
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

/// The session token the request's cookies carry, if any (over HTTPS, only
/// the `__Host-` cookie counts).
pub fn token(headers: &HeaderMap, secure: bool) -> Option<String> {
    cookie(headers, session_cookie_name(secure))
}

fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// The cookie holding the sign-in form's CSRF token, before any session,
/// over plain HTTP.
pub const SIGN_IN_COOKIE: &str = "staff_sign_in";

/// The same over HTTPS, `__Host-` prefixed (so for the whole site).
pub const SECURE_SIGN_IN_COOKIE: &str = "__Host-staff_sign_in";

/// The sign-in form's token the request's cookies carry, if any.
pub fn sign_in_token(headers: &HeaderMap, secure: bool) -> Option<String> {
    let name = if secure {
        SECURE_SIGN_IN_COOKIE
    } else {
        SIGN_IN_COOKIE
    };
    cookie(headers, name)
}

/// The `Set-Cookie` value for the sign-in form's token: HttpOnly,
/// SameSite=Strict, for an hour; only sent to `/sign-in` over plain HTTP
/// (a `__Host-` cookie must be for `/`).
pub fn sign_in_cookie(token: &str, secure: bool) -> String {
    let (name, path) = if secure {
        (SECURE_SIGN_IN_COOKIE, "/")
    } else {
        (SIGN_IN_COOKIE, "/sign-in")
    };
    http_only_cookie(
        name,
        token,
        SameSite::Strict,
        path,
        cookie::time::Duration::hours(1),
        secure,
    )
}

/// The `Set-Cookie` value that hands out `token`: HttpOnly, SameSite=Lax,
/// for the whole site, and Secure and `__Host-` prefixed when the site is
/// served over HTTPS.
pub fn set_cookie(token: &str, secure: bool) -> String {
    let lifetime = cookie::time::Duration::seconds(SESSION_LIFETIME.as_secs() as i64);
    let name = session_cookie_name(secure);
    http_only_cookie(name, token, SameSite::Lax, "/", lifetime, secure)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    let now = cookie::time::Duration::ZERO;
    let name = session_cookie_name(secure);
    http_only_cookie(name, "", SameSite::Lax, "/", now, secure)
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
    fn tokens_compare_whole() {
        assert!(tokens_match("ab", "ab"));
        assert!(!tokens_match("ab", "ac") && !tokens_match("ab", "abc") && !tokens_match("", ""));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
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
        let secure = set_cookie("abc", true);
        assert!(secure.starts_with("__Host-staff_session=abc;"), "{secure}");
        assert!(
            secure.contains("Secure") && secure.contains("Path=/"),
            "{secure}"
        );
        assert!(!secure.contains("Domain"), "{secure}");
        assert!(clear_cookie(false).contains("Max-Age=0"));
        assert!(sign_in_cookie("t", true).starts_with("__Host-staff_sign_in=t;"));
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; staff_session=tok; b=2".parse().unwrap());
        assert_eq!(token(&headers, false).as_deref(), Some("tok"));
        // Over HTTPS a cookie without the prefix (planted by a sibling) is
        // not a session.
        assert_eq!(token(&headers, true), None);
    }
}
