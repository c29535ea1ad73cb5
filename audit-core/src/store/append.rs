//! Writing event rows, in as few statements as each backend allows. The
//! one path by which rows enter the events table: commands' events at
//! commit, imported events, and the log's own records. Each backend's
//! statement is its own (`Storage::append`, in `backends/`).

use super::backends::with_storage;
use super::error::{AuditError, classify};
use super::table::{ColumnType, EVENTS_TABLE, EventRow, Value, WRITTEN, written_names};
use crate::actor::Actor;
use crate::backend::Db;

/// Writes `rows`, acting for `actor`, on the transaction's connection.
pub(crate) async fn write(db: Db<'_>, actor: &Actor, rows: &[EventRow]) -> Result<(), AuditError> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows: Vec<(&Actor, &EventRow)> = rows.iter().map(|row| (actor, row)).collect();
    write_each(db, &rows).await
}

/// Writes `rows`, each acting for its own actor (imported events), on the
/// transaction's connection, in the order given.
pub(crate) async fn write_each(db: Db<'_>, rows: &[(&Actor, &EventRow)]) -> Result<(), AuditError> {
    if rows.is_empty() {
        return Ok(());
    }
    with_storage!(db, conn, S => S::append(conn, rows).await)
}

/// Binds `row`'s values, acting for `actor`, in the order of `WRITTEN`.
fn bind_row<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    row: &EventRow,
    actor: &Actor,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for value in row.values(actor) {
        query = match value {
            Value::Int(i) => query.bind(i),
            Value::Text(text) => query.bind(text.map(str::to_owned)),
        };
    }
    query
}

/// Writes `row` with id 0, the log's anchor (see `schema::LOG_CREATED_CODE`):
/// the one row whose id is not the database's to choose, written once by
/// the migration that makes the log.
pub(crate) async fn write_anchor(
    db: Db<'_>,
    actor: &Actor,
    row: &EventRow,
) -> Result<(), AuditError> {
    let (overriding, json_cast) = with_storage!(&db, _, S => (S::ANCHOR_OVERRIDING, S::JSON_CAST));
    let placeholders: Vec<String> = WRITTEN
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| match ty {
            ColumnType::Json => format!("${}{json_cast}", i + 1),
            ColumnType::Int | ColumnType::Text => format!("${}", i + 1),
        })
        .collect();
    let sql = format!(
        "INSERT INTO {EVENTS_TABLE} (id, {}){overriding} VALUES (0, {})",
        written_names(),
        placeholders.join(", ")
    );
    crate::on_backend!(db, conn => {
        // Built from the table's own names and numbered placeholders; every value is bound.
        bind_row(sqlx::query(sqlx::AssertSqlSafe(sql)), row, actor)
            .execute(conn)
            .await
            .map_err(classify)?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Every column of every row written by the batch path reads back as it
    //! was given, in the order given, whatever the strings hold.

    use super::*;
    use std::sync::Arc;

    use crate::backend::Backend;
    use crate::context::ContextColumns;
    use crate::reference::{EntityRef, References};
    use crate::store::backends::postgres;

    /// Strings that escaping must survive: quotes, backslashes, SQL and
    /// JSON syntax, placeholders, control and non-BMP characters.
    const HOSTILE: [&str; 12] = [
        "",
        "'",
        "\"",
        "\\",
        "\\\"'\\'",
        "'); DROP TABLE audit_events; --",
        "?1 $1 :a @a",
        "{\"a\": [1, 2]}",
        "\u{1}\u{8}\t\n\r\u{1f}\u{7f}",
        "\u{2028}\u{2029}\u{feff}\u{fffd}",
        "𝄞 😀 \u{10ffff}",
        "null",
    ];

    /// Row `i` of a batch: hostile strings in every text column, and a
    /// payload that is large for some rows.
    fn row(i: usize, nul: bool) -> (Actor, EventRow) {
        let s = |k: usize| {
            let mut text = HOSTILE[(i + k) % HOSTILE.len()].to_owned();
            if nul {
                text.push('\0');
            }
            text.push_str(&i.to_string());
            text
        };
        let leak = |text: String| -> &'static str { Box::leak(text.into_boxed_str()) };
        let reference =
            |k: usize| (!(i + k).is_multiple_of(3)).then(|| EntityRef::new(s(k), s(k + 1)));
        let actor = match i % 4 {
            0 => Actor::user(s(1), s(2)),
            1 => Actor::system(s(3)),
            2 => Actor::user(s(1), s(2)).acting_as(s(3), s(4)),
            _ => Actor::service(s(2), s(3)),
        };
        // Some rows have no context, some part of one; the context's
        // text is the library's JSON, here any string.
        let context = (!i.is_multiple_of(3)).then(|| {
            Arc::new(ContextColumns {
                request_id: Some(s(11)),
                client_address: (!i.is_multiple_of(2)).then(|| s(12)),
                rest: Some(s(13)),
                has_user_agent: false,
            })
        });
        let big = if i.is_multiple_of(7) {
            "x".repeat(60_000)
        } else {
            String::new()
        };
        let payload = serde_json::json!({ "text": s(4), "big": big, "n": i }).to_string();
        let row = EventRow {
            occurred_at: i as i64 * 1_000_003 - 5_000_000,
            code: leak(s(5)),
            version: u32::try_from(i).expect("test rows are few") + 1,
            references: References {
                target: reference(6),
                parent: reference(7),
                subject: reference(8),
            },
            command_name: leak(s(9)),
            command_id: s(10),
            payload,
            context,
            personal: (i % 5 == 1).then(|| s(14)),
        };
        (actor, row)
    }

    /// The written columns of the rows after id `after`, in id order, as
    /// text (integers in decimal), the payload parsed.
    async fn read_back(db: Db<'_>, after: i64) -> Vec<Vec<Option<String>>> {
        let payload = match db.backend() {
            Backend::Sqlite => "payload",
            Backend::Postgres => "payload::text",
        };
        let columns: Vec<String> = WRITTEN
            .iter()
            .map(|(name, ty)| match ty {
                ColumnType::Int => format!("CAST({name} AS TEXT)"),
                ColumnType::Text => (*name).to_owned(),
                ColumnType::Json => payload.to_owned(),
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM {EVENTS_TABLE} WHERE id > {after} ORDER BY id",
            columns.join(", ")
        );
        let read = |row: &dyn Fn(usize) -> Option<String>| -> Vec<Option<String>> {
            (0..WRITTEN.len()).map(row).collect()
        };
        crate::on_backend!(db, conn => {
            use sqlx::Row as _;
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(conn)
                .await
                .expect("the rows read back")
                .iter()
                .map(|r| read(&|i| r.get::<Option<String>, _>(i)))
                .collect()
        })
    }

    /// What `read_back` returns for `rows`.
    fn expected(rows: &[(Actor, EventRow)]) -> Vec<Vec<Option<String>>> {
        rows.iter()
            .map(|(actor, row)| {
                row.values(actor)
                    .iter()
                    .map(|value| match value {
                        Value::Int(i) => Some(i.to_string()),
                        Value::Text(text) => text.map(str::to_owned),
                    })
                    .collect()
            })
            .collect()
    }

    /// Payloads compared as JSON (PostgreSQL stores JSONB, which respaces).
    fn normalized(mut rows: Vec<Vec<Option<String>>>) -> Vec<Vec<Option<String>>> {
        let at = WRITTEN
            .iter()
            .position(|(_, ty)| *ty == ColumnType::Json)
            .expect("invariant: the payload is a JSON column");
        for row in &mut rows {
            let payload = row[at]
                .as_deref()
                .map(|p| serde_json::from_str::<serde_json::Value>(p).expect("JSON payload"));
            row[at] = payload.map(|p| p.to_string());
        }
        rows
    }

    async fn last_id(db: Db<'_>) -> i64 {
        crate::on_backend!(db, conn => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COALESCE(MAX(id), 0) FROM {EVENTS_TABLE}"
            )))
            .fetch_one(conn)
            .await
            .expect("the last id")
        })
    }

    #[tokio::test]
    async fn batches_round_trip_every_column_in_order() {
        for auditor in crate::testing::all("append_round_trip").await {
            auditor.migrate().await.expect("migrate");
            // NUL: SQLite keeps it in text; PostgreSQL's text refuses it.
            let nul = auditor.backend() == Backend::Sqlite;
            for count in [1, 2, 13, postgres::ROWS_PER_INSERT + 3] {
                let rows: Vec<(Actor, EventRow)> = (0..count).map(|i| row(i, nul)).collect();
                assert_round_trip(&auditor, &rows).await;
            }
        }
    }

    /// Writes `rows` in one transaction and checks that they read back as
    /// given, in order.
    async fn assert_round_trip(auditor: &crate::Auditor, rows: &[(Actor, EventRow)]) {
        let refs: Vec<(&Actor, &EventRow)> = rows.iter().map(|(a, r)| (a, r)).collect();
        let mut tx = auditor.begin_tx().await.expect("begin");
        let after = last_id(tx.db()).await;
        write_each(tx.db(), &refs).await.expect("write");
        let read = read_back(tx.db(), after).await;
        tx.commit().await.expect("commit");
        assert_eq!(
            normalized(read),
            normalized(expected(rows)),
            "{:?}, {} rows",
            auditor.backend(),
            rows.len()
        );
    }

    /// Row `i` of a batch whose columns repeat their previous row's value
    /// in runs of different lengths (so that a copy shared between rows
    /// is reused, then replaced), with missing references between.
    fn repeating_row(i: usize) -> (Actor, EventRow) {
        // Of one length, so that only their bytes tell them apart.
        const POOL: [&str; 3] = ["ab", "'b", "a\u{1}"];
        let s = |k: usize| POOL[(i / k) % POOL.len()].to_owned();
        let reference = |k: usize| (i % 4 != k).then(|| EntityRef::new(s(k), s(k + 1)));
        let actor = if (i / 2).is_multiple_of(2) {
            Actor::user(s(1), s(2))
        } else {
            Actor::system(s(3))
        };
        let row = EventRow {
            occurred_at: (i / 3) as i64,
            code: POOL[(i / 3) % POOL.len()],
            version: 1,
            references: References {
                target: reference(1),
                parent: reference(2),
                subject: reference(3),
            },
            command_name: POOL[(i / 4) % POOL.len()],
            command_id: s(5),
            payload: serde_json::json!({ "n": i / 2, "t": s(1) }).to_string(),
            context: None,
            personal: None,
        };
        (actor, row)
    }

    #[tokio::test]
    async fn values_repeated_between_rows_round_trip() {
        for auditor in crate::testing::all("append_repeated").await {
            auditor.migrate().await.expect("migrate");
            let rows: Vec<(Actor, EventRow)> = (0..40).map(repeating_row).collect();
            assert_round_trip(&auditor, &rows).await;
        }
    }

    #[tokio::test]
    async fn a_nul_is_refused_by_postgresql() {
        let Some(auditor) = crate::testing::postgres("append_nul").await else {
            return;
        };
        auditor.migrate().await.expect("migrate");
        for count in [1, 2] {
            let rows: Vec<(Actor, EventRow)> = (0..count).map(|i| row(i, true)).collect();
            let refs: Vec<(&Actor, &EventRow)> = rows.iter().map(|(a, r)| (a, r)).collect();
            let mut tx = auditor.begin_tx().await.expect("begin");
            let result = write_each(tx.db(), &refs).await;
            assert!(matches!(result, Err(AuditError::Database(_))), "{result:?}");
        }
    }
}
