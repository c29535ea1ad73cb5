//! Erasures as verification sees them: every erased value of a sealed
//! event must be listed by the erasure record it names, and every value a
//! record lists of a sealed event must be erased there.

use std::collections::{BTreeMap, HashSet};

use super::encoding::{personal_of, personal_text};
use super::raw::RawEvent;
use crate::backend::Db;
use crate::on_backend;
use crate::store::error::{AuditError, classify};
use crate::store::seal::divergence::Divergence;
use crate::store::table::{ERASED_EVENT_CODE, EVENTS_TABLE};

/// One erasure, as [`Auditor::verify`](crate::Auditor::verify) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Erasure {
    /// The id of its `audit:subject_erased` record.
    pub record: i64,
    /// How many values it erased.
    pub values: u64,
}

/// One listed value: the event's id, the slot, the commitment (hex).
type Listed = (i64, String, String);

/// The erasure records, and what the walk through the sealed events found.
pub(super) struct Erasures {
    /// Each record's id, with the number of values it says and what it lists.
    records: BTreeMap<i64, (u64, HashSet<Listed>)>,
    /// The events any record lists.
    listed_events: HashSet<i64>,
    /// The sealed events among them, seen by the walk.
    seen: HashSet<i64>,
    /// Every erased value of a sealed event, with the record it names.
    found: Vec<(Listed, i64)>,
}

impl Erasures {
    /// Reads every erasure record.
    pub(super) async fn read(db: Db<'_>) -> Result<Erasures, AuditError> {
        let payload = db.backend().dialect().payload_as_text;
        let sql = format!("SELECT id, {payload} FROM {EVENTS_TABLE} WHERE event_type = $1");
        let rows: Vec<(i64, String)> = on_backend!(db, conn => {
            // Our own names; the code is bound.
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(ERASED_EVENT_CODE)
                .fetch_all(conn)
                .await
                .map_err(classify)?
        });
        let mut erasures = Erasures {
            records: BTreeMap::new(),
            listed_events: HashSet::new(),
            seen: HashSet::new(),
            found: Vec::new(),
        };
        for (id, payload) in rows {
            let (values, listed) = listed_in(&payload);
            erasures
                .listed_events
                .extend(listed.iter().map(|(event, _, _)| *event));
            erasures.records.insert(id, (values, listed));
        }
        Ok(erasures)
    }

    /// Notes the erased values of a sealed event.
    pub(super) fn sealed(&mut self, event: &RawEvent) {
        let id = event.position.id();
        if self.listed_events.contains(&id) {
            self.seen.insert(id);
        }
        let has_erased =
            personal_text(&event.values).is_some_and(|text| text.contains("\"erased\""));
        if !has_erased {
            return;
        }
        for (slot, commitment, by) in personal_of(&event.values).erased() {
            self.found
                .push(((id, slot.to_owned(), hex::encode(commitment)), by));
        }
    }

    /// The divergences, and each erasure with its number of values.
    pub(super) fn settle(self, divergences: &mut Vec<Divergence>) -> Vec<Erasure> {
        let mut applied: HashSet<(&Listed, i64)> = HashSet::new();
        for (listed, by) in &self.found {
            let recorded = self
                .records
                .get(by)
                .is_some_and(|(_, record)| record.contains(listed));
            if recorded {
                applied.insert((listed, *by));
            } else {
                divergences.push(Divergence::ErasureNotRecorded {
                    id: listed.0,
                    slot: listed.1.clone(),
                });
            }
        }
        let mut not_applied: Vec<(i64, i64)> = Vec::new();
        for (record, (_, listed)) in &self.records {
            for value in listed {
                if self.seen.contains(&value.0) && !applied.contains(&(value, *record)) {
                    not_applied.push((*record, value.0));
                }
            }
        }
        not_applied.sort_unstable();
        not_applied.dedup();
        divergences.extend(
            not_applied
                .into_iter()
                .map(|(record, id)| Divergence::ErasureNotApplied { record, id }),
        );
        self.records
            .iter()
            .map(|(record, (values, _))| Erasure {
                record: *record,
                values: *values,
            })
            .collect()
    }
}

/// What a record's payload says: its number of values, and the values it
/// lists (`erased`: `[event id, slot, commitment]` each). A payload that
/// does not read lists nothing.
fn listed_in(payload: &str) -> (u64, HashSet<Listed>) {
    #[derive(serde::Deserialize)]
    struct Record {
        values: u64,
        erased: Vec<Listed>,
    }
    match serde_json::from_str::<Record>(payload) {
        Ok(record) => (record.values, record.erased.into_iter().collect()),
        Err(_) => (0, HashSet::new()),
    }
}
