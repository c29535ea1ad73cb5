//! Values spelled inside SQL text, for the one statement that cannot bind
//! them: the events sent with PostgreSQL's COMMIT in one simple query
//! (`pg_commit`). The values travel as one JSON document inside one string
//! literal, and this module is the only place that writes such a literal.
//!
//! Why it is safe, whatever the strings hold:
//! - [`ascii_json`] writes JSON whose every byte is ASCII and none is NUL:
//!   serde_json escapes `"`, `\` and control characters, and the formatter
//!   here escapes every non-ASCII character as `\uXXXX` (UTF-16, surrogate
//!   pairs above the BMP). Pure ASCII reads the same in every client
//!   encoding PostgreSQL accepts (their multibyte sequences all start with a
//!   byte above 0x7F), so no byte of ours can become part of a character
//!   that hides a quote, the trap `PQescapeStringConn` exists for.
//! - [`escape_string_literal`] writes it as `E'...'`, doubling every `\` and
//!   every `'`. An escape string literal means the same whatever
//!   `standard_conforming_strings` says, and with both characters doubled
//!   the literal ends exactly at its last quote. It refuses text that is not
//!   ASCII or holds NUL, so a caller cannot hand it anything else.

use std::io;

use serde::Serialize;

/// Serializes `value` as JSON made of ASCII only, with no NUL byte.
pub(crate) fn ascii_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter);
    value.serialize(&mut serializer)?;
    // Invariant: serde_json writes UTF-8, and the formatter writes ASCII only.
    Ok(String::from_utf8(out).expect("invariant: the JSON written here is ASCII"))
}

/// serde_json's compact formatter, except that string fragments are written
/// as ASCII: every non-ASCII character becomes `\uXXXX`.
struct AsciiFormatter;

impl serde_json::ser::Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if fragment.is_ascii() {
            return writer.write_all(fragment.as_bytes());
        }
        let mut units = [0u16; 2];
        for ch in fragment.chars() {
            if ch.is_ascii() {
                writer.write_all(&[ch as u8])?;
            } else {
                for unit in ch.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// `text` as a PostgreSQL escape string literal, `E'...'`; `None` when
/// `text` holds a byte that is not ASCII, or NUL (see the module's docs).
pub(crate) fn escape_string_literal(text: &str) -> Option<String> {
    if !text.is_ascii() || text.as_bytes().contains(&0) {
        return None;
    }
    let mut literal = String::with_capacity(text.len() + text.len() / 8 + 3);
    literal.push_str("E'");
    for ch in text.chars() {
        if ch == '\\' || ch == '\'' {
            literal.push(ch);
        }
        literal.push(ch);
    }
    literal.push('\'');
    Some(literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads an escape string literal at the start of `sql` the way
    /// PostgreSQL's lexer does for the two escapes used here: the text it
    /// means, and the rest of `sql` after its closing quote.
    fn lex_escape_literal(sql: &str) -> (String, &str) {
        let body = sql.strip_prefix("E'").expect("an escape string literal");
        let mut text = String::new();
        let mut chars = body.char_indices().peekable();
        while let Some((i, ch)) = chars.next() {
            match ch {
                '\\' => {
                    let (_, next) = chars.next().expect("a backslash escapes something");
                    assert_eq!(next, '\\', "only doubled backslashes are written");
                    text.push('\\');
                }
                '\'' if chars.peek().map(|(_, c)| *c) == Some('\'') => {
                    chars.next();
                    text.push('\'');
                }
                '\'' => return (text, &body[i + 1..]),
                other => text.push(other),
            }
        }
        panic!("unterminated literal: {sql}");
    }

    #[test]
    fn non_ascii_characters_are_escaped_as_utf16() {
        let json = ascii_json(&["é", "😀", "\u{2028}", "'\\\"", "\0\u{7f}"]).unwrap();
        // DEL is ASCII: JSON leaves it as it is.
        let expected = concat!(
            r#"["\u00e9","\ud83d\ude00","\u2028","'\\\"","\u0000"#,
            "\u{7f}",
            r#""]"#
        );
        assert_eq!(json, expected);
    }

    #[test]
    fn the_literal_refuses_non_ascii_and_nul() {
        assert_eq!(escape_string_literal("é"), None);
        assert_eq!(escape_string_literal("a\0b"), None);
        assert_eq!(
            escape_string_literal(r"it's \x").as_deref(),
            Some(r"E'it''s \\x'")
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Any strings survive: the JSON is ASCII without NUL, the literal
        /// ends exactly at its closing quote and means the JSON, and the
        /// JSON means the strings. (What follows the literal must not be a
        /// quote, which would continue it; in `pg_commit` it is `::jsonb`.)
        #[test]
        fn any_strings_round_trip_through_json_and_literal(
            strings in proptest::collection::vec(proptest::prelude::any::<String>(), 0..8),
            tail in "([ -&(-~][ -~]{0,7})?",
        ) {
            let json = ascii_json(&strings).unwrap();
            proptest::prop_assert!(json.is_ascii() && !json.contains('\0'), "{json}");
            let literal = escape_string_literal(&json).unwrap();
            let sql = format!("{literal}{tail}");
            let (text, rest) = lex_escape_literal(&sql);
            proptest::prop_assert_eq!(&text, &json);
            proptest::prop_assert_eq!(rest, tail.as_str());
            let back: Vec<String> = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(back, strings);
        }
    }
}
