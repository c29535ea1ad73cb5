//! Presenting events: from a payload to the values its template shows.
//!
//! Each event's template is rendered from a view whose fields are
//! [`Shown`] values: text, or a link, HTML-escaped when rendered. The
//! default presenter makes each from a payload field through
//! [`Presentable`]; an event's own `presenter = path` may build them
//! otherwise. References (a user, a project) show as what they are now:
//! [`PresentContext::for_page`] asks the application's [`Resolver`] once per
//! kind for a whole page of events, and presenters find the answers
//! ([`Resolved`]) in the [`PresentContext`]. For terminals and logs,
//! [`plain_text`] turns rendered HTML back into printable text.
//!
//! ```
//! use audit_core::Actor;
//! use audit_core::events::EntityRef;
//! use audit_core::present::{ACTOR_KIND, PresentContext, Presentable, Resolved, plain_text};
//!
//! let mut cx = PresentContext::new();
//! assert_eq!(Some("Apollo").present(&cx).to_string(), "Apollo");
//! assert_eq!(None::<&str>.present(&cx).to_string(), "none");
//!
//! // A user renamed since they acted shows by their name now, linked.
//! cx.insert(
//!     &EntityRef::new(ACTOR_KIND, "7"),
//!     Resolved { label: "ada <admin>".into(), href: Some("/users/7".into()) },
//! );
//! let html = cx.actor(&Actor::user(7, "ada")).to_string();
//! assert_eq!(html, r#"<a href="/users/7">ada &#60;admin&#62;</a>"#);
//! assert_eq!(plain_text(&html), "ada <admin>");
//! ```

use std::collections::HashMap;
use std::fmt::{self, Display};

use crate::actor::Actor;
use crate::reference::EntityRef;

/// What presenters may consult while presenting a page of events: the
/// references of the whole page, looked up once per kind by a [`Resolver`].
#[derive(Debug, Default)]
pub struct PresentContext {
    resolved: HashMap<(String, String), Resolved>,
}

/// What one reference was found to be, now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// How to name it (a username, a project name).
    pub label: String,
    /// Where it lives in the application, if it has a page.
    pub href: Option<String>,
}

/// The application's lookup of references, one batched query per kind.
/// Implement it once; [`PresentContext::for_page`] calls it once per kind that
/// the page refers to, however many events the page holds.
pub trait Resolver: Sync {
    /// What a lookup can fail with.
    type Error;

    /// Looks up every id of `kind` (as stored in [`EntityRef`]); ids missing
    /// from the result no longer exist. Kinds the application does not look
    /// up return an empty map without a query.
    fn resolve(
        &self,
        kind: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<HashMap<String, Resolved>, Self::Error>> + Send;
}

impl PresentContext {
    /// A context with nothing looked up: references show their stored names.
    pub fn new() -> Self {
        PresentContext::default()
    }

    /// Records what `entity` resolved to.
    pub fn insert(&mut self, entity: &EntityRef, resolved: Resolved) {
        self.resolved
            .insert((entity.kind.to_string(), entity.id.clone()), resolved);
    }

    /// Who acted, as a page shows it: a person as they are now (a link where
    /// the resolver gave one), else by their stored username; a person
    /// acting as another the same, followed by "(as NAME)" with the name
    /// stored; a service or a system process by its name.
    pub fn actor(&self, actor: &Actor) -> Shown {
        let Some(id) = actor.user_id() else {
            return Shown::text(actor.to_string());
        };
        let shown = match self.resolved(&EntityRef::new(ACTOR_KIND, id.to_owned())) {
            Some(resolved) => Shown::resolved(resolved),
            None => Shown::text(actor.name()),
        };
        match actor.as_name() {
            Some(as_name) => Shown {
                text: format!("{} (as {as_name})", shown.text),
                href: shown.href,
            },
            None => shown,
        }
    }

    /// What `entity` resolved to, if it was looked up and still exists.
    pub fn resolved(&self, entity: &EntityRef) -> Option<&Resolved> {
        self.resolved
            .get(&(entity.kind.to_string(), entity.id.clone()))
    }
}

/// The kind under which acting users are looked up.
pub const ACTOR_KIND: &str = "user";

/// One value as a template shows it: text, or a link. Its `Display` writes
/// HTML with the text and address escaped, so templates do not escape it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    text: String,
    href: Option<String>,
}

impl Shown {
    /// A value shown as plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Shown {
            text: text.into(),
            href: None,
        }
    }

    /// A value shown as a link to `href`.
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Self {
        Shown {
            text: text.into(),
            href: Some(href.into()),
        }
    }

    /// Shows a resolved reference: a link when it has an address.
    pub fn resolved(resolved: &Resolved) -> Self {
        Shown {
            text: resolved.label.clone(),
            href: resolved.href.clone(),
        }
    }

    /// The text, unescaped.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The link's address, if it is a link.
    pub fn href(&self) -> Option<&str> {
        self.href.as_deref()
    }
}

impl Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use askama::filters::{Escaper, Html};
        match &self.href {
            None => Html.write_escaped_str(&mut *f, &self.text),
            Some(href) => {
                f.write_str("<a href=\"")?;
                Html.write_escaped_str(&mut *f, href)?;
                f.write_str("\">")?;
                Html.write_escaped_str(&mut *f, &self.text)?;
                f.write_str("</a>")
            }
        }
    }
}

// `Display` escapes already.
impl askama::filters::HtmlSafe for Shown {}

/// How the default presenter shows a payload field.
///
/// Implemented for strings, numbers, `bool`, `char`, and for `Option` and
/// `Vec` of those. Implement it for your own field types, or give the event a
/// `presenter = path` of its own.
#[diagnostic::on_unimplemented(
    message = "the default presenter cannot show a field of type `{Self}`",
    label = "field of type `{Self}`",
    note = "implement `audit_core::present::Presentable` for `{Self}`, or give the event a `presenter = path` that builds its view"
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
        // Joined as text: a list of links would need a template of its own.
        Shown::text(parts.join(", "))
    }
}

impl<T: Presentable> Presentable for Vec<T> {
    fn present(&self, cx: &PresentContext) -> Shown {
        self.as_slice().present(cx)
    }
}

/// The text of rendered event HTML, for terminals and logs: tags dropped,
/// character references decoded (`&#60;b&#62;` becomes `<b>` again), and
/// the result [`printable`](crate::text::printable): a newline, a terminal escape
/// or a bidirectional override in a stored value (`&#10;` included) is shown
/// as an escape, so it cannot forge a line of whatever prints it.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => match rest.find('>') {
                Some(end) => rest = &rest[end + 1..],
                None => {
                    out.push_str(rest);
                    rest = "";
                }
            },
            '&' => {
                let entity = rest.find(';').map(|end| (&rest[1..end], end));
                match entity.and_then(|(name, end)| decode_entity(name).map(|c| (c, end))) {
                    Some((decoded, end)) => {
                        out.push(decoded);
                        rest = &rest[end + 1..];
                    }
                    None => {
                        out.push('&');
                        rest = &rest[1..];
                    }
                }
            }
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    match crate::text::printable(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

fn decode_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
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
    fn shown_escapes_text_and_links() {
        assert_eq!(Shown::text("<b>&").to_string(), "&#60;b&#62;&#38;");
        let link = Shown::link("a\"b", "/users/1?x=<y>");
        assert_eq!(
            link.to_string(),
            "<a href=\"/users/1?x=&#60;y&#62;\">a&#34;b</a>"
        );
        assert_eq!(link.as_str(), "a\"b");
    }

    #[test]
    fn plain_text_drops_tags_and_decodes_references() {
        let html = Shown::link("<script>x</script> & co", "/u/1").to_string();
        assert_eq!(
            plain_text(&format!("added {html} to &#39;P&#39;")),
            "added <script>x</script> & co to 'P'"
        );
        assert_eq!(
            plain_text("a & b &bogus; &#xZZ; <unclosed"),
            "a & b &bogus; &#xZZ; <unclosed"
        );
    }

    #[test]
    fn plain_text_escapes_what_could_forge_a_line() {
        let html = Shown::text("two\nlines  #99 mallory\u{202e}").to_string();
        assert_eq!(
            plain_text(&format!("created {html} &#10;#98 &#x1b;[2K")),
            r"created two\nlines  #99 mallory\u{202e} \n#98 \u{1b}[2K"
        );
    }

    #[test]
    fn lists_and_options_have_readable_defaults() {
        let cx = PresentContext::new();
        assert_eq!(vec!["a", "b"].present(&cx).as_str(), "a, b");
        assert_eq!(Vec::<u32>::new().present(&cx).as_str(), NONE_TEXT);
        assert_eq!(None::<u32>.present(&cx).as_str(), NONE_TEXT);
        assert_eq!(Some(3).present(&cx).as_str(), "3");
    }
}
