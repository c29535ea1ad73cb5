//! Writing a transaction's events at commit, in as few statements as each
//! backend allows.

use sqlx::{PgConnection, SqliteConnection};

use super::session::PendingEvent;
use super::{AuditError, classify};
use crate::actor::Actor;
use crate::catalog::EntityRef;

const COLUMNS: &str = "occurred_at, event_type, payload_version, actor_kind, actor_id, actor_name, \
    target_kind, target_id, parent_kind, parent_id, subject_kind, subject_id, command_name, \
    command_id, payload";

/// Rows per SQLite INSERT: 15 parameters each stays far below SQLite's
/// limit of 32,766.
const SQLITE_ROWS_PER_INSERT: usize = 200;

/// SQLite: multi-row INSERTs with positional `?` parameters. (Numbered
/// `$n` parameters are named parameters to SQLite, and binding by name
/// costs a scan of all names per parameter: quadratic in the batch.)
pub(crate) async fn sqlite<'a>(
    conn: &mut SqliteConnection,
    actor: &'a Actor,
    events: &'a [PendingEvent],
) -> Result<(), AuditError> {
    for chunk in events.chunks(SQLITE_ROWS_PER_INSERT) {
        let row = format!("({})", vec!["?"; 15].join(", "));
        let sql = format!(
            "INSERT INTO audit_events ({COLUMNS}) VALUES {}",
            vec![row.as_str(); chunk.len()].join(", ")
        );
        let mut query = sqlx::query(&sql);
        for e in chunk {
            let refs = &e.references;
            let kind = |r: &'a Option<EntityRef>| r.as_ref().map(|r| r.kind.as_ref());
            let id = |r: &'a Option<EntityRef>| r.as_ref().map(|r| r.id.as_str());
            query = query
                .bind(e.occurred_at)
                .bind(e.code)
                .bind(i64::from(e.version))
                .bind(actor.kind())
                .bind(actor.id())
                .bind(actor.name())
                .bind(kind(&refs.target))
                .bind(id(&refs.target))
                .bind(kind(&refs.parent))
                .bind(id(&refs.parent))
                .bind(kind(&refs.subject))
                .bind(id(&refs.subject))
                .bind(e.command_name)
                .bind(e.command_id.as_str())
                .bind(e.payload.as_str());
        }
        query.execute(&mut *conn).await.map_err(classify)?;
    }
    Ok(())
}

/// PostgreSQL: one INSERT whatever the number of events, its rows unnested
/// from one array per column, so the statement (and its plan) is the same
/// for every batch and the parameters stay 15.
pub(crate) async fn postgres(
    conn: &mut PgConnection,
    actor: &Actor,
    events: &[PendingEvent],
) -> Result<(), AuditError> {
    if events.is_empty() {
        return Ok(());
    }
    const SQL: &str = "INSERT INTO audit_events (occurred_at, event_type, payload_version, \
        actor_kind, actor_id, actor_name, target_kind, target_id, parent_kind, parent_id, \
        subject_kind, subject_id, command_name, command_id, payload) \
        SELECT occurred_at, event_type, payload_version, $4, $5, $6, target_kind, target_id, \
        parent_kind, parent_id, subject_kind, subject_id, command_name, command_id, payload::jsonb \
        FROM UNNEST($1::int8[], $2::text[], $3::int8[], $7::text[], $8::text[], $9::text[], \
        $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[]) \
        WITH ORDINALITY AS e(occurred_at, event_type, payload_version, target_kind, target_id, \
        parent_kind, parent_id, subject_kind, subject_id, command_name, command_id, payload, n) \
        ORDER BY n";
    let column = |f: &dyn Fn(&PendingEvent) -> Option<String>| -> Vec<Option<String>> {
        events.iter().map(f).collect()
    };
    let kind = |r: &Option<EntityRef>| r.as_ref().map(|r| r.kind.to_string());
    let id = |r: &Option<EntityRef>| r.as_ref().map(|r| r.id.clone());
    sqlx::query(SQL)
        .bind(events.iter().map(|e| e.occurred_at).collect::<Vec<i64>>())
        .bind(events.iter().map(|e| e.code).collect::<Vec<&str>>())
        .bind(
            events
                .iter()
                .map(|e| i64::from(e.version))
                .collect::<Vec<i64>>(),
        )
        .bind(actor.kind())
        .bind(actor.id())
        .bind(actor.name())
        .bind(column(&|e| kind(&e.references.target)))
        .bind(column(&|e| id(&e.references.target)))
        .bind(column(&|e| kind(&e.references.parent)))
        .bind(column(&|e| id(&e.references.parent)))
        .bind(column(&|e| kind(&e.references.subject)))
        .bind(column(&|e| id(&e.references.subject)))
        .bind(events.iter().map(|e| e.command_name).collect::<Vec<&str>>())
        .bind(
            events
                .iter()
                .map(|e| e.command_id.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.payload.as_str())
                .collect::<Vec<&str>>(),
        )
        .execute(conn)
        .await
        .map_err(classify)?;
    Ok(())
}
