//! The log's own records (`audit:` codes: a prune, a repair, an import, a
//! change of the minimum retention, the log's first event) as sentences,
//! for every application, without a catalog declaring them: "alice pruned
//! 5,000 events from before 2025-01-01 from the log (reason: policy)".
//! Read from their stored payload, each value shown as text (escaped by the
//! page); a record whose payload cannot be read is shown generically.

use serde_json::Value;

use crate::actor::Actor;
use crate::store::{IMPORTED_EVENT_CODE, PRUNED_EVENT_CODE};

/// The code of the log's first event (`store/schema.rs`).
const LOG_CREATED: &str = "audit:log_created";
/// The code of a schema repair's record (`store/schema.rs`).
const SCHEMA_REPAIRED: &str = "audit:schema_repaired";
/// The code of a change of the stored minimum retention (`store/retention.rs`).
const RETENTION_CHANGED: &str = "audit:retention_changed";

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
        SCHEMA_REPAIRED => {
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
        RETENTION_CHANGED => {
            let after = payload["after_secs"].as_u64()?;
            let before = payload["before_secs"].as_u64()?;
            format!(
                "{actor} set the minimum retention of the audit log to {} (it was {}){}",
                duration(after),
                duration(before),
                reason(&payload)
            )
        }
        LOG_CREATED => format!("{actor} started the audit log"),
        _ => return None,
    })
}

/// "1 event", "5,000 events".
fn events(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if n == 1 {
        format!("{grouped} event")
    } else {
        format!("{grouped} events")
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
                SCHEMA_REPAIRED,
                r#"{"problems": ["a", "b"], "reason": "restore"}"#,
                "alice repaired the audit schema: 2 problems fixed (reason: restore)",
            ),
            (
                SCHEMA_REPAIRED,
                r#"{"problems": ["trigger `x` on `t` is missing"], "reason": ""}"#,
                "alice repaired the audit schema: trigger `x` on `t` is missing",
            ),
            (
                RETENTION_CHANGED,
                r#"{"before_secs": 2592000, "after_secs": 31536000, "reason": "law"}"#,
                "alice set the minimum retention of the audit log to 365 days (it was 30 days) (reason: law)",
            ),
            (LOG_CREATED, "{}", "alice started the audit log"),
        ];
        for (code, payload, expected) in cases {
            assert_eq!(
                sentence(&alice, code, payload).as_deref(),
                Some(expected),
                "{code}"
            );
        }
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
