//! Databases made by earlier releases (schema versions 1 and 3, in
//! `tests/fixtures`) upgrade cleanly: a start sees they are outdated,
//! `migrate` brings them to this version once, and their events read (and
//! their seals verify) as before, at the positions the earlier release
//! gave them, so a follower's stored position reads on; version 6 moves the
//! rights an earlier release gave the application role.

use audit_core::query::Position;
use audit_core::seals::VerifyOptions;
use audit_core::store::{Import, ImportError, Pool, SCHEMA_VERSION, SchemaStatus};
use audit_core::{Actor, AuditError, testing};

use crate::support::{self, WidgetCreated, WidgetRef, log};

/// The events as the earlier release stored them, read by hand (this
/// release reads a log only once it is migrated): each one's id and its
/// position as that release printed it, in id order.
async fn stored_before(auditor: &audit_core::Auditor) -> Vec<(i64, String)> {
    let tx = match testing::label(auditor) {
        "sqlite" => "0",
        _ => "tx_id::text::int8",
    };
    let count = testing::scalar(auditor, "SELECT COUNT(*) FROM audit_events WHERE id > 0").await;
    let mut rows = Vec::new();
    for n in 0..count {
        let id = testing::scalar(
            auditor,
            &format!("SELECT id FROM audit_events WHERE id > 0 ORDER BY id LIMIT 1 OFFSET {n}"),
        )
        .await;
        let tx = testing::scalar(
            auditor,
            &format!("SELECT {tx} FROM audit_events WHERE id = {id}"),
        )
        .await;
        rows.push((id, format!("{tx:x}.{id:x}")));
    }
    rows
}

/// The events after migrating, as [`stored_before`] lists them.
fn as_stored(events: &[audit_core::query::StoredEvent<support::TestEvent>]) -> Vec<(i64, String)> {
    let mut rows: Vec<(i64, String)> = events
        .iter()
        .map(|e| (e.id, e.position.to_string()))
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn a_version_1_database_upgrades_and_keeps_its_events() {
    for auditor in testing::all("upgrade_v1").await {
        let label = testing::label(&auditor);
        let fixture = match label {
            "sqlite" => include_str!("../fixtures/v1_sqlite.sql"),
            _ => include_str!("../fixtures/v1_postgres.sql"),
        };
        testing::execute(&auditor, fixture).await.unwrap();
        testing::execute(&auditor, support::WIDGETS_TABLE)
            .await
            .unwrap();
        let before = stored_before(&auditor).await;
        assert_eq!(before.len(), 2, "{label}");

        assert_eq!(
            auditor.schema_status().await.unwrap(),
            SchemaStatus::Outdated { found: 1 },
            "{label}"
        );
        assert!(matches!(
            auditor.verify_schema().await,
            Err(AuditError::SchemaOutdated { found: 1, .. })
        ));
        auditor.migrate().await.unwrap();
        auditor.migrate().await.unwrap();
        assert_eq!(
            auditor.schema_status().await.unwrap(),
            SchemaStatus::Current,
            "{label}"
        );
        let versions = testing::scalar(&auditor, "SELECT COUNT(*) FROM audit_schema").await;
        assert_eq!(
            versions, SCHEMA_VERSION,
            "{label}: each version recorded once"
        );

        // The old events are still there, at their positions, and known.
        let old = log(&auditor).await;
        assert_eq!(support::codes(&old), ["note_written", "widget_created"]);
        assert_eq!(as_stored(&old), before, "{label}");
        assert!(old.iter().all(|e| e.event.known().is_some()), "{label}");
        support::commit_widget(&auditor, Actor::system("t"), 1).await;
        let events = log(&auditor).await;
        assert_eq!(events.len(), 3, "{label}");
        assert_eq!(events[1..], old[..], "{label}");
        // A follower that stored the first event's position before the
        // upgrade reads on from it: the second old event, then the new one.
        let kept: Position = before[0].1.parse().unwrap();
        let next = support::read_stable(&auditor, kept, 2).await;
        assert_eq!(
            support::codes(&next),
            ["note_written", "widget_created"],
            "{label}"
        );
        assert_eq!(next[0].position.to_string(), before[1].1, "{label}");
        assert!(next[1].position > next[0].position, "{label}");
        // On PostgreSQL the old permit, a setting, no longer opens anything.
        if label == "postgres" {
            let refused = testing::execute(
                &auditor,
                "SELECT set_config('audit.retention_permit', 'granted', false); \
                 DELETE FROM audit_events",
            )
            .await
            .unwrap_err();
            assert!(refused.to_string().contains("append-only"), "{refused}");
        }
    }
}

#[tokio::test]
async fn a_version_3_database_upgrades_keeps_its_seal_and_takes_imports() {
    for auditor in testing::all("upgrade_v3").await {
        let label = testing::label(&auditor);
        let fixture = match label {
            "sqlite" => include_str!("../fixtures/v3_sqlite.sql"),
            _ => include_str!("../fixtures/v3_postgres.sql"),
        };
        testing::execute(&auditor, fixture).await.unwrap();
        testing::execute(&auditor, support::WIDGETS_TABLE)
            .await
            .unwrap();
        let before = stored_before(&auditor).await;
        assert_eq!(before.len(), 2, "{label}");
        assert_eq!(
            auditor.schema_status().await.unwrap(),
            SchemaStatus::Outdated { found: 3 },
            "{label}"
        );

        // Before the upgrade, an import names what is missing.
        let mut import = Import::new("t");
        import
            .event(
                "widget:9",
                "2020-01-01T00:00:00Z".parse().unwrap(),
                Actor::system("legacy"),
                WidgetCreated {
                    widget: WidgetRef(9),
                    name: "old".into(),
                },
            )
            .unwrap();
        match auditor.import(&Actor::system("t"), &import).await {
            Err(ImportError::Store(AuditError::SchemaMissing { missing })) => {
                // PostgreSQL imports through a function of version 6.
                let expected = match label {
                    "sqlite" => "table `audit_import_keys`",
                    _ => "function `audit_import_batch`",
                };
                assert_eq!(missing, expected, "{label}")
            }
            other => panic!("{label}: {other:?}"),
        }

        auditor.migrate().await.unwrap();
        auditor.migrate().await.unwrap();
        assert_eq!(
            auditor.schema_status().await.unwrap(),
            SchemaStatus::Current,
            "{label}"
        );
        assert_eq!(
            testing::scalar(&auditor, "SELECT COUNT(*) FROM audit_schema").await,
            SCHEMA_VERSION,
            "{label}: each version recorded once"
        );
        let old = log(&auditor).await;
        assert_eq!(support::codes(&old), ["note_written", "widget_created"]);
        assert_eq!(as_stored(&old), before, "{label}");
        // The seal the old release made still verifies: the sealed encoding
        // did not change.
        let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
        assert!(report.is_intact(), "{label}: {:?}", report.divergences);
        assert_eq!((report.seals, report.events), (1, 2), "{label}");

        let report = auditor.import(&Actor::system("t"), &import).await.unwrap();
        assert_eq!(report.imported, 1, "{label}");
        // Pages are in time order: its time, in 2020, puts it last.
        let log = log(&auditor).await;
        assert_eq!(
            log.len(),
            4,
            "{label}: the two, the imported one, its record"
        );
        assert!(log[3].is_imported(), "{label}");

        // Events of this release (a context, a person acting as another)
        // sealed after the old release's seal: the mixed chain verifies,
        // and the old events still read without a context.
        let mut audit = auditor
            .begin::<support::TestEvent>(Actor::user(1, "alice").acting_as(2, "bob"))
            .await
            .unwrap();
        audit
            .set_context(audit_core::Context::new().with_request_id("req-after-upgrade"))
            .unwrap();
        support::create_widget(&mut audit, 77).await.unwrap();
        audit.commit().await.unwrap();
        support::seal_all(&auditor, None).await;
        let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
        assert!(report.is_intact(), "{label}: {:?}", report.divergences);
        assert_eq!((report.seals, report.events), (2, 5), "{label}");
        let log = crate::support::log(&auditor).await;
        assert_eq!(
            log[0].context.request_id.as_deref(),
            Some("req-after-upgrade"),
            "{label}"
        );
        assert!(
            log[1..].iter().all(|e| e.context.is_empty()),
            "{label}: the old events have no context"
        );
    }
}

/// How many of the events table's indexes are named `names` (all), how
/// many of those are partial (`... WHERE x IS NOT NULL`), and how many end
/// in the pages' order (`occurred_at DESC, id DESC`).
async fn indexes(auditor: &audit_core::Auditor, names: &[&str]) -> (i64, i64, i64) {
    let list = names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let (all, partial, by_time) = match testing::label(auditor) {
        "sqlite" => {
            let all = format!(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ({list})"
            );
            (
                all.clone(),
                format!("{all} AND sql LIKE '%WHERE % IS NOT NULL'"),
                format!("{all} AND sql LIKE '%occurred_at DESC, id DESC)%'"),
            )
        }
        _ => {
            let all = format!("SELECT COUNT(*) FROM pg_indexes WHERE indexname IN ({list})");
            (
                all.clone(),
                format!("{all} AND indexdef LIKE '%WHERE (% IS NOT NULL)'"),
                format!("{all} AND indexdef LIKE '%occurred_at DESC, id DESC)%'"),
            )
        }
    };
    (
        testing::scalar(auditor, &all).await,
        testing::scalar(auditor, &partial).await,
        testing::scalar(auditor, &by_time).await,
    )
}

#[tokio::test]
async fn version_7_replaces_the_page_indexes_by_ones_in_time_order_on_new_and_old_databases() {
    // Version 1's reference indexes (which version 5 replaced).
    const V1: [&str; 3] = [
        "audit_events_by_parent",
        "audit_events_by_target",
        "audit_events_by_subject",
    ];
    // The page indexes in id order, of versions 1 and 5, which version 7 replaces.
    const BY_ID: [&str; 5] = [
        "audit_events_by_actor",
        "audit_events_by_type",
        "audit_events_by_parent_ref",
        "audit_events_by_target_ref",
        "audit_events_by_subject_ref",
    ];
    const BY_TIME: [&str; 6] = [
        "audit_events_by_time",
        "audit_events_by_actor_time",
        "audit_events_by_type_time",
        "audit_events_by_parent_time",
        "audit_events_by_target_time",
        "audit_events_by_subject_time",
    ];
    for fixture in ["new", "v1", "v3"] {
        for auditor in testing::all(&format!("indexes_{fixture}")).await {
            let label = testing::label(&auditor);
            let sql = match (fixture, label) {
                ("v1", "sqlite") => include_str!("../fixtures/v1_sqlite.sql"),
                ("v1", _) => include_str!("../fixtures/v1_postgres.sql"),
                ("v3", "sqlite") => include_str!("../fixtures/v3_sqlite.sql"),
                ("v3", _) => include_str!("../fixtures/v3_postgres.sql"),
                _ => "",
            };
            if !sql.is_empty() {
                testing::execute(&auditor, sql).await.unwrap();
                assert_eq!(indexes(&auditor, &V1).await, (3, 0, 0), "{fixture} {label}");
            }
            auditor.migrate().await.unwrap();
            assert_eq!(indexes(&auditor, &V1).await, (0, 0, 0), "{fixture} {label}");
            assert_eq!(
                indexes(&auditor, &BY_ID).await,
                (0, 0, 0),
                "{fixture} {label}"
            );
            // The reference columns' indexes stay partial (version 5's rule).
            assert_eq!(
                indexes(&auditor, &BY_TIME).await,
                (6, 3, 6),
                "{fixture} {label}"
            );
            assert_eq!(
                auditor.schema_status().await.unwrap(),
                SchemaStatus::Current,
                "{fixture} {label}"
            );
        }
    }
}

#[tokio::test]
async fn version_6_moves_an_application_role_from_import_keys_to_the_import_function() {
    // A database at version 5, whose application role was granted by the
    // release before: `INSERT` on the import keys. (Made as the current
    // version is, then taken back to version 5's grants and record, the
    // versions after it forgotten: the scripts are idempotent.)
    let Some(auditor) = testing::postgres("upgrade_v6_role").await else {
        return;
    };
    auditor.migrate().await.unwrap();
    let role = format!("audit_v5_app_{}", uuid::Uuid::new_v4().simple());
    testing::execute(
        &auditor,
        &format!(
            "CREATE ROLE {role} NOLOGIN; \
             GRANT SELECT, INSERT ON audit_import_keys TO {role}; \
             DELETE FROM audit_schema WHERE version >= 6"
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        auditor.schema_status().await.unwrap(),
        SchemaStatus::Outdated { found: 5 }
    );

    auditor.migrate().await.unwrap();
    assert_eq!(
        auditor.schema_status().await.unwrap(),
        SchemaStatus::Current
    );
    let rights = |sql: String| {
        let auditor = auditor.clone();
        async move { testing::scalar(&auditor, &sql).await }
    };
    assert_eq!(
        rights(format!(
            "SELECT has_table_privilege('{role}', 'audit_import_keys', 'INSERT')::int::int8"
        ))
        .await,
        0,
        "the role may no longer insert keys"
    );
    assert_eq!(
        rights(format!(
            "SELECT count(*) FROM pg_proc WHERE proname = 'audit_import_batch' \
             AND has_function_privilege('{role}', oid, 'EXECUTE')"
        ))
        .await,
        1,
        "the role imports through the function instead"
    );
    testing::execute(&auditor, &format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn version_8_lets_an_application_role_write_the_new_columns() {
    // A database at version 7 whose application role was granted by the
    // release before: `INSERT` on the columns the events table had then.
    // (Made as the current version is, then taken back to version 7's
    // grants and record: the scripts are idempotent.)
    let Some(auditor) = testing::postgres("upgrade_v8_role").await else {
        return;
    };
    auditor.migrate().await.unwrap();
    testing::execute(&auditor, support::WIDGETS_TABLE)
        .await
        .unwrap();
    let role = format!("audit_v7_app_{}", uuid::Uuid::new_v4().simple());
    testing::execute(&auditor, &format!("CREATE ROLE {role} NOLOGIN"))
        .await
        .unwrap();
    auditor.grant_application_role(&role).await.unwrap();
    testing::execute(
        &auditor,
        &format!(
            "REVOKE INSERT (actor_as_id, actor_as_name, request_id, client_address, context) \
             ON audit_events FROM {role}; \
             DELETE FROM audit_schema WHERE version >= 8"
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        auditor.schema_status().await.unwrap(),
        SchemaStatus::Outdated { found: 7 }
    );
    let may_insert = |column: &'static str| {
        let (auditor, role) = (auditor.clone(), role.clone());
        async move {
            testing::scalar(
                &auditor,
                &format!(
                    "SELECT has_column_privilege('{role}', 'audit_events', '{column}', 'INSERT')::int::int8"
                ),
            )
            .await
        }
    };
    assert_eq!(may_insert("context").await, 0);

    auditor.migrate().await.unwrap();
    assert_eq!(
        auditor.schema_status().await.unwrap(),
        SchemaStatus::Current,
        "the role's grants are what the schema gives"
    );
    for column in [
        "actor_as_id",
        "actor_as_name",
        "request_id",
        "client_address",
        "context",
    ] {
        assert_eq!(may_insert(column).await, 1, "{column}");
    }
    // And it writes them, as the library does at commit.
    let Pool::Postgres(pool) = auditor.pool() else {
        unreachable!("testing::postgres opens PostgreSQL")
    };
    let mut conn = pool.acquire().await.unwrap();
    support::as_role(
        &mut conn,
        &role,
        &format!(
            "INSERT INTO audit_events ({}, actor_as_id, actor_as_name, request_id, \
             client_address, context) VALUES (1, 'note_written', 1, 'user', '1', 'alice', 'x', \
             'c', '{{\"widget\": 1, \"text\": \"t\"}}', '2', 'bob', 'req-1', '203.0.113.9', \
             '{{\"reason\":\"r\"}}')",
            support::ROW_COLUMNS
        ),
        true,
    )
    .await
    .unwrap_or_else(|e| panic!("the application role cannot write the new columns: {e}"));
    let log = support::log(&auditor).await;
    assert_eq!(log[0].actor, Actor::user(1, "alice").acting_as(2, "bob"));
    assert_eq!(log[0].context.request_id.as_deref(), Some("req-1"));
    drop(conn);
    testing::execute(&auditor, &format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .unwrap();
}
