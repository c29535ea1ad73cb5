//! Signing in and out, and the rule every page enforces: staff only.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, http};
use serde::Deserialize;

use super::AppState;
use super::csrf;
use super::error::{PageError, page};
use super::session;
use super::throttle::{Attempt, ClientAddress};
use super::views::{SignInView, SignedIn};
use crate::auth::is_staff;
use crate::directory::{self, Account};

/// A signed-in member of staff, and their session as pages show it. As a
/// handler argument it lets only staff through: anonymous visitors are sent
/// to sign in, others get 403.
#[derive(Debug, Clone)]
pub struct Staff(pub Account, pub SignedIn);

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = session::token(&parts.headers, state.config.secure_cookies);
        let live = match token.as_deref() {
            Some(token) => state
                .sessions
                .live(token)
                .await
                .map_err(|e| PageError::internal(&e).into_response())?,
            None => None,
        };
        let Some(live) = live else {
            return Err(redirect_to_sign_in(&parts.uri));
        };
        let account = directory::account(&state.auditor, live.user_id)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        // A session ends with its user, and when their password changes.
        let Some(account) = account.filter(|a| live.signed_in_with(a.password_hash.as_deref()))
        else {
            if let Some(token) = &token {
                state
                    .sessions
                    .end(token)
                    .await
                    .map_err(|e| PageError::internal(&e).into_response())?;
            }
            return Err(redirect_to_sign_in(&parts.uri));
        };
        let who = SignedIn {
            username: account.username.clone(),
            csrf: live.csrf,
        };
        if !is_staff(&account.roles) {
            return Err(PageError::forbidden(
                "The staff area is for staff area administrators only.",
            )
            .signed_in(&who)
            .into_response());
        }
        Ok(Staff(account, who))
    }
}

fn redirect_to_sign_in(uri: &http::Uri) -> Response {
    let wanted = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", wanted)
        .finish();
    see_other(&format!("/sign-in?{query}"))
}

fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

/// Where to go after signing in: a path on this site, nothing else (no
/// `//host`, no scheme), so the form cannot be used to send users away.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Usernames longer than this are refused before any lookup.
/// (The limit of every [`crate::names::Username`].)
const MAX_USERNAME_BYTES: usize = crate::names::MAX_NAME_BYTES;

/// The sign-in page's query.
#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

/// GET /sign-in: the form, with a CSRF token the server issued (see
/// [`super::csrf`]) in a hidden field and in a cookie; the POST must bring
/// both back.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Result<Response, PageError> {
    // Reuse the token of a sign-in form already open in another tab, so
    // that form still works, but only a token this server issued.
    let csrf = match session::sign_in_token(&headers, state.config.secure_cookies) {
        Some(token) if state.forms.valid(&token).await? => token,
        _ => state.forms.issue().await?,
    };
    let view = SignInView {
        signed_in: None,
        csrf: csrf.clone(),
        error: None,
        username: String::new(),
        next: local_path(query.next.as_deref()),
    };
    let mut response = page(&view)?.into_response();
    let cookie = session::sign_in_cookie(&csrf, state.config.secure_cookies);
    set_cookie(&mut response, &cookie)?;
    Ok(response)
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    next: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// POST /sign-in: checks that the form came from this site with a token
/// the server issued, counts the attempt (see [`super::throttle`]), then
/// checks the password; starts a session and goes on to `next`.
pub async fn submit(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let cookie = session::sign_in_token(&headers, state.config.secure_cookies).unwrap_or_default();
    let issued =
        session::tokens_match(&cookie, &form.csrf) && state.forms.valid(&form.csrf).await?;
    if !issued || !csrf::same_origin(&headers) {
        return Err(PageError::forbidden(
            "This sign-in form has expired or did not come from this site: reload it and sign in again.",
        ));
    }
    if form.username.len() > MAX_USERNAME_BYTES {
        return Err(PageError::bad_request("That username is too long."));
    }
    let refused = match state.throttle.attempt(&form.username, &address).await? {
        Attempt::Allowed => None,
        Attempt::UsernameLocked { wait } => Some((
            wait,
            "Too many failed sign-ins for this username from your address",
        )),
        Attempt::AddressLocked { wait } => {
            Some((wait, "Too many failed sign-ins from your address"))
        }
    };
    if let Some((wait, why)) = refused {
        let minutes = wait.as_secs().div_ceil(60);
        let mut response = PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("{why}: try again in {minutes} minute(s)."),
        )
        .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, http::HeaderValue::from(wait.as_secs().max(1)));
        return Ok(response);
    }
    let account = directory::account_named(&state.auditor, &form.username).await?;
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    // argon2 takes tens of milliseconds of CPU and about 19 MiB: the pool
    // runs it off the async workers, a few at a time, in memory it reuses.
    let valid = state
        .verifiers
        .verify(stored, form.password)
        .await
        .map_err(|e| PageError::internal(&e))?;
    let next = local_path(form.next.as_deref());
    let Some(account) = account.filter(|_| valid) else {
        let view = SignInView {
            signed_in: None,
            csrf: form.csrf,
            error: Some("Wrong username or password."),
            username: form.username,
            next,
        };
        // The form again, as a page (401 would call for an HTTP
        // authentication scheme, which a form is not).
        return Ok(page(&view)?.into_response());
    };
    state.throttle.succeeded(&form.username, &address).await?;
    let token = state
        .sessions
        .start(account.id, account.password_hash.as_deref())
        .await?;
    let cookie = session::set_cookie(&token, state.config.secure_cookies);
    see_other_setting(&next, &cookie)
}

/// The sign-out form.
#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// What a sign-out asks the browser to forget: the cached pages (the
/// back/forward cache included, so Back does not show the log again), the
/// cookies and any storage.
pub const CLEAR_SITE_DATA: &str = r#""cache", "cookies", "storage""#;

/// POST /sign-out: ends the session (if the form carries its CSRF token
/// and comes from this site), clears the cookie and has the browser forget
/// the site's pages.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Result<Response, PageError> {
    if let Some(token) = session::token(&headers, state.config.secure_cookies) {
        let live = state.sessions.live(&token).await?;
        if let Some(live) = live
            && (!session::tokens_match(&live.csrf, &form.csrf) || !csrf::same_origin(&headers))
        {
            return Err(PageError::forbidden(
                "This sign-out form did not come from this site; you are still signed in.",
            ));
        }
        state.sessions.end(&token).await?;
    }
    let cookie = session::clear_cookie(state.config.secure_cookies);
    let mut response = see_other_setting("/sign-in", &cookie)?;
    response.headers_mut().insert(
        HeaderName::from_static("clear-site-data"),
        http::HeaderValue::from_static(CLEAR_SITE_DATA),
    );
    Ok(response)
}

/// A redirect to `location` that sets `cookie`.
fn see_other_setting(location: &str, cookie: &str) -> Result<Response, PageError> {
    let mut response = see_other(location);
    set_cookie(&mut response, cookie)?;
    Ok(response)
}

/// Adds a `Set-Cookie` header to `response`.
fn set_cookie(response: &mut Response, cookie: &str) -> Result<(), PageError> {
    let value = cookie
        .parse()
        .map_err(|e: http::header::InvalidHeaderValue| PageError::internal(&e))?;
    response.headers_mut().append(SET_COOKIE, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/projects/3?type=x")), "/projects/3?type=x");
        for away in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "projects",
            "/a\nb",
        ] {
            assert_eq!(local_path(Some(away)), "/", "{away}");
        }
        assert_eq!(local_path(None), "/");
    }
}
