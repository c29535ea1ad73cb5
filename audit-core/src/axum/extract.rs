//! The extractors: [`Context`] itself, and [`AuditSession`], a handler's
//! audited transaction for the signed-in actor.

use std::convert::Infallible;
use std::ops::{Deref, DerefMut};

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::request::{RequestParts, Rules};
use crate::actor::Actor;
use crate::catalog::EventCatalog;
use crate::context::Context;
use crate::store::Auditor;
use crate::store::error::AuditError;
use crate::store::transaction::Audit;

/// The request's [`Context`]: the one [`ContextLayer`](super::ContextLayer)
/// inserted, else one read from the request by the layer's defaults (no
/// trusted proxy: the client is the connection's peer; `x-request-id`,
/// not echoed on the response). Either way it is kept in the request's
/// extensions, so that every extractor of one request sees the same
/// request id. Never fails.
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Send + Sync> FromRequestParts<S> for Context {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(request_context(parts))
    }
}

/// The context in `parts`' extensions, put there first if missing.
fn request_context(parts: &mut Parts) -> Context {
    if let Some(context) = parts.extensions.get::<Context>() {
        return context.clone();
    }
    let context = Rules::default().context(&RequestParts {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        extensions: &parts.extensions,
    });
    parts.extensions.insert(context.clone());
    context
}

/// A handler's audited transaction: an [`Audit`] begun for the signed-in
/// [`Actor`], with the request's [`Context`] set. Commands take it as
/// `&mut audit` (it dereferences to `Audit<E>`); [`commit`](Self::commit)
/// ends it, and dropping it rolls back.
///
/// As an extractor (the application's state must give an [`Auditor`]:
/// `Auditor: FromRef<S>`), it takes the `Actor` from the request's
/// extensions, where the application's authentication middleware puts it
/// (`request.extensions_mut().insert(actor)`), and the context as the
/// [`Context`] extractor does. It begins the transaction before the handler
/// runs, so it holds a connection (and on SQLite the write lock) for the
/// handler's whole run: take it in handlers that change data. See the
/// [module's documentation](super) for a complete application.
///
/// It rejects the request with [`AuditSessionRejection`]: `401` when no
/// actor is signed in, `503` when the transaction cannot begin.
///
/// ```
/// # use audit_core::{Audit, AuditError, Auditor, auditable};
/// # audit_core::declare_events! {
/// #     #[events(templates = "tests/templates")]
/// #     pub enum StaffEvent {
/// #         #[event(code = "project_created", label = "Project created", group = "Projects")]
/// #         ProjectCreated { name: String },
/// #     }
/// # }
/// # /// The application's error.
/// # struct AppError(AuditError);
/// # impl From<AuditError> for AppError {
/// #     fn from(e: AuditError) -> Self { AppError(e) }
/// # }
/// # impl axum::response::IntoResponse for AppError {
/// #     fn into_response(self) -> axum::response::Response {
/// #         axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
/// #     }
/// # }
/// # fn session_actor(_: &axum::http::HeaderMap) -> Option<audit_core::Actor> { None }
/// use audit_core::axum::{AuditSession, ContextLayer};
/// use axum::extract::Request;
/// use axum::http::StatusCode;
/// use axum::middleware::{self, Next};
/// use axum::response::Response;
/// use axum::routing::post;
///
/// #[auditable(emits(ProjectCreated))]
/// async fn create_project(cx: &mut Audit<StaffEvent>, name: &str) -> Result<(), AuditError> {
///     cx.emit(ProjectCreated { name: name.into() })
/// }
///
/// // `&mut audit` is a `&mut Audit<StaffEvent>` to the command.
/// async fn create(mut audit: AuditSession<StaffEvent>) -> Result<StatusCode, AppError> {
///     create_project(&mut audit, "Apollo").await?;
///     audit.commit().await?;
///     Ok(StatusCode::CREATED)
/// }
///
/// // The application's authentication: the signed-in `Actor` (from its own
/// // session lookup, `session_actor` here) into the request's extensions.
/// async fn authenticate(mut request: Request, next: Next) -> Response {
///     if let Some(actor) = session_actor(request.headers()) {
///         request.extensions_mut().insert(actor);
///     }
///     next.run(request).await
/// }
///
/// // The router's state gives the `Auditor` (here it is the state).
/// let routes: axum::Router<Auditor> = axum::Router::new()
///     .route("/projects", post(create))
///     .layer(middleware::from_fn(authenticate))
///     .layer(ContextLayer::new());
/// # let _ = routes;
/// ```
pub struct AuditSession<E: EventCatalog> {
    audit: Audit<E>,
}

impl<E: EventCatalog> AuditSession<E> {
    /// The transaction, to keep past the handler or hand to code that takes
    /// an `Audit` by value.
    pub fn into_inner(self) -> Audit<E> {
        self.audit
    }

    /// Commits the transaction: [`Audit::commit`].
    pub async fn commit(self) -> Result<(), AuditError> {
        self.audit.commit().await
    }

    /// Rolls the transaction back: [`Audit::rollback`] (dropping the
    /// session does the same).
    pub async fn rollback(self) -> Result<(), AuditError> {
        self.audit.rollback().await
    }
}

impl<E: EventCatalog> Deref for AuditSession<E> {
    type Target = Audit<E>;

    fn deref(&self) -> &Audit<E> {
        &self.audit
    }
}

impl<E: EventCatalog> DerefMut for AuditSession<E> {
    fn deref_mut(&mut self) -> &mut Audit<E> {
        &mut self.audit
    }
}

impl<E: EventCatalog> std::fmt::Debug for AuditSession<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AuditSession").field(&self.audit).finish()
    }
}

impl<E, S> FromRequestParts<S> for AuditSession<E>
where
    E: EventCatalog,
    S: Send + Sync,
    Auditor: FromRef<S>,
{
    type Rejection = AuditSessionRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let actor = parts
            .extensions
            .get::<Actor>()
            .cloned()
            .ok_or(AuditSessionRejection::NoActor)?;
        let context = request_context(parts);
        let mut audit = Auditor::from_ref(state)
            .begin::<E>(actor)
            .await
            .map_err(AuditSessionRejection::Unavailable)?;
        // The layer keeps each field it takes from the request within the
        // context's limits; a context another layer put in the extensions
        // may not be.
        audit
            .set_context(context)
            .map_err(AuditSessionRejection::InvalidContext)?;
        Ok(AuditSession { audit })
    }
}

/// Why [`AuditSession`] refused a request. As a response it says little:
/// a status and one short plain-text line, never the cause of a failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditSessionRejection {
    /// The request's extensions hold no [`Actor`]: nobody is signed in, or
    /// the authentication middleware does not run on this route.
    /// `401 Unauthorized`.
    #[error("no signed-in actor: the request's extensions hold no `audit_core::Actor`")]
    NoActor,
    /// The transaction could not begin (the database is unreachable, or
    /// the pool has no connection to give). `503 Service Unavailable`; the
    /// error is logged (`tracing::error!`) when the response is made, and
    /// the body does not show it.
    #[error("the audited transaction could not begin")]
    Unavailable(#[source] AuditError),
    /// The request's [`Context`](crate::Context) cannot be stored
    /// ([`AuditError::InvalidContext`]): one put in the extensions by
    /// other code than [`ContextLayer`](super::ContextLayer), too large or
    /// holding a NUL character. `400 Bad Request`.
    #[error("the request's context cannot be stored")]
    InvalidContext(#[source] AuditError),
}

impl IntoResponse for AuditSessionRejection {
    fn into_response(self) -> Response {
        match self {
            AuditSessionRejection::NoActor => {
                (StatusCode::UNAUTHORIZED, "Sign in first.\n").into_response()
            }
            AuditSessionRejection::InvalidContext(error) => {
                tracing::warn!("a request's context cannot be stored: {error}");
                (StatusCode::BAD_REQUEST, "The request cannot be recorded.\n").into_response()
            }
            AuditSessionRejection::Unavailable(error) => {
                tracing::error!("the audited transaction of a request could not begin: {error}");
                let body = "The service is unavailable; try again shortly.\n";
                (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
            }
        }
    }
}
