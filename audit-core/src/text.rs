//! Text that is safe to print: what the log shows on a terminal, in a log
//! file or any other plain-text sink cannot start a new line, move the
//! cursor or reorder what follows it, whatever the stored names hold.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every character that could forge or hide output written as
/// a visible escape: control characters (`\n`, `\r`, `\t`, `\u{1b}`, ...,
/// C1 controls and DEL), line and paragraph separators, and the Unicode
/// bidirectional formatting characters (`\u{202e}` and its kin), which can
/// make a line read differently from what it holds.
///
/// Everything else is left as it is, a backslash included: the escapes make
/// a hostile value visible, they are not meant to be decoded again.
///
/// ```
/// use audit_core::text::printable;
///
/// assert_eq!(printable("two\nlines"), r"two\nlines");
/// assert_eq!(printable("evil\u{202e}txt.exe"), r"evil\u{202e}txt.exe");
/// assert_eq!(printable("Zoë 🚀"), "Zoë 🚀");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            c if needs_escape(c) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `c` must not reach a plain-text sink as it is.
fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_formatting(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whether `c` is a Unicode bidirectional formatting character: an
/// embedding or override (U+202A..=U+202E, U+202E being the one that makes
/// `gpj.exe` read as `exe.jpg`), an isolate (U+2066..=U+2069) or a mark
/// (U+200E, U+200F, U+061C). Each changes the order text is shown in
/// rather than showing anything itself; [`printable`] escapes them, and an
/// application can refuse them in names.
pub fn is_bidi_formatting(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["alice", "Zoë O'Brien", "a\\nb", "日本語", "", "x  y"] {
            assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn every_control_bidi_and_separator_character_is_escaped() {
        let hostile: Vec<char> = (0u32..=0x10ffff)
            .filter_map(char::from_u32)
            .filter(|c| needs_escape(*c))
            .collect();
        // C0 (32) + DEL + C1 (32) + 12 bidi characters + 2 separators.
        assert_eq!(hostile.len(), 32 + 1 + 32 + 12 + 2);
        for c in hostile {
            let shown = printable(&c.to_string()).into_owned();
            assert!(
                shown.starts_with('\\') && shown.chars().all(|c| c.is_ascii_graphic()),
                "{c:?} is shown as {shown:?}"
            );
        }
    }

    #[test]
    fn a_forged_log_line_stays_on_one_line() {
        let name = "two\nlines  #99 2026-01-01 00:00:00 mallory\r\u{1b}[2K\u{202e}";
        assert_eq!(
            printable(name),
            r"two\nlines  #99 2026-01-01 00:00:00 mallory\r\u{1b}[2K\u{202e}"
        );
    }
}
