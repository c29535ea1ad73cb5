//! G11's second half: seals make every edit of the sealed log detectable,
//! with the event (and the value) named, on both backends. Each case
//! tampers the way a person with owner rights or the SQLite file could.

use audit_core::seals::{Divergence, Head, SealKey, VerifyOptions};
use audit_core::{Actor, Auditor, testing};

use crate::support::{self, seal_all, seal_more};

/// Ten events, each in its own transaction, all sealed; returns the head.
async fn sealed_log(auditor: &Auditor, key: Option<&SealKey>) -> Head {
    for id in 1..=10 {
        support::commit_widget(auditor, Actor::system("t"), id).await;
    }
    seal_all(auditor, key).await
}

/// Runs `sql` with the events table's triggers out of the way, as an owner
/// could: PostgreSQL's replica role skips them; on SQLite they are dropped.
pub(crate) async fn bypassing_triggers(auditor: &Auditor, sql: &str) {
    let script = match testing::label(auditor) {
        "sqlite" => format!(
            "DROP TRIGGER IF EXISTS audit_events_no_update; \
             DROP TRIGGER IF EXISTS audit_events_no_delete; \
             DROP TRIGGER IF EXISTS audit_events_no_replace; \
             DROP TRIGGER IF EXISTS audit_seals_no_update; {sql}"
        ),
        _ => format!("BEGIN; SET LOCAL session_replication_role = replica; {sql}; COMMIT;"),
    };
    testing::execute(auditor, &script)
        .await
        .unwrap_or_else(|e| panic!("{}: {sql}: {e}", testing::label(auditor)));
}

async fn verify(auditor: &Auditor) -> Vec<Divergence> {
    auditor
        .verify(&VerifyOptions::new())
        .await
        .unwrap()
        .divergences
}

/// The id of the `n`-th event (1-based, in order).
async fn event_id(auditor: &Auditor, n: usize) -> i64 {
    support::ids(&support::log(auditor).await)
        .into_iter()
        .rev()
        .nth(n - 1)
        .unwrap()
}

#[tokio::test]
async fn an_untouched_log_verifies_and_new_events_extend_the_chain() {
    for auditor in support::databases("seal_ok").await {
        let label = testing::label(&auditor);
        let key = SealKey::generate().unwrap();
        let head = sealed_log(&auditor, Some(&key)).await;
        let options = VerifyOptions::new()
            .against(head.clone())
            .public_key(&key.public_hex())
            .unwrap();
        let report = auditor.verify(&options).await.unwrap();
        assert!(report.is_intact(), "{label}: {:?}", report.divergences);
        // One seal, or more on PostgreSQL when the last events became stable
        // only after a first seal.
        assert_eq!(
            (report.seals as i64, report.events),
            (head.seq, 10),
            "{label}"
        );
        // Nothing new: no seal. Then new events: a seal that follows.
        assert_eq!(auditor.seal(Some(&key)).await.unwrap().seals, 0, "{label}");
        support::commit_widget(&auditor, Actor::system("t"), 11).await;
        let later = seal_all(&auditor, Some(&key)).await;
        assert_eq!((later.seq, later.events), (head.seq + 1, 11), "{label}");
        let report = auditor.verify(&options).await.unwrap();
        assert!(report.is_intact(), "{label}: {:?}", report.divergences);
        assert_eq!(report.events, 11, "{label}");
        // The head survives a trip through JSON, as kept in a file.
        let json = serde_json::to_string(&later).unwrap();
        let back: Head = serde_json::from_str(&json).unwrap();
        assert_eq!(back, later, "{label}");
    }
}

#[tokio::test]
async fn an_edited_payload_is_named_with_its_event_and_column() {
    for auditor in support::databases("seal_edit").await {
        let label = testing::label(&auditor);
        sealed_log(&auditor, None).await;
        let id = event_id(&auditor, 4).await;
        let payload = match label {
            "sqlite" => "'{\"widget\":4,\"name\":\"forged\"}'",
            _ => "'{\"widget\":4,\"name\":\"forged\"}'::jsonb",
        };
        bypassing_triggers(
            &auditor,
            &format!("UPDATE audit_events SET payload = {payload} WHERE id = {id}"),
        )
        .await;
        assert_eq!(
            verify(&auditor).await,
            [Divergence::EventEdited {
                id,
                column: "payload"
            }],
            "{label}"
        );
    }
}

#[tokio::test]
async fn a_deleted_event_is_named() {
    for auditor in support::databases("seal_delete").await {
        let label = testing::label(&auditor);
        sealed_log(&auditor, None).await;
        let id = event_id(&auditor, 7).await;
        bypassing_triggers(
            &auditor,
            &format!("DELETE FROM audit_events WHERE id = {id}"),
        )
        .await;
        assert_eq!(
            verify(&auditor).await,
            [Divergence::EventDeleted { id }],
            "{label}"
        );
    }
}

#[tokio::test]
async fn an_event_inserted_into_a_sealed_range_is_named() {
    for auditor in support::databases("seal_insert").await {
        let label = testing::label(&auditor);
        // A gap in the ids of SQLite's sealed range, for the forged event.
        support::commit_widget(&auditor, Actor::system("t"), 100).await;
        if label == "sqlite" {
            testing::execute(
                &auditor,
                "UPDATE sqlite_sequence SET seq = seq + 10 WHERE name = 'audit_events'",
            )
            .await
            .unwrap();
        }
        sealed_log(&auditor, None).await;
        let (forged_id, placed) = match label {
            // Inside the gap: before the sealed events that follow it.
            "sqlite" => (5, "5, "),
            // Under the first sealed event's transaction, so it sorts among
            // the sealed ones.
            _ => (
                1000,
                "1000, (SELECT tx_id FROM audit_events WHERE id = 1), ",
            ),
        };
        let columns = match label {
            "sqlite" => "id, ",
            _ => "id, tx_id, ",
        };
        let overriding = if label == "sqlite" {
            ""
        } else {
            " OVERRIDING SYSTEM VALUE"
        };
        bypassing_triggers(
            &auditor,
            &format!(
                "INSERT INTO audit_events ({columns}{}){overriding} VALUES ({placed}{})",
                support::ROW_COLUMNS,
                "1, 'note_written', 1, 'user', '6', 'mallory', 'x', 'forged', \
                 '{\"widget\": 1, \"text\": \"t\"}'"
            ),
        )
        .await;
        assert_eq!(
            verify(&auditor).await,
            [Divergence::EventInserted { id: forged_id }],
            "{label}"
        );
    }
}

#[tokio::test]
async fn an_event_written_again_under_its_old_id_is_named() {
    for auditor in support::databases("seal_reinsert").await {
        let label = testing::label(&auditor);
        sealed_log(&auditor, None).await;
        let id = event_id(&auditor, 2).await;
        let overriding = if label == "sqlite" {
            ""
        } else {
            " OVERRIDING SYSTEM VALUE"
        };
        bypassing_triggers(
            &auditor,
            &format!(
                "DELETE FROM audit_events WHERE id = {id}; \
                 INSERT INTO audit_events (id, {}){overriding} VALUES ({id}, {})",
                support::ROW_COLUMNS,
                "1, 'widget_created', 1, 'system', 't', 't', 'create_widget', 'forged', \
                 '{\"widget\": 2, \"name\": \"widget 2\"}'"
            ),
        )
        .await;
        let found = verify(&auditor).await;
        assert_eq!(found.len(), 1, "{label}: {found:?}");
        assert!(
            matches!(
                found[0],
                Divergence::EventEdited { id: i, .. } | Divergence::EventReplaced { id: i }
                    if i == id
            ),
            "{label}: {found:?}"
        );
    }
}

#[tokio::test]
async fn a_column_rewritten_by_alter_table_is_named() {
    // SQLite has no ALTER COLUMN ... TYPE; PostgreSQL's skips the triggers.
    let Some(auditor) = testing::postgres("seal_alter").await else {
        return;
    };
    auditor.migrate().await.unwrap();
    testing::execute(&auditor, support::WIDGETS_TABLE)
        .await
        .unwrap();
    sealed_log(&auditor, None).await;
    testing::execute(
        &auditor,
        "ALTER TABLE audit_events ALTER COLUMN actor_name TYPE text USING upper(actor_name)",
    )
    .await
    .unwrap();
    let found = verify(&auditor).await;
    assert_eq!(found.len(), 10, "{found:?}");
    assert!(
        found.iter().all(|d| matches!(
            d,
            Divergence::EventEdited {
                column: "actor_name",
                ..
            }
        )),
        "{found:?}"
    );
}

#[tokio::test]
async fn an_altered_seal_is_named() {
    for auditor in support::databases("seal_altered").await {
        let label = testing::label(&auditor);
        sealed_log(&auditor, None).await;
        bypassing_triggers(
            &auditor,
            "UPDATE audit_seals SET event_count = 9 WHERE seq = 1",
        )
        .await;
        let found = verify(&auditor).await;
        assert!(
            found.contains(&Divergence::SealAltered { seq: 1 }),
            "{label}: {found:?}"
        );
    }
}

#[tokio::test]
async fn a_log_rebuilt_from_scratch_is_caught_by_a_kept_head_or_a_signature() {
    for auditor in support::databases("seal_rebuilt").await {
        let label = testing::label(&auditor);
        let key = SealKey::generate().unwrap();
        let head = sealed_log(&auditor, Some(&key)).await;
        // The owner drops the log and makes it again with one event less,
        // then seals it: a consistent chain, without the key.
        let tables = "audit_seal_entries, audit_seals, audit_log_identity, audit_events, \
                      audit_retention_permit, audit_schema";
        let drop = match label {
            "sqlite" => tables
                .split(", ")
                .map(|t| format!("DROP TABLE {t};"))
                .collect::<String>(),
            _ => format!("DROP TABLE {tables}, audit_protected_tables CASCADE"),
        };
        testing::execute(&auditor, &drop).await.unwrap();
        auditor.migrate().await.unwrap();
        for id in 1..=9 {
            let mut audit = auditor
                .begin::<support::TestEvent>(Actor::system("t"))
                .await
                .unwrap();
            support::write_note(&mut audit, support::WidgetRef(id), "again".into())
                .await
                .unwrap();
            audit.commit().await.unwrap();
        }
        seal_all(&auditor, None).await;
        assert!(
            verify(&auditor).await.is_empty(),
            "{label}: consistent in itself"
        );

        let against = auditor
            .verify(&VerifyOptions::new().against(head.clone()))
            .await
            .unwrap();
        assert_eq!(
            against.divergences,
            [Divergence::HeadNotReached { seq: head.seq }],
            "{label}"
        );
        let signed = auditor
            .verify(&VerifyOptions::new().public_key(&key.public_hex()).unwrap())
            .await
            .unwrap();
        // One seal, or more on PostgreSQL when the rebuilt log became stable
        // in steps: each unsigned.
        assert!(
            signed
                .divergences
                .contains(&Divergence::Unsigned { seq: 1 })
                && signed
                    .divergences
                    .iter()
                    .all(|d| matches!(d, Divergence::Unsigned { .. })),
            "{label}: {:?}",
            signed.divergences
        );
        // Signed with another key: a bad signature.
        let mallory = SealKey::generate().unwrap();
        support::commit_widget(&auditor, Actor::system("t"), 50).await;
        seal_all(&auditor, Some(&mallory)).await;
        let signed = auditor
            .verify(&VerifyOptions::new().public_key(&key.public_hex()).unwrap())
            .await
            .unwrap();
        assert!(
            signed
                .divergences
                .iter()
                .any(|d| matches!(d, Divergence::BadSignature { .. })),
            "{label}: {:?}",
            signed.divergences
        );
    }
}

#[tokio::test]
async fn pruned_events_are_not_tampering() {
    for auditor in support::databases("seal_pruned").await {
        let label = testing::label(&auditor);
        let auditor = support::prunable_now(auditor).await;
        sealed_log(&auditor, None).await;
        let cutoff = support::log(&auditor)
            .await
            .iter()
            .map(|e| e.occurred_at)
            .max()
            .unwrap()
            + chrono::Duration::microseconds(1);
        let deleted = auditor
            .prune_before(&Actor::system("retention"), cutoff, "policy")
            .await
            .unwrap();
        assert_eq!(deleted, 10, "{label}");
        // The prune's record explains the sealed events it deleted once it
        // is sealed itself, not before.
        let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
        assert!(
            matches!(
                report.divergences.as_slice(),
                [Divergence::PruneRecordNotSealed { events: 10, .. }]
            ),
            "{label}: {:?}",
            report.divergences
        );
        // Its one record.
        seal_more(&auditor, None, 1).await;
        let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
        assert!(report.is_intact(), "{label}: {:?}", report.divergences);
        assert_eq!(report.pruned, 10, "{label}");
    }
}

/// The position of the event with `id`, as `[tx, id]` in a prune record.
async fn position_of(auditor: &Auditor, id: i64) -> String {
    let tx = match testing::label(auditor) {
        "sqlite" => 0,
        _ => {
            testing::scalar(
                auditor,
                &format!("SELECT tx_id::text::int8 FROM audit_events WHERE id = {id}"),
            )
            .await
        }
    };
    format!("[{tx}, {id}]")
}

/// The seal entry's event hash of the event with `id`.
async fn entry_hash(auditor: &Auditor, id: i64) -> String {
    let sql = format!("SELECT event_hash FROM audit_seal_entries WHERE id = {id}");
    audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.unwrap()
    })
}

#[tokio::test]
async fn a_forged_prune_record_does_not_hide_a_deleted_event() {
    // Someone with the owner's rights (or the SQLite file) deletes a sealed
    // event and writes a prune record to explain it: with a cutoff in 2999
    // (the record's own time is earlier), or a record of this release's
    // form whose digest is wrong, or one whose digest is right but that
    // nobody sealed. None of them explains the deletion, against a head
    // kept elsewhere and a public key too.
    for auditor in support::databases("seal_forged_prune").await {
        let label = testing::label(&auditor);
        let key = SealKey::generate().unwrap();
        let head = sealed_log(&auditor, Some(&key)).await;
        let id = event_id(&auditor, 4).await;
        let position = position_of(&auditor, id).await;
        let hash = entry_hash(&auditor, id).await;
        bypassing_triggers(
            &auditor,
            &format!("DELETE FROM audit_events WHERE id = {id}"),
        )
        .await;
        let now = chrono::Utc::now().timestamp_micros();
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(hash.as_bytes()));
        let forged = [
            (1, r#"{"before": "2999-01-01T00:00:00+00:00", "deleted": 1, "batch": 1, "reason": "x"}"#.to_owned()),
            (2, format!(
                r#"{{"before_micros": {now}, "deleted": 1, "batch": 1, "reason": "x", "first": {position}, "last": {position}, "sealed": 1, "sealed_digest": "{}"}}"#,
                "0".repeat(64)
            )),
            (2, format!(
                r#"{{"before_micros": {now}, "deleted": 1, "batch": 1, "reason": "x", "first": {position}, "last": {position}, "sealed": 1, "sealed_digest": "{digest}"}}"#
            )),
        ];
        let options = VerifyOptions::new()
            .against(head.clone())
            .public_key(&key.public_hex())
            .unwrap();
        for (n, (version, payload)) in forged.iter().enumerate() {
            bypassing_triggers(
                &auditor,
                &format!(
                    "INSERT INTO audit_events ({}) VALUES ({now}, 'audit:log_pruned', {version},                      'system', 'mallory', 'mallory', 'prune_before', 'forged{n}', '{payload}')",
                    support::ROW_COLUMNS
                ),
            )
            .await;
            let report = auditor.verify(&options).await.unwrap();
            assert!(
                !report.is_intact(),
                "{label}: forged record {n} hid the deletion"
            );
            assert!(
                report
                    .divergences
                    .contains(&Divergence::EventDeleted { id })
                    || report
                        .divergences
                        .iter()
                        .any(|d| matches!(d, Divergence::PruneRecordNotSealed { events: 1, .. })),
                "{label}: forged record {n}: {:?}",
                report.divergences
            );
            assert_eq!(report.pruned, 0, "{label}: forged record {n}");
        }
        // Sealed (by the routine sealing, with the key): the record whose
        // cutoff is later than its own time, and the one whose digest is
        // wrong, explain nothing, and the wrong one is named.
        bypassing_triggers(
            &auditor,
            "DELETE FROM audit_events WHERE command_id = 'forged2'",
        )
        .await;
        // The two records left.
        seal_more(&auditor, Some(&key), 2).await;
        let report = auditor.verify(&options).await.unwrap();
        assert!(
            report
                .divergences
                .contains(&Divergence::EventDeleted { id })
                && report
                    .divergences
                    .iter()
                    .any(|d| matches!(d, Divergence::PruneRecordMismatch { .. })),
            "{label}: {:?}",
            report.divergences
        );
    }
}

#[tokio::test]
async fn an_event_deleted_after_a_prune_is_named() {
    // A genuine prune, sealed, verifies; an event it kept (its cutoff was
    // before it) deleted afterwards does not hide behind its record.
    for auditor in support::databases("seal_pruned_range").await {
        let label = testing::label(&auditor);
        let auditor = support::prunable_now(auditor).await;
        sealed_log(&auditor, None).await;
        let log = support::log(&auditor).await;
        // The log is newest first: keep the newest four widgets.
        let kept = &log[3];
        let cutoff = kept.occurred_at;
        let deleted = auditor
            .prune_before(&Actor::system("retention"), cutoff, "policy")
            .await
            .unwrap();
        assert!(deleted > 0, "{label}");
        seal_more(&auditor, None, 1).await;
        let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
        assert!(report.is_intact(), "{label}: {:?}", report.divergences);
        assert_eq!(report.pruned, deleted, "{label}");
        bypassing_triggers(
            &auditor,
            &format!("DELETE FROM audit_events WHERE id = {}", kept.id),
        )
        .await;
        assert_eq!(
            verify(&auditor).await,
            [Divergence::EventDeleted { id: kept.id }],
            "{label}"
        );
    }
}

#[tokio::test]
async fn rows_with_unreadable_values_seal_and_verify_alike() {
    // SQLite lets a column hold any storage type: such rows are sealed as
    // they are, however the sealer happens to read them (a BLOB cannot go
    // through JSON, so its chunk is read row by row).
    let auditor = support::databases("seal_unreadable").await.remove(0);
    support::commit_widget(&auditor, Actor::system("t"), 101).await;
    support::insert_rows(
        &auditor,
        "(1.5, 'note_written', 'one', 'user', '1', 'eve', 'x', 'c1', '{\"widget\": 1, \"text\": \"t\"}'), \
         (2, 42, 1, 'user', '1', 'eve', 'x', 'c2', X'FFFE')",
    )
    .await;
    support::commit_widget(&auditor, Actor::system("t"), 102).await;
    sealed_log(&auditor, None).await;
    let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.divergences);
    assert_eq!(report.events, 14);
}
