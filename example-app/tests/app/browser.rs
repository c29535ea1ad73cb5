//! The staff area in a real browser: Debian's Chromium, headless, driven
//! through chromedriver (WebDriver) against the app served on a free port.
//! Sign-in (wrong, then right password, then `next`), the log with each
//! filter, paging to the end and back, an event's page (and one with a
//! long, hostile context, to its request's log and back through the
//! request id field), phone widths without sideways scrolling, sign-out
//! then Back, and a non-staff user's 403; every form that changes the staff
//! area filled and sent at 1280 and 390 px (its event at the top of the
//! page it leads to, a refused one shown again as typed), the forms' pages
//! without sideways scrolling at 390 px, and non-staff refused them. On
//! every available backend.
//!
//! Without Chromium and chromedriver the tests print a notice and pass,
//! except under `CI=true`, where a missing browser fails them (`.ci/run`
//! installs both). `CHROMIUM` and `CHROMEDRIVER` name other binaries;
//! `AUDIT_BROWSER_SHOTS` names a folder for screenshots of the log and
//! event pages at 1280 and 390 px (an event with a context too).

use crate::common;
use crate::common::web::{PASSWORD, add_members, cast};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use audit_core::{Actor, Auditor, Context};
use example_app::web::{AppState, WebConfig, router};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// The binaries, or `None` (with a notice) where there are none outside CI.
fn browser_binaries() -> Option<(PathBuf, PathBuf)> {
    let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
        if let Ok(path) = std::env::var(var) {
            return Some(PathBuf::from(path)).filter(|path| path.exists());
        }
        names
            .iter()
            .flat_map(|name| {
                ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"].map(|d| Path::new(d).join(name))
            })
            .find(|path| path.exists())
    };
    let chromium = find("CHROMIUM", &["chromium", "chromium-browser"]);
    let driver = find("CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(chromium), Some(driver)) => Some((chromium, driver)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "CI=true needs Chromium and chromedriver (apt-get install chromium chromium-driver)"
            )
        }
        _ => {
            eprintln!(
                "NOTICE: skipping the browser tests: no Chromium or chromedriver \
                 (apt-get install chromium chromium-driver, or set CHROMIUM and CHROMEDRIVER)"
            );
            None
        }
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// chromedriver, ended when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A headless Chromium session through a chromedriver of its own.
async fn browser(chromium: &Path, driver: &Path) -> (Client, Driver) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,900"],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    // chromedriver takes a moment to listen.
    for attempt in 0.. {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return (client, driver),
            Err(e) if attempt < 100 => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot start a browser session: {e}"),
        }
    }
    unreachable!("the loop returns or panics")
}

/// Serves the staff area over `auditor` on a free port; returns its address.
async fn serve(auditor: &Auditor) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(AppState::new(auditor.clone(), WebConfig::default()));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Clicks `element` and waits until the page it leads to has replaced the
/// current one (a click does not wait for the navigation it starts).
async fn click_through(client: &Client, element: fantoccini::elements::Element) {
    let old = client.find(Locator::Css("html")).await.unwrap();
    element.click().await.unwrap();
    for _ in 0..400 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the click on {element:?} led nowhere in 10 s");
}

/// The ids of the event rows on the current page.
async fn event_ids(client: &Client) -> Vec<i64> {
    let rows = client
        .find_all(Locator::Css("tr[id^=event-]"))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for row in rows {
        let id = row.attr("id").await.unwrap().unwrap();
        ids.push(id["event-".len()..].parse().unwrap());
    }
    ids
}

async fn heading(client: &Client) -> String {
    client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn path_and_query(client: &Client) -> String {
    let url = client.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The link `rel` of the pager, if the page has one.
async fn pager(client: &Client, rel: &str) -> Option<fantoccini::elements::Element> {
    client
        .find_all(Locator::Css(&format!("nav.pager a[rel={rel}]")))
        .await
        .unwrap()
        .into_iter()
        .next()
}

async fn sign_in(client: &Client, username: &str, password: &str) {
    let field = client.find(Locator::Id("username")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(username).await.unwrap();
    let field = client.find(Locator::Id("password")).await.unwrap();
    field.send_keys(password).await.unwrap();
    let submit = client
        .find(Locator::Css("form.box button[type=submit]"))
        .await
        .unwrap();
    click_through(client, submit).await;
}

/// Submits the log's filter form.
async fn filter(client: &Client) {
    let submit = client
        .find(Locator::Css("form.filter button[type=submit]"))
        .await
        .unwrap();
    click_through(client, submit).await;
}

/// Asserts that the page does not scroll sideways at `width` px.
async fn fits(client: &Client, width: u32, what: &str) {
    client.set_window_size(width, 800).await.unwrap();
    let sizes = client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let scroll = sizes[0].as_u64().unwrap();
    let inner = sizes[1].as_u64().unwrap();
    assert!(
        scroll <= inner,
        "{what} at {width} px scrolls sideways: scrollWidth {scroll} > innerWidth {inner}"
    );
}

/// Saves a screenshot of the whole page as `name`.png in
/// `AUDIT_BROWSER_SHOTS`, if set (the window grows to the page's height
/// for it, then returns to its size).
async fn shot(client: &Client, name: &str) {
    let Ok(dir) = std::env::var("AUDIT_BROWSER_SHOTS") else {
        return;
    };
    let (width, height) = client.get_window_size().await.unwrap();
    let page = client
        .execute(
            "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;",
            vec![],
        )
        .await
        .unwrap();
    let full = page.as_u64().map_or(height, |h| h.min(4000)).max(height);
    let size = |n: u64| u32::try_from(n).expect("invariant: a window size fits in u32");
    client
        .set_window_size(size(width), size(full))
        .await
        .unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    client
        .set_window_size(size(width), size(height))
        .await
        .unwrap();
}

#[tokio::test]
async fn staff_work_with_the_log_in_a_real_browser() {
    let Some((chromium, driver)) = browser_binaries() else {
        return;
    };
    for auditor in common::auditors("browser_log").await {
        let label = common::label(&auditor);
        let c = cast(&auditor).await;
        add_members(&auditor, &c, &c.apollo, 30).await;
        let base = serve(&auditor).await;
        let (client, _driver) = browser(&chromium, &driver).await;

        // Signed out, a page sends to the sign-in form, which comes back to it.
        client.goto(&format!("{base}/users")).await.unwrap();
        assert_eq!(heading(&client).await, "Sign in", "{label}");
        sign_in(&client, "alice", "wrong password").await;
        let error = client.find(Locator::Css("p.error")).await.unwrap();
        assert!(!error.text().await.unwrap().is_empty(), "{label}");
        assert_eq!(heading(&client).await, "Sign in");
        sign_in(&client, "alice", PASSWORD).await;
        assert_eq!(path_and_query(&client).await, "/users", "{label}: next");
        assert_eq!(heading(&client).await, "Users");

        // The log, filtered by two types through the checkboxes.
        client.goto(&format!("{base}/")).await.unwrap();
        assert_eq!(event_ids(&client).await.len(), 25, "{label}");
        for code in ["project_created", "user_password_set"] {
            client
                .find(Locator::Css(&format!("input[name=type][value={code}]")))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
        filter(&client).await;
        let url = path_and_query(&client).await;
        assert!(
            url.contains("type=project_created&type=user_password_set"),
            "{url}"
        );
        assert_eq!(
            event_ids(&client).await.len(),
            4,
            "{label}: 2 projects, 2 passwords"
        );

        // By actor, on top of the types: alice set no password.
        let actor = client.find(Locator::Id("actor")).await.unwrap();
        actor.send_keys("alice").await.unwrap();
        filter(&client).await;
        assert_eq!(
            event_ids(&client).await.len(),
            2,
            "{label}: alice's projects"
        );
        assert!(path_and_query(&client).await.contains("actor=alice"));

        // By date: today keeps them, yesterday has none. (A date field is
        // set through the page: typing into one depends on the locale.)
        let today = chrono::Utc::now().date_naive();
        let set_dates = |from: String, to: String| {
            let client = client.clone();
            async move {
                client
                    .execute(
                        "document.getElementById('from').value = arguments[0];\
                         document.getElementById('to').value = arguments[1];",
                        vec![json!(from), json!(to)],
                    )
                    .await
                    .unwrap();
                filter(&client).await;
            }
        };
        set_dates(today.to_string(), today.to_string()).await;
        assert_eq!(event_ids(&client).await.len(), 2, "{label}");
        let yesterday = (today - chrono::Duration::days(1)).to_string();
        set_dates(yesterday.clone(), yesterday).await;
        assert_eq!(event_ids(&client).await.len(), 0, "{label}");
        assert!(client.source().await.unwrap().contains("No events."));

        // Paging to the end and back, filtered by actor only.
        client.goto(&format!("{base}/?actor=alice")).await.unwrap();
        let mut forward = vec![event_ids(&client).await];
        assert!(
            pager(&client, "first").await.is_none(),
            "{label}: newest page"
        );
        while let Some(older) = pager(&client, "next").await {
            click_through(&client, older).await;
            assert!(path_and_query(&client).await.contains("actor=alice"));
            assert!(
                pager(&client, "first").await.is_some(),
                "{label}: a newest link"
            );
            forward.push(event_ids(&client).await);
            assert!(forward.len() < 10);
        }
        let sizes: Vec<usize> = forward.iter().map(Vec::len).collect();
        assert_eq!(sizes, [25, 25, 13], "{label}");
        let mut back = vec![event_ids(&client).await];
        while let Some(newer) = pager(&client, "prev").await {
            click_through(&client, newer).await;
            back.push(event_ids(&client).await);
            assert!(back.len() < 10);
        }
        back.reverse();
        assert_eq!(back, forward, "{label}: the same pages back");
        // From the last page, "newest" goes back to the first.
        client.goto(&format!("{base}/?actor=alice")).await.unwrap();
        click_through(&client, pager(&client, "next").await.unwrap()).await;
        click_through(&client, pager(&client, "first").await.unwrap()).await;
        assert_eq!(path_and_query(&client).await, "/?actor=alice");

        // An event's page, from its row.
        client.goto(&format!("{base}/")).await.unwrap();
        let newest = event_ids(&client).await[0];
        shot(&client, &format!("log-1280-{label}")).await;
        let link = client
            .find(Locator::Css(&format!("#event-{newest} td.when a")))
            .await
            .unwrap();
        click_through(&client, link).await;
        assert_eq!(path_and_query(&client).await, format!("/events/{newest}"));
        assert!(
            heading(&client)
                .await
                .starts_with(&format!("Event #{newest}"))
        );
        let payload = client.find(Locator::Css("pre.payload")).await.unwrap();
        assert!(
            payload.text().await.unwrap().contains("\"project\""),
            "{label}"
        );
        shot(&client, &format!("event-1280-{label}")).await;

        // Phone widths: nothing scrolls sideways.
        for width in [360, 390] {
            for (path, what) in [
                ("/".to_owned(), "the log"),
                (
                    "/?actor=alice&type=user_created".to_owned(),
                    "a filtered log",
                ),
                (format!("/events/{newest}"), "an event"),
                (format!("/projects/{}", c.apollo.id), "a project's log"),
                ("/users".to_owned(), "the users"),
            ] {
                client.goto(&format!("{base}{path}")).await.unwrap();
                fits(&client, width, what).await;
            }
        }
        client.set_window_size(390, 800).await.unwrap();
        client.goto(&format!("{base}/")).await.unwrap();
        shot(&client, &format!("log-390-{label}")).await;
        client
            .goto(&format!("{base}/events/{newest}"))
            .await
            .unwrap();
        shot(&client, &format!("event-390-{label}")).await;
        client.set_window_size(1280, 900).await.unwrap();

        // bob is not staff.
        client.delete_all_cookies().await.unwrap();
        client.goto(&format!("{base}/")).await.unwrap();
        sign_in(&client, "bob", PASSWORD).await;
        assert_eq!(heading(&client).await, "403 Forbidden", "{label}");
        assert!(event_ids(&client).await.is_empty());

        client.close().await.unwrap();
    }
}

#[tokio::test]
async fn an_events_context_fits_and_leads_to_its_requests_log() {
    let Some((chromium, driver)) = browser_binaries() else {
        return;
    };
    for auditor in common::auditors("browser_context").await {
        let label = common::label(&auditor);
        let c = cast(&auditor).await;
        // alice acting as bob, through a browser with a long user agent,
        // giving a reason in Hebrew; two events in one request.
        let context = Context::new()
            .with_request_id("01JF3Q7ZK2X9V8M6N4P2R0T5W3")
            .with_client_address("2001:db8:85a3::8a2e:370:7334".parse().unwrap())
            .with_user_agent(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36 <script>alert(1)</script>",
            )
            .with_route("POST /projects/{id}/members")
            .with_trace_id("4bf92f3577b34da6a3ce929d0e0e4736")
            .with_span_id("17")
            .with_host("web-1.internal.example.org")
            .with_program("example-app", "0.1.0")
            .with_reason("\u{5d1}\u{5e7}\u{5e9}\u{5d4} \u{5de}\u{5d4}\u{5dc}\u{5e7}\u{5d5}\u{5d7} SUP-1234 by phone")
            .with_field("ticket", "SUP-1234");
        let mut audit = auditor
            .begin::<example_app::events::StaffEvent>(
                Actor::user(c.alice.id, &c.alice.username).acting_as(c.bob.id, &c.bob.username),
            )
            .await
            .unwrap();
        audit.set_context(context).unwrap();
        let project = example_app::commands::add_project(&mut audit, "Mercury")
            .await
            .unwrap();
        let roles = example_app::domain::Roles::new();
        example_app::commands::add_member(&mut audit, &project, &c.bob, roles)
            .await
            .unwrap();
        audit.commit().await.unwrap();
        let base = serve(&auditor).await;
        let (client, _driver) = browser(&chromium, &driver).await;
        client.goto(&format!("{base}/")).await.unwrap();
        sign_in(&client, "alice", PASSWORD).await;
        let newest = event_ids(&client).await[..2].to_vec();

        client.set_window_size(1280, 900).await.unwrap();
        client
            .goto(&format!("{base}/events/{}", newest[0]))
            .await
            .unwrap();
        let who = client
            .find(Locator::Css("tr.current td.who"))
            .await
            .unwrap();
        assert_eq!(who.text().await.unwrap(), "alice (as bob)", "{label}");
        let labels = client
            .find_all(Locator::Css("dl.context dt"))
            .await
            .unwrap();
        assert_eq!(labels.len(), 10, "{label}");
        fits(&client, 1280, "an event with a context").await;
        shot(&client, &format!("event-context-1280-{label}")).await;
        fits(&client, 390, "an event with a context").await;
        fits(&client, 360, "an event with a context").await;
        client.set_window_size(390, 800).await.unwrap();
        shot(&client, &format!("event-context-390-{label}")).await;
        client.set_window_size(1280, 900).await.unwrap();

        // Its request id leads to the log of that request: its two events.
        let link = client
            .find(Locator::Css(
                "dl.context a[title='Every event of this request']",
            ))
            .await
            .unwrap();
        click_through(&client, link).await;
        assert_eq!(
            path_and_query(&client).await,
            "/?request=01JF3Q7ZK2X9V8M6N4P2R0T5W3"
        );
        assert_eq!(event_ids(&client).await, newest, "{label}");
        shot(&client, &format!("log-request-1280-{label}")).await;
        // The same through the form's fields, by address.
        client.goto(&format!("{base}/")).await.unwrap();
        let field = client.find(Locator::Id("address")).await.unwrap();
        field
            .send_keys("2001:DB8:85A3:0::8A2E:370:7334")
            .await
            .unwrap();
        filter(&client).await;
        assert_eq!(event_ids(&client).await, newest, "{label}");
        let shown = client.find(Locator::Id("address")).await.unwrap();
        assert_eq!(
            shown.prop("value").await.unwrap().as_deref(),
            Some("2001:db8:85a3::8a2e:370:7334"),
            "{label}"
        );
        fits(&client, 390, "the log filtered by address").await;
        client.set_window_size(390, 800).await.unwrap();
        shot(&client, &format!("log-address-390-{label}")).await;
        client.close().await.unwrap();
    }
}

// Chromium restores the signed-in log from its back/forward cache without a
// request, `Cache-Control: no-store` and `Clear-Site-Data` notwithstanding
// (Chromium 156). The base template's one script loads a restored page
// again, so the server answers: with the sign-in page.
#[tokio::test]
async fn back_after_sign_out_shows_no_log() {
    let Some((chromium, driver)) = browser_binaries() else {
        return;
    };
    for auditor in common::auditors("browser_back").await {
        let label = common::label(&auditor);
        cast(&auditor).await;
        let base = serve(&auditor).await;
        let (client, _driver) = browser(&chromium, &driver).await;
        client.goto(&format!("{base}/")).await.unwrap();
        sign_in(&client, "alice", PASSWORD).await;
        assert_eq!(heading(&client).await, "Audit log");
        assert!(!event_ids(&client).await.is_empty());
        let sign_out = client
            .find(Locator::Css("header form button[type=submit]"))
            .await
            .unwrap();
        click_through(&client, sign_out).await;
        assert_eq!(heading(&client).await, "Sign in", "{label}: signed out");
        client.back().await.unwrap();
        // The restored page reloads itself; wait for the server's answer.
        client
            .wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::Css("form[action='/sign-in']"))
            .await
            .unwrap_or_else(|e| panic!("{label}: no sign-in form after Back: {e}"));
        assert_eq!(heading(&client).await, "Sign in", "{label}");
        let shown = event_ids(&client).await;
        assert!(
            shown.is_empty(),
            "{label}: Back after sign-out shows the log again ({} events, at {}): \
             the back/forward cache restored it",
            shown.len(),
            path_and_query(&client).await
        );
        client.close().await.unwrap();
    }
}

/// The text of the first event row's details on the current page.
async fn first_event(client: &Client) -> String {
    client
        .find(Locator::Css("tr[id^=event-] td:last-child"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Clicks the submit button of the form `form` (a CSS selector) and waits
/// for the page it leads to.
async fn submit(client: &Client, form: &str) {
    let button = client
        .find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap();
    click_through(client, button).await;
}

/// Opens the `<details>` `selector` by its summary, as a person would.
async fn open(client: &Client, selector: &str) {
    client
        .find(Locator::Css(&format!("{selector} > summary")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Clicks the checkbox of `role` in the form `form`.
async fn check(client: &Client, form: &str, role: &str) {
    client
        .find(Locator::Css(&format!(
            "{form} input[name=role][value={role}]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The value of the field `selector`, as the browser holds it.
async fn value(client: &Client, selector: &str) -> String {
    let field = client.find(Locator::Css(selector)).await.unwrap();
    field.prop("value").await.unwrap().unwrap_or_default()
}

/// The text of the element `selector`.
async fn text(client: &Client, selector: &str) -> String {
    let element = client.find(Locator::Css(selector)).await.unwrap();
    element.text().await.unwrap()
}

/// Every form of the staff area, filled and sent in the browser at `width`
/// px, as alice (signed in): each change shows at the top of the log it
/// leads to, and a refused form keeps what was typed and says why next to
/// the field. At phone widths, no page scrolls sideways.
async fn make_every_change(client: &Client, base: &str, auditor: &Auditor, width: u32) {
    let label = format!("{} at {width} px", common::label(auditor));
    client.set_window_size(width, 900).await.unwrap();
    let fits_here = |what: &'static str| async move {
        if width < 600 {
            fits(client, width, what).await;
        }
    };
    let mut audit = auditor
        .begin::<example_app::events::StaffEvent>(audit_core::Actor::system("test-setup"))
        .await
        .unwrap();
    let mut user = async |name: String| {
        example_app::commands::add_user(&mut audit, &name, Default::default())
            .await
            .unwrap()
    };
    let carol = user(format!("carol-{width}")).await;
    let dave = user(format!("dave-{width}")).await;
    audit.commit().await.unwrap();

    // Create a project, from the projects' list.
    client.goto(&format!("{base}/projects")).await.unwrap();
    fits_here("the projects with their form").await;
    let project = format!("Mercury {width}");
    let name = client.find(Locator::Id("name")).await.unwrap();
    name.send_keys(&project).await.unwrap();
    submit(client, "form.create").await;
    assert_eq!(
        heading(client).await,
        format!("Project {project}"),
        "{label}"
    );
    assert_eq!(
        first_event(client).await,
        format!("created project {project}")
    );
    let path = path_and_query(client).await;

    // A name taken: the form again, as typed, saying why next to it.
    client.goto(&format!("{base}/projects")).await.unwrap();
    let name = client.find(Locator::Id("name")).await.unwrap();
    name.send_keys(&project).await.unwrap();
    submit(client, "form.create").await;
    assert_eq!(heading(client).await, "Projects", "{label}");
    assert_eq!(
        text(client, "#name-error").await,
        format!("Project `{project}` already exists.")
    );
    assert_eq!(value(client, "#name").await, project);
    let name = client.find(Locator::Id("name")).await.unwrap();
    assert_eq!(
        name.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        name.attr("aria-describedby").await.unwrap().as_deref(),
        Some("name-error")
    );
    fits_here("a refused project name").await;
    shot(
        client,
        &format!("refused-{width}-{}", common::label(auditor)),
    )
    .await;

    // Add two members at once, with a role.
    client.goto(&format!("{base}{path}")).await.unwrap();
    open(client, "#add-members").await;
    let names = client.find(Locator::Id("usernames")).await.unwrap();
    names
        .send_keys(&format!("{}\n{}", carol.username, dave.username))
        .await
        .unwrap();
    check(client, "#add-members", "ProjectDeveloper").await;
    fits_here("the add members form").await;
    submit(client, "#add-members form").await;
    assert_eq!(path_and_query(client).await, path, "{label}");
    assert_eq!(
        first_event(client).await,
        format!(
            "changed {}'s roles in {project} from none to Project developer",
            dave.username
        )
    );
    let members = text(client, "ul.members").await;
    assert!(
        members.contains(&carol.username) && members.contains(&dave.username),
        "{label}: {members}"
    );

    // One unknown name: nobody added, the form open with what was typed.
    open(client, "#add-members").await;
    let names = client.find(Locator::Id("usernames")).await.unwrap();
    names.send_keys("bob\nghost").await.unwrap();
    check(client, "#add-members", "ProjectCollaborator").await;
    submit(client, "#add-members form").await;
    assert_eq!(
        text(client, "#usernames-error").await,
        "Unknown user `ghost`.",
        "{label}"
    );
    assert_eq!(value(client, "#usernames").await, "bob\nghost");
    let kept = client
        .find(Locator::Css(
            "#add-members input[value=ProjectCollaborator]",
        ))
        .await
        .unwrap();
    assert!(kept.is_selected().await.unwrap(), "{label}: the role kept");
    assert!(!text(client, "ul.members").await.contains("bob"), "{label}");
    fits_here("a refused add members form").await;
    shot(
        client,
        &format!("project-forms-{width}-{}", common::label(auditor)),
    )
    .await;

    // Edit a member's roles.
    let member = format!("#member-{}", carol.id);
    open(client, &format!("{member} details")).await;
    check(client, &format!("{member} form"), "ProjectCollaborator").await;
    fits_here("a member's roles form").await;
    submit(client, &format!("{member} form")).await;
    assert_eq!(
        first_event(client).await,
        format!(
            "changed {}'s roles in {project} from Project developer to Project developer, Project collaborator",
            carol.username
        ),
        "{label}"
    );

    // Remove a member, after confirming.
    let remove = client
        .find(Locator::Css(&format!("#member-{} a.remove", dave.id)))
        .await
        .unwrap();
    click_through(client, remove).await;
    assert_eq!(
        heading(client).await,
        format!("Remove {} from {project}?", dave.username)
    );
    fits_here("the question before removing").await;
    shot(
        client,
        &format!("confirm-{width}-{}", common::label(auditor)),
    )
    .await;
    submit(client, "form.confirm").await;
    assert_eq!(path_and_query(client).await, path, "{label}");
    assert_eq!(
        first_event(client).await,
        format!("removed {} from {project}", dave.username)
    );
    assert!(!text(client, "ul.members").await.contains(&dave.username));

    // Set a user's global roles.
    let user_page = format!("/users/{}", carol.id);
    client.goto(&format!("{base}{user_page}")).await.unwrap();
    open(client, "#set-roles").await;
    check(client, "#set-roles", "OutputChecker").await;
    fits_here("the set roles form").await;
    shot(
        client,
        &format!("user-forms-{width}-{}", common::label(auditor)),
    )
    .await;
    submit(client, "#set-roles form").await;
    assert_eq!(path_and_query(client).await, user_page, "{label}");
    assert_eq!(
        first_event(client).await,
        format!(
            "changed {}'s global roles from none to Output checker",
            carol.username
        )
    );
    assert_eq!(text(client, "p.roles-now").await, "Output checker");

    // Clear all of them, after confirming.
    let clear = client
        .find(Locator::Css("section.manage a.remove"))
        .await
        .unwrap();
    click_through(client, clear).await;
    assert_eq!(
        heading(client).await,
        format!("Clear all of {}\u{2019}s roles?", carol.username)
    );
    fits_here("the question before clearing").await;
    submit(client, "form.confirm").await;
    assert_eq!(path_and_query(client).await, user_page, "{label}");
    assert_eq!(
        first_event(client).await,
        format!(
            "changed {}'s roles in {project} from Project developer, Project collaborator to none",
            carol.username
        )
    );
    assert_eq!(text(client, "p.roles-now").await, "None.");
    fits_here("a user's page").await;
}

#[tokio::test]
async fn staff_make_every_change_in_a_real_browser() {
    let Some((chromium, driver)) = browser_binaries() else {
        return;
    };
    for auditor in common::auditors("browser_changes").await {
        let label = common::label(&auditor);
        let c = cast(&auditor).await;
        let base = serve(&auditor).await;
        let (client, _driver) = browser(&chromium, &driver).await;
        client.goto(&format!("{base}/projects")).await.unwrap();
        sign_in(&client, "alice", PASSWORD).await;
        for width in [1280, 390] {
            make_every_change(&client, &base, &auditor, width).await;
        }

        // bob is not staff: no form, and the question pages refuse him.
        client.set_window_size(1280, 900).await.unwrap();
        client.delete_all_cookies().await.unwrap();
        client.goto(&format!("{base}/projects")).await.unwrap();
        sign_in(&client, "bob", PASSWORD).await;
        assert_eq!(heading(&client).await, "403 Forbidden", "{label}");
        assert!(
            client
                .find_all(Locator::Css("form.create"))
                .await
                .unwrap()
                .is_empty()
        );
        for path in [
            format!("/projects/{}/members/{}/remove", c.gemini.id, c.bob.id),
            format!("/users/{}/clear-roles", c.alice.id),
        ] {
            client.goto(&format!("{base}{path}")).await.unwrap();
            assert_eq!(heading(&client).await, "403 Forbidden", "{label}: {path}");
            assert!(
                client
                    .find_all(Locator::Css("form.confirm"))
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
        client.close().await.unwrap();
    }
}
