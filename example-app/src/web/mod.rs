//! The staff area in a browser: the audit log of a project, of a user and
//! of everything, for signed-in staff. Plain server-rendered HTML.

mod error;
mod pages;
mod session;
mod sign_in;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use audit_core::Auditor;
use axum::Router;
use axum::routing::{get, post};

pub use error::PageError;
pub use session::{COOKIE_NAME, SESSION_LIFETIME, Sessions};
pub use sign_in::Staff;

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
    config: WebConfig,
}

impl AppState {
    /// A state over `auditor`'s database with no sessions yet.
    pub fn new(auditor: Auditor, config: WebConfig) -> Self {
        AppState {
            auditor,
            sessions: Arc::new(Sessions::default()),
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
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .fallback(pages::not_found)
        .with_state(state)
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
