//! Writing event rows, in as few statements as each backend allows. The
//! one path by which rows enter the events table: commands' events at
//! commit, imported events, and the log's own records.

use std::sync::LazyLock;

use sqlx::{PgConnection, SqliteConnection};

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
    match db {
        Db::Sqlite(conn) => sqlite(conn, rows).await,
        Db::Postgres(conn) => postgres(conn, rows).await,
    }
}

/// Rows per SQLite INSERT: 15 parameters each stays far below SQLite's
/// limit of 32,766.
const SQLITE_ROWS_PER_INSERT: usize = 200;

/// SQLite: multi-row INSERTs with positional `?` parameters. (Numbered
/// `$n` parameters are named parameters to SQLite, and binding by name
/// costs a scan of all names per parameter: quadratic in the batch.)
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
        for (actor, row) in chunk {
            query = bind_row(query, row, actor);
        }
        query.execute(&mut *conn).await.map_err(classify)?;
    }
    Ok(())
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

/// PostgreSQL's INSERT: every column unnested from one array parameter, so
/// the statement (and its plan) is the same for every batch.
static POSTGRES_INSERT: LazyLock<String> = LazyLock::new(|| {
    let names = written_names();
    let arrays: Vec<String> = WRITTEN
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| match ty {
            ColumnType::Int => format!("${}::int8[]", i + 1),
            ColumnType::Text | ColumnType::Json => format!("${}::text[]", i + 1),
        })
        .collect();
    let select: Vec<String> = WRITTEN
        .iter()
        .map(|(name, ty)| match ty {
            ColumnType::Json => format!("{name}::jsonb"),
            _ => (*name).to_owned(),
        })
        .collect();
    format!(
        "INSERT INTO {EVENTS_TABLE} ({names}) SELECT {} FROM UNNEST({}) \
         WITH ORDINALITY AS e({names}, n) ORDER BY n",
        select.join(", "),
        arrays.join(", ")
    )
});

/// PostgreSQL: one INSERT whatever the number of events, one array per column.
async fn postgres(conn: &mut PgConnection, rows: &[(&Actor, &EventRow)]) -> Result<(), AuditError> {
    let values: Vec<_> = rows.iter().map(|(actor, row)| row.values(actor)).collect();
    // Built from the table's own names and numbered placeholders; every value is bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(POSTGRES_INSERT.as_str()));
    for (column, (_, ty)) in WRITTEN.iter().enumerate() {
        query = match ty {
            ColumnType::Int => query.bind(
                values
                    .iter()
                    .map(|row| match row[column] {
                        Value::Int(i) => i,
                        Value::Text(_) => unreachable!("invariant: values follow WRITTEN's types"),
                    })
                    .collect::<Vec<i64>>(),
            ),
            ColumnType::Text | ColumnType::Json => query.bind(
                values
                    .iter()
                    .map(|row| match row[column] {
                        Value::Text(text) => text.map(str::to_owned),
                        Value::Int(_) => unreachable!("invariant: values follow WRITTEN's types"),
                    })
                    .collect::<Vec<Option<String>>>(),
            ),
        };
    }
    query.execute(conn).await.map_err(classify)?;
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
        crate::backend::Backend::Sqlite => ("", ""),
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
