//! The staff area's forms through its router: each change made (its
//! effect, its event, by whom, shown at the top of the page it leads to),
//! refused with the form shown again as typed and why (422), and refused
//! to anyone but staff, without the session's token, or from another site,
//! nothing changed. On every available backend.
//!
//! Each change's events record where it came from: the request's context
//! (its id, the client's address, user agent and route, this program and
//! host), the same for every event of one request and found by its id.

use crate::common;
use crate::common::web::{Browser, Cast, PASSWORD, Reply, cast};

use audit_core::{Actor, Auditor};
use axum::http::StatusCode;
use example_app::commands;
use example_app::directory;
use example_app::domain::{Role, Roles, UserRef};
use example_app::events::StaffEvent;
use example_app::logs::{self, Entry, LogRequest, Scope};

/// A user created by a system process, with no roles.
async fn user(auditor: &Auditor, name: &str) -> UserRef {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("test-setup"))
        .await
        .unwrap();
    let user = commands::add_user(&mut audit, name, Roles::new())
        .await
        .unwrap();
    audit.commit().await.unwrap();
    user
}

/// The newest events of the whole log, newest first.
async fn newest(auditor: &Auditor, count: u32) -> Vec<Entry> {
    let mut request = LogRequest::new(Scope::All);
    request.limit = count;
    logs::fetch(auditor, &request).await.unwrap().entries
}

/// How many events the log holds.
async fn event_count(auditor: &Auditor) -> i64 {
    common::scalar(auditor, "SELECT COUNT(*) FROM audit_events").await
}

/// Everything a form could change: the events, the projects, each
/// project's members with their roles, and each user's global roles.
async fn snapshot(auditor: &Auditor) -> String {
    let mut out = format!("{} events\n", event_count(auditor).await);
    for project in directory::projects(auditor).await.unwrap() {
        let members = directory::members(auditor, project.id).await.unwrap();
        out.push_str(&format!("{project:?}: {members:?}\n"));
    }
    for account in directory::accounts(auditor).await.unwrap() {
        out.push_str(&format!("{}: {:?}\n", account.username, account.roles));
    }
    out
}

/// The payload of `entry` as JSON.
fn payload(entry: &Entry) -> serde_json::Value {
    serde_json::from_str(&entry.stored.payload).unwrap()
}

fn roles(list: &[Role]) -> Roles {
    list.iter().copied().collect()
}

/// alice, signed in, and her session's token.
async fn alice(auditor: &Auditor) -> (Browser, String) {
    let mut browser = Browser::new(auditor);
    let reply = browser.sign_in("alice", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let csrf = browser.get("/").await.csrf();
    (browser, csrf)
}

/// Asserts that `event` is by alice and of type `code`, and returns its
/// payload.
fn by_alice(event: &Entry, c: &Cast, code: &str) -> serde_json::Value {
    assert_eq!(event.stored.event.code(), code, "{}", event.stored.payload);
    assert_eq!(event.stored.actor, Actor::user(c.alice.id, "alice"));
    // Every form's change records its request: a route of the form's
    // (`POST /projects/{id}/members`), a request id made for it, and this
    // program (no client address: the router runs in-process, without a
    // connection; `context_is_recorded_with_each_change` has one).
    let context = &event.stored.context;
    assert!(
        context
            .route
            .as_deref()
            .is_some_and(|r| r.starts_with("POST /")),
        "{context:?}"
    );
    assert!(context.request_id.is_some(), "{context:?}");
    assert_eq!(
        context.program.as_deref(),
        Some(concat!("example-app ", env!("CARGO_PKG_VERSION")))
    );
    payload(event)
}

/// Follows `reply`, a 303 to `expected`, and asserts that the page shows
/// `event` first, saying `text`.
async fn shows_first(
    browser: &mut Browser,
    reply: &Reply,
    expected: &str,
    event: &Entry,
    text: &str,
) {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), expected);
    let page = browser.get(expected).await;
    assert_eq!(page.status, StatusCode::OK);
    let first = page.event_texts().into_iter().next().expect("an event");
    assert_eq!(first.0, event.stored.id, "the new event is at the top");
    assert_eq!(first.1, text);
}

/// Asserts that `reply` is the form shown again: 422, the message next to
/// the field `id` (described by it, marked invalid).
fn refused(reply: &Reply, error_id: &str, message: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let shown = format!(r#"<p class="error" id="{error_id}">{message}</p>"#);
    assert!(reply.body.contains(&shown), "{shown} in {}", reply.body);
    let described = format!(r#"aria-invalid="true" aria-describedby="{error_id}""#);
    assert!(reply.body.contains(&described), "{described}");
}

#[tokio::test]
async fn staff_create_a_project_and_see_it_created() {
    for auditor in common::auditors("staff_create").await {
        let c = cast(&auditor).await;
        let (mut browser, csrf) = alice(&auditor).await;
        let list = browser.get("/projects").await;
        assert!(
            list.body
                .contains(r#"<form method="post" action="/projects""#)
        );
        assert!(list.body.contains(r#"<label for="name">"#));

        let reply = browser
            .post_with(
                "/projects",
                &[("csrf", &csrf), ("name", "  Mercury ")],
                &[("x-request-id", "req-create-1")],
            )
            .await;
        let mercury = directory::project_named(&auditor, "Mercury")
            .await
            .unwrap()
            .expect("created, trimmed");
        let event = &newest(&auditor, 1).await[0];
        let json = by_alice(event, &c, "project_created");
        assert_eq!(json["project"]["name"], "Mercury");
        assert_eq!(json["project"]["id"], mercury.id);
        let path = format!("/projects/{}", mercury.id);
        shows_first(
            &mut browser,
            &reply,
            &path,
            event,
            "created project Mercury",
        )
        .await;

        // Refused: shown again as typed, with the rule's message.
        let before = event_count(&auditor).await;
        for (typed, message) in [
            ("Apollo", "Project `Apollo` already exists."),
            (
                "   ",
                "A project name must not be empty or only whitespace.",
            ),
            (
                "evil\u{202e}name",
                "A project name must not contain bidirectional formatting characters (found U+202E).",
            ),
            (
                &"x".repeat(200),
                "A project name must be at most 128 bytes long (this one has 200).",
            ),
        ] {
            let reply = browser
                .post("/projects", &[("csrf", &csrf), ("name", typed)])
                .await;
            refused(&reply, "name-error", message);
            assert!(
                reply
                    .body
                    .contains(&format!(r#"name="name" value="{typed}""#)),
                "{typed:?} kept: {}",
                reply.body
            );
            assert!(reply.body.contains("<h1>Projects</h1>"));
        }
        // What was typed is shown, not run.
        let reply = browser
            .post("/projects", &[("csrf", &csrf), ("name", "Apollo\"><b>x")])
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "a valid name, oddly");
        let reply = browser
            .post("/projects", &[("csrf", &csrf), ("name", "Apollo\"><b>x")])
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!reply.body.contains("<b>x"), "{}", reply.body);
        assert_eq!(
            event_count(&auditor).await,
            before + 1,
            "only the valid name made an event"
        );
    }
}

#[tokio::test]
async fn staff_add_several_members_at_once_with_roles() {
    for auditor in common::auditors("staff_add").await {
        let c = cast(&auditor).await;
        let carol = user(&auditor, "carol").await;
        let dave = user(&auditor, "dave").await;
        let (mut browser, csrf) = alice(&auditor).await;
        let apollo = format!("/projects/{}", c.apollo.id);
        let page = browser.get(&apollo).await;
        assert!(page.body.contains("<p class=\"empty\">No members yet.</p>"));
        assert!(
            page.body
                .contains(&format!(r#"<form method="post" action="{apollo}/members""#))
        );

        let reply = browser
            .post(
                &format!("{apollo}/members"),
                &[
                    ("csrf", &csrf),
                    ("usernames", "carol\r\n\r\n dave \r\n"),
                    ("role", "ProjectDeveloper"),
                    ("role", "ProjectCollaborator"),
                ],
            )
            .await;
        let both = roles(&[Role::ProjectDeveloper, Role::ProjectCollaborator]);
        let members = directory::members(&auditor, c.apollo.id).await.unwrap();
        let members: Vec<(&str, &Roles)> = members
            .iter()
            .map(|m| (m.user.username.as_str(), &m.roles))
            .collect();
        assert_eq!(members, [("carol", &both), ("dave", &both)]);
        // One command: added and roles, for each, oldest first.
        let mut events = newest(&auditor, 4).await;
        events.reverse();
        let codes: Vec<&str> = events.iter().map(|e| e.stored.event.code()).collect();
        assert_eq!(
            codes,
            [
                "project_member_added",
                "project_member_updated_roles",
                "project_member_added",
                "project_member_updated_roles"
            ]
        );
        assert!(
            events
                .iter()
                .all(|e| e.stored.command_id == events[0].stored.command_id)
        );
        // The request's id finds all four, and nothing else.
        let request = events[0].stored.context.request_id.clone().unwrap();
        let found = auditor
            .query::<StaffEvent>(&audit_core::query::EventQuery::new().request_id(&request))
            .await
            .unwrap();
        let mut found: Vec<i64> = found.events.iter().map(|e| e.id).collect();
        found.sort_unstable();
        let ids: Vec<i64> = events.iter().map(|e| e.stored.id).collect();
        assert_eq!(found, ids);
        let json = by_alice(&events[2], &c, "project_member_added");
        assert_eq!(json["user"]["id"], dave.id);
        assert_eq!(json["project"]["id"], c.apollo.id);
        let json = by_alice(&events[3], &c, "project_member_updated_roles");
        assert_eq!(
            json["after"],
            serde_json::json!(["ProjectDeveloper", "ProjectCollaborator"])
        );
        shows_first(
            &mut browser,
            &reply,
            &apollo,
            &events[3],
            "changed dave's roles in Apollo from none to Project developer, Project collaborator",
        )
        .await;
        let page = browser.get(&apollo).await;
        assert!(page.body.contains(&format!(
            r#"<li id="member-{}"><span class="member"><a href="/users/{}">carol</a> <span class="sub">Project developer, Project collaborator</span>"#,
            carol.id, carol.id
        )), "{}", page.body);

        // One bad name: nobody is added, and the form says which.
        user(&auditor, "erin").await;
        let before = snapshot(&auditor).await;
        let gemini = format!("/projects/{}/members", c.gemini.id);
        for (typed, message) in [
            ("erin\nghost\ncarol", "Unknown user `ghost`."),
            ("erin\nbob", "bob is already a member of Gemini."),
            ("erin\ncarol\nerin ", "User `erin` is named twice."),
            (
                "erin\n\nbad\u{202e}name",
                "Username 2: a username must not contain bidirectional formatting characters (found U+202E).",
            ),
            (" \n ", "Name at least one user."),
        ] {
            let reply = browser
                .post(
                    &gemini,
                    &[
                        ("csrf", &csrf),
                        ("usernames", typed),
                        ("role", "ProjectCollaborator"),
                    ],
                )
                .await;
            refused(&reply, "usernames-error", message);
            assert!(
                reply.body.contains(&format!(">{typed}</textarea>")),
                "{typed:?} kept: {}",
                reply.body
            );
            assert!(
                reply
                    .body
                    .contains(r#"value="ProjectCollaborator" checked>"#),
                "the role checked is kept"
            );
            assert!(
                reply.body.contains(r#"id="add-members" open>"#),
                "shown open"
            );
            assert!(reply.body.contains("<h1>Project Gemini</h1>"));
            assert_eq!(
                snapshot(&auditor).await,
                before,
                "{typed:?}: nothing changed"
            );
        }
        // A role that does not exist (a form made by hand): said at the roles.
        let reply = browser
            .post(
                &gemini,
                &[("csrf", &csrf), ("usernames", "erin"), ("role", "Admin")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            reply
                .body
                .contains(r#"<p class="error" id="add-roles-error">Unknown role `Admin`"#),
            "{}",
            reply.body
        );
        assert!(reply.body.contains(">erin</textarea>"));
        assert_eq!(snapshot(&auditor).await, before);
        // Markup typed is shown as text.
        let reply = browser
            .post(&gemini, &[("csrf", &csrf), ("usernames", "<b>x</b>")])
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!reply.body.contains("<b>x</b>"));
        assert!(
            reply.body.contains("&#60;b&#62;x&#60;/b&#62;</textarea>"),
            "{}",
            reply.body
        );
    }
}

#[tokio::test]
async fn staff_edit_a_members_roles() {
    for auditor in common::auditors("staff_edit").await {
        let c = cast(&auditor).await;
        let (mut browser, csrf) = alice(&auditor).await;
        let gemini = format!("/projects/{}", c.gemini.id);
        let form = format!("{gemini}/members/{}/roles", c.bob.id);
        let page = browser.get(&gemini).await;
        assert!(
            page.body
                .contains(&format!(r#"<form method="post" action="{form}""#))
        );
        assert!(
            page.body
                .contains("Edit roles<span class=\"vh\"> of bob</span>")
        );

        let reply = browser
            .post(
                &form,
                &[
                    ("csrf", &csrf),
                    ("role", "ProjectCollaborator"),
                    ("role", "ProjectDeveloper"),
                ],
            )
            .await;
        let member = directory::member(&auditor, c.gemini.id, c.bob.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            member.roles,
            roles(&[Role::ProjectCollaborator, Role::ProjectDeveloper])
        );
        let event = &newest(&auditor, 1).await[0];
        let json = by_alice(event, &c, "project_member_updated_roles");
        assert_eq!(json["before"], serde_json::json!([]));
        assert_eq!(
            json["after"],
            serde_json::json!(["ProjectCollaborator", "ProjectDeveloper"])
        );
        shows_first(
            &mut browser,
            &reply,
            &gemini,
            event,
            "changed bob's roles in Gemini from none to Project collaborator, Project developer",
        )
        .await;
        // The form shows the roles held now.
        let page = browser.get(&gemini).await;
        assert!(
            page.body
                .contains(r#"value="ProjectCollaborator" checked>"#)
        );

        // Refused: the member's form open again with what was sent, and why.
        let before = snapshot(&auditor).await;
        let reply = browser
            .post(
                &form,
                &[
                    ("csrf", &csrf),
                    ("role", "OutputChecker"),
                    ("role", "Owner"),
                ],
            )
            .await;
        let error_id = format!("member-{}-roles-error", c.bob.id);
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            reply.body.contains(&format!(
                r#"<p class="error" id="{error_id}">Unknown role `Owner`"#
            )),
            "{}",
            reply.body
        );
        assert!(
            reply.body.contains(&format!(
                r#"value="OutputChecker" checked aria-invalid="true" aria-describedby="{error_id}""#
            )),
            "{}",
            reply.body
        );
        assert!(reply.body.contains(r#"<details class="edit" open>"#));
        assert_eq!(snapshot(&auditor).await, before);

        // alice is no member of Gemini; nobody is project 999999.
        for path in [
            format!("{gemini}/members/{}/roles", c.alice.id),
            format!("/projects/999999/members/{}/roles", c.bob.id),
            format!("{gemini}/members/x/roles"),
        ] {
            let reply = browser.post(&path, &[("csrf", &csrf)]).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        }
        let reply = browser
            .get(&format!("{gemini}/members/{}/remove", c.alice.id))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(reply.body.contains("alice is not a member of Gemini."));
        assert_eq!(snapshot(&auditor).await, before);
    }
}

#[tokio::test]
async fn staff_remove_a_member_after_confirming() {
    for auditor in common::auditors("staff_remove").await {
        let c = cast(&auditor).await;
        let (mut browser, csrf) = alice(&auditor).await;
        let gemini = format!("/projects/{}", c.gemini.id);
        let confirm = format!("{gemini}/members/{}/remove", c.bob.id);
        let page = browser.get(&gemini).await;
        assert!(
            page.body
                .contains(&format!(r#"<a class="remove" href="{confirm}">"#))
        );

        // The link asks first; nothing changes on the way.
        let before = snapshot(&auditor).await;
        let question = browser.get(&confirm).await;
        assert_eq!(question.status, StatusCode::OK);
        assert!(question.body.contains("<h1>Remove bob from Gemini?</h1>"));
        assert!(question.body.contains(&format!(
            r#"<form class="box confirm" method="post" action="{confirm}">"#
        )));
        assert!(
            question.body.contains(
                r#"<button type="submit" class="danger">Remove bob from Gemini</button>"#
            )
        );
        assert!(
            question
                .body
                .contains(&format!(r#"<a href="{gemini}">Cancel</a>"#))
        );
        assert_eq!(question.csrf(), csrf);
        assert_eq!(snapshot(&auditor).await, before);

        let reply = browser.post(&confirm, &[("csrf", &csrf)]).await;
        assert!(
            directory::member(&auditor, c.gemini.id, c.bob.id)
                .await
                .unwrap()
                .is_none()
        );
        let events = newest(&auditor, 2).await;
        by_alice(&events[1], &c, "project_member_updated_roles");
        let json = by_alice(&events[0], &c, "project_member_removed");
        assert_eq!(json["user"]["id"], c.bob.id);
        assert_eq!(events[0].stored.command_id, events[1].stored.command_id);
        shows_first(
            &mut browser,
            &reply,
            &gemini,
            &events[0],
            "removed bob from Gemini",
        )
        .await;

        // Sent again: not a member any more, and said so.
        let again = browser.post(&confirm, &[("csrf", &csrf)]).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(
            again.body.contains("bob is not a member of Gemini."),
            "{}",
            again.body
        );
        let page = browser.get(&gemini).await;
        assert!(page.body.contains("No members yet."));
    }
}

#[tokio::test]
async fn staff_set_and_clear_a_users_roles() {
    for auditor in common::auditors("staff_user_roles").await {
        let c = cast(&auditor).await;
        let (mut browser, csrf) = alice(&auditor).await;
        let bob = format!("/users/{}", c.bob.id);
        let page = browser.get(&bob).await;
        assert!(
            page.body
                .contains(&format!(r#"<form method="post" action="{bob}/roles""#))
        );
        assert!(
            page.body
                .contains(&format!(r#"<a class="remove" href="{bob}/clear-roles">"#))
        );

        let reply = browser
            .post(
                &format!("{bob}/roles"),
                &[("csrf", &csrf), ("role", "OutputChecker")],
            )
            .await;
        let account = directory::account(&auditor, c.bob.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(account.roles, roles(&[Role::OutputChecker]));
        let event = &newest(&auditor, 1).await[0];
        let json = by_alice(event, &c, "user_updated_roles");
        assert_eq!(json["user"]["id"], c.bob.id);
        assert_eq!(json["after"], serde_json::json!(["OutputChecker"]));
        shows_first(
            &mut browser,
            &reply,
            &bob,
            event,
            "changed bob's global roles from none to Output checker",
        )
        .await;
        assert!(
            browser
                .get(&bob)
                .await
                .body
                .contains(r#"<p class="roles-now">Output checker</p>"#)
        );

        // Refused: open again with what was sent.
        let before = snapshot(&auditor).await;
        let reply = browser
            .post(
                &format!("{bob}/roles"),
                &[
                    ("csrf", &csrf),
                    ("role", "StaffAreaAdministrator"),
                    ("role", "Root"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            reply
                .body
                .contains(r#"<p class="error" id="user-roles-error">Unknown role `Root`"#)
        );
        assert!(
            reply
                .body
                .contains(r#"value="StaffAreaAdministrator" checked aria-invalid="true""#)
        );
        assert!(
            reply
                .body
                .contains(r#"value="OutputChecker" aria-invalid="true""#),
            "not checked: as sent"
        );
        assert!(reply.body.contains(r#"id="set-roles" open>"#));
        assert_eq!(snapshot(&auditor).await, before);

        // Clearing asks first, saying what goes.
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::system("test-setup"))
            .await
            .unwrap();
        commands::update_member_roles(
            &mut audit,
            &c.gemini,
            &c.bob,
            roles(&[Role::ProjectDeveloper]),
        )
        .await
        .unwrap();
        audit.commit().await.unwrap();
        let confirm = format!("{bob}/clear-roles");
        let question = browser.get(&confirm).await;
        assert_eq!(question.status, StatusCode::OK);
        assert!(
            question
                .body
                .contains("<h1>Clear all of bob\u{2019}s roles?</h1>")
        );
        assert!(
            question.body.contains("global roles (Output checker)"),
            "{}",
            question.body
        );
        assert!(question.body.contains("projects (Gemini)"));
        assert!(!question.body.contains("your own roles"));
        let reply = browser.post(&confirm, &[("csrf", &csrf)]).await;
        let account = directory::account(&auditor, c.bob.id)
            .await
            .unwrap()
            .unwrap();
        assert!(account.roles.is_empty());
        let member = directory::member(&auditor, c.gemini.id, c.bob.id)
            .await
            .unwrap()
            .unwrap();
        assert!(member.roles.is_empty(), "still a member, without roles");
        let events = newest(&auditor, 2).await;
        let json = by_alice(&events[1], &c, "user_updated_roles");
        assert_eq!(json["before"], serde_json::json!(["OutputChecker"]));
        let json = by_alice(&events[0], &c, "project_member_updated_roles");
        assert_eq!(json["before"], serde_json::json!(["ProjectDeveloper"]));
        assert_eq!(events[0].stored.command_id, events[1].stored.command_id);
        shows_first(
            &mut browser,
            &reply,
            &bob,
            &events[0],
            "changed bob's roles in Gemini from Project developer to none",
        )
        .await;

        // Her own: the question says what she would lose.
        let own = browser
            .get(&format!("/users/{}/clear-roles", c.alice.id))
            .await;
        assert!(
            own.body.contains("you can no longer use the staff area"),
            "{}",
            own.body
        );
    }
}

/// A form's address and fields.
type Sent = (String, Vec<(&'static str, String)>);

/// Every form, as sent with `csrf`, in an order in which each succeeds
/// (bob holds roles in Gemini and globally; carol exists).
fn every_form(c: &Cast, csrf: &str) -> Vec<Sent> {
    let csrf = ("csrf", csrf.to_owned());
    let (apollo, gemini, bob) = (c.apollo.id, c.gemini.id, c.bob.id);
    vec![
        (
            "/projects".to_owned(),
            vec![csrf.clone(), ("name", "Mercury".into())],
        ),
        (
            format!("/projects/{apollo}/members"),
            vec![
                csrf.clone(),
                ("usernames", "carol".into()),
                ("role", "ProjectDeveloper".into()),
            ],
        ),
        (
            format!("/projects/{gemini}/members/{bob}/roles"),
            vec![csrf.clone(), ("role", "ProjectCollaborator".into())],
        ),
        (
            format!("/projects/{gemini}/members/{bob}/remove"),
            vec![csrf.clone()],
        ),
        (
            format!("/users/{bob}/roles"),
            vec![csrf.clone(), ("role", "OutputChecker".into())],
        ),
        (format!("/users/{bob}/clear-roles"), vec![csrf]),
    ]
}

async fn post_form(
    browser: &mut Browser,
    path: &str,
    fields: &[(&'static str, String)],
    headers: &[(&str, &str)],
) -> Reply {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post_with(path, &fields, headers).await
}

#[tokio::test]
async fn only_staff_with_their_sessions_token_from_this_site_change_anything() {
    for auditor in common::auditors("staff_refused").await {
        let c = cast(&auditor).await;
        user(&auditor, "carol").await;
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::system("test-setup"))
            .await
            .unwrap();
        let developer = roles(&[Role::ProjectDeveloper]);
        commands::update_member_roles(&mut audit, &c.gemini, &c.bob, developer.clone())
            .await
            .unwrap();
        commands::update_user_roles(&mut audit, &c.bob, roles(&[Role::OutputChecker]))
            .await
            .unwrap();
        audit.commit().await.unwrap();
        let before = snapshot(&auditor).await;
        let events_before = event_count(&auditor).await;
        let (mut alice, csrf) = alice(&auditor).await;

        // Signed out: sent to sign in, and back to the form's page after.
        let mut anonymous = Browser::new(&auditor);
        for (path, fields) in every_form(&c, &csrf) {
            let reply = post_form(&mut anonymous, &path, &fields, &[]).await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
            assert!(reply.location().starts_with("/sign-in?next="), "{path}");
        }
        // bob is not staff: 403 with his own session's token, and on the
        // pages that ask first.
        let mut bob = Browser::new(&auditor);
        bob.sign_in("bob", PASSWORD).await;
        for (path, mut fields) in every_form(&c, "") {
            // His session's token is on his 403 page's sign-out form.
            let token = bob.get("/").await.csrf();
            fields[0].1 = token;
            let reply = post_form(&mut bob, &path, &fields, &[]).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
            assert!(
                reply.body.contains("staff area administrators only"),
                "{path}"
            );
        }
        for path in [
            format!("/projects/{}/members/{}/remove", c.gemini.id, c.bob.id),
            format!("/users/{}/clear-roles", c.bob.id),
        ] {
            assert_eq!(bob.get(&path).await.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(snapshot(&auditor).await, before);

        // alice without the token, with another session's, with bob's, or
        // from another site: 403, nothing changed.
        let mut other = Browser::new(&auditor);
        other.sign_in("alice", PASSWORD).await;
        let others = other.get("/").await.csrf();
        assert_ne!(others, csrf);
        let evil = [
            ("origin", "https://evil.example"),
            ("host", "staff.example"),
        ];
        let sibling = [("sec-fetch-site", "same-site"), ("host", "staff.example")];
        for (path, fields) in every_form(&c, &csrf) {
            let without: Vec<_> = fields
                .iter()
                .filter(|(k, _)| *k != "csrf")
                .cloned()
                .collect();
            let mut foreign = fields.clone();
            foreign[0].1 = others.clone();
            let no_headers: &[(&str, &str)] = &[];
            let cases = [
                ("no token", without, no_headers),
                ("another session's token", foreign, no_headers),
                ("another site", fields.clone(), &evil[..]),
                ("a sibling site", fields.clone(), &sibling[..]),
            ];
            for (what, fields, headers) in cases {
                let reply = post_form(&mut alice, &path, &fields, headers).await;
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}: {what}");
                assert!(
                    reply
                        .body
                        .contains("did not come from this site, so nothing was changed"),
                    "{path}: {what}: {}",
                    reply.body
                );
            }
        }
        assert_eq!(snapshot(&auditor).await, before);

        // The same forms from this site, with her token: each is made.
        let site = [
            ("origin", "http://staff.example"),
            ("host", "staff.example"),
            ("sec-fetch-site", "same-origin"),
        ];
        for (path, fields) in every_form(&c, &csrf) {
            let reply = post_form(&mut alice, &path, &fields, &site).await;
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "{path}: {}",
                reply.body
            );
        }
        assert_eq!(
            event_count(&auditor).await,
            events_before + 8,
            "created; carol added with roles (2); bob's roles; bob removed (2); \
             bob's global roles; cleared (global only: no project left)"
        );
    }
}

#[tokio::test]
async fn a_form_address_opened_directly_leads_to_its_page() {
    for auditor in common::auditors("staff_get").await {
        let c = cast(&auditor).await;
        let (mut browser, _) = alice(&auditor).await;
        let (gemini, bob) = (c.gemini.id, c.bob.id);
        for (path, page) in [
            (
                format!("/projects/{gemini}/members"),
                format!("/projects/{gemini}"),
            ),
            (
                format!("/projects/{gemini}/members/{bob}/roles"),
                format!("/projects/{gemini}"),
            ),
            (format!("/users/{bob}/roles"), format!("/users/{bob}")),
        ] {
            let reply = browser.get(&path).await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(reply.location(), page);
        }
        // Only ids: nothing else goes into the address.
        for path in [
            "/projects/%2F%2Fevil.example/members".to_owned(),
            format!("/projects/x/members/{bob}/roles"),
            "/users/1%0d%0aSet-Cookie:%20x=1/roles".to_owned(),
        ] {
            let reply = browser.get(&path).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        }
        // Signed out, a form's address goes through sign-in to its page.
        let mut anonymous = Browser::new(&auditor);
        let path = format!("/projects/{gemini}/members");
        let reply = anonymous.post(&path, &[("usernames", "bob")]).await;
        let next = reply.location().to_owned();
        assert_eq!(
            next,
            format!(
                "/sign-in?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", &path)
                    .finish()
            )
        );
        let signed_in = anonymous
            .submit_sign_in(&[
                ("username", "alice"),
                ("password", PASSWORD),
                ("next", &path),
            ])
            .await;
        assert_eq!(signed_in.location(), path);
        let reply = anonymous.get(&path).await;
        assert_eq!(reply.location(), format!("/projects/{gemini}"));
    }
}

/// What a form's request brings is stored with the change's events: the
/// client's address, the request id sent, the user agent, the route.
#[tokio::test]
async fn context_is_recorded_with_each_change() {
    for auditor in common::auditors("staff_context").await {
        let c = cast(&auditor).await;
        let mut browser = Browser::new(&auditor).connecting_from("203.0.113.9");
        browser.sign_in("alice", PASSWORD).await;
        let csrf = browser.get("/").await.csrf();
        let reply = browser
            .post_with(
                &format!("/users/{}/roles", c.bob.id),
                &[("csrf", &csrf), ("role", "OutputChecker")],
                &[
                    ("x-request-id", "req-ctx-1"),
                    ("user-agent", "staff-test/1"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        let event = &newest(&auditor, 1).await[0];
        by_alice(event, &c, "user_updated_roles");
        let context = &event.stored.context;
        assert_eq!(context.client_address, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(context.request_id.as_deref(), Some("req-ctx-1"));
        assert_eq!(context.user_agent.as_deref(), Some("staff-test/1"));
        assert_eq!(context.route.as_deref(), Some("POST /users/{id}/roles"));
        assert!(context.host.is_some(), "{context:?}");
        // The server's OS user is not who made the change.
        assert_eq!(context.os_user, None);

        // The event's page and its `export` line say where it came from.
        let id = event.stored.id;
        let page = browser.get(&format!("/events/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        for shown in ["203.0.113.9", "req-ctx-1", "staff-test/1"] {
            assert!(page.body.contains(shown), "{shown} on the event page");
        }
        let url = common::url_of(&auditor).await;
        let out = common::cli(&url, &["export"]).await;
        assert!(out.status.success());
        let line: serde_json::Value = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .find(|line| line["id"] == id)
            .expect("the event is exported");
        assert_eq!(line["context"]["client_address"], "203.0.113.9");
        assert_eq!(line["context"]["request_id"], "req-ctx-1");
    }
}
