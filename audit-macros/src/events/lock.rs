//! The schema lock: a committed file that records, for every event code and
//! every payload version that stored rows may hold, the payload's fields.
//!
//! The catalog is compared with it at each expansion. A payload whose shape
//! changed without a new version, a code that disappeared, a version that
//! went down or an older version that can no longer be read is a compile
//! error. A new event, a new version or a newly retired event makes the lock
//! stale: also an error, until the lock is updated through the explicit step
//! (`AUDIT_LOCK=update`), so that every change of what is stored shows up in
//! review as a change of this file.
//!
//! The file is a small subset of TOML, written deterministically (events by
//! code, versions in order, fields in declaration order, one per line) and
//! read back by [`Lock::parse`], which accepts what [`Lock::to_text`] writes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;

use super::model::{Catalog, Event, Field};

/// The environment variable that lets the macro write the lock.
pub const LOCK_VAR: &str = "AUDIT_LOCK";

/// The command that records new events and versions, for messages.
pub const UPDATE_COMMAND: &str = "AUDIT_LOCK=update cargo build";

/// The command that rewrites the lock from the catalog, for messages.
pub const OVERWRITE_COMMAND: &str = "AUDIT_LOCK=overwrite cargo build";

/// The version of the file format, written as `format = 1`.
const FORMAT: u32 = 1;

/// What the macro may do with the lock, from [`LOCK_VAR`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockMode {
    /// Unset: compare, write nothing. What CI runs.
    Check,
    /// `update`: record new events, versions and retirements; every other
    /// difference stays an error.
    Update,
    /// `overwrite`: rewrite the lock from the catalog, accepting every
    /// difference (for a code that never reached a database, a type written
    /// another way with the same JSON, a renamed catalog).
    Overwrite,
    /// Any other value (reported).
    Invalid(String),
}

impl LockMode {
    /// Reads [`LOCK_VAR`]. Writing is for the packages being built
    /// (`CARGO_PRIMARY_PACKAGE`): a dependency's lock is checked, never written.
    pub fn from_env() -> LockMode {
        let primary = std::env::var_os("CARGO_PRIMARY_PACKAGE").is_some();
        match LockMode::from_value(std::env::var(LOCK_VAR).ok().as_deref()) {
            LockMode::Update | LockMode::Overwrite if !primary => LockMode::Check,
            mode => mode,
        }
    }

    /// The mode a value of [`LOCK_VAR`] asks for.
    pub fn from_value(value: Option<&str>) -> LockMode {
        match value.map(str::trim) {
            None | Some("") => LockMode::Check,
            Some("update") => LockMode::Update,
            Some("overwrite") => LockMode::Overwrite,
            Some(other) => LockMode::Invalid(other.to_owned()),
        }
    }

    /// Whether the lock may be written.
    pub fn writes(&self) -> bool {
        matches!(self, LockMode::Update | LockMode::Overwrite)
    }
}

/// The contents of a lock file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lock {
    /// The catalog enum the lock belongs to.
    pub catalog: String,
    /// Every code stored rows may hold.
    pub events: BTreeMap<String, LockedEvent>,
}

/// What the lock records of one event code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockedEvent {
    /// Marked `retired` in the catalog.
    pub retired: bool,
    /// Each version stored rows may hold, with its fields (see [`field_shape`]).
    pub versions: BTreeMap<u32, Vec<String>>,
}

impl LockedEvent {
    /// The newest recorded version and its fields.
    fn newest(&self) -> Option<(u32, &Vec<String>)> {
        self.versions.iter().next_back().map(|(v, f)| (*v, f))
    }
}

/// The payload fields of `event` as the lock records them: in declaration
/// order, each as its `#[serde(...)]` attributes, its stored name and its
/// type, written as tokens with normalized spacing.
pub fn shape(event: &Event) -> Vec<String> {
    event.fields.iter().map(field_shape).collect()
}

/// One field as the lock records it: `#[serde(default)] note: Option<String>`.
pub fn field_shape(field: &Field) -> String {
    let mut text = String::new();
    for attr in field
        .forwarded_attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
    {
        text.push_str(&tokens_text(attr.to_token_stream()));
        text.push(' ');
    }
    let _ = write!(
        text,
        "{}: {}",
        field.ident.unraw(),
        tokens_text(field.ty.to_token_stream())
    );
    text
}

/// Tokens as text, spaced only where it reads better or changes meaning:
/// between words, after `,` and `;`, around `=` and `+`. The same tokens
/// always give the same text, however they were written.
pub fn tokens_text(tokens: TokenStream) -> String {
    let mut out = String::new();
    write_tokens(tokens, &mut out, &mut Prev::Start);
    out
}

/// What was written last, to decide the spacing before the next token.
#[derive(Clone, Copy, PartialEq)]
enum Prev {
    Start,
    Word,
    Punct,
    /// A `,` or `;`: the next token takes a space.
    Separator,
    Group,
}

fn write_tokens(tokens: TokenStream, out: &mut String, prev: &mut Prev) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                if matches!(*prev, Prev::Word | Prev::Separator | Prev::Group) {
                    out.push(' ');
                }
                let _ = write!(out, "{tree}");
                *prev = Prev::Word;
            }
            TokenTree::Punct(punct) => {
                let c = punct.as_char();
                let joined_before = i > 0
                    && matches!(&trees[i - 1], TokenTree::Punct(p)
                        if p.spacing() == proc_macro2::Spacing::Joint);
                let alone = punct.spacing() == proc_macro2::Spacing::Alone && !joined_before;
                if (c == '=' || c == '+') && alone {
                    if !out.is_empty() && !out.ends_with(' ') {
                        out.push(' ');
                    }
                    out.push(c);
                    out.push(' ');
                    *prev = Prev::Start;
                } else if c == ',' || c == ';' {
                    out.push(c);
                    *prev = Prev::Separator;
                } else {
                    if *prev == Prev::Separator {
                        out.push(' ');
                    }
                    out.push(c);
                    *prev = Prev::Punct;
                }
            }
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                if *prev == Prev::Separator
                    || (*prev == Prev::Word && group.delimiter() == Delimiter::Brace)
                {
                    out.push(' ');
                }
                out.push_str(open);
                let mut inner = if open.is_empty() { *prev } else { Prev::Start };
                write_tokens(group.stream(), out, &mut inner);
                out.push_str(close);
                *prev = if open.is_empty() { inner } else { Prev::Group };
            }
        }
    }
}

impl Lock {
    /// The lock as a file: deterministic, one field per line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Payload shapes of the audit event catalog `{}`: every event code and payload\n\
             # version that stored rows may hold, with its fields. `#[audit_core::events]`\n\
             # compares the catalog with this file when it compiles. Commit it, and review\n\
             # its changes like code: a change here is a change of what the log stores.\n\
             #\n\
             # After adding an event, a payload version or `retired`, record them with\n\
             #     {UPDATE_COMMAND}\n",
            self.catalog
        );
        let _ = writeln!(out, "format = {FORMAT}");
        let _ = writeln!(out, "catalog = {}", quoted(&self.catalog));
        for (code, event) in &self.events {
            let _ = writeln!(out, "\n[events.{code}]");
            if event.retired {
                out.push_str("retired = true\n");
            }
            for (version, fields) in &event.versions {
                if fields.is_empty() {
                    let _ = writeln!(out, "v{version} = []");
                    continue;
                }
                let _ = writeln!(out, "v{version} = [");
                for field in fields {
                    let _ = writeln!(out, "    {},", quoted(field));
                }
                out.push_str("]\n");
            }
        }
        out
    }

    /// Reads a lock file; the error names the line.
    pub fn parse(text: &str) -> Result<Lock, String> {
        let mut lock = Lock::default();
        let mut format = None;
        let mut catalog = None;
        let mut current: Option<String> = None;
        let mut lines = text.lines().enumerate();
        while let Some((index, raw)) = lines.next() {
            let number = index + 1;
            let at = |message: String| format!("line {number}: {message}");
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(header) = line.strip_prefix('[') {
                let name = header
                    .strip_suffix(']')
                    .ok_or_else(|| at("a table header ends with `]`".into()))?
                    .trim();
                let code = name
                    .strip_prefix("events.")
                    .ok_or_else(|| at(format!("expected `[events.<code>]`, found `[{name}]`")))?;
                if code.is_empty()
                    || !code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                {
                    return Err(at(format!("`{code}` is not an event code")));
                }
                if lock
                    .events
                    .insert(code.to_owned(), LockedEvent::default())
                    .is_some()
                {
                    return Err(at(format!("event `{code}` appears twice")));
                }
                current = Some(code.to_owned());
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| at(format!("expected `key = value`, found `{line}`")))?;
            let Some(code) = &current else {
                match key {
                    "format" => {
                        let value: u32 = value
                            .parse()
                            .map_err(|_| at(format!("`format` is a number, found `{value}`")))?;
                        if value != FORMAT {
                            return Err(at(format!(
                                "this lock is in format {value}, which this version of the \
                                 macro does not read (it reads format {FORMAT})"
                            )));
                        }
                        format = Some(value);
                    }
                    "catalog" => catalog = Some(parse_string(value).map_err(at)?),
                    other => return Err(at(format!("unknown key `{other}`"))),
                }
                continue;
            };
            let event = lock
                .events
                .get_mut(code)
                .expect("invariant: the current table was inserted at its header");
            if key == "retired" {
                event.retired = match value {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(at(format!(
                            "`retired` is `true` or `false`, found `{value}`"
                        )));
                    }
                };
                continue;
            }
            let version = key
                .strip_prefix('v')
                .and_then(|v| v.parse::<u32>().ok())
                .filter(|v| *v >= 1)
                .ok_or_else(|| {
                    at(format!(
                        "expected `retired` or a version such as `v1`, found `{key}`"
                    ))
                })?;
            // An array may span lines: read on until its `]`.
            let mut array = value.to_owned();
            while !array_closed(&array) {
                let Some((_, more)) = lines.next() else {
                    return Err(at(format!("the fields of `v{version}` never end with `]`")));
                };
                let more = more.trim();
                if !more.starts_with('#') {
                    array.push('\n');
                    array.push_str(more);
                }
            }
            let fields = parse_array(&array).map_err(at)?;
            if event.versions.insert(version, fields).is_some() {
                return Err(at(format!("version {version} of `{code}` appears twice")));
            }
        }
        if format.is_none() {
            return Err("`format = 1` is missing".into());
        }
        lock.catalog = catalog.ok_or("`catalog = \"...\"` is missing")?;
        if let Some((code, _)) = lock.events.iter().find(|(_, e)| e.versions.is_empty()) {
            return Err(format!("event `{code}` records no version"));
        }
        Ok(lock)
    }
}

/// `text` as a TOML basic string.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads one basic string that is the whole of `value`.
fn parse_string(value: &str) -> Result<String, String> {
    let mut chars = value.chars().peekable();
    let text = read_string(&mut chars)?;
    match chars.next() {
        None => Ok(text),
        Some(c) => Err(format!("unexpected `{c}` after a string")),
    }
}

/// Reads a basic string at the start of `chars` (its opening quote included).
fn read_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, String> {
    if chars.next() != Some('"') {
        return Err("expected a string in double quotes".into());
    }
    let mut text = String::new();
    loop {
        match chars.next() {
            None | Some('\n') => return Err("a string does not end".into()),
            Some('"') => return Ok(text),
            Some('\\') => match chars.next() {
                Some('"') => text.push('"'),
                Some('\\') => text.push('\\'),
                other => {
                    return Err(format!(
                        "unsupported escape `\\{}` (only `\\\"` and `\\\\` are written)",
                        other.map(String::from).unwrap_or_default()
                    ));
                }
            },
            Some(c) => text.push(c),
        }
    }
}

/// Whether `text`, an array's start, has its closing `]` (outside strings).
fn array_closed(text: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        match (in_string, c) {
            (true, _) if escaped => escaped = false,
            (true, '\\') => escaped = true,
            (true, '"') => in_string = false,
            (false, '"') => in_string = true,
            (false, ']') => return true,
            _ => {}
        }
    }
    false
}

/// Reads `[ "a", "b", ]`: strings separated by commas, a trailing one allowed.
fn parse_array(text: &str) -> Result<Vec<String>, String> {
    let mut chars = text.chars().peekable();
    if chars.next() != Some('[') {
        return Err("the fields of a version are an array: `[ \"name: Type\", .. ]`".into());
    }
    let mut items = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&']').is_some() {
            break;
        }
        items.push(read_string(&mut chars)?);
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next() {
            Some(',') => {}
            Some(']') => break,
            other => {
                return Err(format!(
                    "expected `,` or `]` after a field, found {}",
                    other.map_or("the end".to_owned(), |c| format!("`{c}`"))
                ));
            }
        }
    }
    match chars.find(|c| !c.is_whitespace()) {
        None => Ok(items),
        Some(c) => Err(format!("unexpected `{c}` after the array")),
    }
}

/// One difference between the catalog and the lock that fails the build.
#[derive(Debug)]
pub struct LockError {
    pub span: Span,
    pub message: String,
}

/// What comparing a catalog with its lock found.
#[derive(Debug)]
pub struct Comparison {
    /// Every difference the mode does not accept.
    pub errors: Vec<LockError>,
    /// The lock with what the mode accepts (equal to the old one in
    /// [`LockMode::Check`]).
    pub next: Lock,
}

/// The events whose shape is known (they parsed), by code.
fn comparable(catalog: &Catalog) -> Vec<&Event> {
    catalog.events.iter().filter(|e| e.complete).collect()
}

/// The lock that records `catalog` as it is, keeping from `old` the shapes
/// of the older versions its upgrades still read.
pub fn lock_of(catalog: &Catalog, old: Option<&Lock>) -> Lock {
    let mut lock = Lock {
        catalog: catalog.ident.to_string(),
        events: BTreeMap::new(),
    };
    for event in comparable(catalog) {
        let oldest = event.oldest_readable();
        let current = event.version.value;
        let mut versions: BTreeMap<u32, Vec<String>> = old
            .and_then(|old| old.events.get(&event.code.value))
            .map(|locked| {
                locked
                    .versions
                    .range(oldest..current)
                    .map(|(v, f)| (*v, f.clone()))
                    .collect()
            })
            .unwrap_or_default();
        versions.insert(current, shape(event));
        lock.events.insert(
            event.code.value.clone(),
            LockedEvent {
                retired: event.retired.is_some(),
                versions,
            },
        );
    }
    lock
}

/// `{ a: u32, b: String }`, for messages.
fn shape_text(fields: &[String]) -> String {
    if fields.is_empty() {
        "no fields".to_owned()
    } else {
        format!("{{ {} }}", fields.join(", "))
    }
}

/// Compares `catalog` with its `lock` (the file is named `file` in
/// messages), returning what `mode` does not accept and the lock to write.
pub fn compare(catalog: &Catalog, lock: &Lock, file: &str, mode: &LockMode) -> Comparison {
    if *mode == LockMode::Overwrite {
        return Comparison {
            errors: Vec::new(),
            next: lock_of(catalog, Some(lock)),
        };
    }
    let update = *mode == LockMode::Update;
    let mut errors = Vec::new();
    let mut next = lock.clone();
    let mut error = |span: Span, message: String| errors.push(LockError { span, message });

    if catalog.ident != lock.catalog {
        error(
            catalog.ident.span(),
            format!(
                "`{file}` is the lock of catalog `{}`, not of `{}`: give this catalog a lock of \
                 its own, `#[audit_core::events(lock = \"...\")]`; or, if the catalog was \
                 renamed, record its new name with `{OVERWRITE_COMMAND}`",
                lock.catalog, catalog.ident
            ),
        );
        return Comparison { errors, next };
    }

    let events = comparable(catalog);
    // Every code the catalog declares, parsed or not: a code of an event
    // that did not parse is not reported as removed.
    let declared: BTreeSet<&str> = catalog
        .events
        .iter()
        .map(|e| e.code.value.as_str())
        .collect();
    let removed: Vec<(&String, &LockedEvent)> = lock
        .events
        .iter()
        .filter(|(code, _)| !declared.contains(code.as_str()))
        .collect();
    let added: Vec<&Event> = events
        .iter()
        .copied()
        .filter(|e| !lock.events.contains_key(&e.code.value))
        .collect();

    // A new code with the shape and version of exactly one removed code is
    // that code renamed: one error, on the new code.
    let mut renamed: BTreeSet<&str> = BTreeSet::new();
    let mut renamed_to: BTreeSet<&str> = BTreeSet::new();
    for event in &added {
        let current = (event.version.value, shape(event));
        let matches: Vec<&&String> = removed
            .iter()
            .filter(|(_, locked)| {
                locked
                    .newest()
                    .is_some_and(|(v, f)| (v, f.clone()) == current)
            })
            .map(|(code, _)| code)
            .collect();
        if let [old] = matches.as_slice()
            && !renamed.contains(old.as_str())
        {
            renamed.insert(old.as_str());
            renamed_to.insert(event.code.value.as_str());
            error(
                event.code.span,
                format!(
                    "event code `{old}` became `{new}`, but stored rows hold `{old}` (it is in \
                     `{file}`): they would read as unknown. Codes are stored with every event and \
                     never change; put back `code = \"{old}\"` (the variant's Rust name may change \
                     freely)",
                    new = event.code.value
                ),
            );
        }
    }

    for (code, locked) in &removed {
        if renamed.contains(code.as_str()) {
            continue;
        }
        let message = if locked.retired {
            format!(
                "retired event code `{code}` is in `{file}` but no longer in catalog `{}`: stored \
                 rows may still hold it, and would read as unknown. Keep the retired event in \
                 the catalog; once no database holds it (its rows pruned), drop it from the lock \
                 with `{OVERWRITE_COMMAND}`",
                catalog.ident
            )
        } else {
            format!(
                "event code `{code}` is in `{file}` but no longer in catalog `{}`: stored rows \
                 may hold it, and would read as unknown. Keep the event and mark it retired, \
                 `#[event(code = \"{code}\", .., retired)]`: it still decodes and renders, and \
                 can no longer be emitted. (If no database ever stored it, drop it from the lock \
                 with `{OVERWRITE_COMMAND}`.)",
                catalog.ident
            )
        };
        error(catalog.ident.span(), message);
    }

    for event in &events {
        let code = event.code.value.as_str();
        let current = event.version.value;
        let fields = shape(event);
        let Some(locked) = lock.events.get(code) else {
            if renamed_to.contains(code) {
                continue;
            }
            if update {
                next.events.insert(
                    code.to_owned(),
                    LockedEvent {
                        retired: event.retired.is_some(),
                        versions: BTreeMap::from([(current, fields)]),
                    },
                );
            } else {
                error(
                    event.code.span,
                    format!(
                        "event `{code}` is new: `{file}` does not record it yet. Once its payload \
                         is what you want stored, record it with `{UPDATE_COMMAND}` and commit \
                         `{file}`"
                    ),
                );
            }
            continue;
        };
        let (newest, _) = locked
            .newest()
            .expect("invariant: a parsed lock records a version of every event");
        if current < newest {
            error(
                event.version.span,
                format!(
                    "event `{code}` is at version {current}, but `{file}` records version \
                     {newest}: stored rows may be at version {newest}, which this program could \
                     not read. Versions only go up: set `version = {newest}` (or higher, with \
                     an upgrade)"
                ),
            );
            continue;
        }
        // Upgrades that do not form a chain are reported by validation;
        // which versions they would read is unsure.
        if !event.upgrades.is_empty() && event.upgrade_chain().is_none() {
            continue;
        }
        let oldest = event.oldest_readable();
        let unreadable: Vec<u32> = locked
            .versions
            .keys()
            .copied()
            .filter(|v| *v < current && *v < oldest)
            .collect();
        if let Some(&newest_unreadable) = unreadable.last() {
            let list = unreadable
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let plural = if unreadable.len() == 1 { "" } else { "s" };
            error(
                event.version.span,
                format!(
                    "event `{code}` is at version {current}, and `{file}` records version{plural} \
                     {list}, which no upgrade reads: stored rows of version{plural} {list} would \
                     read as unknown. Add `upgrade(from = {newest_unreadable}, with = ..)`, a \
                     function from the old payload to the next version's (keep the old payload \
                     as a struct with the fields the lock records), or `json = ..` for a \
                     function on JSON",
                ),
            );
            continue;
        }
        match locked.versions.get(&current) {
            Some(locked_fields) => {
                let mut a = locked_fields.clone();
                let mut b = fields.clone();
                a.sort();
                b.sort();
                if a != b {
                    error(
                        changed_field_span(event, locked_fields),
                        format!(
                            "the payload of event `{code}` changed, but its version did not: \
                             `{file}` records version {current} as {}, and the catalog now \
                             declares {}. Rows stored at version {current} keep the old shape: \
                             set `version = {}` and add `upgrade(from = {current}, with = ..)`, \
                             a function from the old payload (kept as a struct with the locked \
                             fields) to the new one",
                            shape_text(locked_fields),
                            shape_text(&fields),
                            current + 1
                        ),
                    );
                }
            }
            None if update => {
                next.events
                    .get_mut(code)
                    .expect("invariant: the code is in the lock")
                    .versions
                    .insert(current, fields);
            }
            None => error(
                event.version.span,
                format!(
                    "version {current} of event `{code}` is new: `{file}` records up to version \
                     {newest}. Once its payload is what you want stored, record it with \
                     `{UPDATE_COMMAND}` and commit `{file}`"
                ),
            ),
        }
        let retired = event.retired.is_some();
        if retired != locked.retired {
            if update {
                next.events
                    .get_mut(code)
                    .expect("invariant: the code is in the lock")
                    .retired = retired;
            } else {
                let (span, what) = match event.retired {
                    Some(span) => (span, "is now retired"),
                    None => (event.code.span, "is no longer retired"),
                };
                error(
                    span,
                    format!(
                        "event `{code}` {what}, which `{file}` does not record yet: record it \
                         with `{UPDATE_COMMAND}` and commit `{file}`"
                    ),
                );
            }
        }
    }
    Comparison { errors, next }
}

/// Where a shape change shows: the first field that is new or changed, else
/// (only removals) the event's name.
fn changed_field_span(event: &Event, locked: &[String]) -> Span {
    event
        .fields
        .iter()
        .find(|f| !locked.contains(&field_shape(f)))
        .map_or(event.ident.span(), |f| f.ident.span())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostics;
    use crate::events::parse::parse_catalog;
    use syn::parse_quote;

    fn catalog(item: syn::ItemEnum) -> Catalog {
        let mut diag = Diagnostics::default();
        let catalog = parse_catalog(item, &mut diag);
        assert!(diag.is_empty(), "{:?}", diag.messages());
        catalog
    }

    fn v1() -> Catalog {
        catalog(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { #[target] x: u32, #[serde(rename = "why", default)] y: Option<Vec<(u8, String)>> },
                #[event(code = "b", label = "B", group = "G")]
                B,
            }
        })
    }

    fn messages(comparison: &Comparison) -> Vec<&str> {
        comparison
            .errors
            .iter()
            .map(|e| e.message.as_str())
            .collect()
    }

    #[test]
    fn fields_are_written_with_normalized_spacing() {
        let catalog = v1();
        assert_eq!(
            shape(&catalog.events[0]),
            [
                "x: u32",
                "#[serde(rename = \"why\", default)] y: Option<Vec<(u8, String)>>"
            ]
        );
        let tokens: TokenStream = "& 'static  str".parse().unwrap();
        assert_eq!(tokens_text(tokens), "&'static str");
        let tokens: TokenStream = "[u8;4]".parse().unwrap();
        assert_eq!(tokens_text(tokens), "[u8; 4]");
        let tokens: TokenStream = "HashMap < String,Box<dyn Error+Send> >".parse().unwrap();
        assert_eq!(
            tokens_text(tokens),
            "HashMap<String, Box<dyn Error + Send>>"
        );
        let tokens: TokenStream = "crate :: a :: B".parse().unwrap();
        assert_eq!(tokens_text(tokens), "crate::a::B");
    }

    #[test]
    fn a_lock_reads_back_what_it_writes() {
        let mut lock = lock_of(&v1(), None);
        lock.events.insert(
            "c".into(),
            LockedEvent {
                retired: true,
                versions: BTreeMap::from([
                    (1, vec!["q: \"quoted\\\"".into()]),
                    (10, vec![]),
                    (2, vec!["a: A".into(), "b: B".into()]),
                ]),
            },
        );
        let text = lock.to_text();
        assert_eq!(Lock::parse(&text), Ok(lock.clone()));
        assert_eq!(Lock::parse(&text).unwrap().to_text(), text, "deterministic");
        assert!(text.contains(
            "\n[events.a]\nv1 = [\n    \"x: u32\",\n    \"#[serde(rename = \\\"why\\\", default)] y: Option<Vec<(u8, String)>>\",\n]\n"
        ), "{text}");
        assert!(text.contains("\n[events.b]\nv1 = []\n"), "{text}");
        assert!(
            text.contains("\n[events.c]\nretired = true\nv1 = ["),
            "{text}"
        );
        let v2 = text.find("v2 = ").unwrap();
        let v10 = text.find("v10 = ").unwrap();
        assert!(v2 < v10, "versions in numeric order");
    }

    #[test]
    fn a_hand_edited_lock_is_read_or_refused_with_its_line() {
        let lock = Lock::parse(
            "# comment\nformat = 1\ncatalog = \"E\"\n\n[events.a]\nv1 = [\"x: u32\", \"y: u8\"]\nv2 = [\n  # a note\n  \"x: u64\"\n]\n",
        )
        .unwrap();
        assert_eq!(lock.events["a"].versions[&1], ["x: u32", "y: u8"]);
        assert_eq!(lock.events["a"].versions[&2], ["x: u64"]);
        for (text, expected) in [
            (
                "format = 1\ncatalog = \"E\"\n[event.a]\n",
                "line 3: expected `[events.<code>]`",
            ),
            (
                "format = 1\ncatalog = \"E\"\n[events.a]\nv0 = []\n",
                "line 4: expected `retired` or a version",
            ),
            (
                "format = 1\ncatalog = \"E\"\n[events.a]\nv1 = [\"x\"\n",
                "line 4: the fields of `v1` never end",
            ),
            (
                "format = 1\ncatalog = \"E\"\n[events.a]\nv1 = [\"x\" \"y\"]\n",
                "line 4: expected `,` or `]`",
            ),
            ("format = 2\n", "line 1: this lock is in format 2"),
            ("catalog = \"E\"\n", "`format = 1` is missing"),
            (
                "format = 1\ncatalog = \"E\"\n[events.a]\n",
                "event `a` records no version",
            ),
            (
                "format = 1\ncatalog = \"E\"\n[events.a]\nv1 = []\n[events.a]\n",
                "line 5: event `a` appears twice",
            ),
            ("format = 1\ncatalog = E\n", "line 2: expected a string"),
        ] {
            let error = Lock::parse(text).unwrap_err();
            assert!(error.starts_with(expected), "{error:?} for {text:?}");
        }
    }

    #[test]
    fn the_same_catalog_matches_its_lock() {
        let catalog = v1();
        let lock = lock_of(&catalog, None);
        let comparison = compare(&catalog, &lock, "l", &LockMode::Check);
        assert!(comparison.errors.is_empty(), "{:?}", comparison.errors);
        assert_eq!(comparison.next, lock);
    }

    #[test]
    fn a_shape_change_without_a_new_version_is_an_error_in_every_mode_but_overwrite() {
        let lock = lock_of(&v1(), None);
        let changed = catalog(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { x: u64, #[serde(rename = "why", default)] y: Option<Vec<(u8, String)>> },
                #[event(code = "b", label = "B", group = "G")]
                B,
            }
        });
        for mode in [LockMode::Check, LockMode::Update] {
            let comparison = compare(&changed, &lock, "audit-events.lock", &mode);
            assert_eq!(
                messages(&comparison),
                [
                    "the payload of event `a` changed, but its version did not: `audit-events.lock` \
                  records version 1 as { x: u32, #[serde(rename = \"why\", default)] y: \
                  Option<Vec<(u8, String)>> }, and the catalog now declares { x: u64, \
                  #[serde(rename = \"why\", default)] y: Option<Vec<(u8, String)>> }. Rows stored \
                  at version 1 keep the old shape: set `version = 2` and add `upgrade(from = 1, \
                  with = ..)`, a function from the old payload (kept as a struct with the locked \
                  fields) to the new one"
                ]
            );
            assert_eq!(comparison.next, lock, "nothing accepted");
        }
        let overwritten = compare(&changed, &lock, "l", &LockMode::Overwrite);
        assert!(overwritten.errors.is_empty());
        assert_eq!(overwritten.next.events["a"].versions[&1][0], "x: u64");
    }

    #[test]
    fn reordering_fields_or_changing_markers_and_docs_is_no_change() {
        let lock = lock_of(&v1(), None);
        let reordered = catalog(parse_quote! {
            enum E {
                #[event(code = "b", label = "B", group = "G")]
                B,
                #[event(code = "a", label = "A2", group = "G2")]
                Renamed {
                    /// Docs.
                    #[serde(rename = "why", default)] y: Option<Vec<(u8,String)>>,
                    #[parent] x: u32,
                },
            }
        });
        let comparison = compare(&reordered, &lock, "l", &LockMode::Check);
        assert!(comparison.errors.is_empty(), "{:?}", comparison.errors);
    }

    fn v2() -> Catalog {
        catalog(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G", version = 2, upgrade(from = 1, with = up))]
                A { x: u64 },
                #[event(code = "b", label = "B", group = "G")]
                B,
            }
        })
    }

    #[test]
    fn a_new_version_is_stale_until_updated_and_keeps_the_old_one() {
        let lock = lock_of(&v1(), None);
        let check = compare(&v2(), &lock, "l", &LockMode::Check);
        assert_eq!(
            messages(&check),
            [
                "version 2 of event `a` is new: `l` records up to version 1. Once its payload is \
              what you want stored, record it with `AUDIT_LOCK=update cargo build` and commit `l`"
            ]
        );
        let update = compare(&v2(), &lock, "l", &LockMode::Update);
        assert!(update.errors.is_empty(), "{:?}", update.errors);
        let a = &update.next.events["a"];
        assert_eq!(a.versions[&1], lock.events["a"].versions[&1]);
        assert_eq!(a.versions[&2], ["x: u64"]);
        // The updated lock then checks clean, and overwriting keeps version 1.
        assert!(
            compare(&v2(), &update.next, "l", &LockMode::Check)
                .errors
                .is_empty()
        );
        assert_eq!(lock_of(&v2(), Some(&update.next)), update.next);
    }

    #[test]
    fn a_locked_version_without_an_upgrade_is_an_error_even_when_updating() {
        let lock = lock_of(&v1(), None);
        let no_upgrade = catalog(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G", version = 2)]
                A { x: u64 },
                #[event(code = "b", label = "B", group = "G")]
                B,
            }
        });
        for mode in [LockMode::Check, LockMode::Update] {
            let comparison = compare(&no_upgrade, &lock, "l", &mode);
            let errors = messages(&comparison);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0].starts_with(
                    "event `a` is at version 2, and `l` records version 1, which no upgrade reads"
                ),
                "{errors:?}"
            );
        }
        // Overwriting forgets version 1.
        let overwritten = compare(&no_upgrade, &lock, "l", &LockMode::Overwrite).next;
        assert_eq!(overwritten.events["a"].versions.len(), 1);
    }

    #[test]
    fn a_version_that_goes_down_is_an_error() {
        let lock = lock_of(&v2(), Some(&lock_of(&v1(), None)));
        let comparison = compare(&v1(), &lock, "l", &LockMode::Update);
        let errors = messages(&comparison);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("event `a` is at version 1, but `l` records version 2"));
    }

    #[test]
    fn a_new_event_is_stale_and_a_removed_one_an_error() {
        let lock = lock_of(&v1(), None);
        let changed = catalog(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { #[target] x: u32, #[serde(rename = "why", default)] y: Option<Vec<(u8, String)>> },
                #[event(code = "c", label = "C", group = "G")]
                C { z: bool },
            }
        });
        let check = compare(&changed, &lock, "l", &LockMode::Check);
        let errors = messages(&check);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("event code `b` is in `l` but no longer in catalog `E`"));
        assert!(errors[0].contains("`#[event(code = \"b\", .., retired)]`"));
        assert!(errors[1].starts_with("event `c` is new: `l` does not record it yet"));
        // Updating records `c`, but the removal stays an error.
        let update = compare(&changed, &lock, "l", &LockMode::Update);
        assert_eq!(messages(&update).len(), 1);
        assert!(update.next.events.contains_key("c") && update.next.events.contains_key("b"));
    }

    #[test]
    fn a_broken_upgrade_chain_is_left_to_validation() {
        let lock = lock_of(&v1(), None);
        let dropped = catalog(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G", version = 3, upgrade(from = 2, with = up))]
                A { x: u64 },
                #[event(code = "b", label = "B", group = "G")]
                B,
            }
        });
        // A valid chain that no longer reads the locked version 1.
        assert_eq!(
            messages(&compare(&dropped, &lock, "l", &LockMode::Check)).len(),
            1
        );
        let broken = catalog(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G", version = 3,
                    upgrade(from = 1, with = up), upgrade(from = 3, with = up))]
                A { x: u64 },
                #[event(code = "b", label = "B", group = "G")]
                B,
            }
        });
        assert!(
            compare(&broken, &lock, "l", &LockMode::Check)
                .errors
                .is_empty()
        );
    }

    #[test]
    fn a_removed_retired_event_says_to_keep_it() {
        let mut lock = lock_of(&v1(), None);
        lock.events.get_mut("b").unwrap().retired = true;
        let without_b = catalog(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { #[target] x: u32, #[serde(rename = "why", default)] y: Option<Vec<(u8, String)>> },
            }
        });
        let comparison = compare(&without_b, &lock, "l", &LockMode::Check);
        let errors = messages(&comparison);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with(
                "retired event code `b` is in `l` but no longer in catalog `E`: stored rows may still hold it"
            ),
            "{errors:?}"
        );
    }

    #[test]
    fn a_renamed_code_is_one_error_on_the_new_code() {
        let lock = lock_of(&v1(), None);
        let renamed = catalog(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { #[target] x: u32, #[serde(rename = "why", default)] y: Option<Vec<(u8, String)>> },
                #[event(code = "b_happened", label = "B", group = "G")]
                B,
            }
        });
        let comparison = compare(&renamed, &lock, "l", &LockMode::Update);
        assert_eq!(
            messages(&comparison),
            [
                "event code `b` became `b_happened`, but stored rows hold `b` (it is in `l`): they \
              would read as unknown. Codes are stored with every event and never change; put \
              back `code = \"b\"` (the variant's Rust name may change freely)"
            ]
        );
    }

    #[test]
    fn retiring_is_recorded_through_an_update() {
        let lock = lock_of(&v1(), None);
        let retired = catalog(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { #[target] x: u32, #[serde(rename = "why", default)] y: Option<Vec<(u8, String)>> },
                #[event(code = "b", label = "B", group = "G", retired)]
                B,
            }
        });
        let check = compare(&retired, &lock, "l", &LockMode::Check);
        assert_eq!(
            messages(&check),
            [
                "event `b` is now retired, which `l` does not record yet: record it with \
              `AUDIT_LOCK=update cargo build` and commit `l`"
            ]
        );
        let update = compare(&retired, &lock, "l", &LockMode::Update);
        assert!(update.errors.is_empty());
        assert!(update.next.events["b"].retired);
        assert!(
            update
                .next
                .to_text()
                .contains("[events.b]\nretired = true\nv1 = []")
        );
    }

    #[test]
    fn a_lock_of_another_catalog_is_refused() {
        let mut lock = lock_of(&v1(), None);
        lock.catalog = "Other".into();
        let comparison = compare(&v1(), &lock, "audit-events.lock", &LockMode::Update);
        let errors = messages(&comparison);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with(
            "`audit-events.lock` is the lock of catalog `Other`, not of `E`: give this catalog a \
             lock of its own"
        ));
        assert_eq!(
            compare(&v1(), &lock, "l", &LockMode::Overwrite)
                .next
                .catalog,
            "E"
        );
    }

    #[test]
    fn the_variable_names_a_mode() {
        assert_eq!(LockMode::from_value(None), LockMode::Check);
        assert_eq!(LockMode::from_value(Some("")), LockMode::Check);
        assert_eq!(LockMode::from_value(Some("update")), LockMode::Update);
        assert_eq!(LockMode::from_value(Some("overwrite")), LockMode::Overwrite);
        assert_eq!(
            LockMode::from_value(Some("yes")),
            LockMode::Invalid("yes".into())
        );
    }
}
