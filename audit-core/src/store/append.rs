//! Writing event rows, in as few statements as each backend allows. The
//! one path by which rows enter the events table: commands' events at
//! commit, imported events, and the log's own records.

#[cfg(feature = "sqlite")]
use std::sync::Arc;
#[cfg(feature = "postgres")]
use std::sync::LazyLock;

#[cfg(feature = "postgres")]
use sqlx::PgConnection;
#[cfg(feature = "sqlite")]
use sqlx::SqliteConnection;

use super::error::{AuditError, classify};
#[cfg(feature = "postgres")]
use super::rows_json;
use super::table::{ColumnType, EVENTS_TABLE, EventRow, Value, WRITTEN, written_names};
use crate::actor::Actor;
use crate::backend::{Db, match_backend};

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
    match_backend!(db,
        Sqlite(conn) => sqlite(conn, rows).await,
        Postgres(conn) => postgres(conn, rows).await,
    )
}

#[cfg(feature = "sqlite")]
/// Rows per SQLite INSERT: 15 parameters each stays far below SQLite's
/// limit of 32,766.
const SQLITE_ROWS_PER_INSERT: usize = 200;

/// SQLite: multi-row INSERTs with positional `?` parameters. (Numbered
/// `$n` parameters are named parameters to SQLite, and binding by name
/// costs a scan of all names per parameter: quadratic in the batch.)
///
/// Not one bound JSON array expanded by `json_each`, as on PostgreSQL:
/// measured with callgrind (100-event commands, `synchronous` OFF), it
/// saves the binds but SQLite's JSON functions cost more than they do
/// (7.3 M instructions per command against 6.9 M; 11.7 M when each
/// `value ->> i` reads `json_each`'s `value`, which SQLite renders as
/// text again for every use).
#[cfg(feature = "sqlite")]
async fn sqlite(
    conn: &mut SqliteConnection,
    rows: &[(&Actor, &EventRow)],
) -> Result<(), AuditError> {
    let one_row = format!("({})", vec!["?"; WRITTEN.len()].join(", "));
    for chunk in rows.chunks(SQLITE_ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO {EVENTS_TABLE} ({}) VALUES {}",
            written_names(),
            vec![one_row.as_str(); chunk.len()].join(", ")
        );
        // Built from the table's own names and `?` placeholders; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        let mut shared = SharedText::default();
        for (actor, row) in chunk {
            for (column, value) in row.values(actor).into_iter().enumerate() {
                query = match value {
                    Value::Int(i) => query.bind(i),
                    Value::Text(text) => query.bind(text.map(|t| shared.copy(column, t))),
                };
            }
        }
        query.execute(&mut *conn).await.map_err(classify)?;
    }
    Ok(())
}

/// The copies of a batch's text values that sqlx's SQLite arguments own,
/// shared between rows: a value equal to the previous row's in the same
/// column (the actor, the command, the kinds, often the type: most of a
/// command's columns) reuses that row's copy instead of allocating another.
/// (sqlx 0.9 copies every bound `&str` or `String` into a new `Arc`; for a
/// 100-event command that was two allocations for each of its 1,300 text
/// values.)
#[cfg(feature = "sqlite")]
#[derive(Default)]
struct SharedText<'r> {
    last: [Option<(&'r str, Arc<str>)>; WRITTEN.len()],
}

#[cfg(feature = "sqlite")]
impl<'r> SharedText<'r> {
    /// The owned copy of `text`, the value of `column`.
    fn copy(&mut self, column: usize, text: &'r str) -> Arc<str> {
        match &mut self.last[column] {
            Some((last, copy)) if *last == text => Arc::clone(copy),
            slot => Arc::clone(&slot.insert((text, Arc::from(text))).1),
        }
    }
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

/// Rows per PostgreSQL INSERT, bounding the one JSON value it binds (a
/// payload is at most `MAX_PAYLOAD_BYTES`).
#[cfg(feature = "postgres")]
const POSTGRES_ROWS_PER_INSERT: usize = 500;

/// PostgreSQL's INSERT: the rows as one bound JSON array (`rows_json`),
/// expanded in the order given, so the statement (and its plan) is the
/// same for every batch. Against fifteen bound arrays (`UNNEST`): a third
/// fewer client instructions per 100-event command (callgrind: 0.83 M
/// against 1.21 M), and no slower in the server (generic plan on a
/// 1,000,000-event table, 100 rows, JSON parse included: median 4.2 ms
/// against 6.5 ms, minimum 2.15 against 2.18, noisy machine).
#[cfg(feature = "postgres")]
static POSTGRES_INSERT: LazyLock<String> = LazyLock::new(|| postgres_insert("$1::jsonb"));

/// PostgreSQL's INSERT of the rows in `source`, a JSON array of rows as
/// `rows_json` writes them, in the array's order.
#[cfg(feature = "postgres")]
fn postgres_insert(source: &str) -> String {
    let values: Vec<String> = WRITTEN
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| match ty {
            ColumnType::Int => format!("(r ->> {i})::int8"),
            ColumnType::Text => format!("r ->> {i}"),
            ColumnType::Json => format!("(r ->> {i})::jsonb"),
        })
        .collect();
    format!(
        "INSERT INTO {EVENTS_TABLE} ({}) SELECT {} \
         FROM jsonb_array_elements({source}) WITH ORDINALITY AS e(r, n) ORDER BY n",
        written_names(),
        values.join(", ")
    )
}

/// PostgreSQL: one INSERT per batch, the rows as one bound JSON array.
#[cfg(feature = "postgres")]
async fn postgres(conn: &mut PgConnection, rows: &[(&Actor, &EventRow)]) -> Result<(), AuditError> {
    for chunk in rows.chunks(POSTGRES_ROWS_PER_INSERT) {
        // Built from the table's own names; the rows are the one bound value.
        sqlx::query(sqlx::AssertSqlSafe(POSTGRES_INSERT.as_str()))
            .bind(rows_json::encode(chunk))
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
    }
    Ok(())
}

/// Writes `row` with id 0, the log's anchor (see `schema::LOG_CREATED_CODE`):
/// the one row whose id is not the database's to choose, written once by
/// the migration that makes the log.
pub(crate) async fn write_anchor(
    db: Db<'_>,
    actor: &Actor,
    row: &EventRow,
) -> Result<(), AuditError> {
    let (overriding, json_cast) = match db.backend() {
        #[cfg(feature = "sqlite")]
        crate::backend::Backend::Sqlite => ("", ""),
        #[cfg(feature = "postgres")]
        crate::backend::Backend::Postgres => (" OVERRIDING SYSTEM VALUE", "::jsonb"),
    };
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
    use crate::backend::Backend;
    use crate::reference::{EntityRef, References};

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
        let actor = if i.is_multiple_of(2) {
            Actor::user(s(1), s(2))
        } else {
            Actor::system(s(3))
        };
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
        for row in &mut rows {
            let payload = row[WRITTEN.len() - 1]
                .as_deref()
                .map(|p| serde_json::from_str::<serde_json::Value>(p).expect("JSON payload"));
            row[WRITTEN.len() - 1] = payload.map(|p| p.to_string());
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
            for count in [1, 2, 13, POSTGRES_ROWS_PER_INSERT + 3] {
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
