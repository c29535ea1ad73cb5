//! The `axum` feature: the context `ContextLayer` reads from a request
//! (client address behind trusted proxies, request id, user agent, route,
//! trace id), the `Context` extractor, and `AuditSession`, a handler's
//! audited transaction. Requests go through a router with `oneshot`, the
//! peer given by `MockConnectInfo`.

use std::net::{IpAddr, SocketAddr};

use audit_core::axum::{AuditSession, ContextLayer, IpNetwork};
use audit_core::{Actor, Auditor, Context, on_backend, testing};
use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, header};
use axum::routing::{get, post};
use tower::ServiceExt;

use crate::support::{self, TestEvent};

/// A handler that answers with the request's context as JSON.
async fn show(context: Context) -> String {
    serde_json::to_string(&context).expect("a context serializes")
}

/// A router whose routes and fallback answer with the context, under
/// `layer`, and with `peer` as the connection's peer when given.
fn app(layer: ContextLayer, peer: Option<&str>) -> Router {
    let router = Router::new()
        .route("/projects/{id}", get(show).post(show))
        .fallback(show)
        .layer(layer);
    match peer {
        Some(peer) => router.layer(MockConnectInfo(socket(peer))),
        None => router,
    }
}

/// `text` as a socket address; a bare IP address gets port 50000.
fn socket(text: &str) -> SocketAddr {
    text.parse().unwrap_or_else(|_| {
        let ip: IpAddr = text.parse().expect("a test's peer is an address");
        SocketAddr::new(ip, 50000)
    })
}

/// A GET of `uri` with `headers` (a header named twice is sent twice).
fn get_request(uri: &str, headers: &[(&str, &[u8])]) -> Request<Body> {
    let mut request = Request::get(uri)
        .body(Body::empty())
        .expect("a valid request");
    for (name, value) in headers {
        request.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"),
            HeaderValue::from_bytes(value).expect("a valid header value"),
        );
    }
    request
}

/// Sends `request` through `app`: the status, the response's headers and
/// its body.
async fn send(app: Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = app.oneshot(request).await.expect("a router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a readable body");
    let body = String::from_utf8(body.to_vec()).expect("a UTF-8 body");
    (status, headers, body)
}

/// The context the handler saw, and the response's headers.
async fn context_of(app: Router, request: Request<Body>) -> (Context, HeaderMap) {
    let (status, headers, body) = send(app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let context = serde_json::from_str(&body).expect("the handler's context");
    (context, headers)
}

/// The client address the layer reads with `trusted` proxies, from `peer`
/// and the lines of `X-Forwarded-For`.
async fn client(trusted: &[&str], peer: &str, forwarded: &[&str]) -> Option<IpAddr> {
    let trusted: Vec<IpNetwork> = trusted
        .iter()
        .map(|n| n.parse().expect("a test's network"))
        .collect();
    let headers: Vec<(&str, &[u8])> = forwarded
        .iter()
        .map(|line| ("x-forwarded-for", line.as_bytes()))
        .collect();
    let layer = ContextLayer::new().trust_proxies(trusted);
    let request = get_request("/projects/1", &headers);
    context_of(app(layer, Some(peer)), request)
        .await
        .0
        .client_address
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().expect("a test's address"))
}

#[tokio::test]
async fn the_client_is_the_connections_peer() {
    assert_eq!(
        client(&[], "203.0.113.9:51234", &[]).await,
        ip("203.0.113.9")
    );
    assert_eq!(
        client(&[], "[2001:db8::9]:443", &[]).await,
        ip("2001:db8::9")
    );
    // An IPv4 peer of a dual-stack listener is recorded as IPv4.
    assert_eq!(
        client(&[], "[::ffff:203.0.113.9]:80", &[]).await,
        ip("203.0.113.9")
    );
}

#[tokio::test]
async fn without_connect_info_there_is_no_address() {
    let request = get_request("/projects/1", &[("x-forwarded-for", b"203.0.113.9")]);
    let layer = ContextLayer::new().trust_proxies(["0.0.0.0/0".parse::<IpNetwork>().unwrap()]);
    let (context, _) = context_of(app(layer, None), request).await;
    assert_eq!(context.client_address, None);
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_without_trusted_proxies() {
    let client = client(&[], "10.0.0.2", &["198.51.100.1, 203.0.113.9"]).await;
    assert_eq!(client, ip("10.0.0.2"));
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_when_the_peer_is_not_trusted() {
    // A client that connects directly writes what it likes.
    let client = client(&["10.0.0.0/8"], "198.51.100.7", &["10.0.0.1"]).await;
    assert_eq!(client, ip("198.51.100.7"));
}

#[tokio::test]
async fn behind_trusted_proxies_the_rightmost_untrusted_entry_is_the_client() {
    let trusted = ["10.0.0.0/8"];
    // The client claims 198.51.100.1 (the leftmost entry); the proxy saw
    // 203.0.113.9 connect, and appended it.
    let spoofed = client(&trusted, "10.0.0.2", &["198.51.100.1, 203.0.113.9"]).await;
    assert_eq!(spoofed, ip("203.0.113.9"));
    // One entry: the proxy's client.
    let plain = client(&trusted, "10.0.0.2", &["203.0.113.9"]).await;
    assert_eq!(plain, ip("203.0.113.9"));
    // The peer trusted, no header: the peer.
    assert_eq!(client(&trusted, "10.0.0.2", &[]).await, ip("10.0.0.2"));
}

#[tokio::test]
async fn a_chain_of_trusted_hops_is_skipped() {
    let trusted = ["10.0.0.0/8", "192.0.2.7", "2001:db8:1::/48"];
    let chain = "198.51.100.1, 203.0.113.9, 192.0.2.7, 2001:db8:1::5, 10.0.0.3";
    assert_eq!(
        client(&trusted, "10.0.0.2", &[chain]).await,
        ip("203.0.113.9")
    );
    // Header lines are one list, the last line nearest.
    let lines = ["198.51.100.1, 203.0.113.9", "192.0.2.7,10.0.0.3"];
    assert_eq!(
        client(&trusted, "10.0.0.2", &lines).await,
        ip("203.0.113.9")
    );
    let lines = ["198.51.100.1", "203.0.113.9, 192.0.2.7", "10.0.0.3"];
    assert_eq!(
        client(&trusted, "10.0.0.2", &lines).await,
        ip("203.0.113.9")
    );
    // Every entry trusted: the leftmost, where the request began.
    let inside = client(&trusted, "10.0.0.2", &["10.0.0.9, 192.0.2.7"]).await;
    assert_eq!(inside, ip("10.0.0.9"));
}

#[tokio::test]
async fn an_unreadable_entry_stops_the_walk_at_the_last_trusted_hop() {
    let trusted = ["10.0.0.0/8"];
    let unknown = client(&trusted, "10.0.0.2", &["203.0.113.9, unknown, 10.0.0.3"]).await;
    assert_eq!(unknown, ip("10.0.0.3"));
    let empty = client(&trusted, "10.0.0.2", &["203.0.113.9, , 10.0.0.3"]).await;
    assert_eq!(empty, ip("10.0.0.3"));
    // The rightmost unreadable: the peer.
    let rightmost = client(&trusted, "10.0.0.2", &["203.0.113.9, _hidden"]).await;
    assert_eq!(rightmost, ip("10.0.0.2"));
    // A line that is not text.
    let headers: [(&str, &[u8]); 2] = [
        ("x-forwarded-for", b"198.51.100.1"),
        ("x-forwarded-for", b"203.0.113.9, \xff"),
    ];
    let layer = ContextLayer::new().trust_proxies(["10.0.0.0/8".parse::<IpNetwork>().unwrap()]);
    let request = get_request("/projects/1", &headers);
    let (context, _) = context_of(app(layer, Some("10.0.0.2")), request).await;
    assert_eq!(context.client_address, ip("10.0.0.2"));
}

#[tokio::test]
async fn entries_with_ports_and_ipv6_peers_are_read() {
    let trusted = ["10.0.0.0/8", "2001:db8:1::/48"];
    let v6 = client(&trusted, "[2001:db8:1::2]:443", &["[2001:db8::7]:51234"]).await;
    assert_eq!(v6, ip("2001:db8::7"));
    let port = client(&trusted, "[::ffff:10.0.0.2]:443", &["203.0.113.9:51234"]).await;
    assert_eq!(port, ip("203.0.113.9"));
    let mapped = client(&trusted, "10.0.0.2", &["::ffff:203.0.113.9"]).await;
    assert_eq!(mapped, ip("203.0.113.9"));
}

#[test]
fn networks_parse_and_match() {
    let network: IpNetwork = "10.1.2.3/8".parse().unwrap();
    assert_eq!(network.to_string(), "10.0.0.0/8");
    assert!(network.contains("10.255.0.1".parse().unwrap()));
    assert!(!network.contains("11.0.0.1".parse().unwrap()));
    assert!(network.contains("::ffff:10.0.0.1".parse().unwrap()));
    let mapped: IpNetwork = "::ffff:10.0.0.0/104".parse().unwrap();
    assert_eq!(mapped, network);
    let v6: IpNetwork = "2001:db8::/32".parse().unwrap();
    assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
    assert!(!v6.contains("10.0.0.1".parse().unwrap()));
    let everything: IpNetwork = "0.0.0.0/0".parse().unwrap();
    assert!(everything.contains("203.0.113.9".parse().unwrap()));
    let one = IpNetwork::from("192.0.2.7".parse::<IpAddr>().unwrap());
    assert_eq!(
        (one.to_string(), one.prefix()),
        ("192.0.2.7/32".to_owned(), 32)
    );
    for bad in [
        "",
        "10.0.0.0/33",
        "2001:db8::/129",
        "10.0.0.0/",
        "10.0.0.0/+8",
        "10.0.0/8",
        "x",
    ] {
        let error = bad.parse::<IpNetwork>().expect_err(bad);
        assert_eq!(error.input(), bad);
    }
}

#[tokio::test]
async fn an_acceptable_request_id_is_kept_and_echoed() {
    let longest = "r".repeat(128);
    for id in ["req-7f3a", "!~", longest.as_str()] {
        let request = get_request("/projects/1", &[("x-request-id", id.as_bytes())]);
        let (context, headers) = context_of(app(ContextLayer::new(), None), request).await;
        assert_eq!(context.request_id.as_deref(), Some(id));
        assert_eq!(headers["x-request-id"], id);
    }
}

/// Whether `id` is a UUID v4, as the layer makes them.
fn is_new_id(id: &str) -> bool {
    uuid::Uuid::parse_str(id)
        .is_ok_and(|uuid| uuid.get_version_num() == 4 && uuid.to_string() == id)
}

#[tokio::test]
async fn an_unacceptable_request_id_is_replaced_and_the_new_one_echoed() {
    let too_long = "r".repeat(129);
    // (Other control characters cannot be sent: `http` refuses them.)
    let refused: [&[u8]; 5] = [
        too_long.as_bytes(),
        b"",
        b"req 7f3a",
        b"req\t7f3a",
        b"req-\xc3\xa9",
    ];
    for id in refused {
        let request = get_request("/projects/1", &[("x-request-id", id)]);
        let (context, headers) = context_of(app(ContextLayer::new(), None), request).await;
        let new = context.request_id.expect("a new request id");
        assert!(is_new_id(&new), "{id:?} gave {new:?}");
        assert_eq!(headers["x-request-id"], new.as_str());
    }
}

#[tokio::test]
async fn without_a_request_id_a_new_one_is_made_for_each_request() {
    let mut seen = Vec::new();
    for _ in 0..2 {
        let request = get_request("/projects/1", &[]);
        let (context, headers) = context_of(app(ContextLayer::new(), None), request).await;
        let id = context.request_id.expect("a new request id");
        assert!(is_new_id(&id), "{id}");
        assert_eq!(headers["x-request-id"], id.as_str());
        seen.push(id);
    }
    assert_ne!(seen[0], seen[1]);
}

#[tokio::test]
async fn the_request_id_header_can_be_another() {
    let layer = ContextLayer::new().request_id_header(HeaderName::from_static("x-correlation-id"));
    let headers: [(&str, &[u8]); 2] = [("x-correlation-id", b"corr-1"), ("x-request-id", b"req-1")];
    let request = get_request("/projects/1", &headers);
    let (context, headers) = context_of(app(layer, None), request).await;
    assert_eq!(context.request_id.as_deref(), Some("corr-1"));
    assert_eq!(headers["x-correlation-id"], "corr-1");
    assert!(!headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn the_handlers_own_request_id_header_is_replaced() {
    let app = Router::new()
        .route(
            "/",
            get(|| async { ([("x-request-id", "the-handler's")], "") }),
        )
        .layer(ContextLayer::new());
    let request = get_request("/", &[("x-request-id", b"req-1")]);
    let (_, headers, _) = send(app, request).await;
    assert_eq!(headers.get_all("x-request-id").iter().count(), 1);
    assert_eq!(headers["x-request-id"], "req-1");
}

#[tokio::test]
async fn the_user_agent_is_kept_to_512_bytes_on_a_character_boundary() {
    let short = "Mozilla/5.0 (X11; Linux x86_64)";
    let request = get_request("/projects/1", &[("user-agent", short.as_bytes())]);
    let (context, _) = context_of(app(ContextLayer::new(), None), request).await;
    assert_eq!(context.user_agent.as_deref(), Some(short));

    // 1 + 300 × 2 bytes: byte 512 is inside an `é`, so 511 are kept.
    let long = format!("a{}", "é".repeat(300));
    let request = get_request("/projects/1", &[("user-agent", long.as_bytes())]);
    let (context, _) = context_of(app(ContextLayer::new(), None), request).await;
    let kept = context.user_agent.expect("a user agent");
    assert_eq!(kept.len(), 511);
    assert!(long.starts_with(&kept));

    let exact = "b".repeat(600);
    let request = get_request("/projects/1", &[("user-agent", exact.as_bytes())]);
    let (context, _) = context_of(app(ContextLayer::new(), None), request).await;
    assert_eq!(context.user_agent, Some("b".repeat(512)));

    // Bytes that are not UTF-8 become U+FFFD.
    let request = get_request("/projects/1", &[("user-agent", b"curl/8 \xff")]);
    let (context, _) = context_of(app(ContextLayer::new(), None), request).await;
    assert_eq!(context.user_agent.as_deref(), Some("curl/8 \u{fffd}"));

    let request = get_request("/projects/1", &[]);
    let (context, _) = context_of(app(ContextLayer::new(), None), request).await;
    assert_eq!(context.user_agent, None);
}

#[tokio::test]
async fn the_route_is_the_matched_path_else_the_path_without_its_query() {
    let request = Request::post("/projects/42?tab=members")
        .body(Body::empty())
        .unwrap();
    let (context, _) = context_of(app(ContextLayer::new(), None), request).await;
    assert_eq!(context.route.as_deref(), Some("POST /projects/{id}"));

    // The fallback, under the router's `.layer`: no route matched.
    let request = get_request("/nowhere/7?secret=1", &[]);
    let (context, _) = context_of(app(ContextLayer::new(), None), request).await;
    assert_eq!(context.route.as_deref(), Some("GET /nowhere/7"));

    // A nested router's routes, by their full pattern.
    let nested = Router::new()
        .nest("/api", Router::new().route("/projects/{id}", get(show)))
        .layer(ContextLayer::new());
    let (context, _) = context_of(nested, get_request("/api/projects/42", &[])).await;
    assert_eq!(context.route.as_deref(), Some("GET /api/projects/{id}"));

    // Around the router as a whole, the layer runs before routing.
    let router = Router::new()
        .route("/projects/{id}", get(show))
        .layer(MockConnectInfo(socket("203.0.113.9")));
    let outside = tower_layer_apply(ContextLayer::new(), router);
    let response = outside
        .oneshot(get_request("/projects/42", &[]))
        .await
        .unwrap();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let context: Context = serde_json::from_slice(&body).unwrap();
    assert_eq!(context.route.as_deref(), Some("GET /projects/42"));
}

/// `layer` around `service`, as `ServiceBuilder` would put it.
fn tower_layer_apply<S>(layer: ContextLayer, service: S) -> audit_core::axum::ContextService<S> {
    tower::Layer::layer(&layer, service)
}

#[tokio::test]
async fn the_trace_id_comes_from_a_valid_traceparent() {
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    let valid = format!("00-{TRACE}-00f067aa0ba902b7-01");
    let trace_id = |headers: Vec<Vec<u8>>| async move {
        let headers: Vec<(&str, &[u8])> = headers
            .iter()
            .map(|value| ("traceparent", value.as_slice()))
            .collect();
        let request = get_request("/projects/1", &headers);
        context_of(app(ContextLayer::new(), None), request)
            .await
            .0
            .trace_id
    };
    assert_eq!(
        trace_id(vec![valid.clone().into_bytes()]).await.as_deref(),
        Some(TRACE)
    );
    // A later version may add fields after a dash.
    let later = format!("cc-{TRACE}-00f067aa0ba902b7-01-what-the-future-holds");
    assert_eq!(
        trace_id(vec![later.into_bytes()]).await.as_deref(),
        Some(TRACE)
    );
    let invalid = [
        format!("00-{}-00f067aa0ba902b7-01", TRACE.to_uppercase()),
        format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
        format!("00-{TRACE}-0000000000000000-01"),
        format!("00-{TRACE}-00f067aa0ba902b7-01-extra"),
        format!("00-{TRACE}-00f067aa0ba902b7-1"),
        format!("ff-{TRACE}-00f067aa0ba902b7-01"),
        format!("00_{TRACE}-00f067aa0ba902b7-01"),
        format!("00-{TRACE}x00f067aa0ba902b7-01"),
        format!("00-{}-00f067aa0ba902b7-01", &TRACE[..31]),
        format!("00-{}g-00f067aa0ba902b7-01", &TRACE[..31]),
        "00".to_owned(),
        String::new(),
    ];
    for value in invalid {
        assert_eq!(
            trace_id(vec![value.clone().into_bytes()]).await,
            None,
            "{value}"
        );
    }
    // Two headers: which one holds is unknown.
    let twice = vec![valid.clone().into_bytes(), valid.into_bytes()];
    assert_eq!(trace_id(twice).await, None);
    // Not text.
    let mut bytes = format!("00-{TRACE}-00f067aa0ba902b7-01").into_bytes();
    bytes[10] = 0xe9;
    assert_eq!(trace_id(vec![bytes]).await, None);
    assert_eq!(trace_id(vec![]).await, None);
}

#[tokio::test]
async fn without_the_layer_the_extractor_reads_the_request_by_the_defaults() {
    let app = Router::new()
        .route(
            "/projects/{id}",
            get(|first: Context, second: Context| async move {
                assert_eq!(first, second, "one request, one context");
                serde_json::to_string(&first).unwrap()
            }),
        )
        .layer(MockConnectInfo(socket("10.0.0.2")));
    let headers: [(&str, &[u8]); 3] = [
        ("x-forwarded-for", b"203.0.113.9"),
        ("user-agent", b"curl/8"),
        (
            "traceparent",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
    ];
    let (context, headers) = context_of(app, get_request("/projects/3?x=1", &headers)).await;
    assert_eq!(context.client_address, ip("10.0.0.2"));
    assert!(is_new_id(context.request_id.as_deref().unwrap()));
    assert!(
        !headers.contains_key("x-request-id"),
        "only the layer answers with it"
    );
    assert_eq!(context.user_agent.as_deref(), Some("curl/8"));
    assert_eq!(context.route.as_deref(), Some("GET /projects/{id}"));
    assert_eq!(
        context.trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
}

/// A migrated SQLite database with the support catalog's `widgets` table.
async fn database(test: &str) -> Auditor {
    let auditor = testing::sqlite(test).await;
    auditor.migrate().await.expect("migrate");
    testing::execute(&auditor, support::WIDGETS_TABLE)
        .await
        .expect("create widgets");
    auditor
}

/// `POST /widgets/{id}`: makes the widget in the request's audited
/// transaction, and answers with the context it had and the one the
/// `Context` extractor gives.
async fn create_widget(
    context: Context,
    mut audit: AuditSession<TestEvent>,
    Path(id): Path<i64>,
) -> Result<String, StatusCode> {
    let theirs = audit.context().clone();
    let actor = audit.actor().clone();
    support::create_widget(&mut audit, id)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    audit
        .commit()
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(serde_json::to_string(&(context, theirs, actor)).expect("contexts and actors serialize"))
}

/// The widget router with `auditor`, the layer (trusting 10.0.0.0/8) and,
/// when given, `actor` signed in.
fn widgets_app(auditor: Auditor, actor: Option<Actor>) -> Router {
    let layer = ContextLayer::new().trust_proxies(["10.0.0.0/8".parse::<IpNetwork>().unwrap()]);
    let router = Router::new().route("/widgets/{id}", post(create_widget));
    let router = match actor {
        // What an authentication middleware does: the actor in the extensions.
        Some(actor) => router.layer(Extension(actor)),
        None => router,
    };
    router
        .layer(layer)
        .with_state(auditor)
        .layer(MockConnectInfo(socket("10.0.0.2")))
}

/// A POST of `uri` with a request id, a user agent, a trace and a
/// forwarded client.
fn post_request(uri: &str) -> Request<Body> {
    Request::post(uri)
        .header("x-request-id", "req-widget-7")
        .header(header::USER_AGENT, "staff-ui/2")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn an_audit_session_acts_for_the_signed_in_actor_with_the_requests_context() {
    let auditor = database("web_axum_session").await;
    let alice = Actor::user(1, "alice");
    let app = widgets_app(auditor.clone(), Some(alice.clone()));
    let (status, headers, body) = send(app, post_request("/widgets/7?from=list")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-request-id"], "req-widget-7");
    let (extracted, session, actor): (Context, Context, Actor) =
        serde_json::from_str(&body).unwrap();
    assert_eq!(actor, alice);
    assert_eq!(session, extracted);
    assert_eq!(session.request_id.as_deref(), Some("req-widget-7"));
    assert_eq!(session.client_address, ip("203.0.113.9"));
    assert_eq!(session.user_agent.as_deref(), Some("staff-ui/2"));
    assert_eq!(session.route.as_deref(), Some("POST /widgets/{id}"));
    assert_eq!(
        session.trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );

    // The command's event committed, acting for alice, with the request's
    // context (and the span the command ran in: none, without a subscriber).
    let log = support::log(&auditor).await;
    assert_eq!(support::codes(&log), ["widget_created"]);
    assert_eq!(log[0].actor, alice);
    assert_eq!(log[0].context, session);
    assert_eq!(log[0].command_name, "create_widget");
    assert_eq!(support::widgets(&auditor).await, 1);
}

#[tokio::test]
async fn without_an_actor_an_audit_session_answers_401_and_nothing_runs() {
    let auditor = database("web_axum_no_actor").await;
    let app = widgets_app(auditor.clone(), None);
    let (status, headers, body) = send(app, post_request("/widgets/7")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(body, "Sign in first.\n");
    // The layer still answers with the request id.
    assert_eq!(headers["x-request-id"], "req-widget-7");
    assert!(support::log(&auditor).await.is_empty());
    assert_eq!(support::widgets(&auditor).await, 0);
}

#[tokio::test]
async fn when_the_transaction_cannot_begin_an_audit_session_answers_503_without_details() {
    let auditor = database("web_axum_closed").await;
    on_backend!(auditor.pool(), pool => pool.close().await);
    let app = widgets_app(auditor, Some(Actor::user(1, "alice")));
    let (status, headers, body) = send(app, post_request("/widgets/7")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(body, "The service is unavailable; try again shortly.\n");
}

#[tokio::test]
async fn the_program_and_host_are_recorded_when_the_layer_is_told_them() {
    let request = || get_request("/projects/1", &[]);
    let (context, _) = context_of(app(ContextLayer::new(), None), request()).await;
    assert_eq!((context.program, context.host), (None, None));
    let layer = ContextLayer::new().with_program("staff-area", "2.1.0");
    let (context, _) = context_of(app(layer, None), request()).await;
    assert_eq!(context.program.as_deref(), Some("staff-area 2.1.0"));
    assert_eq!(
        context.host,
        Context::process("staff-area", "2.1.0").host,
        "this machine's name"
    );
    // The server's OS user is not the person who sent the request.
    assert_eq!(context.os_user, None);
}
