//! Limits on sign-in attempts, kept in the database
//! (`web_sign_in_attempts`), so that every instance over the database
//! counts the same attempts and a restart lifts no limit.
//!
//! Two limits, both over the last [`WINDOW`]:
//!
//! - **Per username and client address**: after [`MAX_FAILURES`] attempts
//!   at one username from one address without a success, that address may
//!   not try that username again until the oldest attempt leaves the
//!   window. Other addresses are not affected.
//! - **Per client address**: an address that has made
//!   [`MAX_PER_ADDRESS`] attempts at any usernames without success may not
//!   try any username until the oldest leaves the window.
//!
//! Why a username is locked only against the addresses that failed, not
//! everywhere: a lock everywhere lets anyone lock any member of staff out
//! with five requests, repeatable forever, which is a worse outcome than
//! the guessing it prevents. The per-address limit is what bounds a single
//! attacker (about [`MAX_PER_ADDRESS`] guesses per window, over all
//! usernames); an attacker with many addresses gets [`MAX_FAILURES`]
//! guesses per address and username per window, against argon2-hashed
//! passwords, and cannot lock anyone out. (IPv6 addresses count by /64, the
//! block one client usually holds, so that rotating through one's own /64
//! gives nothing.) Backoff per username was the alternative; it slows the
//! distributed guesser more but, keyed by username, it again lets anyone
//! slow any user's sign-in, so it was not chosen. The cost: people behind
//! one NAT address share its limits.
//!
//! Each attempt is written (and committed) before the password is checked,
//! so that an attempt abandoned halfway (the client gone) still counts, and
//! parallel attempts count each other: each writes its row first and then
//! counts, so of attempts beyond a limit the one committed last sees them
//! all and at most the limit get through. A refused attempt takes its row
//! back, so hammering a locked door does not keep it locked longer. A
//! success removes that username's attempts from that address. There is no
//! table held in memory and nothing evicted: a flood of made-up usernames
//! only adds rows, each of which costs its sender a slot of their own
//! address. Rows older than the window are deleted as attempts come
//! (lazily).

use std::net::IpAddr;
use std::time::Duration;

use audit_core::{Auditor, Context, on_backend};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use super::session::now;

/// Attempts at one username from one address allowed within [`WINDOW`]
/// without a success.
pub const MAX_FAILURES: u32 = 5;

/// Attempts from one address, at any usernames, allowed within [`WINDOW`]
/// without a success.
pub const MAX_PER_ADDRESS: u32 = 30;

/// How long an attempt counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Sign-in attempts, in the database.
#[derive(Debug, Clone)]
pub struct SignInThrottle {
    auditor: Auditor,
}

/// What [`SignInThrottle::attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go on and check the password; the attempt is counted.
    Allowed,
    /// Refused, because this address failed at this username too often.
    UsernameLocked {
        /// When to try again.
        wait: Duration,
    },
    /// Refused, because this address failed too often at any usernames.
    AddressLocked {
        /// When to try again.
        wait: Duration,
    },
}

impl SignInThrottle {
    /// The attempts stored in `auditor`'s database.
    pub fn new(auditor: Auditor) -> Self {
        SignInThrottle { auditor }
    }

    /// Counts an attempt at `username` from `address` (committed before it
    /// returns), unless a limit refuses it. Call before the password is
    /// checked; a successful sign-in gives the attempts back
    /// ([`succeeded`](Self::succeeded)).
    pub async fn attempt(
        &self,
        username: &str,
        address: &ClientAddress,
    ) -> Result<Attempt, sqlx::Error> {
        let username = key(username);
        let address = address.as_str();
        let now = now();
        let since = now - WINDOW.as_secs() as i64;
        let (for_username, for_address, oldest_username, oldest_address) = on_backend!(self.auditor.pool(), pool => {
            sqlx::query("DELETE FROM web_sign_in_attempts WHERE at <= $1")
                .bind(since)
                .execute(pool)
                .await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO web_sign_in_attempts (username, address, at) \
                 VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(&username)
            .bind(address)
            .bind(now)
            .fetch_one(pool)
            .await?;
            let (for_username, oldest_username): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(at) FROM web_sign_in_attempts \
                 WHERE username = $1 AND address = $2 AND at > $3",
            )
            .bind(&username)
            .bind(address)
            .bind(since)
            .fetch_one(pool)
            .await?;
            let (for_address, oldest_address): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(at) FROM web_sign_in_attempts \
                 WHERE address = $1 AND at > $2",
            )
            .bind(address)
            .bind(since)
            .fetch_one(pool)
            .await?;
            let refused = for_username > i64::from(MAX_FAILURES)
                || for_address > i64::from(MAX_PER_ADDRESS);
            if refused {
                sqlx::query("DELETE FROM web_sign_in_attempts WHERE id = $1")
                    .bind(id)
                    .execute(pool)
                    .await?;
            }
            (for_username, for_address, oldest_username, oldest_address)
        });
        let wait = |oldest: Option<i64>| {
            let until = oldest.unwrap_or(now) + WINDOW.as_secs() as i64;
            Duration::from_secs(until.saturating_sub(now).max(1) as u64)
        };
        Ok(if for_username > i64::from(MAX_FAILURES) {
            Attempt::UsernameLocked {
                wait: wait(oldest_username),
            }
        } else if for_address > i64::from(MAX_PER_ADDRESS) {
            Attempt::AddressLocked {
                wait: wait(oldest_address),
            }
        } else {
            Attempt::Allowed
        })
    }

    /// Forgets the attempts at `username` from `address` after a successful
    /// sign-in.
    pub async fn succeeded(
        &self,
        username: &str,
        address: &ClientAddress,
    ) -> Result<(), sqlx::Error> {
        on_backend!(self.auditor.pool(), pool => {
            sqlx::query("DELETE FROM web_sign_in_attempts WHERE username = $1 AND address = $2")
                .bind(key(username))
                .bind(address.as_str())
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

/// Usernames differing only in case count as one, so that case cannot be
/// used to get more tries.
pub(crate) fn key(username: &str) -> String {
    username.to_lowercase()
}

/// Where a request comes from, as the limits count it: the client's
/// address of the request's context (the connection's peer, or behind
/// trusted proxies the rightmost `X-Forwarded-For` entry that is not one of
/// them: `audit_core::axum::ContextLayer`'s rule, the one every change's
/// context records); an IPv6 address by its /64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(String);

impl ClientAddress {
    /// The address `ip`, as counted.
    pub fn new(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    return ClientAddress(format!(
                        "{:x}:{:x}:{:x}:{:x}::/64",
                        s[0], s[1], s[2], s[3]
                    ));
                }
            },
            v4 => v4,
        };
        ClientAddress(ip.to_string())
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(context) = Context::from_request_parts(parts, state).await;
        // Served without connection information (an in-process router):
        // every request counts as one unknown client, which is the safe way
        // to be wrong.
        let ip = context.client_address.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(ClientAddress::new(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_count_by_host_and_ipv6_by_its_64() {
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(ClientAddress::new(v4).as_str(), "192.0.2.7");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ClientAddress::new(mapped), ClientAddress::new(v4));
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientAddress::new(a), ClientAddress::new(b));
        assert_ne!(ClientAddress::new(a), ClientAddress::new(c));
        assert_eq!(ClientAddress::new(a).as_str(), "2001:db8:1:2::/64");
    }
}
