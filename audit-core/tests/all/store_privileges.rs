//! G8 and G11 against a person with data rights only (PostgreSQL): a role
//! set up as `Auditor::grant_application_role` recommends can append
//! events, and nothing else: it cannot delete, rewrite or renumber them,
//! open the retention permit, call the retention function, take an import
//! key without importing its event, or get rid of a scratch event it wrote
//! to satisfy a protected table's trigger.

use audit_core::store::Pool;
use audit_core::testing;

use crate::support::{self, as_role};

/// One event row's values, for [`support::ROW_COLUMNS`].
const ROW: &str = "(1, 'note_written', 1, 'user', '6', 'mallory', 'x', 'forged', \
                   '{\"widget\": 1, \"text\": \"t\"}')";

#[tokio::test]
async fn an_application_role_can_append_events_and_nothing_else() {
    let Some(auditor) = testing::postgres("privileges").await else {
        return;
    };
    support::protected_widgets(&auditor).await;
    let role = format!("audit_app_{}", uuid::Uuid::new_v4().simple());
    testing::execute(
        &auditor,
        &format!(
            "CREATE ROLE {role} NOLOGIN; \
             GRANT SELECT, INSERT, UPDATE, DELETE ON widgets TO {role};"
        ),
    )
    .await
    .unwrap();
    auditor.grant_application_role(&role).await.unwrap();
    let Pool::Postgres(pool) = auditor.pool() else {
        unreachable!("testing::postgres opens PostgreSQL")
    };
    let mut conn = pool.acquire().await.unwrap();
    // And import an event, as `Auditor::import` does: the import function
    // writes its key with the event and the run's record (kept, so that
    // the attacks below have a key to go after).
    as_role(
        &mut conn,
        &role,
        "SELECT audit_import_batch('r', ARRAY['k'], \
         '[[1, \"note_written\", 1, \"system\", \"old\", \"old\", null, null, \"widget\", \"1\", \
            null, null, \"x\", \"x\", \"{\\\"widget\\\": 1, \\\"text\\\": \\\"t\\\"}\"]]'::jsonb, \
         'system', 'importer', 'importer', '{\"source\": \"t\"}'::jsonb)",
        true,
    )
    .await
    .unwrap_or_else(|e| panic!("the application role cannot import an event: {e}"));
    let before = support::log(&auditor).await;

    // What the application does: append an event (the database picks its id).
    as_role(
        &mut conn,
        &role,
        &format!(
            "INSERT INTO audit_events ({}) VALUES {ROW}",
            support::ROW_COLUMNS
        ),
        false,
    )
    .await
    .unwrap_or_else(|e| panic!("the application role cannot append: {e}"));

    let attacks = [
        ("delete an event", "DELETE FROM audit_events".to_owned()),
        (
            "rewrite an event",
            "UPDATE audit_events SET actor_name = 'mallory'".to_owned(),
        ),
        ("truncate the log", "TRUNCATE audit_events".to_owned()),
        (
            "choose an event's id",
            format!(
                "INSERT INTO audit_events (id, {}) OVERRIDING SYSTEM VALUE VALUES (424242, {}",
                support::ROW_COLUMNS,
                &ROW[1..]
            ),
        ),
        (
            "open the retention permit by setting",
            "SELECT set_config('audit.retention_permit', 'granted', true); \
             DELETE FROM audit_events"
                .to_owned(),
        ),
        (
            "open the retention permit by row",
            "INSERT INTO audit_retention_permit (tx_id) VALUES (pg_current_xact_id()); \
             DELETE FROM audit_events"
                .to_owned(),
        ),
        (
            "forget an import key",
            "DELETE FROM audit_import_keys".to_owned(),
        ),
        (
            "rewrite an import key",
            "UPDATE audit_import_keys SET import_key = 'other'".to_owned(),
        ),
        (
            "take an import key without its event",
            "INSERT INTO audit_import_keys VALUES ('k2', 'r', 'note_written')".to_owned(),
        ),
        (
            "call the retention function",
            "SELECT audit_prune_batch(0, 1000, 1, 'user', '6', 'mallory', 'x')".to_owned(),
        ),
        (
            "get rid of a scratch event",
            format!(
                "INSERT INTO audit_events ({}) VALUES {ROW}; \
                 UPDATE widgets SET id = 2 WHERE id = 1; \
                 SET CONSTRAINTS ALL IMMEDIATE; \
                 DELETE FROM audit_events WHERE command_id = 'forged'",
                support::ROW_COLUMNS
            ),
        ),
    ];
    for (attack, sql) in &attacks {
        let err = as_role(&mut conn, &role, sql, true)
            .await
            .expect_err(attack);
        let message = err.to_string();
        assert!(
            message.contains("permission denied") || message.contains("append-only"),
            "{attack}: {message}"
        );
    }
    // Even a role wrongly given every right on the table is stopped by the
    // triggers: no setting or row of its own opens the retention permit.
    testing::execute(
        &auditor,
        &format!("GRANT UPDATE, DELETE, TRUNCATE ON audit_events, audit_import_keys TO {role}"),
    )
    .await
    .unwrap();
    for (attack, sql) in attacks.iter().filter(|(a, _)| {
        [
            "delete an event",
            "rewrite an event",
            "truncate the log",
            "forget an import key",
            "rewrite an import key",
        ]
        .contains(a)
            || a.starts_with("open the retention permit by setting")
            || a.starts_with("get rid of")
    }) {
        let err = as_role(&mut conn, &role, sql, true)
            .await
            .expect_err(attack);
        assert!(err.to_string().contains("append-only"), "{attack}: {err}");
    }
    // A scratch event that stays is in the log for everyone to see.
    as_role(
        &mut conn,
        &role,
        &format!(
            "INSERT INTO audit_events ({}) VALUES {ROW}; UPDATE widgets SET id = 2 WHERE id = 1",
            support::ROW_COLUMNS
        ),
        true,
    )
    .await
    .unwrap();
    // Pages are in time order: it is where its time (1970) puts it.
    let mut after = support::log(&auditor).await;
    assert_eq!(after.len(), before.len() + 1);
    let forged = after.iter().position(|e| e.command_id == "forged");
    after.remove(forged.expect("the forged row"));
    assert_eq!(after, before);
    drop(conn);
    testing::execute(&auditor, &format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .unwrap();
}
