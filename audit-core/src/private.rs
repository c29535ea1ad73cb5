//! Items the generated code reaches through `::audit_core::__private`.
//!
//! Not part of the public API: they change without notice, and code that
//! calls them by hand bypasses what the macros guarantee. In particular
//! [`AuditSession::enter`] and [`finish_command`] are how `#[auditable]` makes
//! and ends a [`Command`], the only holder of write access to immutable models (G7)
//! and the only way to emit events (G4, G5); anything else that called
//! them would be a command the compiler never checked.

pub use ::askama;
pub use ::serde;
pub use ::serde_json;
pub use ::sqlx;

pub use crate::backend::{Absurd, Backend, ByBackend, Db};
pub use crate::catalog::{ActiveEvent, Event, EventCatalog, EventType, PayloadField};
pub use crate::decode::UnknownReason;
pub use crate::erasable::Erasable;
pub use crate::error::UnknownEventCode;
pub use crate::model::{Model, WriteAccess};
pub use crate::present::{PresentContext, Presentable, RenderError, Shown};
pub use crate::reference::{EntityRef, Reference, References};
pub use crate::store::command::{
    AuditSession, Command, CommandOutput, Emits, EmittedBy, FromAuditError,
};
pub use crate::store::error::AuditError;
pub use crate::store::transaction::{Audit, EmittedOutsideCommand};

/// Ends `command` with its body's `result`: an `Ok` that lacks one of the
/// `required` event codes, or an `Err`, makes the transaction unable to
/// commit. `into_error` (`FromAuditError::from_audit_error`, named where the
/// macro can point an error at the user's error type) makes the error of a
/// missing event.
pub fn finish_command<E: EventCatalog, C, T, Er>(
    command: Command<'_, E, C>,
    result: Result<T, Er>,
    required: &[&'static str],
    into_error: fn(AuditError) -> Er,
) -> Result<T, Er> {
    command.finish(result, required, into_error)
}

/// The tracing span a command's body runs in ([`Command::span`]).
///
/// A trait, not a function taking a `Command`: when the session parameter
/// is not an `Audit`, the context's type is an error that rustc reports
/// once; a function's parameter type would make it a `Command` and bring
/// the body's every use of the session up as errors too.
pub trait CommandSpan {
    /// The command's span, to run its body in.
    fn command_span(&self) -> tracing::Span;
}

impl<E: EventCatalog, C> CommandSpan for Command<'_, E, C> {
    fn command_span(&self) -> tracing::Span {
        self.span().clone()
    }
}

/// `body`, run inside `span` (entered at each poll, so the span holds
/// across the body's awaits).
pub fn in_span<F: std::future::Future>(
    span: tracing::Span,
    body: F,
) -> tracing::instrument::Instrumented<F> {
    tracing::Instrument::instrument(body, span)
}

/// Decodes a payload stored at version `stored` of an event now at `current`.
pub fn decode_payload<P: serde::de::DeserializeOwned>(
    stored: i64,
    current: u32,
    raw: &str,
) -> Result<P, UnknownReason> {
    crate::decode::decode_payload(stored, current, raw)
}

/// Checks a stored version against an event's `current` version and its
/// `oldest` readable one (where its upgrades start); returns the version.
pub fn payload_version(stored: i64, current: u32, oldest: u32) -> Result<u32, UnknownReason> {
    crate::decode::payload_version(stored, current, oldest)
}

/// Reads a stored payload as the payload type of its stored version.
pub fn read_payload<P: serde::de::DeserializeOwned>(raw: &str) -> Result<P, UnknownReason> {
    crate::decode::read_payload(raw)
}

/// Reads a stored payload as JSON, for an upgrade written on JSON.
pub fn read_json(raw: &str) -> Result<serde_json::Value, UnknownReason> {
    crate::decode::read_json(raw)
}

/// The payload an upgrade to `version` produced, as JSON for a JSON upgrade.
pub fn to_json<P: serde::Serialize>(
    payload: &P,
    version: u32,
) -> Result<serde_json::Value, UnknownReason> {
    crate::decode::to_json(payload, version)
}

/// The JSON an upgrade to `version` produced, read as that version's payload.
pub fn from_json<P: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    version: u32,
) -> Result<P, UnknownReason> {
    crate::decode::from_json(value, version)
}

/// Runs an upgrade written on JSON, from version `from` to the next.
pub fn upgrade_json(
    upgrade: fn(serde_json::Value) -> Result<serde_json::Value, String>,
    value: serde_json::Value,
    from: u32,
) -> Result<serde_json::Value, UnknownReason> {
    crate::decode::upgrade_json(upgrade, value, from)
}

/// Renders a generated view through its template.
pub fn render<V: askama::Template>(view: &V, code: &'static str) -> Result<String, RenderError> {
    view.render().map_err(|source| RenderError { code, source })
}

/// Deserializes an event type from its code.
pub fn deserialize_event_type<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: EventType,
{
    let code = <String as serde::Deserialize>::deserialize(deserializer)?;
    code.parse().map_err(<D::Error as serde::de::Error>::custom)
}

/// Encodes an event type as its code, on any sqlx backend that stores text.
pub fn encode_event_type<'q, DB>(
    code: &'static str,
    buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'q, DB>,
{
    <String as sqlx::Encode<'q, DB>>::encode(code.to_owned(), buf)
}

/// Decodes an event type from its stored code.
pub fn decode_event_type<'r, DB, T>(
    value: <DB as sqlx::Database>::ValueRef<'r>,
) -> Result<T, sqlx::error::BoxDynError>
where
    DB: sqlx::Database,
    &'r str: sqlx::Decode<'r, DB>,
    T: EventType,
{
    let code = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
    Ok(code.parse::<T>()?)
}

/// Chooses, for a field of type `T`, serde's own code when `T` implements
/// serde ([`SerdeField`], found first by method resolution on
/// `&FieldProbe<T>`) and an inert stand-in otherwise ([`NotSerdeField`]),
/// so that the payload's derived serde impls compile either way and the
/// only error is the [`PayloadField`] check's. The stand-in never runs: a type it
/// would serve fails that check, so the crate does not build.
pub struct FieldProbe<T>(std::marker::PhantomData<fn() -> T>);

impl<T> FieldProbe<T> {
    /// The probe for fields of type `T`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        FieldProbe(std::marker::PhantomData)
    }
}

/// A field type with serde support: (de)serialized by serde.
pub trait SerdeField<T> {
    /// Serializes `value` with serde.
    fn serialize_field<S: serde::Serializer>(
        &self,
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error>;

    /// Deserializes a value with serde.
    fn deserialize_field<'de, D: serde::Deserializer<'de>>(
        &self,
        deserializer: D,
    ) -> Result<T, D::Error>;
}

impl<T: serde::Serialize + serde::de::DeserializeOwned> SerdeField<T> for FieldProbe<T> {
    fn serialize_field<S: serde::Serializer>(
        &self,
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    fn deserialize_field<'de, D: serde::Deserializer<'de>>(
        &self,
        deserializer: D,
    ) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}

/// A field type without serde support: the `PayloadField` check has already
/// failed the build, so these are never called.
pub trait NotSerdeField<T> {
    /// Never called (see [`FieldProbe`]); an error if it were.
    fn serialize_field<S: serde::Serializer>(
        &self,
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error>;

    /// Never called (see [`FieldProbe`]); an error if it were.
    fn deserialize_field<'de, D: serde::Deserializer<'de>>(
        &self,
        deserializer: D,
    ) -> Result<T, D::Error>;
}

impl<T> NotSerdeField<T> for &FieldProbe<T> {
    fn serialize_field<S: serde::Serializer>(&self, _: &T, _: S) -> Result<S::Ok, S::Error> {
        Err(<S::Error as serde::ser::Error>::custom(
            "payload field type without serde support",
        ))
    }

    fn deserialize_field<'de, D: serde::Deserializer<'de>>(&self, _: D) -> Result<T, D::Error> {
        Err(<D::Error as serde::de::Error>::custom(
            "payload field type without serde support",
        ))
    }
}

/// A `#[personal]` field type that says what it reads back as once erased:
/// the erased value. Found first by method resolution on `&FieldProbe<T>`,
/// before [`NotErasableField`].
pub trait ErasableField<T> {
    /// `T`'s erased value.
    fn erased_field<E: serde::de::Error>(&self) -> Result<T, E>;
}

impl<T: Erasable> ErasableField<T> for FieldProbe<T> {
    fn erased_field<E: serde::de::Error>(&self) -> Result<T, E> {
        Ok(T::erased())
    }
}

/// A `#[personal]` field type without [`Erasable`]: the macro's check on the
/// field's type has already failed the build, so this is never called. It
/// lets the field's generated deserializer compile, so that the check's
/// error is the only one.
pub trait NotErasableField<T> {
    /// Never called (see above); an error if it were.
    fn erased_field<E: serde::de::Error>(&self) -> Result<T, E>;
}

impl<T> NotErasableField<T> for &FieldProbe<T> {
    fn erased_field<E: serde::de::Error>(&self) -> Result<T, E> {
        Err(E::custom(
            "erased value of a personal field whose type does not implement `Erasable`",
        ))
    }
}

/// `sqlite` or `postgres`, whichever is `backend`'s: generated SQL that
/// differs by backend, chosen without naming a backend the application's
/// build of audit-core may leave out.
pub fn sql_for(backend: Backend, sqlite: &'static str, postgres: &'static str) -> &'static str {
    match backend {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => {
            let _ = postgres;
            sqlite
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let _ = sqlite;
            postgres
        }
    }
}
