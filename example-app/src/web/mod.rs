//! The staff area in a browser: the audit log of a project, of a user and
//! of everything, and the forms that make the staff area's changes, for
//! signed-in staff. Plain server-rendered HTML.

mod csrf;
mod error;
mod filters;
mod forms;
mod limits;
mod pages;
mod session;
mod sign_in;
pub(crate) mod throttle;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use audit_core::Auditor;
use audit_core::axum::{ContextLayer, IpNetwork};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};

use crate::auth::Verifiers;

pub use csrf::{FORM_LIFETIME, FormTokens};
pub use error::PageError;
pub use limits::{MAX_HEADER_BYTES, MAX_HEADERS, MAX_URI_BYTES};
pub use session::{
    COOKIE_NAME, Live, SECURE_COOKIE_NAME, SESSION_LIFETIME, SessionError, Sessions,
};
pub use sign_in::{CLEAR_SITE_DATA, Staff};
pub use throttle::{Attempt, ClientAddress, MAX_FAILURES, MAX_PER_ADDRESS, SignInThrottle, WINDOW};
pub use views::SignedIn;

/// How the staff area is served.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` and send `Strict-Transport-Security`
    /// (set it when serving over HTTPS).
    pub secure_cookies: bool,
    /// The proxies in front of the server (addresses or networks), trusted
    /// to report their client in `X-Forwarded-For`: the client's address,
    /// which the sign-in limits count and every change's context records,
    /// is then the rightmost entry that is not one of them
    /// ([`ContextLayer`]'s rule). Empty (the default): the connection's
    /// peer, whatever the header says.
    pub trusted_proxies: Vec<IpNetwork>,
}

/// What every request handler shares. Sessions, sign-in attempts and the
/// sign-in form secret live in the database, so any number of states (in
/// one process or in several) over one database act as one server.
#[derive(Debug, Clone)]
pub struct AppState {
    auditor: Auditor,
    sessions: Sessions,
    throttle: SignInThrottle,
    forms: Arc<FormTokens>,
    /// Password verifications: a few at once, in memory they reuse.
    verifiers: Arc<Verifiers>,
    config: WebConfig,
}

impl AppState {
    /// A state over `auditor`'s database (whose sessions and attempts it
    /// takes over), checking as many passwords at once as there are CPUs.
    pub fn new(auditor: Auditor, config: WebConfig) -> Self {
        let verifiers = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            sessions: Sessions::new(auditor.clone()),
            throttle: SignInThrottle::new(auditor.clone()),
            forms: Arc::new(FormTokens::new(auditor.clone())),
            verifiers: Arc::new(Verifiers::new(verifiers)),
            auditor,
            config,
        }
    }

    /// The password verification pool (its size and high-water mark).
    pub fn verifiers(&self) -> &Verifiers {
        &self.verifiers
    }
}

/// The staff area's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::global_log))
        .route(
            "/projects",
            get(pages::project_list).post(forms::create_project),
        )
        .route("/projects/{id}", get(pages::project_log))
        .route(
            "/projects/{id}/members",
            get(forms::to_project).post(forms::add_members),
        )
        .route(
            "/projects/{id}/members/{user}/roles",
            get(forms::member_to_project).post(forms::member_roles),
        )
        .route(
            "/projects/{id}/members/{user}/remove",
            get(forms::confirm_remove_member).post(forms::remove_member),
        )
        .route("/users", get(pages::user_list))
        .route("/users/{id}", get(pages::user_log))
        .route(
            "/users/{id}/roles",
            get(forms::to_user).post(forms::user_roles),
        )
        .route(
            "/users/{id}/clear-roles",
            get(forms::confirm_clear_roles).post(forms::clear_roles),
        )
        .route("/events/{id}", get(pages::event_page))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .fallback(pages::not_found)
        // Inside the router's other layers: it runs after routing (so the
        // route is the matched pattern), on requests the limits let through.
        .layer(
            ContextLayer::new()
                .trust_proxies(state.config.trusted_proxies.iter().copied())
                .with_program(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        )
        .layer(axum::middleware::map_response(error::styled_errors))
        .layer(axum::middleware::from_fn(limits::refuse_oversized))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

/// The pages' Content-Security-Policy: nothing from outside, inline styles,
/// and the one script of the base template, by its hash.
const CONTENT_SECURITY_POLICY: &str = concat!(
    "default-src 'none'; style-src 'unsafe-inline'; script-src '",
    // The SHA-256 of base.html's one script, in base64 (a test
    // checks that the two agree).
    "sha256-N90wwlrycsdQpiYAtOJJ9n72nI9e+wvtNYJ3cLHuPLo=",
    "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
);

/// Headers every response carries: no framing, no sniffing, no outside
/// resource at all and one script (the base template's reload of a page
/// restored from the back/forward cache, allowed by its hash), no powerful browser
/// feature, no caching of audit data, and no referrer sent off the site;
/// over HTTPS (`secure_cookies`), HTTPS only from then on.
async fn security_headers(State(state): State<AppState>, mut response: Response) -> Response {
    const HEADERS: [(HeaderName, &str); 7] = [
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
        (
            HeaderName::from_static("permissions-policy"),
            "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), \
             microphone=(), payment=(), usb=()",
        ),
    ];
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if state.config.secure_cookies {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}

/// `Strict-Transport-Security` with `--secure-cookies`: a year, this host
/// only (sibling hosts may not all be on HTTPS).
pub const HSTS: &str = "max-age=31536000";

/// Serves the staff area on `addr` until Ctrl-C.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(state, listener, async {
        // If the signal handler cannot be installed, serve until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await
}

/// Serves the staff area on `listener` until `shutdown` completes, with
/// each connection's peer address known to the handlers (the sign-in
/// limits count by it).
pub async fn serve_on(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// Standard base64 with padding, as a CSP hash source is written.
    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn the_policy_allows_exactly_the_base_templates_script() {
        let base = include_str!("../../templates/web/base.html");
        let start = base.find("<script>").expect("base.html has its script") + "<script>".len();
        let end = base[start..].find("</script>").expect("the script ends") + start;
        assert_eq!(base.matches("<script").count(), 1, "one script only");
        let hash = base64(&Sha256::digest(&base[start..end]));
        let policy = super::CONTENT_SECURITY_POLICY;
        assert!(
            policy.contains(&format!("script-src 'sha256-{hash}'")),
            "{policy}"
        );
    }
}
