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
    /// `env!("CARGO_PKG_VERSION")`), and the OS user it runs as (the
    /// account of its user id, as the system names it; where the system
    /// cannot say, `USER`, else `USERNAME`).
    pub fn process(program: &str, version: &str) -> Self {
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let os_user = whoami::username()
            .ok()
            .filter(|user| !user.is_empty())
            .or_else(|| {
                ["USER", "USERNAME"]
                    .into_iter()
                    .find_map(|name| std::env::var(name).ok().filter(|user| !user.is_empty()))
            });
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

/// A context as the events table stores it: the two columns pages filter
/// on, and the rest as one JSON object (`None` when empty). Made once per
/// outermost command and shared by its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ContextColumns {
    /// `request_id`.
    pub request_id: Option<String>,
    /// `client_address`, as `IpAddr` prints it.
    pub client_address: Option<String>,
    /// `context`: every other field, as a JSON object with its keys in a
    /// fixed order.
    pub rest: Option<String>,
    /// Whether `rest` holds a user agent (a personal value, salted on its
    /// own: `store/personal.rs`).
    pub has_user_agent: bool,
}

impl Context {
    /// The columns this context is stored in, or why it cannot be (the
    /// store reports it as `AuditError::InvalidContext`).
    pub(crate) fn to_columns(&self) -> Result<ContextColumns, String> {
        let rest = Context {
            request_id: None,
            client_address: None,
            ..self.clone()
        };
        let rest = if rest.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(&rest)
                    .expect("invariant: a context of strings serializes to JSON"),
            )
        };
        let columns = ContextColumns {
            request_id: self.request_id.clone(),
            client_address: self.client_address.map(|address| address.to_string()),
            rest,
            has_user_agent: self.user_agent.is_some(),
        };
        let size = [&columns.request_id, &columns.client_address, &columns.rest]
            .into_iter()
            .flatten()
            .map(String::len)
            .sum::<usize>();
        if size > MAX_CONTEXT_BYTES {
            return Err(format!(
                "it is {size} bytes, over the limit of {MAX_CONTEXT_BYTES}"
            ));
        }
        // The JSON escapes a NUL as `\u0000`, which PostgreSQL's text keeps;
        // the plain columns would hold it raw, which it refuses.
        if [&columns.request_id, &columns.rest]
            .into_iter()
            .flatten()
            .any(|text| text.contains('\0') || text.contains("\\u0000"))
        {
            return Err("it holds a NUL character".to_owned());
        }
        Ok(columns)
    }

    /// The context stored in these columns. A column that does not hold
    /// what the library writes (an address that does not parse, a
    /// `context` that is not a JSON object of its fields) is left out,
    /// never an error: a page shows what can be read.
    pub(crate) fn from_columns(
        request_id: Option<&str>,
        client_address: Option<&str>,
        rest: Option<&str>,
    ) -> Context {
        let rest = rest
            .and_then(|json| serde_json::from_str::<Context>(json).ok())
            .unwrap_or_default();
        Context {
            request_id: request_id.map(str::to_owned),
            client_address: client_address.and_then(|address| address.parse().ok()),
            ..rest
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_reads_back_from_its_columns() {
        let context = Context::new()
            .with_request_id("r-1")
            .with_client_address("2001:db8::1".parse().expect("an address"))
            .with_user_agent("Mozilla/5.0 \"quoted\"")
            .with_route("POST /x")
            .with_trace_id("4bf92f3577b34da6a3ce929d0e0e4736")
            .with_span_id("7")
            .with_host("h")
            .with_program("p", "1.0")
            .with_os_user("u")
            .with_reason("why")
            .with_field("ticket", "T-1");
        let columns = context.to_columns().expect("a storable context");
        assert_eq!(columns.client_address.as_deref(), Some("2001:db8::1"));
        let back = Context::from_columns(
            columns.request_id.as_deref(),
            columns.client_address.as_deref(),
            columns.rest.as_deref(),
        );
        assert_eq!(back, context);
    }

    #[test]
    fn a_process_names_its_host_program_and_account() {
        let context = Context::process("p", "1.2");
        assert_eq!(context.program.as_deref(), Some("p 1.2"));
        assert!(context.host.is_some());
        // From the system, not only from `USER` (which CI may not set).
        assert!(context.os_user.is_some_and(|user| !user.is_empty()));
    }

    #[test]
    fn an_empty_context_stores_nothing() {
        assert_eq!(
            Context::new().to_columns().expect("storable"),
            ContextColumns::default()
        );
        assert_eq!(Context::from_columns(None, None, None), Context::new());
    }

    #[test]
    fn what_cannot_be_stored_is_refused() {
        let large = Context::new().with_field("k", "x".repeat(MAX_CONTEXT_BYTES));
        assert!(large.to_columns().is_err());
        for context in [
            Context::new().with_request_id("a\0b"),
            Context::new().with_reason("a\0b"),
        ] {
            assert_eq!(
                context.to_columns(),
                Err("it holds a NUL character".to_owned())
            );
        }
    }

    #[test]
    fn unreadable_columns_are_left_out() {
        let back = Context::from_columns(Some("r"), Some("not an address"), Some("[1]"));
        assert_eq!(back, Context::new().with_request_id("r"));
    }
}
