//! Retention: `Auditor::prune_before` is the one way to delete events, it
//! deletes exactly those before the cutoff, and it records itself.

mod support;

use audit_core::{Actor, Decoded, PRUNED_EVENT_CODE, UnknownReason, testing};
use chrono::{DateTime, Utc};
use support::{log, payload};

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
        assert_eq!(unknown.version, 1);
        assert_eq!(unknown.reason, UnknownReason::UnknownCode);
        let payload: serde_json::Value = serde_json::from_str(&unknown.raw).unwrap();
        assert_eq!(payload["deleted"], 2, "{label}: {payload}");
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
async fn a_later_prune_deletes_the_record_of_an_earlier_one_and_says_so() {
    for auditor in support::databases("prune_twice").await {
        let label = testing::label(&auditor);
        support::commit_widget(&auditor, Actor::system("test"), 1).await;
        let admin = Actor::user(1, "alice");
        auditor.prune_before(&admin, at(0), "first").await.unwrap();
        // Just after the newest event: everything now stored is before it.
        let newest = log(&auditor).await.iter().map(|e| e.occurred_at).max();
        let cutoff = newest.unwrap() + chrono::Duration::microseconds(1);
        let deleted = auditor.prune_before(&admin, cutoff, "second").await;
        assert_eq!(
            deleted.unwrap(),
            2,
            "{label}: the widget and the first record"
        );
        let events = log(&auditor).await;
        assert_eq!(events.len(), 1, "{label}");
        assert_eq!(payload(&events[0])["reason"], "second");
        assert_eq!(payload(&events[0])["deleted"], 2);
    }
}
