//! Retention: `Auditor::prune_before` is the one way to delete events, it
//! deletes exactly those before the cutoff, and it records itself.

use audit_core::events::{Decoded, UnknownReason};
use audit_core::store::PRUNED_EVENT_CODE;
use audit_core::{Actor, AuditError, testing};
use chrono::{DateTime, Utc};

use crate::support::{self, log, payload};

/// Microseconds since the Unix epoch as a time.
fn at(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap()
}

#[tokio::test]
async fn prune_before_deletes_exactly_the_older_events_and_records_itself() {
    for auditor in support::databases("retention").await {
        let label = testing::label(&auditor);
        // Three old rows, written by hand with fixed times: before the
        // cutoff, and exactly at it (kept: the cutoff is exclusive).
        support::insert_rows(
            &auditor,
            "(1000000, 'note_written', 1, 'system', 'old', 'old', 'x', 'c1', '{\"widget\": 1, \"text\": \"a\"}'), \
             (1999999, 'note_written', 1, 'system', 'old', 'old', 'x', 'c2', '{\"widget\": 1, \"text\": \"b\"}'), \
             (2000000, 'note_written', 1, 'system', 'old', 'old', 'x', 'c3', '{\"widget\": 1, \"text\": \"c\"}')",
        )
        .await;
        support::commit_widget(&auditor, Actor::system("test"), 1).await;
        let kept: Vec<i64> = support::ids(&log(&auditor).await)[..2].to_vec();

        let admin = Actor::user(1, "alice");
        let deleted = auditor
            .prune_before(&admin, at(2_000_000), "retention policy")
            .await
            .unwrap();
        assert_eq!(deleted, 2, "{label}");

        let events = log(&auditor).await;
        assert_eq!(events.len(), 3, "{label}");
        assert_eq!(
            support::ids(&events[1..]),
            kept,
            "{label}: the wrong events went"
        );
        let record = &events[0];
        assert!(record.id > kept[0], "{label}: the record is appended");
        assert_eq!(record.actor, admin);
        assert_eq!(record.command_name, "prune_before");
        assert!(!record.command_id.is_empty());
        assert_eq!(record.references, Default::default());
        let unknown = match &record.event {
            Decoded::Unknown(unknown) => unknown,
            other => panic!("{label}: {other:?}"),
        };
        assert_eq!(unknown.code, PRUNED_EVENT_CODE);
        assert_eq!(
            unknown.version, 2,
            "{label}: the record names what it deleted"
        );
        assert_eq!(unknown.reason, UnknownReason::UnknownCode);
        let payload: serde_json::Value = serde_json::from_str(&unknown.raw).unwrap();
        assert_eq!(payload["deleted"], 2, "{label}: {payload}");
        // The first and last deleted positions, and (none was sealed) the
        // digest of no hash at all.
        assert!(payload["first"][1].as_i64().is_some(), "{label}: {payload}");
        assert!(
            payload["last"][1].as_i64() > payload["first"][1].as_i64(),
            "{label}: {payload}"
        );
        assert_eq!(payload["sealed"], 0, "{label}: {payload}");
        assert_eq!(
            payload["sealed_digest"],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "{label}: {payload}"
        );
        assert_eq!(payload["before_micros"], 2_000_000, "{label}: {payload}");
        // Shown as the library's sentence, by every application.
        let cx = audit_core::present::PresentContext::new();
        assert_eq!(
            record.render(&cx),
            "alice pruned 2 events from before 1970-01-01 from the log (reason: retention policy)",
            "{label}"
        );
        assert_eq!(payload["reason"], "retention policy", "{label}: {payload}");
        assert_eq!(
            payload["before"]
                .as_str()
                .and_then(|s| s.parse::<DateTime<Utc>>().ok()),
            Some(at(2_000_000)),
            "{label}: {payload}"
        );

        // The permit does not outlive the prune.
        let err = testing::execute(&auditor, "DELETE FROM audit_events")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{label}: {err}");
        if label == "sqlite" {
            assert_eq!(
                testing::scalar(&auditor, "SELECT COUNT(*) FROM audit_retention_permit").await,
                0
            );
        }
        assert_eq!(support::events(&auditor).await, 3, "{label}");
    }
}

#[tokio::test]
async fn a_prune_that_deletes_nothing_is_recorded_too() {
    for auditor in support::databases("prune_nothing").await {
        let label = testing::label(&auditor);
        support::commit_widget(&auditor, Actor::system("test"), 1).await;
        let deleted = auditor
            .prune_before(
                &Actor::system("retention-job"),
                at(0),
                "nothing is that old",
            )
            .await
            .unwrap();
        assert_eq!(deleted, 0, "{label}");
        let events = log(&auditor).await;
        assert_eq!(
            support::codes(&events),
            [PRUNED_EVENT_CODE, "widget_created"]
        );
        assert_eq!(events[0].actor, Actor::system("retention-job"));
        assert_eq!(payload(&events[0])["deleted"], 0, "{label}");
        assert_eq!(
            payload(&events[0])["reason"],
            "nothing is that old",
            "{label}"
        );
    }
}

#[tokio::test]
async fn a_later_prune_never_deletes_the_record_of_an_earlier_one() {
    for auditor in support::databases("prune_twice").await {
        let label = testing::label(&auditor);
        let auditor = support::prunable_now(auditor).await;
        support::commit_widget(&auditor, Actor::system("test"), 1).await;
        let admin = Actor::user(1, "alice");
        auditor.prune_before(&admin, at(0), "first").await.unwrap();
        // Just after the newest event: everything now stored is before it.
        let newest = log(&auditor).await.iter().map(|e| e.occurred_at).max();
        let cutoff = newest.unwrap() + chrono::Duration::microseconds(1);
        let deleted = auditor.prune_before(&admin, cutoff, "second").await;
        assert_eq!(
            deleted.unwrap(),
            1,
            "{label}: the widget, not the first record"
        );
        let events = log(&auditor).await;
        let reasons: Vec<String> = events
            .iter()
            .map(|e| payload(e)["reason"].as_str().unwrap_or_default().to_owned())
            .collect();
        // And the record of the minimum retention set to zero for the test.
        assert_eq!(reasons, ["second", "first", "test"], "{label}");
        assert_eq!(payload(&events[0])["deleted"], 1);
        // Not even by hand: the log's own records never go.
        let err = testing::execute(
            &auditor,
            "DELETE FROM audit_events WHERE event_type LIKE 'audit:%'",
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{label}: {err}");
    }
}

#[tokio::test]
async fn cutoffs_in_the_future_or_within_the_minimum_retention_are_refused() {
    for auditor in support::databases("prune_refused").await {
        let label = testing::label(&auditor);
        support::commit_widget(&auditor, Actor::system("test"), 1).await;
        let admin = Actor::user(1, "alice");
        let ten_years = chrono::Duration::days(3650);
        for (auditor, cutoff) in [
            (auditor.clone(), Utc::now() + ten_years),
            (auditor.clone(), Utc::now() - chrono::Duration::days(1)),
            (
                auditor
                    .clone()
                    .with_min_retention(std::time::Duration::ZERO),
                Utc::now() + chrono::Duration::seconds(60),
            ),
        ] {
            match auditor.prune_before(&admin, cutoff, "too far").await {
                Err(AuditError::CutoffTooRecent { latest_allowed, .. }) => {
                    assert!(latest_allowed < cutoff, "{label}")
                }
                other => panic!("{label}: {other:?}"),
            }
        }
        // Nothing went and nothing was recorded.
        assert_eq!(
            support::codes(&log(&auditor).await),
            ["widget_created"],
            "{label}"
        );
        // The default minimum retention is 30 days: a cutoff before it is fine.
        assert_eq!(
            auditor.min_retention(),
            audit_core::store::DEFAULT_MIN_RETENTION,
            "{label}"
        );
        let deleted = auditor
            .prune_before(&admin, Utc::now() - ten_years, "old enough")
            .await
            .unwrap();
        assert_eq!(deleted, 0, "{label}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_prunes_each_leave_their_record() {
    for auditor in support::databases("prune_concurrent").await {
        let label = testing::label(&auditor);
        let auditor = support::prunable_now(auditor).await;
        let mut prunes = Vec::new();
        for n in 0..8 {
            let auditor = auditor.clone();
            prunes.push(tokio::spawn(async move {
                support::commit_widget(&auditor, Actor::system("test"), n).await;
                auditor
                    .prune_before(&Actor::system("job"), Utc::now(), &format!("prune {n}"))
                    .await
            }));
        }
        for prune in prunes {
            prune
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{label}: {e}"));
        }
        let records = log(&auditor)
            .await
            .iter()
            .filter(|e| e.event.code() == PRUNED_EVENT_CODE)
            .count();
        assert_eq!(
            records, 8,
            "{label}: every prune's record survives the others"
        );
    }
}
