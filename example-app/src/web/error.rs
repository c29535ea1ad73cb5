//! Error pages: a status and one sentence, never internals; every error
//! response is one, including those that axum's extractors and router make
//! in plain text or with no body ([`styled_errors`]).

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::session::SessionError;
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

impl From<SessionError> for PageError {
    fn from(e: SessionError) -> Self {
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

/// Turns an error response that is not an HTML page (an extractor's
/// plain-text rejection, the router's empty 405) into the styled page of
/// its status, keeping its status and headers (`Allow` on a 405, say).
pub async fn styled_errors(response: Response) -> Response {
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_html {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let page = PageError::new(status, message_for(status)).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    // The page's own headers (its content type) replace the old ones.
    for (name, value) in page.headers() {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, page.into_body())
}

/// The sentence an error page of `status` shows when the code that made it
/// gave none of its own.
pub fn message_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => {
            "This request could not be read: its address or its form is not valid."
        }
        StatusCode::NOT_FOUND => "There is no such page.",
        StatusCode::METHOD_NOT_ALLOWED => "This page cannot be used that way.",
        StatusCode::PAYLOAD_TOO_LARGE => "What was sent is too large.",
        StatusCode::URI_TOO_LONG => "This address is too long.",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "This form was sent in a format the staff area does not read."
        }
        StatusCode::UNPROCESSABLE_ENTITY => {
            "This form is incomplete or has a value that is not valid: reload it and try again."
        }
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            "This request's headers are too large (too many cookies, perhaps)."
        }
        s if s.is_server_error() => "Something went wrong on our side; it has been logged.",
        _ => "This request cannot be answered.",
    }
}

/// Renders `view` as a 200 page.
pub fn page(view: &impl Template) -> Result<Html<String>, PageError> {
    Ok(Html(view.render()?))
}
