//! Cross-site request forgery, before and after sign-in.
//!
//! The sign-in form's token is issued by the server: a random nonce and an
//! expiry, signed with HMAC-SHA256 under a secret kept in the database
//! (`web_secrets`, made by the first instance that needs it, shared by the
//! others and kept across restarts). The POST must bring the same token in
//! the form and in the `staff_sign_in` cookie, and the token must carry a
//! valid signature and not have expired, so a value the client made up (a
//! cookie planted by a sibling subdomain, say) is refused. Nothing is stored
//! per form, so loading the form writes nothing.
//!
//! A token obtained by an attacker from the server is still valid; what
//! keeps them from planting one together with a matching form is that a
//! browser says where a form comes from: a POST whose `Origin` is not this
//! site, or whose `Sec-Fetch-Site` is neither `same-origin` nor `none`, is
//! refused ([`same_origin`]). Signed-in forms (sign-out) carry the session's
//! own token, kept in its row.

use std::time::Duration;

use audit_core::{Auditor, on_backend};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::session::{SessionError, now, random_bytes, tokens_match};

/// How long a sign-in form stays usable.
pub const FORM_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The secret's name in `web_secrets`.
const SECRET_NAME: &str = "sign_in_form_hmac";

/// Issues and checks sign-in form tokens.
#[derive(Debug)]
pub struct FormTokens {
    auditor: Auditor,
    secret: OnceCell<[u8; 32]>,
}

impl FormTokens {
    /// Tokens signed with the secret in `auditor`'s database.
    pub fn new(auditor: Auditor) -> Self {
        FormTokens {
            auditor,
            secret: OnceCell::new(),
        }
    }

    /// A new token, valid for [`FORM_LIFETIME`].
    pub async fn issue(&self) -> Result<String, SessionError> {
        let secret = self.secret().await?;
        let nonce = hex::encode(&random_bytes()?[..16]);
        let expires = now() + FORM_LIFETIME.as_secs() as i64;
        let body = format!("{nonce}.{expires}");
        let mac = hex::encode(hmac(&secret, body.as_bytes()));
        Ok(format!("{body}.{mac}"))
    }

    /// Whether `token` was issued by [`issue`](Self::issue) (by any
    /// instance over the database) and has not expired.
    pub async fn valid(&self, token: &str) -> Result<bool, SessionError> {
        let Some((body, mac)) = token.rsplit_once('.') else {
            return Ok(false);
        };
        let Some(expires) = body
            .split_once('.')
            .and_then(|(_, expires)| expires.parse::<i64>().ok())
        else {
            return Ok(false);
        };
        if expires <= now() {
            return Ok(false);
        }
        let secret = self.secret().await?;
        let expected = hex::encode(hmac(&secret, body.as_bytes()));
        Ok(tokens_match(&expected, mac))
    }

    /// The secret: read from the database, or made there first by
    /// whichever instance gets there first (the others then read theirs).
    async fn secret(&self) -> Result<[u8; 32], SessionError> {
        let secret = self
            .secret
            .get_or_try_init(|| async {
                let mine = hex::encode(random_bytes()?);
                let stored: String = on_backend!(self.auditor.pool(), pool => {
                    sqlx::query(
                        "INSERT INTO web_secrets (name, value) VALUES ($1, $2) \
                         ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(SECRET_NAME)
                    .bind(&mine)
                    .execute(pool)
                    .await?;
                    sqlx::query_scalar("SELECT value FROM web_secrets WHERE name = $1")
                        .bind(SECRET_NAME)
                        .fetch_one(pool)
                        .await?
                });
                Ok::<_, SessionError>(from_hex(&stored).unwrap_or_else(|| {
                    // A damaged secret only makes every form token invalid
                    // until it is repaired; derive a key from it so the form
                    // keeps failing safely rather than the server erroring.
                    tracing::error!("the sign-in form secret in web_secrets is not 64 hex digits");
                    Sha256::digest(stored.as_bytes()).into()
                }))
            })
            .await?;
        Ok(*secret)
    }
}

/// HMAC-SHA256 of `message` under `key`.
fn hmac(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .expect("HMAC takes a key of any length, 32 bytes included");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The 32 bytes written as 64 hex digits in `text`, if it is that.
fn from_hex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// Whether a state-changing request comes from this site's own pages, as
/// far as the browser says: an `Origin` header, when present, must name
/// the host the request was sent to, and `Sec-Fetch-Site`, when present,
/// must be `same-origin` or `none` (typed or bookmarked). A client that
/// sends neither (not a browser) is not a victim of forgery and passes.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return false;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    let authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, authority)| authority);
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; with our fixed 32-byte key
        // zero-padded, HMAC is the same (keys are padded to the block size).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hex::encode(hmac(&key, b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_this_sites_pages_pass_the_origin_check() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, value.parse().unwrap());
            }
            map
        };
        assert!(same_origin(&headers(&[])));
        assert!(same_origin(&headers(&[
            ("host", "staff.example"),
            ("origin", "https://staff.example"),
            ("sec-fetch-site", "same-origin"),
        ])));
        for bad in [
            headers(&[
                ("host", "staff.example"),
                ("origin", "https://evil.example"),
            ]),
            headers(&[("host", "staff.example"), ("origin", "null")]),
            headers(&[("origin", "https://staff.example")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[("sec-fetch-site", "cross-site")]),
        ] {
            assert!(!same_origin(&bad), "{bad:?}");
        }
    }
}
