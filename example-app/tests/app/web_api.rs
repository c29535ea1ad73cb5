//! The README's worked example of `audit_core::axum`: an endpoint whose
//! handler is the command and the commit, behind the layer that records
//! each request's context and a (stand-in) authentication middleware that
//! puts the signed-in actor in the request, a person or an API key's
//! service account. Its events say who and from where; without an actor
//! nothing runs. On every available backend.

use crate::common;
use crate::common::web::cast;

use audit_core::axum::{AuditSession, ContextLayer};
use audit_core::query::EventQuery;
use audit_core::{Actor, AuditError, Auditor};
use axum::Form;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use example_app::commands::{self, CommandError};
use example_app::events::StaffEvent;
use tower::ServiceExt as _;

/// The form `POST /api/projects` takes.
#[derive(serde::Deserialize)]
struct NewProject {
    name: String,
}

/// Creates a project for the signed-in actor, with the request's context.
async fn create_project(
    mut audit: AuditSession<StaffEvent>,
    Form(form): Form<NewProject>,
) -> Result<String, ApiError> {
    let project = commands::add_project(&mut audit, &form.name).await?;
    audit.commit().await?;
    Ok(format!("created project {}\n", project.id))
}

/// The endpoint, behind the layer that records each request's context and
/// the application's authentication.
fn api(auditor: Auditor) -> Router {
    Router::new()
        .route("/api/projects", post(create_project))
        .layer(middleware::from_fn_with_state(
            auditor.clone(),
            authenticate,
        ))
        .layer(ContextLayer::new().with_program(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")))
        .with_state(auditor)
}

/// A stand-in for the application's authentication (a real one checks a
/// session or a signed token): `Authorization: Bearer NAME` signs in the
/// user NAME, and `Bearer key-ci` the CI's API key, a service account. It
/// puts the actor in the request's extensions, where `AuditSession` takes
/// it; without one, `AuditSession` answers 401.
async fn authenticate(
    State(auditor): State<Auditor>,
    mut request: Request,
    next: Next,
) -> Response {
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned);
    let actor = match bearer.as_deref() {
        Some("key-ci") => Some(Actor::service("key-ci", "CI deploy key")),
        Some(name) => example_app::directory::account_named(&auditor, name)
            .await
            .ok()
            .flatten()
            .map(|account| Actor::user(account.id, account.username)),
        None => None,
    };
    if let Some(actor) = actor {
        request.extensions_mut().insert(actor);
    }
    next.run(request).await
}

/// Why the endpoint refused: the command's reason (422), or the log (500).
#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Command(error) => {
                (StatusCode::UNPROCESSABLE_ENTITY, format!("{error}\n")).into_response()
            }
            ApiError::Audit(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// Posts `name` to the endpoint as `bearer` (if any), with request id `id`.
async fn create(
    auditor: &Auditor,
    bearer: Option<&str>,
    id: &str,
    name: &str,
) -> (StatusCode, String) {
    let mut request = Request::post("/api/projects")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-request-id", id);
    if let Some(bearer) = bearer {
        request = request.header("authorization", format!("Bearer {bearer}"));
    }
    let request = request
        .body(Body::from(format!("name={name}")))
        .expect("a valid request");
    let response = api(auditor.clone())
        .oneshot(request)
        .await
        .expect("a router never fails");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("a readable body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_three_line_handler_records_who_and_from_which_request() {
    for auditor in common::auditors("web_api").await {
        let label = common::label(&auditor);
        let c = cast(&auditor).await;
        let (status, body) = create(&auditor, Some("alice"), "req-api-1", "Mercury").await;
        assert_eq!(status, StatusCode::OK, "{label}: {body}");
        let (status, body) = create(&auditor, Some("key-ci"), "req-api-2", "Venus").await;
        assert_eq!(status, StatusCode::OK, "{label}: {body}");

        for (request, actor, name) in [
            ("req-api-1", Actor::user(c.alice.id, "alice"), "Mercury"),
            (
                "req-api-2",
                Actor::service("key-ci", "CI deploy key"),
                "Venus",
            ),
        ] {
            let page = auditor
                .query::<StaffEvent>(&EventQuery::new().request_id(request))
                .await
                .unwrap();
            assert_eq!(page.events.len(), 1, "{label}: {request}");
            let event = &page.events[0];
            assert_eq!(event.actor, actor, "{label}");
            assert_eq!(
                event.context.route.as_deref(),
                Some("POST /api/projects"),
                "{label}"
            );
            assert!(event.payload.contains(name), "{label}: {}", event.payload);
        }
        assert_eq!(
            auditor
                .query::<StaffEvent>(&EventQuery::new().request_id("req-api-2"))
                .await
                .unwrap()
                .events[0]
                .actor
                .to_string(),
            "service CI deploy key"
        );

        // Refused by the command: its reason, and nothing recorded.
        let (status, body) = create(&auditor, Some("alice"), "req-api-3", "Mercury").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {body}");
        // Nobody signed in: 401, and the command never ran.
        let (status, _) = create(&auditor, None, "req-api-4", "Mars").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}");
        for request in ["req-api-3", "req-api-4"] {
            let page = auditor
                .query::<StaffEvent>(&EventQuery::new().request_id(request))
                .await
                .unwrap();
            assert!(page.events.is_empty(), "{label}: {request}");
        }
        assert!(
            example_app::directory::project_named(&auditor, "Mars")
                .await
                .unwrap()
                .is_none()
        );
    }
}
