//! Error pages: a status and one sentence, never internals.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::views::{ErrorView, SignedIn};
use crate::logs::LogError;

/// A request that ends in an error page.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
    signed_in: Option<SignedIn>,
}

impl PageError {
    /// An error page with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError {
            status,
            message: message.into(),
            signed_in: None,
        }
    }

    /// 400: the request's parameters are wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        PageError::new(StatusCode::FORBIDDEN, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        PageError::new(StatusCode::NOT_FOUND, message)
    }

    /// 500, after logging `error`; the page does not show it.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!("request failed: {error}");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side; it has been logged.",
        )
    }

    /// Shows who is signed in, for the page's header.
    pub fn signed_in(mut self, who: &SignedIn) -> Self {
        self.signed_in = Some(who.clone());
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        PageError::internal(&e)
    }
}

impl From<LogError> for PageError {
    fn from(e: LogError) -> Self {
        PageError::internal(&e)
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::internal(&e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let view = ErrorView {
            signed_in: self.signed_in,
            title: format!(
                "{} {}",
                self.status.as_u16(),
                self.status.canonical_reason().unwrap_or("Error")
            ),
            message: self.message,
        };
        match view.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!("cannot render an error page: {e}");
                (self.status, view.message).into_response()
            }
        }
    }
}

/// Renders `view` as a 200 page.
pub fn page(view: &impl Template) -> Result<Html<String>, PageError> {
    Ok(Html(view.render()?))
}
