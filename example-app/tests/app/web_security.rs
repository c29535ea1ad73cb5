//! The staff area's defences: sessions and sign-in limits kept in the
//! database (across restarts and instances), limits per address that
//! cannot be flooded away or turned against someone else, server-issued
//! sign-in form tokens, sign-out that clears the browser's copy, bounded
//! password checking, and a styled page for every error. On every
//! available backend.

use crate::common;
use crate::common::web::{Browser, PASSWORD, Reply, cast};

use audit_core::Auditor;
use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{Request, StatusCode};
use example_app::web::{
    AppState, Attempt, ClientAddress, MAX_FAILURES, MAX_PER_ADDRESS, SignInThrottle, WebConfig,
};
use sha2::{Digest, Sha256};

const X: &str = "198.51.100.7";
const Y: &str = "203.0.113.9";

/// A second instance over `auditor`'s database, with its own connections.
async fn another_instance(auditor: &Auditor) -> AppState {
    let url = common::url_of(auditor).await;
    let other = Auditor::connect(&url).await.unwrap();
    AppState::new(other, WebConfig::default())
}

fn state(auditor: &Auditor) -> AppState {
    AppState::new(auditor.clone(), WebConfig::default())
}

/// Fails `MAX_FAILURES` times at alice from `browser`'s address.
async fn fail_as_alice(browser: &mut Browser) {
    for _ in 0..MAX_FAILURES {
        let reply = browser.sign_in("alice", "a guess").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.body.contains("Wrong username or password."));
    }
}

fn retry_after(reply: &Reply) -> u64 {
    reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn sessions_survive_a_restart_are_shared_and_stored_only_as_hashes() {
    for auditor in common::auditors("sec_sessions").await {
        cast(&auditor).await;
        let mut first = Browser::new(&auditor);
        assert_eq!(
            first.sign_in("alice", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        let token = first.cookie("staff_session").unwrap().to_owned();

        // The server restarts: a new state over the same database.
        let mut restarted = first.switched_to(state(&auditor));
        assert_eq!(restarted.get("/").await.status, StatusCode::OK);
        // Another instance, its own pool, behind a load balancer.
        let mut other = first.switched_to(another_instance(&auditor).await);
        let page = other.get("/").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Signed in as alice"));

        // A reader of the table learns no usable token.
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM web_sessions").await,
            1
        );
        let hash = format!("{:x}", Sha256::digest(token.as_bytes()));
        let sql = format!("SELECT COUNT(*) FROM web_sessions WHERE token_hash = '{hash}'");
        assert_eq!(common::scalar(&auditor, &sql).await, 1);
        let sql = format!(
            "SELECT COUNT(*) FROM web_sessions WHERE token_hash = '{token}' \
             OR csrf = '{token}' OR credential LIKE '$argon2%'"
        );
        assert_eq!(common::scalar(&auditor, &sql).await, 0);
        let mut thief = Browser::new(&auditor);
        thief.plant_cookie("staff_session", &hash);
        assert_eq!(thief.get("/").await.status, StatusCode::SEE_OTHER);

        // Signing out on one instance ends the session on all.
        assert_eq!(other.sign_out().await.status, StatusCode::SEE_OTHER);
        let mut stale = Browser::new(&auditor);
        stale.plant_cookie("staff_session", &token);
        assert_eq!(stale.get("/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM web_sessions").await,
            0
        );
    }
}

#[tokio::test]
async fn expired_sessions_and_attempts_are_refused_and_cleaned_up() {
    for auditor in common::auditors("sec_expiry").await {
        let c = cast(&auditor).await;
        let token = "a".repeat(64);
        let hash = format!("{:x}", Sha256::digest(token.as_bytes()));
        common::execute(
            &auditor,
            &format!(
                "INSERT INTO web_sessions (token_hash, user_id, csrf, credential, expires_at) \
                 VALUES ('{hash}', {}, 'x', NULL, 1)",
                c.alice.id
            ),
        )
        .await
        .unwrap();
        // Old failures, long out of the window: they neither count nor stay.
        for i in 0..MAX_FAILURES * 2 {
            common::execute(
                &auditor,
                &format!(
                    "INSERT INTO web_sign_in_attempts (username, address, at) \
                     VALUES ('alice', '{X}', {i})"
                ),
            )
            .await
            .unwrap();
        }
        let mut browser = Browser::new(&auditor).connecting_from(X);
        browser.plant_cookie("staff_session", &token);
        assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            browser.sign_in("alice", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM web_sessions").await,
            1,
            "the expired session went when the new one started"
        );
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM web_sign_in_attempts").await,
            0
        );
    }
}

#[tokio::test]
async fn failures_from_one_address_lock_only_that_address_out() {
    for auditor in common::auditors("sec_other_address").await {
        cast(&auditor).await;
        let mut attacker = Browser::new(&auditor).connecting_from(X);
        fail_as_alice(&mut attacker).await;
        let locked = attacker.sign_in("alice", PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(locked.body.contains("for this username from your address"));
        assert!(retry_after(&locked) > 14 * 60);
        // From another address alice signs in, and bob from the first.
        let mut alice = Browser::new(&auditor).connecting_from(Y);
        assert_eq!(
            alice.sign_in("alice", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(alice.get("/").await.status, StatusCode::OK);
        let mut bob = Browser::new(&auditor).connecting_from(X);
        assert_eq!(
            bob.sign_in("bob", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        // alice's success from Y did not lift the lock on X.
        assert_eq!(
            attacker.sign_in("alice", PASSWORD).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
        // Refused attempts are not counted: the lock does not grow.
        assert_eq!(
            common::scalar(
                &auditor,
                &format!("SELECT COUNT(*) FROM web_sign_in_attempts WHERE address = '{X}'")
            )
            .await,
            i64::from(MAX_FAILURES)
        );
    }
}

#[tokio::test]
async fn a_lockout_survives_a_restart_and_holds_on_every_instance() {
    for auditor in common::auditors("sec_lock_restart").await {
        cast(&auditor).await;
        let mut attacker = Browser::new(&auditor).connecting_from(X);
        fail_as_alice(&mut attacker).await;
        let mut restarted = attacker.switched_to(state(&auditor));
        assert_eq!(
            restarted.sign_in("alice", PASSWORD).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
        let mut other = attacker.switched_to(another_instance(&auditor).await);
        assert_eq!(
            other.sign_in("ALICE", PASSWORD).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}

#[tokio::test]
async fn a_flood_of_made_up_usernames_does_not_lift_a_lock() {
    for auditor in common::auditors("sec_flood").await {
        cast(&auditor).await;
        let mut attacker = Browser::new(&auditor).connecting_from(X);
        fail_as_alice(&mut attacker).await;
        let throttle = SignInThrottle::new(auditor.clone());

        // The flood, from the locked address: refused once the address has
        // used its own allowance, and it takes nothing away.
        let x = ClientAddress::new(X.parse().unwrap());
        let mut allowed = 0;
        for i in 0..200 {
            match throttle.attempt(&format!("nobody{i}"), &x).await.unwrap() {
                Attempt::Allowed => allowed += 1,
                Attempt::AddressLocked { .. } => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(allowed, MAX_PER_ADDRESS - MAX_FAILURES);
        // From many other addresses (each attempt costs its sender a slot).
        for i in 0..300u32 {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            let from = ClientAddress::new(ip.into());
            let reply = throttle.attempt(&format!("made-up-{i}"), &from).await;
            assert_eq!(reply.unwrap(), Attempt::Allowed);
        }
        // And the old bound of the in-memory table, ten thousand names, many
        // times over in the table (written in one go: the rows are what the
        // throttle writes; there is nothing in memory to evict).
        let bulk = match auditor.backend() {
            audit_core::store::Backend::Sqlite => {
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
                 INSERT INTO web_sign_in_attempts (username, address, at) \
                 SELECT 'flood' || i, 'flood' || i, CAST(strftime('%s', 'now') AS INTEGER) FROM n"
            }
            audit_core::store::Backend::Postgres => {
                "INSERT INTO web_sign_in_attempts (username, address, at) \
                 SELECT 'flood' || i, 'flood' || i, EXTRACT(EPOCH FROM now())::BIGINT \
                 FROM generate_series(1, 20000) AS i"
            }
        };
        common::execute(&auditor, bulk).await.unwrap();

        let locked = attacker.sign_in("alice", PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(locked.body.contains("from your address"), "{}", locked.body);
        // The flood locked nobody out elsewhere.
        let mut alice = Browser::new(&auditor).connecting_from(Y);
        assert_eq!(
            alice.sign_in("alice", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn an_abandoned_attempt_still_costs_its_slot() {
    for auditor in common::auditors("sec_abandoned").await {
        cast(&auditor).await;
        // Attempts counted and then never finished (the client went away
        // while its password was being checked): no success, no failure.
        let throttle = SignInThrottle::new(auditor.clone());
        let x = ClientAddress::new(X.parse().unwrap());
        for _ in 0..MAX_FAILURES {
            assert_eq!(
                throttle.attempt("alice", &x).await.unwrap(),
                Attempt::Allowed
            );
        }
        // Counted before any password check: even the right one is refused.
        let mut browser = Browser::new(&auditor).connecting_from(X);
        assert_eq!(
            browser.sign_in("Alice", PASSWORD).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
        // A success gives the attempts back (from that address).
        let mut from_y = Browser::new(&auditor).connecting_from(Y);
        from_y.sign_in("alice", "a guess").await;
        from_y.sign_in("alice", PASSWORD).await;
        let sql = format!("SELECT COUNT(*) FROM web_sign_in_attempts WHERE address = '{Y}'");
        assert_eq!(common::scalar(&auditor, &sql).await, 0);
    }
}

#[tokio::test]
async fn a_sign_in_dropped_while_its_password_is_checked_still_counts() {
    use tower::ServiceExt;
    for auditor in common::auditors("sec_dropped").await {
        cast(&auditor).await;
        let mut browser = Browser::new(&auditor).connecting_from(X);
        let csrf = browser.get("/sign-in").await.csrf();
        let counted = || async {
            common::scalar(&auditor, "SELECT COUNT(*) FROM web_sign_in_attempts").await
        };
        for dropped in 1..=i64::from(MAX_FAILURES) {
            // The right password, in a request abandoned (its future
            // dropped, as hyper does when the client goes) as soon as its
            // attempt is in the table: it is never polled again, so it
            // cannot reach the success that would take the attempt back.
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("username", "alice"),
                    ("password", PASSWORD),
                    ("csrf", &csrf),
                ])
                .finish();
            let mut request = Request::builder()
                .method("POST")
                .uri("/sign-in")
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("cookie", format!("staff_sign_in={csrf}"))
                .body(Body::from(body))
                .unwrap();
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
                    X.parse().unwrap(),
                    1,
                )));
            let app = example_app::web::router(state(&auditor));
            let request = app.oneshot(request);
            tokio::pin!(request);
            while counted().await < dropped {
                tokio::select! {
                    biased;
                    done = &mut request => panic!("finished before it could be dropped: {done:?}"),
                    () = tokio::task::yield_now() => {}
                }
            }
        }
        assert_eq!(
            browser.sign_in("alice", PASSWORD).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}

#[tokio::test]
async fn too_many_failures_from_one_address_lock_that_address_only() {
    for auditor in common::auditors("sec_address").await {
        cast(&auditor).await;
        let throttle = SignInThrottle::new(auditor.clone());
        let x = ClientAddress::new(X.parse().unwrap());
        for i in 0..MAX_PER_ADDRESS {
            let name = format!("guess{i}");
            assert_eq!(throttle.attempt(&name, &x).await.unwrap(), Attempt::Allowed);
        }
        let mut from_x = Browser::new(&auditor).connecting_from(X);
        let locked = from_x.sign_in("bob", PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(
            locked
                .body
                .contains("Too many failed sign-ins from your address")
        );
        // Another address in the same IPv6 /64 counts as the same client;
        // another /64, and any IPv4 address, does not.
        let v6 = ClientAddress::new("2001:db8:5:6::1".parse().unwrap());
        for i in 0..MAX_PER_ADDRESS {
            let name = format!("someone{i}");
            assert_eq!(
                throttle.attempt(&name, &v6).await.unwrap(),
                Attempt::Allowed
            );
        }
        let mut same_64 = Browser::new(&auditor).connecting_from("2001:db8:5:6:ffff::2");
        assert_eq!(
            same_64.sign_in("bob", PASSWORD).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
        let mut next_64 = Browser::new(&auditor).connecting_from("2001:db8:5:7::1");
        assert_eq!(
            next_64.sign_in("bob", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        let mut from_y = Browser::new(&auditor).connecting_from(Y);
        assert_eq!(
            from_y.sign_in("bob", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn x_forwarded_for_counts_only_when_the_proxy_is_trusted() {
    for auditor in common::auditors("sec_forwarded").await {
        cast(&auditor).await;
        let throttle = SignInThrottle::new(auditor.clone());
        let x = ClientAddress::new(X.parse().unwrap());
        for _ in 0..MAX_FAILURES {
            throttle.attempt("alice", &x).await.unwrap();
        }
        let sign_in_claiming_x = |config: WebConfig| {
            let auditor = auditor.clone();
            async move {
                let mut browser = Browser::on(AppState::new(auditor, config)).connecting_from(Y);
                let csrf = browser.get("/sign-in").await.csrf();
                browser
                    .post_with(
                        "/sign-in",
                        &[
                            ("username", "alice"),
                            ("password", PASSWORD),
                            ("csrf", &csrf),
                        ],
                        &[("x-forwarded-for", &format!("192.0.2.1, {X}"))],
                    )
                    .await
                    .status
            }
        };
        // Not trusted: the header is ignored, the connection (Y) counts.
        assert_eq!(
            sign_in_claiming_x(WebConfig::default()).await,
            StatusCode::SEE_OTHER
        );
        let trusted = WebConfig {
            trusted_proxies: vec![Y.parse().unwrap()],
            ..WebConfig::default()
        };
        assert_eq!(
            sign_in_claiming_x(trusted).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}

#[tokio::test]
async fn the_sign_in_token_must_come_from_the_server() {
    for auditor in common::auditors("sec_sign_in_csrf").await {
        cast(&auditor).await;
        let fields = [("username", "alice"), ("password", PASSWORD)];
        // A cookie and form token the client made up (a sibling subdomain
        // can set the cookie): refused, and the form does not adopt it.
        let mut victim = Browser::new(&auditor);
        let chosen = "ab".repeat(32);
        victim.plant_cookie("staff_sign_in", &chosen);
        let forged = victim
            .post("/sign-in", &[fields[0], fields[1], ("csrf", &chosen)])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(forged.headers.get(SET_COOKIE).is_none());
        let form = victim.get("/sign-in").await;
        assert_ne!(form.csrf(), chosen);
        assert_ne!(victim.cookie("staff_sign_in"), Some(chosen.as_str()));

        // A server token with its signature or expiry altered.
        let issued = form.csrf();
        let (body, mac) = issued.rsplit_once('.').unwrap();
        let flipped = format!(
            "{body}.{}{}",
            if mac.starts_with('0') { "1" } else { "0" },
            &mac[1..]
        );
        let (nonce, _) = body.split_once('.').unwrap();
        let longer = format!("{nonce}.99999999999.{mac}");
        for bad in [flipped, longer] {
            let mut browser = Browser::new(&auditor);
            browser.plant_cookie("staff_sign_in", &bad);
            let reply = browser
                .post("/sign-in", &[fields[0], fields[1], ("csrf", &bad)])
                .await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{bad}");
        }

        // A form from another site, or a sibling one, even with a valid
        // token: refused.
        for headers in [
            [
                ("origin", "https://evil.example"),
                ("host", "staff.example"),
            ],
            [("sec-fetch-site", "same-site"), ("host", "staff.example")],
        ] {
            let csrf = victim.get("/sign-in").await.csrf();
            let reply = victim
                .post_with(
                    "/sign-in",
                    &[fields[0], fields[1], ("csrf", &csrf)],
                    &headers,
                )
                .await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}");
        }
        // The same form from the site itself signs in; on another instance
        // than the one that issued the token, too.
        let csrf = victim.get("/sign-in").await.csrf();
        let mut elsewhere = victim.switched_to(another_instance(&auditor).await);
        let reply = elsewhere
            .post_with(
                "/sign-in",
                &[fields[0], fields[1], ("csrf", &csrf)],
                &[
                    ("origin", "https://staff.example"),
                    ("host", "staff.example"),
                    ("sec-fetch-site", "same-origin"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);

        // Sign-out from another site: refused, still signed in.
        let page = elsewhere.get("/").await;
        let session_csrf = page.csrf();
        let out = elsewhere
            .post_with(
                "/sign-out",
                &[("csrf", &session_csrf)],
                &[
                    ("origin", "https://evil.example"),
                    ("host", "staff.example"),
                ],
            )
            .await;
        assert_eq!(out.status, StatusCode::FORBIDDEN);
        assert_eq!(elsewhere.get("/").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn sign_out_has_the_browser_forget_the_site() {
    for auditor in common::auditors("sec_clear").await {
        cast(&auditor).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;
        let out = browser.sign_out().await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(
            out.headers["clear-site-data"],
            r#""cache", "cookies", "storage""#
        );
        assert_eq!(out.headers["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn concurrent_sign_ins_share_a_bounded_pool_of_argon2_memory() {
    for auditor in common::auditors("sec_pool").await {
        cast(&auditor).await;
        let state = state(&auditor);
        let browsers: Vec<Browser> = (0..12)
            .map(|i| Browser::on(state.clone()).connecting_from(&format!("192.0.2.{i}")))
            .collect();
        let mut tasks = Vec::new();
        for (i, mut browser) in browsers.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let password = if i % 2 == 0 { PASSWORD } else { "wrong" };
                (i, browser.sign_in("alice", password).await.status)
            }));
        }
        for task in tasks {
            let (i, status) = task.await.unwrap();
            let expected = if i % 2 == 0 {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::OK
            };
            assert_eq!(status, expected, "{i}");
        }
        let pool = state.verifiers();
        assert!(pool.most_in_use() <= pool.size(), "{}", pool.most_in_use());
        assert!(pool.allocated() <= pool.size(), "{}", pool.allocated());
        assert!(pool.allocated() >= 1);
    }
}

#[tokio::test]
async fn permissions_policy_always_and_hsts_with_secure_cookies() {
    for auditor in common::auditors("sec_headers").await {
        cast(&auditor).await;
        let mut plain = Browser::new(&auditor);
        for reply in [plain.get("/sign-in").await, plain.get("/nowhere").await] {
            let policy = reply.headers["permissions-policy"].to_str().unwrap();
            assert!(policy.contains("camera=()"), "{policy}");
            assert!(reply.headers.get("strict-transport-security").is_none());
        }
        let secure = WebConfig {
            secure_cookies: true,
            ..WebConfig::default()
        };
        let mut https = Browser::on(AppState::new(auditor.clone(), secure));
        for reply in [https.get("/sign-in").await, https.get("/nowhere").await] {
            assert_eq!(
                reply.headers["strict-transport-security"],
                "max-age=31536000"
            );
            assert!(reply.headers.contains_key("permissions-policy"));
        }
    }
}

/// Whether `reply` is the styled error page of `status`.
fn assert_styled(reply: &Reply, status: StatusCode, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    let content_type = reply.headers[CONTENT_TYPE].to_str().unwrap();
    assert!(
        content_type.starts_with("text/html"),
        "{what}: {content_type}"
    );
    let title = format!(
        "<h1>{} {}</h1>",
        status.as_u16(),
        status.canonical_reason().unwrap()
    );
    assert!(reply.body.contains(&title), "{what}: {}", reply.body);
    assert!(reply.body.contains("<style>"), "{what}");
    assert!(
        reply.headers.contains_key("content-security-policy"),
        "{what}"
    );
}

#[tokio::test]
async fn every_error_is_a_styled_page_with_its_status() {
    for auditor in common::auditors("sec_errors").await {
        cast(&auditor).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;

        let bad_utf8 = browser.get("/projects/%FF%FE").await;
        assert_styled(&bad_utf8, StatusCode::BAD_REQUEST, "bad UTF-8 in the path");
        assert_styled(&browser.get("/nowhere").await, StatusCode::NOT_FOUND, "404");

        let csrf = browser.get("/sign-in").await.csrf();
        let no_password = browser
            .post("/sign-in", &[("username", "alice"), ("csrf", &csrf)])
            .await;
        assert_styled(
            &no_password,
            StatusCode::UNPROCESSABLE_ENTITY,
            "no password",
        );

        let json = browser
            .send_request(
                Request::builder()
                    .method("POST")
                    .uri("/sign-in")
                    .header(CONTENT_TYPE, "application/json"),
                Body::from(r#"{"username":"alice"}"#),
            )
            .await;
        assert_styled(&json, StatusCode::UNSUPPORTED_MEDIA_TYPE, "415");

        let delete = browser
            .send_request(
                Request::builder().method("DELETE").uri("/sign-in"),
                Body::empty(),
            )
            .await;
        assert_styled(&delete, StatusCode::METHOD_NOT_ALLOWED, "405");
        let allow = delete.headers["allow"].to_str().unwrap();
        assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
        let get_out = browser.get("/sign-out").await;
        assert_styled(&get_out, StatusCode::METHOD_NOT_ALLOWED, "GET /sign-out");

        let long = format!("/?type={}", "x".repeat(example_app::web::MAX_URI_BYTES));
        assert_styled(&browser.get(&long).await, StatusCode::URI_TOO_LONG, "414");
    }
}

/// Sends `head` (a request line and headers) over a real connection to
/// `addr` and reads the whole answer.
async fn raw_exchange(addr: std::net::SocketAddr, head: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn over_a_socket_long_addresses_and_large_headers_get_styled_pages() {
    for auditor in common::auditors("sec_socket").await {
        cast(&auditor).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(example_app::web::serve_on(
            state(&auditor),
            listener,
            async {
                let _ = stopped.await;
            },
        ));

        let long = "x".repeat(example_app::web::MAX_URI_BYTES + 1);
        let answer = raw_exchange(
            addr,
            &format!("GET /{long} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.1 414"),
            "{}",
            &answer[..200.min(answer.len())]
        );
        assert!(answer.contains("<h1>414 URI Too Long</h1>"));
        assert!(answer.contains("content-type: text/html"));

        let cookie = "c".repeat(example_app::web::MAX_HEADER_BYTES);
        let answer = raw_exchange(
            addr,
            &format!(
                "GET / HTTP/1.1\r\nHost: t\r\nCookie: big={cookie}\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.1 431"),
            "{}",
            &answer[..200.min(answer.len())]
        );
        assert!(answer.contains("<h1>431 Request Header Fields Too Large</h1>"));

        let many: String = (0..=example_app::web::MAX_HEADERS)
            .map(|i| format!("X-Filler-{i}: 1\r\n"))
            .collect();
        let answer = raw_exchange(
            addr,
            &format!("GET / HTTP/1.1\r\nHost: t\r\n{many}Connection: close\r\n\r\n"),
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.1 431"),
            "{}",
            &answer[..200.min(answer.len())]
        );
        assert!(answer.contains("<h1>431 Request Header Fields Too Large</h1>"));

        // Over a real connection the throttle counts the peer's address.
        let csrf_page = raw_exchange(
            addr,
            "GET /sign-in HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(csrf_page.starts_with("HTTP/1.1 200"));
        let throttle = SignInThrottle::new(auditor.clone());
        let loopback = ClientAddress::new("127.0.0.1".parse().unwrap());
        for _ in 0..MAX_FAILURES {
            throttle.attempt("alice", &loopback).await.unwrap();
        }
        let marker = r#"name="csrf" value=""#;
        let start = csrf_page.find(marker).unwrap() + marker.len();
        let csrf = &csrf_page[start..start + csrf_page[start..].find('"').unwrap()];
        let body = format!("username=alice&password=correct+horse+battery&csrf={csrf}");
        let answer = raw_exchange(
            addr,
            &format!(
                "POST /sign-in HTTP/1.1\r\nHost: t\r\nCookie: staff_sign_in={csrf}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            ),
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.1 429"),
            "{}",
            &answer[..300.min(answer.len())]
        );

        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn over_https_the_cookies_are_host_only_and_a_planted_one_is_ignored() {
    for auditor in common::auditors("sec_host_cookies").await {
        cast(&auditor).await;
        let secure = WebConfig {
            secure_cookies: true,
            ..WebConfig::default()
        };
        let state = AppState::new(auditor.clone(), secure);
        let mut browser = Browser::on(state.clone());
        let form = browser.get("/sign-in").await;
        let set = form.headers[SET_COOKIE].to_str().unwrap();
        assert!(set.starts_with("__Host-staff_sign_in="), "{set}");
        assert!(set.contains("Secure") && set.contains("Path=/;"), "{set}");
        let signed_in = browser.sign_in("alice", PASSWORD).await;
        let set = signed_in.headers[SET_COOKIE].to_str().unwrap();
        assert!(set.starts_with("__Host-staff_session="), "{set}");
        assert!(set.contains("Secure") && !set.contains("Domain"), "{set}");
        assert_eq!(browser.get("/").await.status, StatusCode::OK);

        // A valid session planted under the unprefixed name (all a sibling
        // subdomain can set) does not sign anyone in.
        let token = browser.cookie("__Host-staff_session").unwrap().to_owned();
        let mut victim = Browser::on(state);
        victim.plant_cookie("staff_session", &token);
        assert_eq!(victim.get("/").await.status, StatusCode::SEE_OTHER);
    }
}
