//! [`ContextLayer`]: the tower layer that reads each request's
//! [`Context`](crate::Context), puts it in the request's extensions, and
//! answers with its request id.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, ready};

use axum::http::header::{HeaderName, HeaderValue};
use axum::http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::network::IpNetwork;
use super::request::{RequestParts, Rules};

/// A tower [`Layer`] that reads each request's [`Context`] and inserts it
/// into the request's extensions, where the `Context` extractor and
/// [`AuditSession`](super::AuditSession) take it; the response carries the
/// request id in the same header.
///
/// # What it reads
///
/// - **Client address**: the connection's peer, from axum's
///   [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo) (serve the
///   router with `into_make_service_with_connect_info::<SocketAddr>()`), or
///   the [`MockConnectInfo`](axum::extract::connect_info::MockConnectInfo)
///   of a test; without either there is no address. Behind proxies, see
///   [`trust_proxies`](ContextLayer::trust_proxies). IPv4 addresses mapped
///   into IPv6 are recorded as IPv4.
/// - **Request id**: the `x-request-id` header (another with
///   [`request_id_header`](ContextLayer::request_id_header)) when it is 1 to
///   128 visible ASCII characters (0x21 to 0x7e), else a new UUID v4. The
///   response gets the same header with that id (replacing one the handler
///   set), so a client can quote it. A request that already holds a
///   `Context` (the layer applied twice) keeps that context's id.
/// - **User agent**: the `User-Agent` header, decoded lossily (bytes that
///   are not UTF-8 become U+FFFD), cut to its first 512 bytes on a
///   character boundary.
/// - **Route**: `"{METHOD} {matched path}"` (`POST /projects/{id}/members`)
///   when the router has matched the request, else `"{METHOD} {path}"`,
///   the path without its query string; cut to 1,024 bytes.
/// - **Trace id**: the trace id of a valid W3C `traceparent` header
///   (`00-{32 hex}-{16 hex}-{2 hex}`, lower-case as the specification
///   requires, neither id all zeros); none when the header is absent,
///   repeated or invalid.
///
/// This server's host name and program are recorded too when the layer is
/// told the program ([`with_program`](ContextLayer::with_program)). The OS
/// user (the server's, not the person's), a reason and the application's
/// fields are not the request's to say: a handler or a middleware adds them
/// (see the [module's documentation](super)). Bounded as they are, the fields the
/// layer sets stay far below [`MAX_CONTEXT_BYTES`](crate::MAX_CONTEXT_BYTES)
/// whatever a client sends.
///
/// # Where to add it
///
/// With [`Router::layer`](axum::Router::layer) (or
/// [`route_layer`](axum::Router::route_layer)) after the routes: axum runs
/// the layers of a router after routing, so the request holds its
/// [`MatchedPath`](axum::extract::MatchedPath) and the route is the
/// pattern, whatever the ids in the path. `layer` also wraps the router's
/// fallback (a request that matched no route gets a context with its
/// path); `route_layer` wraps matched routes only. Routes of a router
/// [`nest`](axum::Router::nest)ed before the layer is added are matched
/// with their full path (`/api/projects/{id}`). A layer around the router
/// as a whole (`ContextLayer::new().layer(router)`, a `ServiceBuilder`
/// around it) runs before routing: there the route is the path.
///
/// # Behind proxies: the client's address
///
/// Behind a load balancer or reverse proxy, the peer is the proxy. Its
/// client's address is in `X-Forwarded-For`, which each proxy extends with
/// the address the request came to it from. The layer reads it only when
/// told which proxies are yours, and then by the rightmost-untrusted rule:
///
/// 1. If the peer is not a trusted proxy (always, when none is trusted),
///    the peer is the client, and `X-Forwarded-For` is ignored.
/// 2. Otherwise the entries of `X-Forwarded-For` (all its header lines in
///    order, each a comma-separated list, as one list) are walked from the
///    right. An entry that is a trusted proxy is skipped; the first that is
///    not is the client.
/// 3. If every entry is trusted, the leftmost is the client (a request that
///    began inside the trusted network).
/// 4. An entry that is not an address (`unknown`, an obfuscated name, an
///    empty entry, a header line that is not visible ASCII) stops the walk:
///    the client is the last trusted hop reached (the peer itself when the
///    rightmost entry is unreadable). Without the header, the client is the
///    peer. An entry may carry a port (`192.0.2.7:51234`,
///    `[2001:db8::7]:51234`); it is dropped.
///
/// Why never the leftmost entry: a client can send `X-Forwarded-For`
/// itself, and each proxy appends to what it received, so the left of the
/// list is whatever the client chose to write. Only the entries your own
/// proxies wrote can be believed, and they are the rightmost ones: the rightmost
/// untrusted entry is the address your outermost proxy saw the connection
/// come from, which the client cannot choose. (The `Forwarded` and
/// `X-Real-IP` headers are not read.)
///
/// ```
/// use audit_core::axum::{ContextLayer, IpNetwork};
/// use std::net::IpAddr;
///
/// // The load balancers' subnet and one reverse proxy on this host.
/// let layer = ContextLayer::new().trust_proxies([
///     "10.0.0.0/8".parse::<IpNetwork>()?,
///     IpNetwork::from("127.0.0.1".parse::<IpAddr>()?),
/// ]);
/// // Peer 10.0.0.2, `X-Forwarded-For: 198.51.100.1, 203.0.113.9, 10.0.0.1`:
/// // the client is 203.0.113.9 (198.51.100.1 is what it claims).
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`Context`]: crate::Context
#[derive(Debug, Clone, Default)]
pub struct ContextLayer {
    rules: Arc<Rules>,
}

impl ContextLayer {
    /// A layer that trusts no proxy and reads the request id from
    /// `x-request-id`.
    pub fn new() -> Self {
        ContextLayer::default()
    }

    /// This layer, also trusting `proxies` (addresses or networks) to report
    /// their client in `X-Forwarded-For`, by the rule of
    /// [the type's documentation](ContextLayer#behind-proxies-the-clients-address).
    /// Name only the proxies in front of this application.
    pub fn trust_proxies<I>(mut self, proxies: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<IpNetwork>,
    {
        Arc::make_mut(&mut self.rules)
            .trusted_proxies
            .extend(proxies.into_iter().map(Into::into));
        self
    }

    /// This layer, also recording in every request's context this server's
    /// host name and `program` `version` (pass `env!("CARGO_PKG_NAME")` and
    /// `env!("CARGO_PKG_VERSION")`): which machine and release answered.
    pub fn with_program(mut self, program: &str, version: &str) -> Self {
        let process = crate::context::Context::process(program, version);
        let rules = Arc::make_mut(&mut self.rules);
        rules.host = process.host;
        rules.program = process.program;
        self
    }

    /// This layer, reading the request id from the header `name` (and
    /// answering with it) instead of `x-request-id`.
    pub fn request_id_header(mut self, name: HeaderName) -> Self {
        Arc::make_mut(&mut self.rules).request_id_header = name;
        self
    }
}

impl<S> Layer<S> for ContextLayer {
    type Service = ContextService<S>;

    fn layer(&self, inner: S) -> ContextService<S> {
        ContextService {
            inner,
            rules: Arc::clone(&self.rules),
        }
    }
}

/// The service of [`ContextLayer`]: it inserts the request's
/// [`Context`](crate::Context) into its extensions, calls `S`, and sets the request-id header on the
/// response.
#[derive(Debug, Clone)]
pub struct ContextService<S> {
    inner: S,
    rules: Arc<Rules>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ContextService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let context = self.rules.context(&RequestParts {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            extensions: request.extensions(),
        });
        // Always a valid value: an id from the client is visible ASCII, a
        // new one a UUID.
        let request_id = context
            .request_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
            .map(|value| (self.rules.request_id_header.clone(), value));
        request.extensions_mut().insert(context);
        ResponseFuture {
            inner: self.inner.call(request),
            request_id,
        }
    }
}

pin_project! {
    /// The response future of [`ContextService`]: the inner service's
    /// response, with the request-id header set.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        request_id: Option<(HeaderName, HeaderValue)>,
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some((name, value)) = this.request_id.take() {
            response.headers_mut().insert(name, value);
        }
        Poll::Ready(Ok(response))
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}
