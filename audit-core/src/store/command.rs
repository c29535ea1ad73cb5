//! The command context ([`Command`]): the only place events are emitted,
//! and the only holder of write access to immutable models (G4, G5, G7).

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use super::error::AuditError;
use super::table::EventRow;
use super::transaction::{Audit, CommandRun};
use crate::backend::Db;
use crate::catalog::{Event, EventCatalog, EventType};
use crate::model::{Model, WriteAccess};

/// The largest payload accepted, in bytes of JSON.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// Marks that command `C` declares event `Self` in `#[auditable(emits(...))]`.
///
/// Implemented by `#[auditable]` for each declared event, on a marker type
/// private to the command; emitting any other event does not compile (G4).
/// An implementation written by hand can only widen what a command of its
/// own crate may emit; it grants nothing else.
#[diagnostic::on_unimplemented(
    message = "command `{C}` does not declare event `{Self}`",
    label = "not in this command's `emits(...)`",
    note = "add `{Self}` to `#[auditable(emits(...))]` on the command `{C}`"
)]
pub trait EmittedBy<C> {}

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
    _command: PhantomData<fn() -> C>,
}

impl<'a, E: EventCatalog, C> Command<'a, E, C> {
    /// Starts command `name` in `audit` (the generated code's entry).
    pub(crate) fn enter(audit: &'a mut Audit<E>, name: &'static str) -> Self {
        if audit.depth == 0 {
            audit.current = Some(CommandRun {
                id: uuid::Uuid::new_v4().to_string(),
                occurred_at: chrono::Utc::now().timestamp_micros(),
            });
        }
        audit.depth += 1;
        Command {
            audit,
            name,
            emitted: Vec::new(),
            finished: false,
            _command: PhantomData,
        }
    }

    /// This command's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Records `event`, to be written when the transaction commits. Only the
    /// events in the command's `emits(...)` compile here.
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
        let row = EventRow {
            occurred_at: run.occurred_at,
            code,
            version: Ev::TYPE.version(),
            references: event.references(),
            command_name: self.name,
            command_id: run.id.clone(),
            payload,
        };
        self.audit.pending.push(row);
        self.emitted.push(code);
        Ok(())
    }

    /// Ends the command with the body's `result` (the generated code's
    /// exit): an `Ok` without every `required` event, or any `Err`, poisons
    /// the transaction (G5).
    pub(crate) fn finish<T, Er>(
        mut self,
        result: Result<T, Er>,
        required: &[&'static str],
    ) -> Result<T, Er>
    where
        Er: From<AuditError>,
    {
        self.finished = true;
        match result {
            Ok(value) => match required.iter().find(|code| !self.emitted.contains(code)) {
                None => Ok(value),
                Some(&event) => {
                    let error = AuditError::MissingEvent {
                        command: self.name,
                        event,
                    };
                    self.audit.poison(error.to_string());
                    Err(error.into())
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
