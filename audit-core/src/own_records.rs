//! The log's own records (`audit:` codes: a prune, a repair, an import, a
//! change of the minimum retention, the log's first event), for every
//! application, without a catalog declaring them: their labels and
//! descriptions ([`OwnRecordType`], one table), a catalog's types and
//! them together ([`LogEventType`], what a log's type column shows and its
//! type filter offers), and their sentences: "alice pruned 5,000 events
//! from before 2025-01-01 from the log (reason: policy)". Sentences are
//! read from the stored payload, each value shown as text (escaped by the
//! page); a record whose payload cannot be read is shown generically.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::actor::Actor;
use crate::catalog::EventType;
use crate::error::UnknownEventCode;
use crate::store::{
    ERASED_EVENT_CODE, IMPORTED_EVENT_CODE, LOG_CREATED_CODE, PRUNED_EVENT_CODE,
    RETENTION_CHANGED_CODE, SCHEMA_REPAIRED_CODE,
};

/// One kind of the log's own records: a record the library writes itself,
/// with a code starting `audit:` (which no catalog code can hold), so that
/// every log may hold it and no catalog declares it. Its label and
/// description are the library's: an application shows them, and offers
/// them in its type filters, without declaring anything
/// ([`LogEventType`] puts them beside a catalog's types).
///
/// ```
/// use audit_core::events::OwnRecordType;
///
/// let pruned = OwnRecordType::from_code("audit:log_pruned").unwrap();
/// assert_eq!((pruned.label(), pruned.group()), ("Log pruned", "Audit log"));
/// assert!(OwnRecordType::from_code("project_created").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OwnRecordType {
    code: &'static str,
    label: &'static str,
    description: &'static str,
}

impl OwnRecordType {
    /// Every kind of record the library writes, in the order a type filter
    /// lists them.
    pub const ALL: &'static [OwnRecordType] = &[
        OwnRecordType {
            code: IMPORTED_EVENT_CODE,
            label: "Events imported",
            description: "Events that happened before auditing began, or in another system, \
                were imported into the log with their own time and actor; the record names \
                the source, the reason and the import keys.",
        },
        OwnRecordType {
            code: PRUNED_EVENT_CODE,
            label: "Log pruned",
            description: "Events older than the retention were deleted from the log; the \
                record says how many, from before when, which ones and why.",
        },
        OwnRecordType {
            code: ERASED_EVENT_CODE,
            label: "Person erased",
            description: "A person's personal values (their name, address, user agent and \
                the fields marked personal) were erased from every event about them and \
                replaced by their commitments, so that the log still verifies; the record \
                names the person only by a random id, and lists each value erased.",
        },
        OwnRecordType {
            code: RETENTION_CHANGED_CODE,
            label: "Retention changed",
            description: "The minimum retention of the log, the age below which no prune \
                may delete an event, was changed; the record holds the old and new value \
                and why.",
        },
        OwnRecordType {
            code: SCHEMA_REPAIRED_CODE,
            label: "Schema repaired",
            description: "The audit schema's triggers, functions or rights were found \
                damaged and restored; the record lists the problems fixed and why.",
        },
        OwnRecordType {
            code: LOG_CREATED_CODE,
            label: "Log created",
            description: "The audit log was created: its first record, written by the \
                migration that made the events table.",
        },
    ];

    /// The group type filters list the log's own records under.
    pub const GROUP: &'static str = "Audit log";

    /// The kind of record stored as `code`; `None` for a code the library
    /// does not write.
    pub fn from_code(code: &str) -> Option<OwnRecordType> {
        Self::ALL.iter().find(|t| t.code == code).copied()
    }

    /// The code the record is stored with (`audit:log_pruned`).
    pub const fn code(self) -> &'static str {
        self.code
    }

    /// A short human label (`Log pruned`).
    pub const fn label(self) -> &'static str {
        self.label
    }

    /// A sentence or two saying what the record means.
    pub const fn description(self) -> &'static str {
        self.description
    }

    /// The group it is listed under in filters: [`OwnRecordType::GROUP`].
    pub const fn group(self) -> &'static str {
        Self::GROUP
    }

    /// Whether queries return records of this kind, so that type filters
    /// offer it: every kind but the log's anchor (`audit:log_created`, the
    /// row with id 0, which no query returns).
    pub fn is_listed(self) -> bool {
        self.code != LOG_CREATED_CODE
    }
}

impl fmt::Display for OwnRecordType {
    /// The code, as an event type of a catalog displays.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// The type of an event a log holds: one of the application's catalog
/// (`T`, the event-type enum the catalog macro generates), or one of the
/// log's own records, which no catalog declares. What a page shows as an
/// event's type ([`StoredEvent::event_type`](crate::query::StoredEvent::event_type)),
/// and what a type filter offers ([`LogEventType::offered`]) and parses
/// (`FromStr`, by code: a code of the catalog or of the library; codes of
/// a catalog cannot hold the `:` of the library's, so they never collide).
///
/// ```
/// # audit_core::declare_events! {
/// #     #[events(templates = "tests/templates")]
/// #     pub enum DocEvent {
/// #         #[event(code = "project_created", label = "Project created", group = "Projects")]
/// #         ProjectCreated { name: String },
/// #     }
/// # }
/// use audit_core::events::LogEventType;
///
/// let created: LogEventType<DocEventType> = "project_created".parse().unwrap();
/// assert_eq!(created, LogEventType::Catalog(DocEventType::ProjectCreated));
/// let imported: LogEventType<DocEventType> = "audit:events_imported".parse().unwrap();
/// assert_eq!((imported.label(), imported.group()), ("Events imported", "Audit log"));
/// assert!("project_archived".parse::<LogEventType<DocEventType>>().is_err());
///
/// // What a type filter offers: the catalog's types, then the library's.
/// let offered: Vec<&str> = LogEventType::<DocEventType>::offered().map(|t| t.code()).collect();
/// assert_eq!(
///     offered,
///     ["project_created", "audit:events_imported", "audit:log_pruned",
///      "audit:subject_erased", "audit:retention_changed", "audit:schema_repaired"]
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogEventType<T> {
    /// A type the application's catalog declares.
    Catalog(T),
    /// One of the log's own records.
    Own(OwnRecordType),
}

impl<T: EventType> LogEventType<T> {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            LogEventType::Catalog(t) => t.code(),
            LogEventType::Own(t) => t.code(),
        }
    }

    /// The label: the catalog's, or the library's.
    pub fn label(self) -> &'static str {
        match self {
            LogEventType::Catalog(t) => t.label(),
            LogEventType::Own(t) => t.label(),
        }
    }

    /// The group it is listed under in filters: the catalog's, or
    /// [`OwnRecordType::GROUP`].
    pub fn group(self) -> &'static str {
        match self {
            LogEventType::Catalog(t) => t.group(),
            LogEventType::Own(t) => t.group(),
        }
    }

    /// The types to offer where a person picks event types: the catalog's
    /// that are not retired, in declaration order, then the log's own
    /// records that queries return ([`OwnRecordType::is_listed`]).
    pub fn offered() -> impl Iterator<Item = LogEventType<T>> {
        let catalog = T::ALL
            .iter()
            .filter(|t| !t.is_retired())
            .map(|t| LogEventType::Catalog(*t));
        let own = OwnRecordType::ALL
            .iter()
            .filter(|t| t.is_listed())
            .map(|t| LogEventType::Own(*t));
        catalog.chain(own)
    }
}

impl<T: EventType> From<T> for LogEventType<T> {
    fn from(t: T) -> Self {
        LogEventType::Catalog(t)
    }
}

impl<T: EventType> FromStr for LogEventType<T> {
    type Err = UnknownEventCode;

    /// The catalog's type of `code`, or the library's own record of it;
    /// the catalog's error for a code neither declares.
    fn from_str(code: &str) -> Result<Self, UnknownEventCode> {
        match code.parse::<T>() {
            Ok(t) => Ok(LogEventType::Catalog(t)),
            Err(e) => OwnRecordType::from_code(code)
                .map(LogEventType::Own)
                .ok_or(e),
        }
    }
}

impl<T: EventType> fmt::Display for LogEventType<T> {
    /// The code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The sentence of the log's own record of `code` with `payload` (the stored
/// JSON), acting `actor`; `None` for any other code, or a payload that does
/// not hold what the record needs.
pub(crate) fn sentence(actor: &Actor, code: &str, payload: &str) -> Option<String> {
    let payload: Value = serde_json::from_str(payload).ok()?;
    let reason = |p: &Value| {
        p["reason"]
            .as_str()
            .filter(|r| !r.is_empty())
            .map(|r| format!(" (reason: {r})"))
            .unwrap_or_default()
    };
    Some(match code {
        PRUNED_EVENT_CODE => {
            let deleted = payload["deleted"].as_u64()?;
            let before = payload["before"].as_str()?;
            let day = before.get(..10).unwrap_or(before);
            format!(
                "{actor} pruned {} from before {day} from the log{}",
                events(deleted),
                reason(&payload)
            )
        }
        IMPORTED_EVENT_CODE => {
            let imported = payload["imported"].as_u64()?;
            let source = payload["source"].as_str()?;
            let skipped = match payload["skipped"].as_u64() {
                Some(0) | None => String::new(),
                Some(n) => format!(", {} imported before skipped", events(n)),
            };
            format!(
                "{actor} imported {} from {source}{skipped}{}",
                events(imported),
                reason(&payload)
            )
        }
        SCHEMA_REPAIRED_CODE => {
            let problems = payload["problems"].as_array()?;
            let what = match problems.as_slice() {
                [one] => format!(": {}", one.as_str()?),
                more => format!(": {} problems fixed", more.len()),
            };
            format!(
                "{actor} repaired the audit schema{what}{}",
                reason(&payload)
            )
        }
        RETENTION_CHANGED_CODE => {
            let after = payload["after_secs"].as_u64()?;
            let before = payload["before_secs"].as_u64()?;
            format!(
                "{actor} set the minimum retention of the audit log to {} (it was {}){}",
                duration(after),
                duration(before),
                reason(&payload)
            )
        }
        ERASED_EVENT_CODE => {
            let values = payload["values"].as_u64()?;
            let count = payload["events"].as_u64()?;
            format!(
                "{actor} erased a person's personal data: {} in {}{}",
                plural(values, "value"),
                events(count),
                reason(&payload)
            )
        }
        LOG_CREATED_CODE => format!("{actor} started the audit log"),
        _ => return None,
    })
}

/// "1 event", "5,000 events".
fn events(n: u64) -> String {
    plural(n, "event")
}

/// "1 value", "5,000 values": `n` with its thousands grouped, and `noun`.
fn plural(n: u64, noun: &str) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if n == 1 {
        format!("{grouped} {noun}")
    } else {
        format!("{grouped} {noun}s")
    }
}

/// A retention in days when it is whole days, else in seconds.
fn duration(secs: u64) -> String {
    const DAY: u64 = 24 * 3600;
    match (secs / DAY, secs % DAY) {
        (1, 0) => "1 day".to_owned(),
        (days, 0) if days > 0 => format!("{days} days"),
        _ if secs == 1 => "1 second".to_owned(),
        _ => format!("{secs} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_reads_as_a_sentence() {
        let alice = Actor::user(1, "alice");
        let cases = [
            (
                PRUNED_EVENT_CODE,
                r#"{"before": "2025-01-01T00:00:00.000000+00:00", "deleted": 5000, "batch": 1, "reason": "policy"}"#,
                "alice pruned 5,000 events from before 2025-01-01 from the log (reason: policy)",
            ),
            (
                IMPORTED_EVENT_CODE,
                r#"{"source": "backfill-2026-12", "reason": "", "batch": 1, "imported": 3, "skipped": 1, "keys": []}"#,
                "alice imported 3 events from backfill-2026-12, 1 event imported before skipped",
            ),
            (
                SCHEMA_REPAIRED_CODE,
                r#"{"problems": ["a", "b"], "reason": "restore"}"#,
                "alice repaired the audit schema: 2 problems fixed (reason: restore)",
            ),
            (
                SCHEMA_REPAIRED_CODE,
                r#"{"problems": ["trigger `x` on `t` is missing"], "reason": ""}"#,
                "alice repaired the audit schema: trigger `x` on `t` is missing",
            ),
            (
                RETENTION_CHANGED_CODE,
                r#"{"before_secs": 2592000, "after_secs": 31536000, "reason": "law"}"#,
                "alice set the minimum retention of the audit log to 365 days (it was 30 days) (reason: law)",
            ),
            (LOG_CREATED_CODE, "{}", "alice started the audit log"),
        ];
        for (code, payload, expected) in cases {
            assert_eq!(
                sentence(&alice, code, payload).as_deref(),
                Some(expected),
                "{code}"
            );
        }
    }

    /// Every code the library writes, from its constants.
    const WRITTEN: [&str; 6] = [
        IMPORTED_EVENT_CODE,
        PRUNED_EVENT_CODE,
        ERASED_EVENT_CODE,
        RETENTION_CHANGED_CODE,
        SCHEMA_REPAIRED_CODE,
        LOG_CREATED_CODE,
    ];

    #[test]
    fn every_code_the_library_writes_has_a_label_and_a_description() {
        for code in WRITTEN {
            let own = OwnRecordType::from_code(code).unwrap_or_else(|| panic!("{code}: no label"));
            assert_eq!(own.code(), code);
            for text in [own.label(), own.description()] {
                assert!(!text.trim().is_empty(), "{code}");
                assert!(!text.contains("audit:"), "{code}: {text}");
            }
            assert_eq!(own.group(), OwnRecordType::GROUP);
        }
        // One row per code, and no row for a code the library does not write.
        let mut listed: Vec<&str> = OwnRecordType::ALL.iter().map(|t| t.code()).collect();
        listed.sort_unstable();
        let mut written = WRITTEN.to_vec();
        written.sort_unstable();
        assert_eq!(listed, written);
        // Labels tell the kinds apart.
        let mut labels: Vec<&str> = OwnRecordType::ALL.iter().map(|t| t.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), OwnRecordType::ALL.len());
        // Queries never return the anchor, so filters do not offer it.
        let unlisted: Vec<&str> = OwnRecordType::ALL
            .iter()
            .filter(|t| !t.is_listed())
            .map(|t| t.code())
            .collect();
        assert_eq!(unlisted, [LOG_CREATED_CODE]);
    }

    /// The string literals of the crate's code (comments and unit tests
    /// left out) that look like a code of the log's own records,
    /// `"audit:name"`.
    fn own_code_literals(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("audit-core/src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                own_code_literals(&path, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (start, _) in line.match_indices("\"audit:") {
                    let rest = &line[start + 1..];
                    let name_end = rest[6..]
                        .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                        .map_or(rest.len(), |n| n + 6);
                    if name_end > 6 && rest[name_end..].starts_with('"') {
                        found.push((path.display().to_string(), rest[..name_end].to_owned()));
                    }
                }
            }
        }
    }

    #[test]
    fn a_new_kind_of_own_record_cannot_be_written_without_a_label() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        own_code_literals(&src, &mut found);
        // The one `audit:` literal that is not an event code: the command
        // name of imported events.
        found.retain(|(_, literal)| literal != crate::store::IMPORT_COMMAND);
        assert!(found.len() >= WRITTEN.len(), "{found:?}");
        for (file, code) in &found {
            assert!(
                OwnRecordType::from_code(code).is_some(),
                "{file} writes `{code}`, which has no label in `OwnRecordType::ALL`"
            );
        }
    }

    #[test]
    fn a_log_event_type_is_the_catalogs_or_the_librarys() {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        enum Kind {
            Created,
            Gone,
        }
        impl fmt::Display for Kind {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
        impl FromStr for Kind {
            type Err = UnknownEventCode;
            fn from_str(code: &str) -> Result<Self, UnknownEventCode> {
                Kind::ALL
                    .iter()
                    .copied()
                    .find(|k| k.code() == code)
                    .ok_or(UnknownEventCode {
                        code: code.to_owned(),
                        catalog: "Kinds",
                    })
            }
        }
        impl EventType for Kind {
            const ALL: &'static [Kind] = &[Kind::Created, Kind::Gone];
            fn code(self) -> &'static str {
                ["created", "gone"][self as usize]
            }
            fn label(self) -> &'static str {
                ["Created", "Gone"][self as usize]
            }
            fn group(self) -> &'static str {
                "Things"
            }
            fn version(self) -> u32 {
                1
            }
            fn is_retired(self) -> bool {
                self == Kind::Gone
            }
        }

        let created: LogEventType<Kind> = "created".parse().unwrap();
        assert_eq!(created, LogEventType::Catalog(Kind::Created));
        assert_eq!((created.label(), created.group()), ("Created", "Things"));
        let pruned: LogEventType<Kind> = PRUNED_EVENT_CODE.parse().unwrap();
        assert_eq!(
            (pruned.code(), pruned.label(), pruned.group()),
            (PRUNED_EVENT_CODE, "Log pruned", "Audit log")
        );
        assert_eq!(pruned.to_string(), PRUNED_EVENT_CODE);
        let unknown = "audit:unheard_of"
            .parse::<LogEventType<Kind>>()
            .unwrap_err();
        assert_eq!(unknown.catalog, "Kinds");
        let offered: Vec<&str> = LogEventType::<Kind>::offered().map(|t| t.code()).collect();
        assert_eq!(
            offered,
            [
                "created",
                IMPORTED_EVENT_CODE,
                PRUNED_EVENT_CODE,
                ERASED_EVENT_CODE,
                RETENTION_CHANGED_CODE,
                SCHEMA_REPAIRED_CODE
            ]
        );
    }

    #[test]
    fn other_codes_and_unreadable_payloads_are_not_sentences() {
        let alice = Actor::user(1, "alice");
        assert_eq!(sentence(&alice, "audit:unheard_of", "{}"), None);
        assert_eq!(sentence(&alice, "project_created", "{}"), None);
        assert_eq!(sentence(&alice, PRUNED_EVENT_CODE, "not json"), None);
        assert_eq!(
            sentence(&alice, PRUNED_EVENT_CODE, r#"{"deleted": "x"}"#),
            None
        );
        assert_eq!(events(1_234_567), "1,234,567 events");
        assert_eq!(duration(0), "0 seconds");
        assert_eq!(duration(90), "90 seconds");
    }
}
