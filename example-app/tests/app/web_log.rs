//! The log as people work with it, through the router: several types, the
//! actor and date filters kept across pages, the newest link, an event's
//! own page (with its context and who really acted), the events of one
//! request and of one client address, the project page's type filter,
//! natural order of names, and parameters that are refused rather than
//! ignored. On every backend.

use crate::common;
use crate::common::web::{Browser, PASSWORD, Reply, add_members, cast};

use audit_core::{Actor, Auditor, Context};
use axum::http::StatusCode;
use example_app::commands;
use example_app::domain::{Role, Roles};
use example_app::events::StaffEvent;

/// Follows the older links from `start` to the end; every link must keep
/// `keep`. Returns each page's event ids.
async fn walk(browser: &mut Browser, start: &str, keep: &[&str]) -> Vec<Vec<i64>> {
    let mut page = browser.get(start).await;
    assert_eq!(page.status, StatusCode::OK, "{start}: {}", page.body);
    assert!(page.pager("first").is_none(), "the newest page: {start}");
    let mut ids = vec![page.event_ids()];
    while let Some(older) = page.pager("next") {
        assert!(ids.len() < 20, "older links go round: {older}");
        for part in keep {
            assert!(older.contains(part), "{older} lost {part}");
        }
        page = browser.get(&older).await;
        let newest = page
            .pager("first")
            .expect("a newest link off the first page");
        assert_eq!(newest, start.replace("&from=&to=", ""), "back to the start");
        ids.push(page.event_ids());
    }
    ids
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset)).to_string()
}

fn assert_refused(reply: &Reply, words: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(
        reply.body.contains("<h1>400 Bad Request</h1>"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains(words), "{words}: {}", reply.body);
}

#[tokio::test]
async fn actor_date_and_several_types_combine_and_stay_across_pages() {
    for auditor in common::auditors("web_log_filters").await {
        let c = cast(&auditor).await;
        add_members(&auditor, &c, &c.apollo, 30).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;

        // alice: 2 projects, bob to Gemini, 30 x (user, member).
        let by_alice = walk(&mut browser, "/?actor=alice", &["actor=alice"]).await;
        let sizes: Vec<usize> = by_alice.iter().map(Vec::len).collect();
        assert_eq!(sizes, [25, 25, 13]);
        let all: Vec<i64> = by_alice.concat();
        assert!(all.windows(2).all(|w| w[0] > w[1]), "no repeats");
        // The system process made the 4 others; a name nobody has, none.
        let setup = browser.get("/?actor=test-setup").await;
        assert_eq!(setup.event_ids().len(), 4, "{}", setup.body);
        let nobody = browser.get("/?actor=nobody").await;
        assert_eq!(nobody.status, StatusCode::OK);
        assert!(nobody.event_ids().is_empty());
        assert!(nobody.body.contains(r#"name="actor" value="nobody""#));

        let start = format!("/?type=user_created&actor=alice&from={0}&to={0}", today());
        let combined = walk(
            &mut browser,
            &start,
            &["type=user_created", "actor=alice", "from=", "to="],
        )
        .await;
        let sizes: Vec<usize> = combined.iter().map(Vec::len).collect();
        assert_eq!(sizes, [25, 5], "alice's 30 user_created events of today");

        let two = browser
            .get("/?type=user_created&type=project_created")
            .await;
        assert_eq!(two.event_ids().len(), 25);
        let two = walk(
            &mut browser,
            "/?type=user_created&type=project_created",
            &[],
        )
        .await;
        assert_eq!(two.concat().len(), 32 + 2, "users and projects created");
        let page = browser
            .get("/?type=user_created&type=project_created")
            .await;
        for code in ["user_created", "project_created"] {
            assert!(
                page.body.contains(&format!(r#"value="{code}" checked>"#)),
                "{code} is checked"
            );
        }
        assert!(page.body.contains(r#"<a href="/" class="clear">"#));

        // Dates are days in UTC, both ends included.
        assert_eq!(
            browser.get(&format!("/?to={}", day(-1))).await.event_ids(),
            Vec::<i64>::new()
        );
        assert_eq!(
            browser.get(&format!("/?from={}", day(1))).await.event_ids(),
            Vec::<i64>::new()
        );
        assert_eq!(
            browser
                .get(&format!("/?from={}&to={}", day(-1), day(1)))
                .await
                .event_ids()
                .len(),
            25
        );
        assert_refused(
            &browser
                .get(&format!("/?from={}&to={}", day(1), day(-1)))
                .await,
            "ends before it starts",
        );
        assert_refused(&browser.get("/?from=31.12.2026").await, "is not a date");

        // On bob's log: what alice did there (bob to Gemini, Gemini created).
        let bob = browser
            .get(&format!("/users/{}?actor=alice", c.bob.id))
            .await;
        assert_eq!(bob.event_ids().len(), 2, "{}", bob.body);
        assert_eq!(
            browser
                .get(&format!("/users/{}?actor=bob", c.bob.id))
                .await
                .event_ids(),
            Vec::<i64>::new()
        );
    }
}

#[tokio::test]
async fn unknown_parameters_are_refused_and_types_is_an_alias() {
    for auditor in common::auditors("web_log_params").await {
        let c = cast(&auditor).await;
        add_members(&auditor, &c, &c.apollo, 2).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;
        let apollo = format!("/projects/{}", c.apollo.id);

        let page = browser.get(&apollo).await;
        let offered: Vec<&str> = page
            .body
            .split(r#"name="type" value=""#)
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect();
        assert_eq!(
            offered,
            [
                "project_created",
                "project_member_added",
                "project_member_removed",
                "project_member_updated_roles"
            ],
            "only what can appear on a project's page"
        );
        let alias = browser
            .get(&format!(
                "{apollo}?types=project_created,project_member_added"
            ))
            .await;
        assert_eq!(alias.event_ids().len(), 3, "{}", alias.body);
        assert!(alias.body.contains(r#"value="project_created" checked>"#));
        let only = browser
            .get(&format!("{apollo}?types=project_member_added"))
            .await;
        assert_eq!(only.event_ids().len(), 2);
        assert_refused(
            &browser.get(&format!("{apollo}?type=user_created")).await,
            "never appear on a project",
        );
        assert_refused(
            &browser.get("/?types=user_created,nope").await,
            "no event type",
        );
        for bad in [
            "/?typ=user_created",
            "/?event_type=user_created",
            "/?user=bob",
            "/?page=2",
        ] {
            assert_refused(&browser.get(bad).await, "has no parameter");
        }
        // A campaign tag is not a filter.
        assert_eq!(
            browser.get("/?utm_source=mail").await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn an_event_page_shows_every_column_the_payload_and_its_command() {
    for auditor in common::auditors("web_log_event").await {
        let c = cast(&auditor).await;
        // One command with two events: added with roles.
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::user(c.alice.id, &c.alice.username))
            .await
            .unwrap();
        let eve = commands::add_user(&mut audit, "<b>eve</b>", Roles::new())
            .await
            .unwrap();
        let roles: Roles = [Role::ProjectDeveloper].into_iter().collect();
        commands::add_member(&mut audit, &c.apollo, &eve, roles)
            .await
            .unwrap();
        audit.commit().await.unwrap();
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;

        let log = browser.get("/").await;
        let ids = log.event_ids();
        let (roles_id, added_id, created_id) = (ids[0], ids[1], ids[2]);
        for id in &ids {
            assert!(
                log.body.contains(&format!(r#"<a href="/events/{id}""#)),
                "row {id} links"
            );
        }

        let page = browser.get(&format!("/events/{added_id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body
                .contains(&format!("<h1>Event #{added_id}: User added</h1>"))
        );
        for column in [
            "id",
            "position",
            "occurred_at",
            "event_type",
            "payload_version",
            "actor_kind",
            "actor_id",
            "actor_name",
            "actor_as_id",
            "actor_as_name",
            "target_kind",
            "target_id",
            "parent_kind",
            "parent_id",
            "subject_kind",
            "subject_id",
            "command_name",
            "command_id",
        ] {
            assert!(
                page.body.contains(&format!("<dt>{column}</dt>")),
                "{column}"
            );
        }
        assert!(page.body.contains("<dd>project_member_added</dd>"));
        assert!(page.body.contains("<dd>alice</dd>"));
        // The payload, pretty and escaped.
        assert!(
            page.body
                .contains("&#34;username&#34;: &#34;&#60;b&#62;eve&#60;/b&#62;&#34;"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("<b>eve</b>"));
        // The command's two events, this one marked; not eve's creation.
        let rows = page.event_ids();
        assert_eq!(
            rows,
            [added_id, added_id, roles_id],
            "itself, then the command's"
        );
        assert!(
            page.body
                .contains(&format!(r#"<tr id="event-{added_id}" class="current">"#))
        );
        let created = browser.get(&format!("/events/{created_id}")).await;
        assert_eq!(created.event_ids(), [created_id, created_id]);

        for missing in ["0", "999999", "-1", "abc", "1%3B"] {
            let reply = browser.get(&format!("/events/{missing}")).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{missing}");
            assert!(
                reply.body.contains("<h1>404 Not Found</h1>"),
                "{}",
                reply.body
            );
            assert!(reply.body.contains("There is no such event."));
        }
        browser.sign_out().await;
        let anonymous = browser.get(&format!("/events/{added_id}")).await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
        browser.sign_in("bob", PASSWORD).await;
        let bob = browser.get(&format!("/events/{added_id}")).await;
        assert_eq!(bob.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn names_are_listed_in_natural_order() {
    for auditor in common::auditors("web_log_natural").await {
        let c = cast(&auditor).await;
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::user(c.alice.id, &c.alice.username))
            .await
            .unwrap();
        for n in [10, 2, 1] {
            commands::add_user(&mut audit, &format!("user{n}"), Roles::new())
                .await
                .unwrap();
            commands::add_project(&mut audit, &format!("v{n}"))
                .await
                .unwrap();
        }
        audit.commit().await.unwrap();
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;
        let labels = |reply: &Reply| -> Vec<String> {
            reply
                .body
                .split("<li><a href=\"")
                .skip(1)
                .map(|rest| {
                    let rest = &rest[rest.find('>').unwrap() + 1..];
                    rest[..rest.find('<').unwrap()].to_owned()
                })
                .collect()
        };
        assert_eq!(
            labels(&browser.get("/users").await),
            ["alice", "bob", "user1", "user2", "user10"]
        );
        assert_eq!(
            labels(&browser.get("/projects").await),
            ["Apollo", "Gemini", "v1", "v2", "v10"]
        );
    }
}

#[tokio::test]
async fn an_unreadable_event_has_a_page_too() {
    for auditor in common::auditors("web_log_unknown").await {
        cast(&auditor).await;
        common::execute(
            &auditor,
            "INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, \
             actor_id, actor_name, command_name, command_id, payload) \
             VALUES (0, 'project_archived', 1, 'user', '9', '<b>eve</b>', 'x', 'c', '{\"why\": \"<i>old</i>\"}')",
        )
        .await
        .unwrap();
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;
        // Its time (0: 1970) lists it last; the day's filter finds it.
        let log = browser.get("/?to=1970-01-01").await;
        assert_eq!(log.event_ids().len(), 1, "{}", log.body);
        let id = log.event_ids()[0];
        let (_, text) = &log.event_texts()[0];
        assert_eq!(
            text,
            "<b>eve</b> recorded an event of type \u{201c}project_archived\u{201d} that this program cannot show"
        );
        let page = browser.get(&format!("/events/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("<h1>Event #"), "{}", page.body);
        assert!(
            page.body
                .contains("This program cannot read this event: its code is not declared")
        );
        assert!(page.body.contains("<dd>project_archived</dd>"));
        assert!(
            page.body
                .contains("&#34;why&#34;: &#34;&#60;i&#62;old&#60;/i&#62;&#34;"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("<i>old</i>") && !page.body.contains("<b>eve</b>"));
    }
}

#[tokio::test]
async fn the_logs_own_records_show_the_librarys_labels_and_can_be_filtered() {
    for auditor in common::auditors("web_log_own_records").await {
        let label = common::label(&auditor);
        let c = cast(&auditor).await;
        let alice = Actor::user(c.alice.id, &c.alice.username);
        common::own_records(&auditor, &alice).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;

        // The Event column has the library's labels, the details its
        // sentences; no raw code and no generic line.
        let log = browser.get("/").await;
        assert_eq!(log.status, StatusCode::OK, "{label}: {}", log.body);
        let titles = log.event_titles();
        let texts = log.event_texts();
        let (pruned_id, imported_id) = (titles[0].0, titles[1].0);
        assert_eq!(titles[0].1, "Log pruned", "{label}: {titles:?}");
        assert_eq!(titles[1].1, "Events imported", "{label}: {titles:?}");
        assert_eq!(
            texts[0].1,
            format!("alice {}", common::PRUNED_SENTENCE),
            "{label}"
        );
        assert_eq!(
            texts[1].1,
            format!("alice {}", common::IMPORTED_SENTENCE),
            "{label}"
        );
        for (id, title) in &titles {
            assert!(!title.contains("audit:"), "{label}: #{id} {title}");
        }
        assert!(!log.body.contains("cannot show"), "{label}: {}", log.body);

        // The filter offers them under the library's group, with labels.
        assert!(
            log.body
                .contains("<span class=\"group-label\">Audit log</span>"),
            "{label}: {}",
            log.body
        );
        for (code, words) in [
            ("audit:events_imported", "Events imported"),
            ("audit:log_pruned", "Log pruned"),
            ("audit:retention_changed", "Retention changed"),
            ("audit:schema_repaired", "Schema repaired"),
        ] {
            assert!(
                log.body.contains(&format!(
                    "<input type=\"checkbox\" name=\"type\" value=\"{code}\"> {words}</label>"
                )),
                "{label}: {code}: {}",
                log.body
            );
        }
        // The anchor is never on a page, so it is not offered.
        assert!(!log.body.contains("audit:log_created"), "{label}");

        // ... and filter by them, in either spelling of the colon.
        let imported = browser.get("/?type=audit:events_imported").await;
        assert_eq!(
            imported.status,
            StatusCode::OK,
            "{label}: {}",
            imported.body
        );
        assert_eq!(imported.event_ids(), [imported_id], "{label}");
        assert!(
            imported
                .body
                .contains(r#"value="audit:events_imported" checked>"#),
            "{label}"
        );
        let both = browser
            .get("/?type=audit%3Aevents_imported&types=audit:log_pruned,project_created")
            .await;
        assert_eq!(both.event_ids().len(), 4, "{label}: 2 projects, 2 records");
        assert_eq!(&both.event_ids()[..2], [pruned_id, imported_id], "{label}");
        // The records of alice's are in her log too, and filter there.
        let hers = browser
            .get(&format!("/users/{}?type=audit:log_pruned", c.alice.id))
            .await;
        assert_eq!(hers.event_ids(), [pruned_id], "{label}: {}", hers.body);
        // No project's page has them.
        assert_refused(
            &browser
                .get(&format!("/projects/{}?type=audit:log_pruned", c.apollo.id))
                .await,
            "never appear on a project",
        );
        assert_refused(
            &browser.get("/?type=audit:unheard_of").await,
            "no event type",
        );

        // The event's page: the label in its heading, the library's
        // description, the stored code in its column.
        let page = browser.get(&format!("/events/{imported_id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{label}: {}", page.body);
        assert!(
            page.body
                .contains(&format!("<h1>Event #{imported_id}: Events imported</h1>")),
            "{label}: {}",
            page.body
        );
        assert!(
            page.body
                .contains("A record the audit library writes itself.")
                && !page.body.contains("cannot read this event"),
            "{label}: {}",
            page.body
        );
        assert!(
            page.body.contains("<dd>audit:events_imported</dd>"),
            "{label}"
        );
        assert_eq!(page.event_titles()[0].1, "Events imported", "{label}");
    }
}

/// Commits a project of each name in one transaction acting for `actor`
/// with `context`; returns their events' ids, newest first.
async fn projects_in(
    auditor: &Auditor,
    actor: Actor,
    context: Context,
    names: &[&str],
) -> Vec<i64> {
    let last = "SELECT MAX(id) FROM audit_events";
    let before = common::scalar(auditor, last).await;
    let mut audit = auditor.begin::<StaffEvent>(actor).await.unwrap();
    audit.set_context(context).unwrap();
    for name in names {
        commands::add_project(&mut audit, name).await.unwrap();
    }
    audit.commit().await.unwrap();
    let after = common::scalar(auditor, last).await;
    assert_eq!(after - before, names.len() as i64, "one event a project");
    ((before + 1)..=after).rev().collect()
}

/// A request's context: its id and the client's address.
fn request(id: &str, address: &str) -> Context {
    Context::new()
        .with_request_id(id)
        .with_client_address(address.parse().unwrap())
}

#[tokio::test]
async fn the_events_of_one_request_and_of_one_address_are_found_and_only_those() {
    for auditor in common::auditors("web_log_request").await {
        let label = common::label(&auditor);
        let c = cast(&auditor).await;
        let alice = Actor::user(c.alice.id, &c.alice.username);
        let names: Vec<String> = (0..30).map(|i| format!("A-{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        // Request A writes in two transactions, with request B from the
        // same address in between; C comes from another address, as alice
        // acting for bob; D has a context but no request.
        let a1 = request("req-a", "203.0.113.9");
        let a1 = projects_in(&auditor, alice.clone(), a1, &names[..20]).await;
        let b = request("req-b", "203.0.113.9");
        let b = projects_in(&auditor, alice.clone(), b, &["B"]).await;
        let a2 = request("req-a", "203.0.113.9");
        let a2 = projects_in(&auditor, alice.clone(), a2, &names[20..]).await;
        let as_bob = alice.clone().acting_as(c.bob.id, &c.bob.username);
        let cc = request("req-c", "2001:db8::7");
        let cc = projects_in(&auditor, as_bob, cc, &["C"]).await;
        let d = Context::new().with_reason("no request");
        projects_in(&auditor, alice, d, &["D"]).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;

        // Every event of request A, across pages, newest first; no other.
        let pages = walk(&mut browser, "/?request=req-a", &["request=req-a"]).await;
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(sizes, [25, 5], "{label}");
        assert_eq!(pages.concat(), [a2.clone(), a1.clone()].concat(), "{label}");
        let page = browser.get("/?request=req-a").await;
        assert!(
            page.body.contains(r#"name="request" value="req-a""#),
            "{label}: the field keeps it"
        );
        assert!(page.body.contains(r#"<a href="/" class="clear">"#));

        // Every event from the address: both of its requests.
        let pages = walk(
            &mut browser,
            "/?address=203.0.113.9",
            &["address=203.0.113.9"],
        )
        .await;
        assert_eq!(
            pages.concat(),
            [a2.clone(), b.clone(), a1.clone()].concat(),
            "{label}"
        );
        // An IPv6 address however it is written; the field shows it plain.
        for written in [
            "2001:db8::7",
            "2001:DB8:0::7",
            "%5B2001:db8::7%5D",
            "+2001:db8::7+",
        ] {
            let page = browser.get(&format!("/?address={written}")).await;
            assert_eq!(page.event_ids(), cc, "{label}: {written}");
            assert!(
                page.body.contains(r#"name="address" value="2001:db8::7""#),
                "{label}: {written}"
            );
        }
        // With the other filters: both must hold.
        let both = |query: &str| {
            let mut browser = browser.clone();
            let query = query.to_owned();
            async move { browser.get(&query).await.event_ids() }
        };
        assert_eq!(
            both("/?request=req-b&address=203.0.113.9").await,
            b,
            "{label}"
        );
        assert_eq!(
            both("/?request=req-a&address=2001:db8::7").await,
            [0_i64; 0]
        );
        // An impersonation is found under the person who really acted.
        assert_eq!(both("/?request=req-c&actor=alice").await, cc, "{label}");
        assert_eq!(both("/?request=req-c&actor=bob").await, [0_i64; 0]);
        assert_eq!(both("/?request=req-a&type=user_created").await, [0_i64; 0]);
        let none = browser.get("/?request=req-z").await;
        assert_eq!(none.status, StatusCode::OK);
        assert!(none.body.contains("No events."), "{label}");
        // Empty fields (the form sends them) filter nothing.
        let empty = browser.get("/?request=&address=+").await;
        assert_eq!(empty.event_ids().len(), 25, "{label}");
        assert!(!empty.body.contains(r#"class="clear""#), "{label}");

        for bad in [
            "nope",
            "203.0.113.9.1",
            "203.0.113.0%2F24",
            "fe80::1%25eth0",
        ] {
            assert_refused(
                &browser.get(&format!("/?address={bad}")).await,
                "is not an IP address",
            );
        }
    }
}

#[tokio::test]
async fn an_event_page_shows_its_context_and_who_really_acted() {
    for auditor in common::auditors("web_log_context").await {
        let label = common::label(&auditor);
        let c = cast(&auditor).await;
        let as_bob =
            Actor::user(c.alice.id, &c.alice.username).acting_as(c.bob.id, &c.bob.username);
        let context = request("req-<7>", "2001:db8::7")
            .with_user_agent("Mozilla/5.0 <script>alert(1)</script> \u{202e}txet")
            .with_route("POST /projects")
            .with_trace_id("4bf92f3577b34da6a3ce929d0e0e4736")
            .with_span_id("17")
            .with_host("web-1")
            .with_program("example-app", "0.1.0")
            .with_os_user("www-data")
            .with_reason("asked by \u{5e9}\u{5dc}\u{5d5}\u{5dd} on the phone")
            .with_field("ticket", "SUP-1234")
            .with_field("\u{202e}key", "value");
        let ids = projects_in(&auditor, as_bob, context, &["Ctx"]).await;
        let mut browser = Browser::new(&auditor);
        browser.sign_in("alice", PASSWORD).await;

        let page = browser.get(&format!("/events/{}", ids[0])).await;
        assert_eq!(page.status, StatusCode::OK, "{label}: {}", page.body);
        let body = &page.body;
        // Who acted: alice, for bob; both stored.
        assert!(body.contains("alice (as bob)"), "{label}: {body}");
        for (column, value) in [
            ("actor_id", c.alice.id.to_string()),
            ("actor_as_id", c.bob.id.to_string()),
            ("actor_as_name", "bob".to_owned()),
        ] {
            assert!(
                body.contains(&format!("<dt>{column}</dt><dd>{value}</dd>")),
                "{label}: {column}"
            );
        }
        // The context: each field labelled, in order, isolated, escaped.
        let fields = [
            (
                "Request id",
                r#"<a href="/?request=req-%3C7%3E" title="Every event of this request"><bdi>req-&#60;7&#62;</bdi></a>"#,
            ),
            (
                "Client address",
                r#"<a href="/?address=2001%3Adb8%3A%3A7" title="Every event from this address"><bdi>2001:db8::7</bdi></a>"#,
            ),
            (
                "User agent",
                "<bdi>Mozilla/5.0 &#60;script&#62;alert(1)&#60;/script&#62; \u{202e}txet</bdi>",
            ),
            ("Route", "<bdi>POST /projects</bdi>"),
            ("Trace id", "<bdi>4bf92f3577b34da6a3ce929d0e0e4736</bdi>"),
            ("Span id", "<bdi>17</bdi>"),
            ("Host", "<bdi>web-1</bdi>"),
            ("Program", "<bdi>example-app 0.1.0</bdi>"),
            ("OS user", "<bdi>www-data</bdi>"),
            (
                "Reason",
                "<bdi>asked by \u{5e9}\u{5dc}\u{5d5}\u{5dd} on the phone</bdi>",
            ),
            ("<bdi>ticket</bdi>", "<bdi>SUP-1234</bdi>"),
            ("<bdi>\u{202e}key</bdi>", "<bdi>value</bdi>"),
        ];
        let section = body
            .split("<h2>Context</h2>")
            .nth(1)
            .unwrap_or_else(|| panic!("{label}: no context: {body}"));
        let section = &section[..section.find("</dl>").unwrap()];
        let listed: Vec<String> = section
            .split("<dt>")
            .skip(1)
            .map(|field| field.trim_end().to_owned())
            .collect();
        let expected: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("{name}</dt><dd>{value}</dd>"))
            .collect();
        assert_eq!(listed, expected, "{label}");
        assert!(!body.contains("<script>alert"), "{label}");

        // Its links lead to the log of its request and of its address.
        for link in ["/?request=req-%3C7%3E", "/?address=2001%3Adb8%3A%3A7"] {
            assert_eq!(browser.get(link).await.event_ids(), ids, "{label}: {link}");
        }

        // An event stored without a context has no such section.
        let bare = browser.get("/events/1").await;
        assert_eq!(bare.status, StatusCode::OK, "{label}");
        assert!(!bare.body.contains("<h2>Context</h2>"), "{label}");
        assert!(
            bare.body.contains("<dt>actor_as_id</dt><dd>NULL</dd>"),
            "{label}"
        );
    }
}
