//! axum 0.8 integration (feature `axum`): each request's [`Context`]
//! filled in by a layer, and a handler's audited transaction as an
//! extractor.
//!
//! - [`ContextLayer`] reads the request's context (client address, with a
//!   trusted-proxy rule for `X-Forwarded-For`; request id, echoed on the
//!   response; user agent; route; W3C trace id) and inserts it into the
//!   request's extensions.
//! - [`Context`] is an extractor: the layer's, or one read from the
//!   request by the layer's defaults.
//! - [`AuditSession<E>`](AuditSession) is an extractor that begins an
//!   [`Audit<E>`](crate::Audit) for the signed-in [`Actor`](crate::Actor)
//!   with the request's context set, so that a handler that changes data
//!   is one command, a commit and its answer.
//!
//! The library does not authenticate anyone: the application's own
//! middleware puts the signed-in `Actor` into the request's extensions
//! (`request.extensions_mut().insert(actor)`), and `AuditSession` takes it
//! from there, answering `401` when there is none.
//!
//! # A complete application
//!
//! One command, an authentication middleware, the layer, and a handler of
//! three lines; then one request through the router, as a test sends it.
//!
//! ```
//! use std::net::SocketAddr;
//!
//! use audit_core::axum::{AuditSession, ContextLayer};
//! use audit_core::query::EventQuery;
//! use audit_core::{Actor, Audit, AuditError, Auditor, Context, auditable, on_backend};
//! use axum::body::Body;
//! use axum::extract::connect_info::MockConnectInfo;
//! use axum::extract::{Form, FromRef, Request};
//! use axum::http::{StatusCode, header};
//! use axum::middleware::{self, Next};
//! use axum::response::{IntoResponse, Redirect, Response};
//! use axum::routing::post;
//! use axum::Router;
//! use tower::ServiceExt; // `oneshot`
//!
//! audit_core::declare_events! {
//!     /// Audit events of the staff area.
//!     #[events(templates = "tests/templates")]
//!     pub enum StaffEvent {
//!         /// A project was created.
//!         #[event(code = "project_created", label = "Project created", group = "Projects")]
//!         ProjectCreated { name: String },
//!     }
//! }
//!
//! /// The application's error: commands return it, and it becomes a response.
//! #[derive(Debug, thiserror::Error)]
//! pub enum AppError {
//!     #[error(transparent)]
//!     Audit(#[from] AuditError),
//!     #[error(transparent)]
//!     Database(#[from] sqlx::Error),
//! }
//!
//! impl IntoResponse for AppError {
//!     fn into_response(self) -> Response {
//!         // (Log `self` here; the client gets no details.)
//!         StatusCode::INTERNAL_SERVER_ERROR.into_response()
//!     }
//! }
//!
//! /// Creates a project.
//! #[auditable(emits(ProjectCreated))]
//! pub async fn create_project(cx: &mut Audit<StaffEvent>, name: &str) -> Result<(), AppError> {
//!     on_backend!(cx.db(), conn => {
//!         sqlx::query("INSERT INTO projects (name) VALUES ($1)").bind(name).execute(conn).await?;
//!     });
//!     cx.emit(ProjectCreated { name: name.into() })?;
//!     Ok(())
//! }
//!
//! #[derive(serde::Deserialize)]
//! pub struct NewProject {
//!     name: String,
//! }
//!
//! /// `POST /projects`: the command in the request's audited transaction,
//! /// acting for whoever is signed in.
//! async fn create(
//!     mut audit: AuditSession<StaffEvent>,
//!     Form(form): Form<NewProject>,
//! ) -> Result<Redirect, AppError> {
//!     create_project(&mut audit, &form.name).await?;
//!     audit.commit().await?;
//!     Ok(Redirect::to("/"))
//! }
//!
//! /// The application's authentication: it finds who is signed in (here
//! /// from a fixed session cookie; a real application looks its session
//! /// up) and puts the `Actor` into the request's extensions. It may add
//! /// its own fields to the context the layer made.
//! async fn authenticate(mut request: Request, next: Next) -> Response {
//!     let cookie = request.headers().get(header::COOKIE).and_then(|c| c.to_str().ok());
//!     if cookie == Some("session=s3cr3t-alice") {
//!         request.extensions_mut().insert(Actor::user(1, "alice"));
//!     }
//!     if let Some(context) = request.extensions_mut().get_mut::<Context>() {
//!         context.fields.insert("tenant".into(), "acme".into());
//!     }
//!     next.run(request).await
//! }
//!
//! /// The router's state, from which `AuditSession` takes the `Auditor`.
//! #[derive(Clone)]
//! pub struct AppState {
//!     auditor: Auditor,
//! }
//!
//! impl FromRef<AppState> for Auditor {
//!     fn from_ref(state: &AppState) -> Auditor {
//!         state.auditor.clone()
//!     }
//! }
//!
//! fn app(state: AppState) -> Router {
//!     Router::new()
//!         .route("/projects", post(create))
//!         .layer(middleware::from_fn(authenticate))
//!         // Added last, so it runs first: `authenticate` sees the context.
//!         // On a router's own `.layer`, it sees the matched route.
//!         .layer(ContextLayer::new())
//!         .with_state(state)
//! }
//!
//! /// Serving it: the peer's address reaches the layer through `ConnectInfo`.
//! pub async fn serve(state: AppState) -> std::io::Result<()> {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
//!     axum::serve(listener, app).await
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let auditor = Auditor::connect("sqlite::memory:").await?;
//! auditor.migrate().await?;
//! on_backend!(auditor.pool(), pool => {
//!     sqlx::query("CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
//!         .execute(pool)
//!         .await?;
//! });
//!
//! // In a test, `MockConnectInfo` stands in for the connection.
//! let app = app(AppState { auditor: auditor.clone() })
//!     .layer(MockConnectInfo(SocketAddr::from(([203, 0, 113, 9], 51234))));
//! let request = Request::post("/projects")
//!     .header(header::COOKIE, "session=s3cr3t-alice")
//!     .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
//!     .header("x-request-id", "req-7f3a")
//!     .body(Body::from("name=Apollo"))?;
//! let response = app.clone().oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::SEE_OTHER);
//! assert_eq!(response.headers()["x-request-id"], "req-7f3a");
//!
//! let page = auditor.query::<StaffEvent>(&EventQuery::new()).await?;
//! assert_eq!(page.events[0].actor, Actor::user(1, "alice"));
//!
//! // Nobody signed in: `AuditSession` answers 401, and the handler never runs.
//! let request = Request::post("/projects")
//!     .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
//!     .body(Body::from("name=Gemini"))?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! # Ok(()) }
//! ```
//!
//! In a handler, the context is `audit.context()`, or an extractor of its
//! own (`context: Context`); a handler that changes it before its first
//! command (a reason the form gave, say) sets it again with
//! [`Audit::set_context`](crate::Audit::set_context).
//!
//! [`Context`]: crate::Context

mod extract;
mod layer;
mod network;
mod request;

pub use extract::{AuditSession, AuditSessionRejection};
pub use layer::{ContextLayer, ContextService, ResponseFuture};
pub use network::{InvalidNetwork, IpNetwork};
