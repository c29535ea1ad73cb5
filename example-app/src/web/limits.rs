//! Limits on a request's address and headers, answered with the styled
//! error page (414, 431). hyper has limits of its own, higher (an address
//! of 64 KiB, about 400 KiB of headers, 100 headers), at which it answers
//! with a bare status before any of this runs; these lower ones come first
//! for anything a browser would send.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{PageError, message_for};

/// The longest request target (path and query) answered.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The most header bytes (names and values) answered.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The most headers answered.
pub const MAX_HEADERS: usize = 64;

/// Refuses a request over the limits with a styled page.
pub async fn refuse_oversized(request: Request, next: Next) -> Response {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return refuse(StatusCode::URI_TOO_LONG);
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return refuse(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
    next.run(request).await
}

fn refuse(status: StatusCode) -> Response {
    PageError::new(status, message_for(status)).into_response()
}
