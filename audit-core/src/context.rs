//! Where and why a change was made: the [`Context`] of a request or job,
//! recorded with every event its commands emit.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The largest context accepted, in bytes of JSON (its text fields and the
/// application's own pairs together).
pub const MAX_CONTEXT_BYTES: usize = 8 * 1024;

/// Where and why a change was made: set once per request or job on its
/// [`Audit`](crate::Audit) ([`Audit::set_context`](crate::Audit::set_context)),
/// and stored with every event of its commands.
///
/// The library's fields say which request (its id, the route, the trace it
/// belongs to), from where (the client's address and user agent) and which
/// program (host, program and version, OS user for a command-line job); the
/// application adds its own key/value pairs ([`with_field`](Context::with_field))
/// and a free-text [`reason`](Context::with_reason). Every field is optional:
/// an empty context stores nothing.
///
/// A web application gets it filled from each request by the `axum`
/// feature's layer; a command-line program starts from
/// [`Context::process`].
///
/// ```
/// use audit_core::Context;
///
/// let context = Context::new()
///     .with_request_id("req-7f3a")
///     .with_client_address("203.0.113.9".parse().unwrap())
///     .with_route("POST /projects/{id}/members")
///     .with_field("ticket", "SUP-1234")
///     .with_reason("the customer asked by phone");
/// assert_eq!(context.request_id.as_deref(), Some("req-7f3a"));
/// assert_eq!(context.fields["ticket"], "SUP-1234");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Context {
    /// The request's id: from a request-id header, or made for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The client's address (after the trusted-proxy rule of the layer
    /// that set it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_address: Option<IpAddr>,
    /// The client's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The route (`POST /projects/{id}/members`) or the command-line
    /// subcommand (`add-member`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// The distributed trace the work belongs to (W3C `traceparent`'s
    /// trace id, 32 hex digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// The `tracing` span the outermost command was called in (its id in
    /// this process), unless set otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// The machine the program ran on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The program and its version (`example-app 0.3.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// The operating-system user a command-line job ran as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_user: Option<String>,
    /// Why the change was made, in the actor's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The application's own key/value pairs (a ticket number, a tenant).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }

    /// The context of a process on this machine: its host name, `program`
    /// and `version` (pass `env!("CARGO_PKG_NAME")` and
    /// `env!("CARGO_PKG_VERSION")`), and the OS user it runs as (from
    /// `USER`, else `USERNAME`).
    pub fn process(program: &str, version: &str) -> Self {
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let os_user = ["USER", "USERNAME"]
            .into_iter()
            .find_map(|name| std::env::var(name).ok().filter(|user| !user.is_empty()));
        Context {
            host: Some(host).filter(|host| !host.is_empty()),
            program: Some(format!("{program} {version}")),
            os_user,
            ..Context::default()
        }
    }

    /// With the request's id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// With the client's address.
    pub fn with_client_address(mut self, address: IpAddr) -> Self {
        self.client_address = Some(address);
        self
    }

    /// With the client's user agent.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// With the route or command-line subcommand.
    pub fn with_route(mut self, route: impl Into<String>) -> Self {
        self.route = Some(route.into());
        self
    }

    /// With the distributed trace's id.
    pub fn with_trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }

    /// With a span id (instead of the current `tracing` span's).
    pub fn with_span_id(mut self, span_id: impl Into<String>) -> Self {
        self.span_id = Some(span_id.into());
        self
    }

    /// With the host name.
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// With the program and its version.
    pub fn with_program(mut self, program: &str, version: &str) -> Self {
        self.program = Some(format!("{program} {version}"));
        self
    }

    /// With the OS user.
    pub fn with_os_user(mut self, user: impl Into<String>) -> Self {
        self.os_user = Some(user.into());
        self
    }

    /// With the reason for the change.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// With the application's pair `key` = `value` (replacing an earlier
    /// value of `key`).
    pub fn with_field(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.insert(key.into(), value.into());
        self
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Context::default()
    }
}
