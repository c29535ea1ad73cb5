//! The staff area in a browser: the audit log of a project, of a user and
//! of everything, for signed-in staff. Plain server-rendered HTML.

mod error;
mod filters;
mod pages;
mod session;
mod sign_in;
mod throttle;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use audit_core::Auditor;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};

pub use error::PageError;
pub use session::{COOKIE_NAME, SESSION_LIFETIME, Sessions};
pub use sign_in::Staff;
pub use throttle::{MAX_FAILURES, SignInThrottle, WINDOW};
pub use views::SignedIn;

/// How the staff area is served.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (set it when serving over HTTPS).
    pub secure_cookies: bool,
}

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    auditor: Auditor,
    sessions: Arc<Sessions>,
    throttle: Arc<SignInThrottle>,
    /// Password verifications allowed to run at once.
    verifications: Arc<tokio::sync::Semaphore>,
    config: WebConfig,
}

impl AppState {
    /// A state over `auditor`'s database with no sessions yet.
    pub fn new(auditor: Auditor, config: WebConfig) -> Self {
        AppState {
            auditor,
            sessions: Arc::new(Sessions::default()),
            throttle: Arc::new(SignInThrottle::default()),
            verifications: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            config,
        }
    }
}

/// The staff area's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::global_log))
        .route("/projects", get(pages::project_list))
        .route("/projects/{id}", get(pages::project_log))
        .route("/users", get(pages::user_list))
        .route("/users/{id}", get(pages::user_log))
        .route("/events/{id}", get(pages::event_page))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .fallback(pages::not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Headers every response carries: no framing, no sniffing, no script or
/// outside resource at all (the pages use none), no caching of audit data,
/// and no referrer sent off the site.
async fn security_headers(mut response: Response) -> Response {
    const HEADERS: [(HeaderName, &str); 6] = [
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Serves the staff area on `addr` until Ctrl-C.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            // If the signal handler cannot be installed, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
}
