//! Canonical JSON, for the seal encoding from version 2 on: one text per
//! JSON value, whatever whitespace, member order, escapes or number
//! spelling it was written with. The form is specified here completely, so
//! that another implementation (a verifier in another language) can
//! reproduce it byte for byte, and it is produced by this module alone:
//! serde_json only holds the value in between, and neither its number
//! parsing nor its number and string formatting (which an update or a
//! feature another crate turns on may change) decides a byte. Version 1's
//! `encoding::canonical_json` does use serde_json's formatting, and keeps
//! doing so: the seals made with it must keep verifying.
//!
//! The form is RFC 8785's (JSON Canonicalization Scheme, JCS) with one
//! extension, for integers (see Numbers below); [Deviations from RFC
//! 8785](#deviations-from-rfc-8785) lists every difference.
//!
//! # Input
//!
//! [`canonical_text`] reads JSON text as RFC 8259 defines it: one value,
//! with optional whitespace (space, tab, line feed, carriage return only)
//! before and after it and between tokens; no byte order mark, no comments,
//! no trailing commas. It returns `None` when the text is not JSON, and
//! also when
//! - a string holds a `\u` escape of a lone surrogate (U+D800..U+DFFF not
//!   in a high-then-low pair): such a string is no Unicode text, and
//!   RFC 8785 (through I-JSON, RFC 7493) refuses it too;
//! - a number's magnitude rounds to infinity as a double (`1e400`): RFC
//!   8785 refuses it too; one that rounds to zero (`1e-400`) is zero;
//! - arrays and objects nest more than [`MAX_DEPTH`] (128) deep.
//!
//! An object that names a key twice keeps the last member with that key,
//! as serde_json's `Value` and ECMAScript's `JSON.parse` do; the earlier
//! ones are left out (but must still be JSON). The output therefore never
//! holds a key twice.
//!
//! This module reads numbers itself rather than through serde_json, whose
//! default parsing of a fraction or an exponent is not always correctly
//! rounded (unless its `float_roundtrip` feature is on, which any crate of
//! an application can turn on), so the double a number text stands for is
//! the nearest one (ties to even), as RFC 8785 requires.
//!
//! # Output
//!
//! UTF-8 text without any whitespace between tokens, written by these
//! rules from the value read:
//!
//! - **Literals**: `null`, `true`, `false`.
//! - **Arrays**: `[`, the elements in their order, separated by `,`, then
//!   `]`; `[]` when empty.
//! - **Objects**: `{`, the members as `key:value` (the key written as a
//!   string) separated by `,`, then `}`; `{}` when empty. Members are sorted
//!   by their keys compared as sequences of UTF-16 code units: the first
//!   differing unit decides, and a key that is a prefix of another comes
//!   first. This is RFC 8785's order, and not the order of UTF-8 bytes or
//!   of code points: those differ when a character above U+FFFF (written in
//!   UTF-16 as a surrogate pair, whose first unit is in U+D800..U+DBFF)
//!   meets one in U+E000..U+FFFF at the first difference; `"😀"` (U+1F600,
//!   units D83D DE00) sorts before `"דּ"` (U+FB33) here, after it in UTF-8.
//!   The order in which the input or serde_json's map held the members
//!   (insertion order with serde_json's `preserve_order`) plays no part.
//! - **Strings**: `"`, the characters, `"`, each character written as
//!   - `\"` for `"` (U+0022) and `\\` for `\` (U+005C);
//!   - `\b` for U+0008, `\t` for U+0009, `\n` for U+000A, `\f` for U+000C
//!     and `\r` for U+000D;
//!   - `\u00` and two lowercase hexadecimal digits for the other characters
//!     in U+0000..U+001F (`\u0000`, `\u001f`);
//!   - every other character as itself, in UTF-8: `/`, U+007F, U+0080 to
//!     U+009F, U+2028, U+2029, non-characters and characters above U+FFFF
//!     alike. No other escape is ever written, whatever escapes the input
//!     used (`"\u0041\/"` is written `"A/"`).
//!
//!   This is ECMAScript's `JSON.stringify` on a string, RFC 8785 section
//!   3.2.2.2.
//! - **Numbers**, two kinds:
//!   - An **integer**, a number written without a fraction and without an
//!     exponent whose value lies in -2^63..=2^64-1 (the numbers serde_json
//!     holds as an `i64` or a `u64`), is written as its exact value in
//!     decimal: an optional `-`, then the digits without leading zeros (`0`
//!     for zero; `-0` is an integer and is written `0`). This is the
//!     extension to RFC 8785: JCS reads every number as a double, so it
//!     would round an integer above 2^53 in magnitude to the nearest double
//!     (`9007199254740993` to `9007199254740992`); ids are 64-bit integers
//!     and must not change. For a magnitude up to 2^53, which every double
//!     holds exactly, the text is the same as JCS's.
//!   - Every other number (one written with a fraction or an exponent, or
//!     an integer outside that range) stands for the double nearest to it,
//!     which is written as ECMAScript's `Number.prototype.toString` writes
//!     it (RFC 8785 section 3.2.2.3):
//!     1. NaN and the infinities cannot occur (see Input).
//!     2. Zero, positive or negative, is written `0`.
//!     3. A negative number is written `-` followed by its magnitude's text.
//!     4. For a positive `x`, take the shortest decimal significand that
//!        reads back as `x`: the integers `k >= 1`, `s` with exactly `k`
//!        digits (not ending in `0`) and `n` such that `s × 10^(n-k)` is
//!        nearer to `x` than to any other double (or, when `x`'s
//!        significand is even, exactly halfway, which rounding to even
//!        also reads back as `x`), with `k` as small as possible; when
//!        several `s` qualify, the one nearest to `x`, and of two as near
//!        (`x` exactly halfway between them) the even one: the double
//!        1424953923781206.25 (between 2^50 and 2^51 doubles are a quarter
//!        apart) is written `1424953923781206.2`, not `...206.3`.
//!        Write `d1 ... dk` for the digits of `s`; then `x ≈ 0.d1...dk ×
//!        10^n`.
//!     5. If `k <= n <= 21`: the `k` digits followed by `n - k` zeros
//!        (`100`, `123000`, `100000000000000000000` for 1e20).
//!     6. Else if `0 < n <= 21`: the first `n` digits, `.`, the other
//!        `k - n` digits (`1.5`, `333333333.3333333`).
//!     7. Else if `-6 < n <= 0`: `0.`, `-n` zeros, the `k` digits
//!        (`0.5`, `0.000001` for 1e-6).
//!     8. Otherwise: `d1`, then `.` and `d2 ... dk` if `k > 1`, then `e`,
//!        then `+` or `-` for the sign of `n - 1`, then `|n - 1|` in
//!        decimal without leading zeros (`1e+21`, `1e-7`, `1.5e+300`,
//!        `5e-324`).
//!
//!     A number written with a fraction or an exponent that is a whole
//!     number is a double like any other: `1.0` and `1e0` are written `1`,
//!     `1e2` and `100.0` are written `100`. For a magnitude up to 2^53 that
//!     is exactly the text the integer gives (every such double is an
//!     integer the shortest significand reproduces exactly), so there a
//!     value's form does not depend on how it was written. Above 2^53 it
//!     can: `1152921504606846976` (2^60, an integer) is written as it is,
//!     `1152921504606846976.0` (the same value, a double) as
//!     `1152921504606847000`, JCS's text for it.
//!
//! # Deviations from RFC 8785
//!
//! - Integers in -2^63..=2^64-1 keep their exact value (above); RFC 8785
//!   rounds those above 2^53 in magnitude to a double.
//! - A key named twice in one object keeps its last member, as in a
//!   serde_json `Value` (so that [`canonical_text`] and [`write()`] of the
//!   `Value` serde_json reads agree on it); RFC 8785 requires I-JSON input,
//!   which has no duplicate keys.
//! - Nesting deeper than 128 is refused, a limit of this implementation.
//!
//! Everything else, and in particular the text of every number with a
//! fraction or an exponent, is RFC 8785's.
//!
//! # Test vectors
//!
//! `canonical_vectors.txt`, next to this file, holds inputs and their
//! canonical texts (its head describes the format), among them RFC 8785's
//! own examples. They are frozen: a canonical text that changes would break
//! every seal made with it, so an existing vector is never edited; new ones
//! are added.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// The deepest nesting of arrays and objects [`canonical_text`] reads.
pub(crate) const MAX_DEPTH: usize = 128;

/// The canonical form of the JSON text `text`; `None` when `text` is not
/// JSON or cannot be canonicalized (see the module's Input section).
#[cfg(test)]
pub(crate) fn canonical_text(text: &str) -> Option<String> {
    let value = parse(text)?;
    let mut out = String::with_capacity(text.len());
    write(&value, &mut out);
    Some(out)
}

/// The canonical form of `value` (see [`write`]).
pub(crate) fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// The order of an object's members: by their keys' UTF-16 code units.
pub(crate) fn compare_keys(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Appends the canonical form of `value` to `out`.
///
/// Numbers are written from what `value` holds: an `i64` or `u64` as an
/// integer, a double (`Number::from_f64`) as a double. A `value` that
/// serde_json parsed may hold a double other than the nearest to the text
/// (see the module's Input section), where [`canonical_text`] reads the
/// nearest.
pub(crate) fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| compare_keys(a.0, b.0));
            out.push('{');
            for (i, (key, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write(value, out);
            }
            out.push('}');
        }
    }
}

/// Appends the canonical form of the number `n`: exact for an integer
/// (`i64` or `u64`), ECMAScript's form of a double otherwise.
///
/// A number with no finite double, which only serde_json's
/// `arbitrary_precision` can hold (never one [`canonical_text`] read), is
/// written `null`, as `JSON.stringify` writes a non-finite number.
pub(crate) fn write_number(n: &Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        write!(out, "{i}").expect("writing to a String");
    } else if let Some(u) = n.as_u64() {
        write!(out, "{u}").expect("writing to a String");
    } else if let Some(x) = n.as_f64().filter(|x| x.is_finite()) {
        write_double(x, out);
    } else {
        out.push_str("null");
    }
}

/// Appends ECMAScript's `Number.prototype.toString` of the finite `x`.
fn write_double(x: f64, out: &mut String) {
    if x == 0.0 {
        // Positive and negative zero.
        out.push('0');
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    let (digits, n) = shortest(x.abs());
    let k = digits.len() as i32;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if n - 1 < 0 { '-' } else { '+' });
        write!(out, "{}", (n - 1).unsigned_abs()).expect("writing to a String");
    }
}

/// The shortest significand of the positive, finite `x` and its exponent:
/// the digits `d1...dk` (not ending in `0`) and `n` with `x ≈ 0.d1...dk ×
/// 10^n`, nearest to `x` and, when two are as near, even.
fn shortest(x: f64) -> (String, i32) {
    // Rust's `{:e}` without a precision writes the shortest significand that
    // reads back as the same double, the nearest of them: `d1.d2...dke<m>`,
    // or `d1e<m>`, where `m` is `n - 1`.
    let scientific = format!("{x:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut s: u64 = digits.parse().expect("at most 17 digits");
    // The exponent of the significand's last digit: x ≈ s × 10^last.
    let last = exponent + 1 - digits.len() as i32;
    // When `x` lies exactly halfway between two such significands, `{:e}`
    // takes the upper one, ECMAScript the even one.
    for lower in [s - 1, s] {
        if is_halfway(x, lower, last - 1) {
            let even = lower + lower % 2;
            if even != s && format!("{even}e{last}").parse::<f64>() == Ok(x) {
                s = even;
            }
            break;
        }
    }
    let digits = s.to_string();
    let n = last + digits.len() as i32;
    (digits.trim_end_matches('0').to_owned(), n)
}

/// Whether the positive, finite `x` is exactly `(10 × lower + 5) × 10^q`,
/// halfway between `lower × 10^(q + 1)` and the next multiple of
/// `10^(q + 1)`.
fn is_halfway(x: f64, lower: u64, q: i32) -> bool {
    // x = m × 2^e with m odd.
    let bits = x.to_bits();
    let fraction = bits & ((1 << 52) - 1);
    let (m, e) = match (bits >> 52) as i32 {
        0 => (fraction, -1074),
        biased => (fraction | (1 << 52), biased - 1075),
    };
    let (m, e) = (
        u128::from(m >> m.trailing_zeros()),
        e + m.trailing_zeros() as i32,
    );
    let half = u128::from(lower) * 10 + 5;
    // The halfway value is half × 5^q × 2^q with half odd: equal to x when
    // e = q and m = half × 5^q (or m × 5^-q = half, for q < 0).
    if e != q {
        return false;
    }
    let (mut small, large) = if q >= 0 { (half, m) } else { (m, half) };
    for _ in 0..q.unsigned_abs() {
        small *= 5;
        if small > large {
            return false;
        }
    }
    small == large
}

/// Appends `s` as a string, escaped as `JSON.stringify` escapes it.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    // Runs of characters written as themselves are copied whole.
    let mut plain = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        if escape.is_empty() {
            write!(out, "\\u{byte:04x}").expect("writing to a String");
        } else {
            out.push_str(escape);
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

/// Reads the JSON text `text` (see the module's Input section).
pub(crate) fn parse(text: &str) -> Option<Value> {
    let mut parser = Parser {
        text,
        pos: 0,
        depth: 0,
    };
    parser.skip_whitespace();
    let value = parser.value()?;
    parser.skip_whitespace();
    (parser.pos == text.len()).then_some(value)
}

/// A reader of JSON text, at byte `pos` of `text`.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// The arrays and objects open at `pos`.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Steps over `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        if next {
            self.pos += 1;
        }
        next
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string().map(Value::String),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Option<Value> {
        self.text[self.pos..].starts_with(word).then(|| {
            self.pos += word.len();
            value
        })
    }

    /// Opens an array or an object (its bracket next).
    fn open(&mut self) -> Option<()> {
        self.depth += 1;
        self.pos += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn array(&mut self) -> Option<Value> {
        self.open()?;
        let mut items = Vec::new();
        self.skip_whitespace();
        if !self.eat(b']') {
            loop {
                self.skip_whitespace();
                items.push(self.value()?);
                self.skip_whitespace();
                if self.eat(b']') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        self.depth -= 1;
        Some(Value::Array(items))
    }

    fn object(&mut self) -> Option<Value> {
        self.open()?;
        let mut map = Map::new();
        self.skip_whitespace();
        if !self.eat(b'}') {
            loop {
                self.skip_whitespace();
                if self.peek()? != b'"' {
                    return None;
                }
                let key = self.string()?;
                self.skip_whitespace();
                if !self.eat(b':') {
                    return None;
                }
                self.skip_whitespace();
                let value = self.value()?;
                // The last member with a key wins.
                map.insert(key, value);
                self.skip_whitespace();
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        self.depth -= 1;
        Some(Value::Object(map))
    }

    /// A string (its opening quote next).
    fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(byte) = self.peek() {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // Both ends are at ASCII bytes, so on character boundaries.
            out.push_str(&self.text[start..self.pos]);
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let escaped = self.peek()?;
                    self.pos += 1;
                    out.push(match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    });
                }
                // A control character, which JSON strings must escape.
                _ => return None,
            }
        }
    }

    /// The character of a `\u` escape (its four digits next), with the low
    /// surrogate's escape that must follow a high one.
    fn unicode_escape(&mut self) -> Option<char> {
        let unit = self.hex4()?;
        match unit {
            0xd800..=0xdbff => {
                if !self.text[self.pos..].starts_with("\\u") {
                    return None;
                }
                self.pos += 2;
                let low = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return None;
                }
                char::from_u32(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00))
            }
            0xdc00..=0xdfff => None,
            _ => char::from_u32(unit),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    /// Steps over digits, returning whether there was one.
    fn digits(&mut self) -> bool {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos > start
    }

    /// A number: an integer when written without a fraction and an
    /// exponent and within `i64` or `u64`, else the nearest double.
    fn number(&mut self) -> Option<Number> {
        let start = self.pos;
        self.eat(b'-');
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        let mut integer = true;
        if self.eat(b'.') {
            integer = false;
            if !self.digits() {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !self.digits() {
                return None;
            }
        }
        let token = &self.text[start..self.pos];
        if integer {
            if token.starts_with('-') {
                if let Ok(i) = token.parse::<i64>() {
                    return Some(Number::from(i));
                }
            } else if let Ok(u) = token.parse::<u64>() {
                return Some(Number::from(u));
            }
        }
        // Rust's parsing is correctly rounded (to the nearest, ties to
        // even), and reads every JSON number.
        let x: f64 = token.parse().ok()?;
        Number::from_f64(x)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The frozen vectors (see the file's head for its format).
    const VECTORS: &str = include_str!("canonical_vectors.txt");

    struct Vector {
        line: usize,
        input: String,
        output: String,
        bits: Option<u64>,
    }

    fn vectors() -> Vec<Vector> {
        let mut vectors: Vec<Vector> = Vec::new();
        let mut input: Option<(usize, &str)> = None;
        for (i, line) in VECTORS.lines().enumerate() {
            let line_no = i + 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(text) = line.strip_prefix("in: ") {
                assert!(input.is_none(), "line {line_no}: `in:` after `in:`");
                input = Some((line_no, text));
            } else if let Some(text) = line.strip_prefix("out: ") {
                let (line, input_text) = input
                    .take()
                    .unwrap_or_else(|| panic!("line {line_no}: `out:` without `in:`"));
                vectors.push(Vector {
                    line,
                    input: input_text.to_owned(),
                    output: text.to_owned(),
                    bits: None,
                });
            } else if let Some(hex) = line.strip_prefix("f64: ") {
                let last = vectors
                    .last_mut()
                    .filter(|v| v.bits.is_none() && input.is_none())
                    .unwrap_or_else(|| panic!("line {line_no}: `f64:` not after `out:`"));
                let bits = u64::from_str_radix(hex, 16)
                    .unwrap_or_else(|_| panic!("line {line_no}: bad bits {hex:?}"));
                last.bits = Some(bits);
            } else {
                panic!("line {line_no}: not a comment, `in: `, `out: ` or `f64: `: {line:?}");
            }
        }
        assert!(input.is_none(), "the last `in:` has no `out:`");
        vectors
    }

    #[test]
    fn canonical_vectors_hold() {
        let vectors = vectors();
        assert!(vectors.len() > 50, "{} vectors", vectors.len());
        for v in &vectors {
            let line = v.line;
            assert_eq!(
                canonical_text(&v.input).as_deref(),
                Some(v.output.as_str()),
                "vector at line {line}: {:?}",
                v.input
            );
            // Canonical text is its own canonical form.
            assert_eq!(
                canonical_text(&v.output).as_deref(),
                Some(v.output.as_str()),
                "vector at line {line}, its output"
            );
            if let Some(bits) = v.bits {
                let Some(Value::Number(n)) = parse(&v.input) else {
                    panic!("vector at line {line}: not a number");
                };
                assert!(n.is_f64(), "vector at line {line}: not a double");
                let x = n.as_f64().unwrap();
                assert_eq!(
                    x.to_bits(),
                    bits,
                    "vector at line {line}: reads as {x:e}, {:016x}",
                    x.to_bits()
                );
                let mut out = String::new();
                write_double(f64::from_bits(bits), &mut out);
                assert_eq!(out, v.output, "vector at line {line}, from its bits");
            }
        }
    }

    #[test]
    fn what_is_not_json_or_cannot_be_canonical_is_none() {
        for text in [
            "",
            " ",
            "nul",
            "True",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "{\"a\":1",
            "[",
            "]",
            "01",
            "-",
            "+1",
            ".5",
            "1.",
            "1.e5",
            "1e",
            "1e+",
            "0x10",
            "NaN",
            "Infinity",
            "-Infinity",
            "1e400",
            "-1e400",
            "\"abc",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12g4\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\\ud800x\"",
            "\"a\tb\"",
            "\"a\nb\"",
            "\"\u{0}\"",
            "'a'",
            "\u{feff}{}",
            "{} {}",
            "1 2",
            "[1]x",
            "\u{a0}1",
            "// c\n1",
        ] {
            assert_eq!(canonical_text(text), None, "{text:?}");
        }
    }

    #[test]
    fn whitespace_around_and_between_tokens_is_dropped() {
        assert_eq!(
            canonical_text(" \t\r\n null \t\r\n").as_deref(),
            Some("null")
        );
        assert_eq!(
            canonical_text("\n[ 1 ,\r\n{ \"a\"\t:\t\"b c\" } ]\n").as_deref(),
            Some(r#"[1,{"a":"b c"}]"#)
        );
    }

    #[test]
    fn nesting_is_read_to_its_limit() {
        let nested = |depth: usize| "[".repeat(depth) + &"]".repeat(depth);
        assert_eq!(canonical_text(&nested(MAX_DEPTH)), Some(nested(MAX_DEPTH)));
        assert_eq!(canonical_text(&nested(MAX_DEPTH + 1)), None);
        let objects = |depth: usize| "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
        assert_eq!(
            canonical_text(&objects(MAX_DEPTH)),
            Some(objects(MAX_DEPTH))
        );
        assert_eq!(canonical_text(&objects(MAX_DEPTH + 1)), None);
    }

    #[test]
    fn the_last_member_with_a_key_wins() {
        assert_eq!(
            canonical_text(r#"{"a":1,"b":2,"a":[3]}"#).as_deref(),
            Some(r#"{"a":[3],"b":2}"#)
        );
        // The member left out must still be JSON.
        assert_eq!(canonical_text(r#"{"a":01,"a":1}"#), None);
    }

    #[test]
    fn values_built_in_code_are_written_by_the_same_rules() {
        let value = serde_json::json!({
            "z": [1.0, -0.0, 1e21, 0.1, u64::MAX, i64::MIN],
            "\u{fb33}": null,
            "\u{1f600}": true,
            "": "\u{7f}\u{1f}",
        });
        let mut out = String::new();
        write(&value, &mut out);
        assert_eq!(
            out,
            "{\"\":\"\u{7f}\\u001f\",\"z\":[1,0,1e+21,0.1,18446744073709551615,\
             -9223372036854775808],\"\u{1f600}\":true,\"\u{fb33}\":null}"
        );
    }

    /// Rust's shortest significands, on every double from a power of ten's
    /// neighbourhood: checks the parsing of `{:e}`'s text, not its digits.
    #[test]
    fn doubles_around_powers_of_ten_read_back() {
        for e in -330..=310 {
            let Ok(x) = format!("1e{e}").parse::<f64>() else {
                continue;
            };
            if x == 0.0 || !x.is_finite() {
                continue;
            }
            for bits in x.to_bits().saturating_sub(3)..=x.to_bits().saturating_add(3) {
                let y = f64::from_bits(bits);
                if !y.is_finite() {
                    continue;
                }
                for y in [y, -y] {
                    let mut out = String::new();
                    write_double(y, &mut out);
                    assert_eq!(out.parse::<f64>().ok(), Some(y), "{out}");
                }
            }
        }
    }

    /// Numbers compare equal when they are the same integer, or read as
    /// the same double (a whole double may come back as an integer).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(a), Value::Number(b)) => {
                let exact = |n: &Number| {
                    n.as_i64()
                        .map(i128::from)
                        .or_else(|| n.as_u64().map(i128::from))
                };
                match (exact(a), exact(b)) {
                    (Some(a), Some(b)) => a == b,
                    _ => a.as_f64() == b.as_f64(),
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(key, a)| b.get(key).is_some_and(|b| same(a, b)))
            }
            (a, b) => a == b,
        }
    }

    fn number() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-(1i64 << 54)..(1i64 << 54)).prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |x| Number::from_f64(x).map(Value::Number)),
            any::<u64>().prop_filter_map("finite", |bits| {
                Number::from_f64(f64::from_bits(bits)).map(Value::Number)
            }),
            // Whole doubles and short decimals, where the forms meet.
            (-(1i64 << 54)..(1i64 << 54), -30i32..30).prop_filter_map("finite", |(m, e)| {
                Number::from_f64(format!("{m}e{e}").parse().unwrap()).map(Value::Number)
            }),
        ]
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            number(),
            any::<String>().prop_map(Value::String),
            "[\u{0}-\u{20}\"\\\\\u{7f}-\u{a0}\u{2028}\u{e000}-\u{ffff}\u{10000}-\u{10fff}a]{0,8}"
                .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        "[\u{0}-\u{7f}\u{e000}-\u{ffff}\u{10000}-\u{10fff}]{0,3}",
                        inner
                    ),
                    0..6
                )
                .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The canonical text reads back as the value it was written from,
        /// is JSON to serde_json too, and is its own canonical form.
        #[test]
        fn canonical_text_reads_back_and_is_its_own_form(value in json()) {
            let mut text = String::new();
            write(&value, &mut text);
            let read = parse(&text).expect("canonical text is JSON");
            prop_assert!(same(&read, &value), "{text}");
            prop_assert!(serde_json::from_str::<Value>(&text).is_ok(), "{text}");
            prop_assert_eq!(canonical_text(&text), Some(text.clone()));
        }

        /// Whatever way serde_json writes a value, its canonical form is the
        /// value's.
        #[test]
        fn serde_json_text_has_the_values_form(value in json()) {
            let mut expected = String::new();
            write(&value, &mut expected);
            let compact = serde_json::to_string(&value).unwrap();
            prop_assert_eq!(canonical_text(&compact), Some(expected.clone()));
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            prop_assert_eq!(canonical_text(&pretty), Some(expected));
        }

        /// Objects are in the order of their keys' UTF-16 code units.
        #[test]
        fn members_are_in_utf16_order(
            keys in prop::collection::vec("[\u{0}-\u{7f}\u{e000}-\u{ffff}\u{10000}-\u{10fff}]{0,3}", 0..8)
        ) {
            let value = Value::Object(keys.iter().map(|k| (k.clone(), Value::Null)).collect());
            let mut text = String::new();
            write(&value, &mut text);
            let mut sorted: Vec<&String> = value.as_object().unwrap().keys().collect();
            sorted.sort_by_key(|k| k.encode_utf16().collect::<Vec<u16>>());
            let members: Vec<String> = sorted
                .iter()
                .map(|k| {
                    let mut member = String::new();
                    write_string(k, &mut member);
                    member + ":null"
                })
                .collect();
            prop_assert_eq!(text, format!("{{{}}}", members.join(",")));
        }
    }
}
