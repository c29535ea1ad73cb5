//! Where a change made on the web pages comes from: the [`Context`] every
//! form handler sets on its transaction, taken from the request.
//!
//! The one place the staff area builds it: a library layer for `axum`
//! (which builds the context of each request, and extracts it as a
//! `Context`) is to replace this extractor, and with it only this file.

use std::convert::Infallible;
use std::sync::LazyLock;

use audit_core::Context;
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::AppState;
use super::throttle::client_ip;

/// The request id header read and, when it is not usable, replaced by a
/// new one.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest request id taken from the request, in characters (visible
/// ASCII, so bytes).
pub const MAX_REQUEST_ID: usize = 128;

/// The longest user agent recorded, in bytes (cut at a character).
pub const MAX_USER_AGENT_BYTES: usize = 512;

/// The context of the request a handler answers: the client's address
/// (the connection's peer, or with `trust_forwarded_for` the last
/// `X-Forwarded-For` address, the rule of the sign-in limits), its request
/// id (`X-Request-Id` when it is 1 to 128 visible ASCII characters, else a
/// new UUID), its user agent (at most [`MAX_USER_AGENT_BYTES`]), its route
/// (`POST /projects/{id}/members`), and this program and host.
#[derive(Debug, Clone)]
pub struct RequestContext(pub Context);

impl FromRequestParts<AppState> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let mut context = Context::new();
        context.host = PROCESS.host.clone();
        context.program = PROCESS.program.clone();
        context.client_address = client_ip(parts, state.config.trust_forwarded_for);
        context.request_id = Some(request_id(&parts.headers));
        context.user_agent = user_agent(&parts.headers);
        context.route = parts
            .extensions
            .get::<MatchedPath>()
            .map(|path| format!("{} {}", parts.method, path.as_str()));
        Ok(RequestContext(context))
    }
}

/// This process's host and program (its OS user is the server's, not the
/// person's, and is left out).
static PROCESS: LazyLock<Context> =
    LazyLock::new(|| Context::process(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")));

/// The request's `X-Request-Id` if it is 1 to [`MAX_REQUEST_ID`] visible
/// ASCII characters, else a new UUID (v4).
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .map(|value| value.as_bytes())
        .filter(|id| (1..=MAX_REQUEST_ID).contains(&id.len()))
        .filter(|id| id.iter().all(u8::is_ascii_graphic))
        .and_then(|id| std::str::from_utf8(id).ok())
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// The request's `User-Agent`, cut to [`MAX_USER_AGENT_BYTES`] at a
/// character boundary (bytes that are not UTF-8 replaced).
fn user_agent(headers: &HeaderMap) -> Option<String> {
    let agent = headers.get(axum::http::header::USER_AGENT)?;
    let agent = String::from_utf8_lossy(agent.as_bytes());
    let mut end = agent.len().min(MAX_USER_AGENT_BYTES);
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    Some(agent[..end].to_owned()).filter(|agent| !agent.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, header};
    use axum::routing::post;
    use tower::ServiceExt;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                axum::http::HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    fn is_uuid_v4(id: &str) -> bool {
        uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 4)
    }

    #[test]
    fn a_request_id_is_taken_when_usable_and_made_otherwise() {
        let given = |id: &[u8]| request_id(&headers(&[(REQUEST_ID_HEADER, id)]));
        assert_eq!(given(b"req-7f3a"), "req-7f3a");
        let longest = "a".repeat(MAX_REQUEST_ID);
        assert_eq!(given(longest.as_bytes()), longest);
        for unusable in [
            "a".repeat(MAX_REQUEST_ID + 1).into_bytes(),
            b"two words".to_vec(),
            b"tab\there".to_vec(),
            "caf\u{e9}".as_bytes().to_vec(),
        ] {
            let id = given(&unusable);
            assert!(is_uuid_v4(&id), "{unusable:?} gave {id}");
        }
        let none = request_id(&HeaderMap::new());
        assert!(is_uuid_v4(&none), "{none}");
        assert_ne!(request_id(&HeaderMap::new()), none, "a new one each time");
    }

    #[test]
    fn a_user_agent_is_cut_at_a_character() {
        let agent = |value: &[u8]| user_agent(&headers(&[("user-agent", value)]));
        assert_eq!(agent(b"Mozilla/5.0").as_deref(), Some("Mozilla/5.0"));
        let long = "x".repeat(MAX_USER_AGENT_BYTES + 100);
        assert_eq!(agent(long.as_bytes()).unwrap().len(), MAX_USER_AGENT_BYTES);
        // 511 bytes then a two-byte character: cut before it.
        let mut split = "x".repeat(MAX_USER_AGENT_BYTES - 1);
        split.push('\u{e9}');
        let cut = agent(split.as_bytes()).unwrap();
        assert_eq!(cut, "x".repeat(MAX_USER_AGENT_BYTES - 1));
        assert_eq!(user_agent(&HeaderMap::new()), None);
    }

    /// A router with one route that answers with its request's context.
    async fn echo(config: super::super::WebConfig) -> Router {
        let auditor = audit_core::testing::sqlite("request_context").await;
        crate::schema::migrate(&auditor).await.unwrap();
        Router::new()
            .route(
                "/projects/{id}/members",
                post(|RequestContext(context): RequestContext| async move {
                    serde_json::to_string(&context).unwrap()
                }),
            )
            .with_state(AppState::new(auditor, config))
    }

    async fn context_of(app: Router, request: Request<Body>) -> Context {
        let response = app.oneshot(request).await.unwrap();
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        serde_json::from_slice(&body).unwrap()
    }

    #[tokio::test]
    async fn the_context_has_the_route_the_peer_the_id_the_agent_and_the_program() {
        let peer: std::net::SocketAddr = "198.51.100.7:40000".parse().unwrap();
        let request = || {
            let mut request = Request::post("/projects/7/members")
                .header(REQUEST_ID_HEADER, "req-1")
                .header(header::USER_AGENT, "test agent")
                .header("x-forwarded-for", "192.0.2.1, 203.0.113.9")
                .body(Body::empty())
                .unwrap();
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            request
        };
        let context = context_of(echo(Default::default()).await, request()).await;
        assert_eq!(
            context.route.as_deref(),
            Some("POST /projects/{id}/members")
        );
        assert_eq!(context.client_address, Some(peer.ip()), "the peer");
        assert_eq!(context.request_id.as_deref(), Some("req-1"));
        assert_eq!(context.user_agent.as_deref(), Some("test agent"));
        let program = format!("example-app {}", env!("CARGO_PKG_VERSION"));
        assert_eq!(context.program, Some(program));
        assert!(context.host.is_some());
        assert_eq!(
            context.os_user, None,
            "the server's OS user is not the actor's"
        );

        // Behind a trusted proxy: the address it added, the last one.
        let trusted = super::super::WebConfig {
            trust_forwarded_for: true,
            ..Default::default()
        };
        let context = context_of(echo(trusted).await, request()).await;
        assert_eq!(context.client_address, Some("203.0.113.9".parse().unwrap()));

        // In-process, without connection information: no address.
        let bare = Request::post("/projects/7/members")
            .body(Body::empty())
            .unwrap();
        let context = context_of(echo(Default::default()).await, bare).await;
        assert_eq!(context.client_address, None);
        assert!(is_uuid_v4(context.request_id.as_deref().unwrap()));
        assert_eq!(context.user_agent, None);
    }
}
