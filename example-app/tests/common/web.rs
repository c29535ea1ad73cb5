//! Driving the staff area's router in-process, as a browser would.

use audit_core::{Actor, Auditor};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use example_app::auth::PasswordHash;
use example_app::commands;
use example_app::domain::{ProjectRef, Role, Roles, UserRef};
use example_app::events::StaffEvent;
use example_app::web::{AppState, WebConfig, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The staff member's and the non-staff user's password.
pub const PASSWORD: &str = "correct horse battery";

/// A browser on the staff area: keeps the cookies it is given and sends
/// them back (paths aside: the staff area's cookies are for the whole site
/// or for the sign-in form, which is where they are used).
#[derive(Clone)]
pub struct Browser {
    app: Router,
    cookies: std::collections::BTreeMap<String, String>,
    /// The client address the server sees (as `ConnectInfo`); none: the
    /// router's own default.
    address: Option<std::net::SocketAddr>,
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The `Location` header of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Location in {self:?}"))
    }

    /// The value of the page's hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let marker = r#"name="csrf" value=""#;
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no csrf field in {}", self.body))
            + marker.len();
        let end = start + self.body[start..].find('"').unwrap();
        self.body[start..end].to_owned()
    }

    /// The ids of the events in the page's table, in order.
    pub fn event_ids(&self) -> Vec<i64> {
        self.body
            .split("<tr id=\"event-")
            .skip(1)
            .map(|rest| {
                rest[..rest.find('"').expect("closing quote")]
                    .parse()
                    .unwrap()
            })
            .collect()
    }

    /// Each event row's id and its details cell as plain text.
    pub fn event_texts(&self) -> Vec<(i64, String)> {
        self.body
            .split("<tr id=\"event-")
            .skip(1)
            .map(|row| {
                let id = row[..row.find('"').unwrap()].parse().unwrap();
                let row = &row[..row.find("</tr>").unwrap()];
                let cell = row.rsplit("<td>").next().unwrap();
                let cell = cell.strip_suffix("</td>").unwrap();
                (id, audit_core::present::plain_text(cell))
            })
            .collect()
    }

    /// Each event row's id and its "Event" cell (the type's label), as
    /// the page has it (escaped).
    pub fn event_titles(&self) -> Vec<(i64, String)> {
        self.body
            .split("<tr id=\"event-")
            .skip(1)
            .map(|row| {
                let id = row[..row.find('"').unwrap()].parse().unwrap();
                let cell = &row[row.find("<td class=\"what\">").unwrap() + 17..];
                (id, cell[..cell.find("</td>").unwrap()].to_owned())
            })
            .collect()
    }

    /// The address of the pager link `rel` ("next" or "prev"), unescaped.
    pub fn pager(&self, rel: &str) -> Option<String> {
        let marker = format!("\" rel=\"{rel}\"");
        let end = self.body.find(&marker)?;
        let start = self.body[..end].rfind("href=\"")? + "href=\"".len();
        Some(unescape(&self.body[start..end]))
    }
}

/// Undoes HTML escaping of an attribute value (named and numeric entities).
fn unescape(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..].find(';').expect("entities end with `;`") + amp;
        let entity = &rest[amp + 1..semi];
        let ch = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            _ => entity
                .strip_prefix('#')
                .and_then(|n| n.parse::<u32>().ok())
                .and_then(char::from_u32)
                .unwrap_or_else(|| panic!("unknown entity &{entity};")),
        };
        out.push(ch);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

impl Browser {
    /// A browser on a fresh router over `auditor`, signed out.
    pub fn new(auditor: &Auditor) -> Self {
        Browser::on(AppState::new(auditor.clone(), WebConfig::default()))
    }

    /// A browser on a router over `state`, signed out.
    pub fn on(state: AppState) -> Self {
        Browser {
            app: router(state),
            cookies: Default::default(),
            address: None,
        }
    }

    /// This browser (its cookies) talking to a router over `state` instead:
    /// a restarted server, or another instance behind a load balancer.
    pub fn switched_to(&self, state: AppState) -> Self {
        Browser {
            app: router(state),
            ..self.clone()
        }
    }

    /// This browser, connecting from `ip`.
    pub fn connecting_from(mut self, ip: &str) -> Self {
        self.address = Some(std::net::SocketAddr::new(ip.parse().unwrap(), 40_000));
        self
    }

    /// Sets a cookie as if a script or another site had (no server involved).
    pub fn plant_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    /// The value of the cookie `name`, if the browser holds it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Sends `request` (its cookies and address added) as it is.
    pub async fn send_request(
        &mut self,
        request: axum::http::request::Builder,
        body: Body,
    ) -> Reply {
        let mut request = request.body(body).unwrap();
        if let Some(jar) = self.jar() {
            request
                .headers_mut()
                .insert(header::COOKIE, jar.parse().unwrap());
        }
        self.send(request).await
    }

    fn jar(&self) -> Option<String> {
        let jar: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        (!jar.is_empty()).then(|| jar.join("; "))
    }

    async fn send(&mut self, mut request: Request<Body>) -> Reply {
        if let Some(address) = self.address {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(address));
        }
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            if set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    fn request(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(jar) = self.jar() {
            builder = builder.header(header::COOKIE, jar);
        }
        builder
    }

    /// Forgets every cookie.
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// GET `uri`.
    pub async fn get(&mut self, uri: &str) -> Reply {
        let request = self.request("GET", uri).body(Body::empty()).unwrap();
        self.send(request).await
    }

    /// POST `fields` as a form to `uri`.
    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = self
            .request("POST", uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// POST `fields` as a form to `uri` with extra `headers`.
    pub async fn post_with(
        &mut self,
        uri: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request = self
            .request("POST", uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Opens the sign-in form and submits it with `fields` (and its CSRF
    /// token).
    pub async fn submit_sign_in(&mut self, fields: &[(&str, &str)]) -> Reply {
        let csrf = self.get("/sign-in").await.csrf();
        let mut fields = fields.to_vec();
        fields.push(("csrf", &csrf));
        self.post("/sign-in", &fields).await
    }

    /// Signs in through the form.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Reply {
        self.submit_sign_in(&[("username", username), ("password", password)])
            .await
    }

    /// Signs out through the form in the page header.
    pub async fn sign_out(&mut self) -> Reply {
        let csrf = self.get("/").await.csrf();
        self.post("/sign-out", &[("csrf", &csrf)]).await
    }
}

/// The staff area's cast: alice (staff), bob (not staff), both with
/// [`PASSWORD`] (set up by a system process), and two projects that alice
/// created, with bob in one of them.
pub struct Cast {
    pub alice: UserRef,
    pub bob: UserRef,
    pub apollo: ProjectRef,
    pub gemini: ProjectRef,
}

/// Creates the [`Cast`] through the commands.
pub async fn cast(auditor: &Auditor) -> Cast {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("test-setup"))
        .await
        .unwrap();
    let staff: Roles = [Role::StaffAreaAdministrator].into_iter().collect();
    let alice = commands::add_user(&mut audit, "alice", staff)
        .await
        .unwrap();
    let bob = commands::add_user(&mut audit, "bob", Roles::new())
        .await
        .unwrap();
    for user in [&alice, &bob] {
        let hash = PasswordHash::new(PASSWORD).unwrap();
        commands::set_password(&mut audit, user, hash)
            .await
            .unwrap();
    }
    audit.commit().await.unwrap();
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::user(alice.id, &alice.username))
        .await
        .unwrap();
    let apollo = commands::add_project(&mut audit, "Apollo").await.unwrap();
    let gemini = commands::add_project(&mut audit, "Gemini").await.unwrap();
    commands::add_member(&mut audit, &gemini, &bob, Roles::new())
        .await
        .unwrap();
    audit.commit().await.unwrap();
    Cast {
        alice,
        bob,
        apollo,
        gemini,
    }
}

/// Adds `count` users to `project` as alice, each add one command with one
/// event (no roles).
pub async fn add_members(auditor: &Auditor, cast: &Cast, project: &ProjectRef, count: usize) {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::user(cast.alice.id, &cast.alice.username))
        .await
        .unwrap();
    for i in 0..count {
        let name = format!("{}-member-{i}", project.name);
        let user = commands::add_user(&mut audit, &name, Roles::new())
            .await
            .unwrap();
        commands::add_member(&mut audit, project, &user, Roles::new())
            .await
            .unwrap();
    }
    audit.commit().await.unwrap();
}
