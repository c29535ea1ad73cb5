//! The command context ([`Command`]): the only place events are emitted,
//! and the only holder of write access to immutable models (G4, G5, G7).

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::error::AuditError;
use super::personal;
use super::table::EventRow;
use super::transaction::{Audit, CommandRun};
use crate::backend::Db;
use crate::catalog::{Event, EventCatalog, EventType};
use crate::context::{Context, ContextColumns};
use crate::model::{Model, WriteAccess};

/// The largest payload accepted, in bytes of JSON.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// Marks that command `Self` declares event `Ev` in `#[auditable(emits(...))]`.
///
/// Implemented by `#[auditable]` for each declared event, on a marker type
/// private to the command (named like the command, inside its body, where
/// nothing else sees it); emitting any other event does not compile (G4).
/// Nobody outside the command can name the marker, so nobody else can add
/// to what it may emit.
#[diagnostic::on_unimplemented(
    message = "command `{Self}` does not declare event `{Ev}`",
    label = "not in this command's `emits(...)`",
    note = "add `{Ev}` to `#[auditable(emits(...))]` on the command `{Self}`"
)]
pub trait Emits<Ev> {}

/// Holds when command `C` may emit event `Self`, that is when `C: Emits<Self>`:
/// the bound of [`Command::emit`].
///
/// It exists, instead of that bound written `C: Emits<Ev>`, so that the
/// event's type is the argument's: with one declared event, the compiler
/// would otherwise take that event as the expected argument and report a
/// type mismatch instead of an undeclared event.
pub trait EmittedBy<C> {}

impl<Ev, C: Emits<Ev>> EmittedBy<C> for Ev {}

/// What a command returns: a `Result`, whose error can carry an [`AuditError`].
///
/// `#[auditable]` accepts any written return type, `Result<T, E>` or an
/// alias of one (`-> CmdResult<T>`), and lets the compiler check it through
/// this trait: a return type that is no `Result` is a compile error on the
/// type. Implemented for every `Result<T, E>`; the error type must also
/// implement [`FromAuditError`].
#[diagnostic::on_unimplemented(
    message = "a command returns `Result<T, E>`, not `{Self}`",
    label = "not a `Result`",
    note = "declare the command `-> Result<T, E>` (or an alias of such a `Result`) with \
            `E: From<audit_core::AuditError>`: a command fails, and its transaction does not \
            commit, when a required event was not emitted"
)]
pub trait CommandOutput: Sized {
    /// What the command returns on success.
    type Value;
    /// What the command returns on failure.
    type Error;
    /// `self` as a `Result`.
    fn into_result(self) -> Result<Self::Value, Self::Error>;
    /// A `Result` as `Self`.
    fn from_result(result: Result<Self::Value, Self::Error>) -> Self;
}

impl<T, E> CommandOutput for Result<T, E> {
    type Value = T;
    type Error = E;
    fn into_result(self) -> Self {
        self
    }
    fn from_result(result: Self) -> Self {
        result
    }
}

/// The error type of a command: one that an [`AuditError`] converts into, so
/// that a command missing a required event, or whose `emit` failed, can
/// return it.
///
/// Implemented for every type implementing `From<AuditError>`; with
/// thiserror, a variant `Audit(#[from] AuditError)` does it. `#[auditable]`
/// checks it on the error type of the command's `Result`.
#[diagnostic::on_unimplemented(
    message = "the error type of a command must implement `From<audit_core::AuditError>`",
    label = "`{Self}` does not implement `From<AuditError>`",
    note = "a command returns this error when it misses a required event or an emit fails: \
            with thiserror, add a variant `Audit(#[from] audit_core::AuditError)` to `{Self}`; \
            otherwise write `impl From<audit_core::AuditError> for {Self}`"
)]
pub trait FromAuditError {
    /// Converts `error`.
    fn from_audit_error(error: AuditError) -> Self;
}

impl<E: From<AuditError>> FromAuditError for E {
    fn from_audit_error(error: AuditError) -> Self {
        error.into()
    }
}

/// The audit session a command takes: implemented by [`Audit`] alone.
///
/// `#[auditable]` takes the parameter typed `&mut Audit<..>` as the session
/// (or, when no parameter's type is written `Audit`, the first `&mut`
/// parameter, for an alias such as `&mut StaffAudit`), and enters the
/// command through this trait, so that a session of another type is one
/// error on that type. The command context is named through
/// [`Context`](AuditSession::Context), so that the body of such a command
/// adds no errors of its own.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the audit session of a command is `&mut audit_core::Audit<Catalog>`, not `&mut {Self}`",
    label = "taken as this command's audit session",
    note = "a command's session is its parameter typed `&mut Audit<..>` or `&mut` an alias \
            named `..Audit`, else its one `&mut` parameter: add \
            `cx: &mut audit_core::Audit<YourEvents>`"
)]
pub trait AuditSession {
    /// The context of a command `C` running in this session.
    type Context<'a, C>
    where
        Self: 'a;
    /// Starts the command `name` (the generated code's entry).
    fn enter<C>(&mut self, name: &'static str) -> Self::Context<'_, C>;
}

impl<E: EventCatalog> AuditSession for Audit<E> {
    type Context<'a, C>
        = Command<'a, E, C>
    where
        Self: 'a;
    fn enter<C>(&mut self, name: &'static str) -> Command<'_, E, C> {
        Command::enter(self, name)
    }
}

/// The context of one running `#[auditable]` command: the only place events
/// are emitted. It dereferences to the [`Audit`] transaction, so the
/// command's own SQL (`cx.db()`) and nested commands (`other_command(cx, ..)`)
/// run in the same transaction.
///
/// Only code that `#[auditable]` generates makes one: it has no public
/// constructor.
pub struct Command<'a, E: EventCatalog, C> {
    audit: &'a mut Audit<E>,
    name: &'static str,
    emitted: Vec<&'static str>,
    finished: bool,
    /// The `audit.command` span the command's body runs in.
    span: tracing::Span,
    _command: PhantomData<fn() -> C>,
}

impl<'a, E: EventCatalog, C> Command<'a, E, C> {
    /// Starts command `name` in `audit` (the generated code's entry).
    pub(crate) fn enter(audit: &'a mut Audit<E>, name: &'static str) -> Self {
        if audit.depth == 0 {
            audit.current = Some(CommandRun {
                id: uuid::Uuid::new_v4().to_string(),
                occurred_at: chrono::Utc::now().timestamp_micros(),
                context: run_context(&audit.context),
            });
        }
        audit.depth += 1;
        let span = tracing::info_span!(
            "audit.command",
            command = name,
            command_id = audit.current.as_ref().map_or("", |run| run.id.as_str()),
            depth = audit.depth,
            backend = audit.backend().name(),
            events = tracing::field::Empty,
        );
        Command {
            audit,
            name,
            emitted: Vec::new(),
            finished: false,
            span,
            _command: PhantomData,
        }
    }

    /// This command's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The `audit.command` tracing span the command's body runs in (fields
    /// `command`, `command_id`, `depth`, `backend`, and `events`, the number
    /// it emitted, recorded when it ends).
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Records `event`, to be written when the transaction commits. Only the
    /// events in the command's `emits(...)` compile here. When a helper
    /// builds a required event, name its type here, `cx.emit::<Ev>(build())`:
    /// `#[auditable]` refuses a command whose body never names one.
    pub fn emit<Ev>(&mut self, event: Ev) -> Result<(), AuditError>
    where
        Ev: Event<Catalog = E> + EmittedBy<C>,
    {
        let code = Ev::TYPE.code();
        // A failed emit fails the transaction too, even if the command goes on.
        let payload = match checked_payload(&event, code) {
            Ok(payload) => payload,
            Err(error) => {
                self.audit
                    .poison(format!("command `{}`: {error}", self.name));
                return Err(error);
            }
        };
        let run = self
            .audit
            .current
            .as_ref()
            .expect("invariant: a command is running while its context exists");
        let context = run.context.clone();
        let personal = match personal::salted(
            self.audit.actor(),
            context.as_deref(),
            Ev::TYPE.personal_fields(),
        ) {
            Ok(personal) => personal,
            Err(error) => {
                self.audit
                    .poison(format!("command `{}`: {error}", self.name));
                return Err(error);
            }
        };
        let run = self
            .audit
            .current
            .as_ref()
            .expect("invariant: a command is running while its context exists");
        let row = EventRow {
            occurred_at: run.occurred_at,
            code,
            version: Ev::TYPE.version(),
            references: event.references(),
            command_name: self.name,
            command_id: run.id.clone(),
            payload,
            context: run.context.clone(),
            personal,
        };
        self.audit.pending.push(row);
        self.emitted.push(code);
        Ok(())
    }

    /// Ends the command with the body's `result` (the generated code's
    /// exit): an `Ok` without every `required` event, or any `Err`, poisons
    /// the transaction (G5). A missing event becomes the command's error
    /// through `into_error`.
    pub(crate) fn finish<T, Er>(
        mut self,
        result: Result<T, Er>,
        required: &[&'static str],
        into_error: fn(AuditError) -> Er,
    ) -> Result<T, Er> {
        self.finished = true;
        self.span.record("events", self.emitted.len());
        match result {
            Ok(value) => match required.iter().find(|code| !self.emitted.contains(code)) {
                None => Ok(value),
                Some(&event) => {
                    let error = AuditError::MissingEvent {
                        command: self.name,
                        event,
                    };
                    self.audit.poison(error.to_string());
                    Err(into_error(error))
                }
            },
            Err(error) => {
                self.audit
                    .poison(format!("command `{}` returned an error", self.name));
                Err(error)
            }
        }
    }
}

impl<E: EventCatalog, C> Drop for Command<'_, E, C> {
    fn drop(&mut self) {
        if !self.finished {
            // Cancelled or panicked mid-way: whatever it wrote must not commit.
            self.audit
                .poison(format!("command `{}` did not run to completion", self.name));
        }
        self.audit.depth -= 1;
        if self.audit.depth == 0 {
            self.audit.current = None;
        }
    }
}

impl<E: EventCatalog, C> Deref for Command<'_, E, C> {
    type Target = Audit<E>;
    fn deref(&self) -> &Audit<E> {
        self.audit
    }
}

impl<E: EventCatalog, C> DerefMut for Command<'_, E, C> {
    fn deref_mut(&mut self) -> &mut Audit<E> {
        self.audit
    }
}

impl<E: EventCatalog, C, M: Model> WriteAccess<M> for Command<'_, E, C> {
    fn write_db(&mut self) -> Db<'_> {
        self.db()
    }
}

/// The columns of the context an outermost command's events are stored
/// with: the transaction's, with the `tracing` span the command is called
/// in unless it names one; `None` when that leaves nothing to store.
fn run_context(context: &Context) -> Option<Arc<ContextColumns>> {
    let span = match &context.span_id {
        Some(_) => None,
        None => tracing::Span::current().id(),
    };
    let columns = match span {
        None if context.is_empty() => return None,
        None => context.to_columns(),
        Some(span) => context
            .clone()
            .with_span_id(span.into_u64().to_string())
            .to_columns(),
    };
    // `set_context` checked the context; a span id adds a few digits,
    // which may only tip it over the size limit: then it goes without.
    Some(Arc::new(columns.or_else(|_| context.to_columns()).ok()?))
}

/// The payload as stored, or why it cannot be.
pub(super) fn checked_payload<Ev: Event>(
    event: &Ev,
    code: &'static str,
) -> Result<String, AuditError> {
    let payload = serde_json::to_string(event).map_err(|source| AuditError::Serialize {
        event: code,
        source,
    })?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(AuditError::PayloadTooLarge {
            event: code,
            size: payload.len(),
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    // PostgreSQL cannot store NUL in text or JSONB; refuse it on every backend alike.
    if has_escaped_nul(&payload) {
        return Err(AuditError::NulCharacter { event: code });
    }
    Ok(payload)
}

/// Whether JSON text holds a NUL character, which serde_json writes as the
/// escape `\u0000`. A backslash that is itself escaped (`\\u0000`, the
/// text "\u0000") is not one.
fn has_escaped_nul(json: &str) -> bool {
    let bytes = json.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes[i + 1..].starts_with(b"u0000") {
                return true;
            }
            // Any other escape, `\\` included, stands for one character: skip it.
            i += 1;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::has_escaped_nul;

    #[test]
    fn only_an_escape_of_nul_is_a_nul() {
        for (json, nul) in [
            (r#""a\u0000b""#, true),
            (r#""\\u0000""#, false),
            (r#""\\\u0000""#, true),
            (r#""\u00001""#, true),
            (r#""u0000""#, false),
            (r#""\u0001""#, false),
        ] {
            assert_eq!(has_escaped_nul(json), nul, "{json}");
        }
    }
}
