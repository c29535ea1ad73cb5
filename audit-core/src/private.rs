//! Items the generated code reaches through `::audit_core::__private`.
//! Not part of the public API: they change without notice.

pub use ::askama;
pub use ::serde;
pub use ::serde_json;
pub use ::sqlx;

pub use crate::catalog::{EntityRef, Event, EventCatalog, EventType, Reference, References};
pub use crate::decode::UnknownReason;
pub use crate::error::UnknownEventCode;
pub use crate::model::{Model, WriteAccess};
pub use crate::present::{PresentContext, Presentable, RenderError, Shown};
pub use crate::store::{Audit, AuditError, Command, Db, EmittedBy};

/// Decodes a payload stored at version `stored` of an event now at `current`.
pub fn decode_payload<P: serde::de::DeserializeOwned>(
    stored: i64,
    current: u32,
    raw: &str,
) -> Result<P, UnknownReason> {
    crate::decode::decode_payload(stored, current, raw)
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
    buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
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
