//! Presenting events: from a payload to the values its template shows.

use std::fmt::{self, Display};

/// What presenters may consult while presenting a page of events.
///
/// Today it carries nothing; it is where looked-up references (users,
/// projects) will be found, so presenters already take it.
#[derive(Debug, Default)]
pub struct PresentContext {
    _reserved: (),
}

impl PresentContext {
    /// A context with nothing looked up.
    pub fn new() -> Self {
        PresentContext::default()
    }
}

/// One value as a template shows it. Templates escape it as HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    text: String,
}

impl Shown {
    /// A value shown as plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Shown { text: text.into() }
    }

    /// The text, unescaped.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// How the default presenter shows a payload field.
///
/// Implemented for strings, numbers, `bool`, `char`, and for `Option` and
/// `Vec` of those. Implement it for your own field types, or give the event a
/// `presenter = path` of its own.
#[diagnostic::on_unimplemented(
    message = "the default presenter cannot show a field of type `{Self}`",
    label = "field of type `{Self}`",
    note = "implement `audit_core::Presentable` for `{Self}`, or give the event a `presenter = path` that builds its view"
)]
pub trait Presentable {
    /// The value as shown in a template.
    fn present(&self, cx: &PresentContext) -> Shown;
}

impl<T: Presentable + ?Sized> Presentable for &T {
    fn present(&self, cx: &PresentContext) -> Shown {
        (**self).present(cx)
    }
}

macro_rules! presentable_by_display {
    ($($ty:ty),* $(,)?) => {$(
        impl Presentable for $ty {
            fn present(&self, _: &PresentContext) -> Shown {
                Shown::text(self.to_string())
            }
        }
    )*};
}

presentable_by_display!(
    str, String, bool, char, u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32,
    f64
);

/// What an absent value or an empty list shows as.
pub const NONE_TEXT: &str = "none";

impl<T: Presentable> Presentable for Option<T> {
    fn present(&self, cx: &PresentContext) -> Shown {
        match self {
            Some(value) => value.present(cx),
            None => Shown::text(NONE_TEXT),
        }
    }
}

impl<T: Presentable> Presentable for [T] {
    fn present(&self, cx: &PresentContext) -> Shown {
        if self.is_empty() {
            return Shown::text(NONE_TEXT);
        }
        let parts: Vec<String> = self.iter().map(|v| v.present(cx).text).collect();
        Shown::text(parts.join(", "))
    }
}

impl<T: Presentable> Presentable for Vec<T> {
    fn present(&self, cx: &PresentContext) -> Shown {
        self.as_slice().present(cx)
    }
}

/// Rendering an event's template failed.
#[derive(Debug, thiserror::Error)]
#[error("rendering the template of event `{code}` failed: {source}")]
pub struct RenderError {
    /// The event's code.
    pub code: &'static str,
    /// What the template engine reported.
    #[source]
    pub source: askama::Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_options_have_readable_defaults() {
        let cx = PresentContext::new();
        assert_eq!(vec!["a", "b"].present(&cx).as_str(), "a, b");
        assert_eq!(Vec::<u32>::new().present(&cx).as_str(), NONE_TEXT);
        assert_eq!(None::<u32>.present(&cx).as_str(), NONE_TEXT);
        assert_eq!(Some(3).present(&cx).as_str(), "3");
    }
}
