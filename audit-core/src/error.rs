//! Errors of the event types themselves.

/// A string that is not the code of any event of a catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event code `{code}` in catalog `{catalog}`")]
pub struct UnknownEventCode {
    /// The string that was parsed.
    pub code: String,
    /// The catalog that was asked.
    pub catalog: &'static str,
}
