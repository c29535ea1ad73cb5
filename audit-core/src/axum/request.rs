//! What a request says about itself, read into a [`Context`]: the client's
//! address (behind trusted proxies), the request id, the user agent, the
//! route and the trace id. Nothing here panics on what a client sends.

use std::net::{IpAddr, SocketAddr};

use axum::extract::MatchedPath;
use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::http::header::{HeaderMap, HeaderName, USER_AGENT};
use axum::http::{Extensions, Method, Uri};

use super::network::IpNetwork;
use crate::context::Context;

/// The request-id header read and answered unless the layer names another.
const DEFAULT_REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client, in bytes.
const MAX_REQUEST_ID_BYTES: usize = 128;

/// The longest user agent kept, in bytes (cut on a character boundary).
const MAX_USER_AGENT_BYTES: usize = 512;

/// The longest route kept, in bytes (a path the router did not match is
/// the client's text).
const MAX_ROUTE_BYTES: usize = 1024;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// How a layer reads requests: whom it trusts to report the client's
/// address, and the header of the request id.
#[derive(Debug, Clone)]
pub(super) struct Rules {
    pub(super) trusted_proxies: Vec<IpNetwork>,
    pub(super) request_id_header: HeaderName,
    /// This server's host name, recorded in every request's context.
    pub(super) host: Option<String>,
    /// This program and its version, likewise.
    pub(super) program: Option<String>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            trusted_proxies: Vec::new(),
            request_id_header: DEFAULT_REQUEST_ID_HEADER,
            host: None,
            program: None,
        }
    }
}

/// The parts of a request a context is read from.
pub(super) struct RequestParts<'a> {
    pub(super) method: &'a Method,
    pub(super) uri: &'a Uri,
    pub(super) headers: &'a HeaderMap,
    pub(super) extensions: &'a Extensions,
}

impl Rules {
    /// The context of a request: every field the request gives, and a new
    /// request id when it gives none that is acceptable. A request that
    /// already holds a context (a layer ran before this one) keeps its
    /// request id, the one that layer answers with.
    pub(super) fn context(&self, request: &RequestParts<'_>) -> Context {
        let RequestParts {
            method,
            uri,
            headers,
            extensions,
        } = *request;
        let request_id = match extensions.get::<Context>() {
            Some(Context {
                request_id: Some(id),
                ..
            }) => id.clone(),
            _ => self.request_id(headers),
        };
        let mut context = Context::new().with_request_id(request_id);
        context.client_address = client_address(peer(extensions), headers, &self.trusted_proxies);
        context.user_agent = user_agent(headers);
        context.route = Some(route(method, uri, extensions));
        context.trace_id = trace_id(headers);
        context.host.clone_from(&self.host);
        context.program.clone_from(&self.program);
        context
    }

    /// The request's id from its header when acceptable, else a new UUID v4.
    fn request_id(&self, headers: &HeaderMap) -> String {
        headers
            .get(&self.request_id_header)
            .and_then(|value| acceptable_request_id(value.as_bytes()))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    }
}

/// `value` as a request id: 1 to 128 visible ASCII characters (0x21 to
/// 0x7e), so that it can be quoted in a log line or a support ticket as is.
fn acceptable_request_id(value: &[u8]) -> Option<String> {
    let visible = value.iter().all(|b| (0x21..=0x7e).contains(b));
    if !visible || value.is_empty() || value.len() > MAX_REQUEST_ID_BYTES {
        return None;
    }
    std::str::from_utf8(value).ok().map(str::to_owned)
}

/// The address of the connection's peer: axum's `ConnectInfo<SocketAddr>`
/// (or the `MockConnectInfo` that tests put in its place), IPv4-mapped
/// addresses as IPv4.
fn peer(extensions: &Extensions) -> Option<IpAddr> {
    let peer = match extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(address)) => *address,
        None => extensions.get::<MockConnectInfo<SocketAddr>>()?.0,
    };
    Some(peer.ip().to_canonical())
}

/// The client's address: the rightmost address of the chain that no
/// trusted proxy reported (see the layer's documentation).
fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNetwork],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |address: IpAddr| trusted.iter().any(|network| network.contains(address));
    if !is_trusted(peer) {
        return Some(peer);
    }
    // The hop nearest the client found so far, every one of them trusted.
    let mut client = peer;
    // Header lines are one list, in order: walk the last line first.
    for line in headers.get_all(X_FORWARDED_FOR).iter().rev() {
        let Ok(line) = line.to_str() else {
            return Some(client);
        };
        for entry in line.rsplit(',') {
            let Some(address) = forwarded_address(entry) else {
                return Some(client);
            };
            client = address;
            if !is_trusted(address) {
                return Some(client);
            }
        }
    }
    Some(client)
}

/// One entry of `X-Forwarded-For`: an address (`192.0.2.7`, `2001:db8::7`),
/// or one with a port (`192.0.2.7:51234`, `[2001:db8::7]:51234`), as some
/// proxies write it; anything else (`unknown`, an empty entry) is `None`.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim_matches([' ', '\t']);
    let address = match entry.parse::<IpAddr>() {
        Ok(address) => address,
        Err(_) => entry.parse::<SocketAddr>().ok()?.ip(),
    };
    Some(address.to_canonical())
}

/// The `User-Agent` header, decoded lossily, at most
/// [`MAX_USER_AGENT_BYTES`]; none when absent or empty.
fn user_agent(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(USER_AGENT)?.as_bytes();
    let text = String::from_utf8_lossy(value).into_owned();
    Some(truncated(text, MAX_USER_AGENT_BYTES)).filter(|text| !text.is_empty())
}

/// `"{METHOD} {path}"`: the route the router matched (`/projects/{id}`),
/// else the request's path without its query, at most [`MAX_ROUTE_BYTES`].
fn route(method: &Method, uri: &Uri, extensions: &Extensions) -> String {
    let path = match extensions.get::<MatchedPath>() {
        Some(matched) => matched.as_str(),
        None => uri.path(),
    };
    truncated(format!("{method} {path}"), MAX_ROUTE_BYTES)
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn truncated(mut text: String, max: usize) -> String {
    if text.len() > max {
        let end = text.floor_char_boundary(max);
        text.truncate(end);
    }
    text
}

/// The trace id of the one W3C `traceparent` header, if it is valid
/// (several such headers are not).
fn trace_id(headers: &HeaderMap) -> Option<String> {
    let mut values = headers.get_all(TRACEPARENT).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    traceparent_trace_id(value.as_bytes())
}

/// The trace id of a W3C Trace Context `traceparent` value,
/// `{version}-{trace id}-{parent id}-{flags}`: two, 32, 16 and two
/// lower-case hex digits, neither id all zeros, the version not `ff`.
/// Version `00` is exactly that; a later version may add fields after a
/// `-` (the specification's rule for versions it does not know yet).
fn traceparent_trace_id(value: &[u8]) -> Option<String> {
    const LENGTH: usize = 55;
    let version = value.get(0..2)?;
    if !is_lower_hex(version) || version == b"ff" {
        return None;
    }
    let length_ok = match version {
        b"00" => value.len() == LENGTH,
        _ => value.len() == LENGTH || value.get(LENGTH) == Some(&b'-'),
    };
    let dashes = [2, 35, 52].iter().all(|&i| value.get(i) == Some(&b'-'));
    if !length_ok || !dashes {
        return None;
    }
    let trace = value.get(3..35)?;
    let parent = value.get(36..52)?;
    let flags = value.get(53..55)?;
    let all_zero = |id: &[u8]| id.iter().all(|&b| b == b'0');
    if !is_lower_hex(trace) || !is_lower_hex(parent) || !is_lower_hex(flags) {
        return None;
    }
    if all_zero(trace) || all_zero(parent) {
        return None;
    }
    std::str::from_utf8(trace).ok().map(str::to_owned)
}

/// Whether every byte is a lower-case hex digit.
fn is_lower_hex(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
