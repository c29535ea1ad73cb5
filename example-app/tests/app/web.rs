//! The staff area through its router: every page, its filters and pages,
//! and who may see it. On every available backend.

use crate::common;
use crate::common::web::{Browser, PASSWORD, add_members, cast};

use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use example_app::logs::{self, LogRequest, Scope};

const PAGES: [&str; 5] = ["/", "/projects", "/users", "/projects/1", "/users/1"];

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_and_come_back() {
    for auditor in common::auditors("web_anon").await {
        let c = cast(&auditor).await;
        let mut browser = Browser::new(&auditor);
        for page in PAGES {
            let reply = browser.get(page).await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{page}");
            let next = form_urlencoded::Serializer::new(String::new())
                .append_pair("next", page)
                .finish();
            assert_eq!(reply.location(), format!("/sign-in?{next}"));
        }
        let form = browser.get("/sign-in?next=%2Fprojects%2F1").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(
            form.body.contains(r#"name="next" value="/projects/1""#),
            "{}",
            form.body
        );
        let signed_in = browser
            .submit_sign_in(&[
                ("username", "alice"),
                ("password", PASSWORD),
                ("next", &format!("/projects/{}", c.apollo.id)),
            ])
            .await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
        assert_eq!(signed_in.location(), format!("/projects/{}", c.apollo.id));
        // A `next` leading off the site is not followed.
        let away = browser
            .submit_sign_in(&[
                ("username", "alice"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ])
            .await;
        assert_eq!(away.location(), "/");
    }
}

#[tokio::test]
async fn sign_in_checks_the_password_and_sets_a_strict_cookie() {
    for auditor in common::auditors("web_sign_in").await {
        cast(&auditor).await;
        let mut browser = Browser::new(&auditor);
        for (username, password) in [("alice", "wrong"), ("nobody", PASSWORD), ("alice", "")] {
            let reply = browser.sign_in(username, password).await;
            assert_eq!(reply.status, StatusCode::OK, "{username}");
            assert!(reply.body.contains("Wrong username or password."));
            assert!(reply.headers.get(SET_COOKIE).is_none());
            assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
        }
        let reply = browser.sign_in("alice", PASSWORD).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        let cookie = reply.headers[SET_COOKIE].to_str().unwrap();
        assert!(cookie.starts_with("staff_session="), "{cookie}");
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(flag), "{flag} in {cookie}");
        }
        let home = browser.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("Signed in as alice"));

        let out = browser.sign_out().await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(out.location(), "/sign-in");
        assert!(
            out.headers[SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
        // The old cookie is dead on the server, not only in the browser.
        assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn signed_in_non_staff_get_403_and_unknown_things_404() {
    for auditor in common::auditors("web_403").await {
        let c = cast(&auditor).await;
        let mut bob = Browser::new(&auditor);
        assert_eq!(
            bob.sign_in("bob", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        for page in PAGES {
            let reply = bob.get(page).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{page}");
            assert!(reply.body.contains("staff area administrators only"));
        }
        let mut alice = Browser::new(&auditor);
        alice.sign_in("alice", PASSWORD).await;
        for page in [
            "/projects/999999".to_owned(),
            "/users/999999".to_owned(),
            "/projects/apollo".to_owned(),
            format!("/users/{}x", c.bob.id),
            "/nowhere".to_owned(),
        ] {
            let reply = alice.get(&page).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{page}");
            assert!(reply.body.contains("404 Not Found"), "{}", reply.body);
        }
        for page in [
            "/?type=no_such_type",
            "/?cursor=x",
            "/projects/1?cursor=b1%27--",
            "/projects/1?cursor=tb1x1%27--",
        ] {
            let reply = alice.get(page).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{page}");
        }
        // A link saved when pages were ordered by id (its cursor an id
        // alone): a 400 that says so and what to do, not a 500.
        for page in ["/?cursor=b1f", "/projects/1?cursor=a3&type=project_created"] {
            let reply = alice.get(page).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{page}");
            assert!(
                reply.body.contains("no longer says where its page starts")
                    && reply.body.contains("newest page"),
                "{page}: {}",
                reply.body
            );
        }
    }
}

#[tokio::test]
async fn each_log_shows_its_events_linked_and_escaped() {
    for auditor in common::auditors("web_logs").await {
        let c = cast(&auditor).await;
        add_members(&auditor, &c, &c.apollo, 2).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;

        let global = browser.get("/").await;
        assert_eq!(global.status, StatusCode::OK);
        // 2 users, 2 passwords, 2 projects, bob to Gemini, 2 x (user, member).
        assert_eq!(global.event_ids().len(), 11, "{}", global.body);
        let ids = global.event_ids();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

        let apollo = browser.get(&format!("/projects/{}", c.apollo.id)).await;
        assert!(apollo.body.contains("<h1>Project Apollo</h1>"));
        assert_eq!(apollo.event_ids().len(), 3, "created + 2 members");
        assert!(apollo.body.contains(&format!(
            r#"added <a href="/users/{}">Apollo-member-1</a> to <a href="/projects/{}">Apollo</a>"#,
            c.bob.id + 2,
            c.apollo.id
        )), "{}", apollo.body);
        assert!(!apollo.body.contains("Gemini</a>"));

        // bob's log: about him (created, password, added to Gemini) and on
        // Gemini (its creation); nothing on Apollo.
        let bob = browser.get(&format!("/users/{}", c.bob.id)).await;
        assert_eq!(bob.event_ids().len(), 4, "{}", bob.body);
        assert!(bob.body.contains("their projects (Gemini)"));
        assert!(bob.body.contains("created project <a href=\"/projects/"));
        // alice's log: what she did (2 projects, bob to Gemini, 2 members:
        // 7 events) plus her own creation and password.
        let alice = browser.get(&format!("/users/{}", c.alice.id)).await;
        assert_eq!(alice.event_ids().len(), 9, "{}", alice.body);

        let projects = browser.get("/projects").await;
        assert!(projects.body.contains(&format!(
            r#"<a href="/projects/{}">Gemini</a>"#,
            c.gemini.id
        )));
        let users = browser.get("/users").await;
        assert!(
            users
                .body
                .contains(&format!(r#"<a href="/users/{}">alice</a>"#, c.alice.id))
        );
        assert!(users.body.contains("Staff area administrator"));

        // Markup in stored text is shown, not run.
        let mut audit = auditor
            .begin::<example_app::events::StaffEvent>(audit_core::Actor::user(c.alice.id, "alice"))
            .await
            .unwrap();
        example_app::commands::add_project(&mut audit, "<script>alert(1)</script>")
            .await
            .unwrap();
        audit.commit().await.unwrap();
        let page = browser.get("/").await;
        assert!(
            page.body
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("<script>alert"), "{}", page.body);
        let list = browser.get("/projects").await;
        assert!(!list.body.contains("<script>alert"));
    }
}

#[tokio::test]
async fn the_type_filter_is_the_catalog_grouped_and_filters_every_log() {
    for auditor in common::auditors("web_types").await {
        let c = cast(&auditor).await;
        add_members(&auditor, &c, &c.apollo, 3).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;
        let page = browser.get("/").await;
        let groups: Vec<&str> = page
            .body
            .split("<span class=\"group-label\">")
            .skip(1)
            .map(|rest| &rest[..rest.find('<').unwrap()])
            .collect();
        // The catalog's groups, then the library's for the log's own records.
        assert_eq!(
            groups,
            ["Projects", "Project members", "Users", "Audit log"]
        );
        for ty in example_app::events::StaffEventType::ALL {
            assert!(
                page.body.contains(&format!(
                    "<input type=\"checkbox\" name=\"type\" value=\"{}\">",
                    ty.code()
                )),
                "{ty}"
            );
        }

        let added = browser.get("/?type=project_member_added").await;
        assert_eq!(added.event_ids().len(), 4, "bob to Gemini, 3 to Apollo");
        assert!(
            added
                .body
                .contains(r#"name="type" value="project_member_added" checked>"#)
        );
        let two = browser
            .get("/?type=project_member_added&type=project_created")
            .await;
        assert_eq!(two.event_ids().len(), 6);
        let on_apollo = browser
            .get(&format!("/projects/{}?type=project_created", c.apollo.id))
            .await;
        assert_eq!(on_apollo.event_ids().len(), 1);
        let on_bob = browser
            .get(&format!("/users/{}?type=user_password_set", c.bob.id))
            .await;
        assert_eq!(on_bob.event_ids().len(), 1);
        // "All event types" sends an empty type: no filter.
        assert_eq!(browser.get("/?type=").await.event_ids().len(), 13);
    }
}

#[tokio::test]
async fn pages_of_25_link_to_older_and_newer_pages_keeping_the_filter() {
    for auditor in common::auditors("web_pages").await {
        let c = cast(&auditor).await;
        add_members(&auditor, &c, &c.apollo, 60).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;
        let start = format!("/projects/{}?type=project_member_added", c.apollo.id);

        let mut pages = vec![browser.get(&start).await];
        assert!(
            pages[0].pager("prev").is_none(),
            "the newest page has no newer"
        );
        while let Some(older) = pages.last().unwrap().pager("next") {
            assert!(pages.len() < 10, "older links go round: {older}");
            assert!(older.contains("type=project_member_added"), "{older}");
            pages.push(browser.get(&older).await);
        }
        let sizes: Vec<usize> = pages.iter().map(|p| p.event_ids().len()).collect();
        assert_eq!(sizes, [25, 25, 10]);
        let all: Vec<i64> = pages.iter().flat_map(|p| p.event_ids()).collect();
        assert!(
            all.windows(2).all(|w| w[0] > w[1]),
            "no repeats, newest first"
        );

        // Back again through the newer links: the same pages.
        let mut back = vec![pages.pop().unwrap()];
        while let Some(newer) = back.last().unwrap().pager("prev") {
            assert!(back.len() < 10, "newer links go round: {newer}");
            back.push(browser.get(&newer).await);
        }
        let back_ids: Vec<Vec<i64>> = back.iter().rev().map(|p| p.event_ids()).collect();
        let forward_ids: Vec<Vec<i64>> = pages
            .iter()
            .map(|p| p.event_ids())
            .chain([all[50..].to_vec()])
            .collect();
        assert_eq!(back_ids, forward_ids);
        assert!(back.last().unwrap().pager("prev").is_none());
    }
}

#[tokio::test]
async fn the_demo_shows_the_same_events_on_the_pages_as_in_log_json() {
    for auditor in common::auditors("web_demo").await {
        example_app::demo::create(&auditor).await.unwrap();
        let mut request = LogRequest::new(Scope::All);
        request.limit = 1000;
        let cli: Vec<(i64, String)> = logs::fetch(&auditor, &request)
            .await
            .unwrap()
            .entries
            .iter()
            .map(|e| {
                let json = e.to_json();
                (
                    json["id"].as_i64().unwrap(),
                    json["text"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(cli.len(), 17);

        let mut browser = Browser::new(&auditor);
        let (user, password, _) = example_app::demo::SIGN_INS[0];
        assert_eq!(
            browser.sign_in(user, password).await.status,
            StatusCode::SEE_OTHER
        );
        let mut web = Vec::new();
        let mut page = browser.get("/").await;
        loop {
            web.extend(page.event_texts());
            match page.pager("next") {
                Some(older) if web.len() < 100 => page = browser.get(&older).await,
                _ => break,
            }
        }
        assert_eq!(web, cli);
        // bob, the demo's other sign-in, is not staff.
        let mut bob = Browser::new(&auditor);
        let (user, password, _) = example_app::demo::SIGN_INS[1];
        bob.sign_in(user, password).await;
        assert_eq!(bob.get("/").await.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn state_changing_forms_need_their_csrf_token() {
    for auditor in common::auditors("web_csrf").await {
        cast(&auditor).await;
        let mut browser = Browser::new(&auditor);
        let fields = [("username", "alice"), ("password", PASSWORD)];
        // No token, or another browser's token: refused, no session.
        let bare = browser.post("/sign-in", &fields).await;
        assert_eq!(bare.status, StatusCode::FORBIDDEN);
        assert!(bare.headers.get(SET_COOKIE).is_none());
        let mut other = Browser::new(&auditor);
        let foreign = other.get("/sign-in").await.csrf();
        browser.get("/sign-in").await;
        let forged = browser
            .post("/sign-in", &[fields[0], fields[1], ("csrf", &foreign)])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
        // The sign-in cookie is strict and only goes back to the form.
        let form = Browser::new(&auditor).get("/sign-in").await;
        let cookie = form.headers[SET_COOKIE].to_str().unwrap();
        for flag in [
            "staff_sign_in=",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/sign-in",
        ] {
            assert!(cookie.contains(flag), "{flag} in {cookie}");
        }

        // Signed in, a sign-out without the session's token changes nothing.
        assert_eq!(
            browser.sign_in("alice", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        for token in ["", foreign.as_str()] {
            let out = browser.post("/sign-out", &[("csrf", token)]).await;
            assert_eq!(out.status, StatusCode::FORBIDDEN, "{token:?}");
            assert_eq!(browser.get("/").await.status, StatusCode::OK);
        }
        assert_eq!(browser.sign_out().await.status, StatusCode::SEE_OTHER);
        assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn repeated_failed_sign_ins_lock_the_username_out() {
    for auditor in common::auditors("web_throttle").await {
        cast(&auditor).await;
        let mut browser = Browser::new(&auditor);
        for _ in 0..example_app::web::MAX_FAILURES {
            let reply = browser.sign_in("alice", "guess").await;
            assert!(reply.body.contains("Wrong username or password."));
        }
        // Now even the right password is refused, whatever the case.
        for name in ["alice", "ALICE"] {
            let locked = browser.sign_in(name, PASSWORD).await;
            assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
            assert!(
                locked.body.contains("Too many failed sign-ins"),
                "{}",
                locked.body
            );
            let wait: u64 = locked.headers["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(wait > 14 * 60, "{wait}");
        }
        assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
        // Other users are not affected.
        let mut bob = Browser::new(&auditor);
        assert_eq!(
            bob.sign_in("bob", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    for auditor in common::auditors("web_headers").await {
        cast(&auditor).await;
        let mut browser = Browser::new(&auditor);
        let mut replies = vec![browser.get("/").await, browser.get("/sign-in").await];
        browser.sign_in("alice", PASSWORD).await;
        replies.push(browser.get("/").await);
        replies.push(browser.get("/nowhere").await);
        replies.push(browser.get("/?type=bad").await);
        for reply in &replies {
            for (name, value) in [
                ("x-frame-options", "DENY"),
                ("x-content-type-options", "nosniff"),
                ("referrer-policy", "same-origin"),
                ("cache-control", "no-store"),
            ] {
                assert_eq!(reply.headers[name], value, "{}", reply.status);
            }
            let csp = reply.headers["content-security-policy"].to_str().unwrap();
            assert!(csp.starts_with("default-src 'none'"), "{csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        }
    }
}

#[tokio::test]
async fn a_password_change_ends_sessions_and_cursors_at_the_edges_are_safe() {
    for auditor in common::auditors("web_edges").await {
        let c = cast(&auditor).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;
        assert_eq!(browser.get("/").await.status, StatusCode::OK);
        // Cursors at the ends of the time and id ranges (times before 1970
        // included): pages, not a panic, and links that parse.
        for cursor in [
            "ta7fffffffffffffffx7fffffffffffffff",
            "tb7fffffffffffffffx7fffffffffffffff",
            "tb0x0",
            "ta0x0",
            "tb0x1",
            "tbffffffffffffffffx1",
            "ta8000000000000000x0",
            "tb8000000000000000x7fffffffffffffff",
        ] {
            let page = browser.get(&format!("/?cursor={cursor}")).await;
            assert_eq!(page.status, StatusCode::OK, "{cursor}");
            for rel in ["next", "prev"] {
                if let Some(link) = page.pager(rel) {
                    assert_eq!(browser.get(&link).await.status, StatusCode::OK, "{link}");
                }
            }
        }
        // A second tab's sign-in form still works after a first one opened.
        let mut tabs = Browser::new(&auditor);
        let first = tabs.get("/sign-in").await.csrf();
        assert_eq!(tabs.get("/sign-in").await.csrf(), first);

        // The password changes (another process): the session ends.
        let mut audit = auditor
            .begin::<example_app::events::StaffEvent>(audit_core::Actor::system("admin"))
            .await
            .unwrap();
        let hash = example_app::auth::PasswordHash::new("new password").unwrap();
        example_app::commands::set_password(&mut audit, &c.alice, hash)
            .await
            .unwrap();
        audit.commit().await.unwrap();
        assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            browser.sign_in("alice", "new password").await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(browser.get("/").await.status, StatusCode::OK);
    }
}
