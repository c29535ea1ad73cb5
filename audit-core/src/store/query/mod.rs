//! Reading the log: combinable filters, newest first by the events' time
//! (`occurred_at`, then id), keyset pagination over that order.
//! `filter` says what is asked, `sql` turns it into SQL, `rows` reads what
//! comes back, `cursor` and `stored` are what the caller gets.

mod cursor;
mod filter;
mod rows;
mod single;
mod sql;
mod stored;

pub use cursor::Cursor;
pub use filter::{Condition, EventQuery, MAX_PAGE_SIZE};
pub use stored::{Page, StoredEvent};

use cursor::{Direction, Edge};
use rows::edge_of;
pub(in crate::store) use rows::events_of;
pub(crate) use single::{by_id, of_command};
pub(crate) use sql::Bind;
use sql::build_sql;

use crate::backend::Pool;
use crate::catalog::EventCatalog;
use crate::on_backend;
use crate::store::error::{AuditError, classify};

/// A page's events as fetched, whether the fetch found more, and the
/// places of its first and last row.
type Fetched<E> = (Vec<StoredEvent<E>>, bool, Option<(Edge, Edge)>);

/// Runs `q` on `pool`: one page, newest first by time (`occurred_at`, then
/// id), with the cursors around it.
pub(crate) async fn run<E: EventCatalog>(
    pool: &Pool,
    q: &EventQuery,
) -> Result<Page<E>, AuditError> {
    let (sql, binds) = build_sql(pool.backend(), q);
    let by_column = pool.backend().dialect().values_have_column_type;
    let limit = q.limit as usize;
    let newer = matches!(q.cursor, Some(c) if c.direction == Direction::Newer);
    let (mut events, more, ends): Fetched<E> = on_backend!(pool, pool => {
        // Built from our own fragments and numbered placeholders; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in &binds {
            query = match bind {
                Bind::Text(s) => query.bind(s.as_str()),
                Bind::Int(i) => query.bind(*i),
            };
        }
        let rows = query.fetch_all(pool).await.map_err(classify)?;
        let page = &rows[..rows.len().min(limit)];
        let ends = match (page.first(), page.last()) {
            (Some(first), Some(last)) => Some((edge_of(first)?, edge_of(last)?)),
            _ => None,
        };
        (events_of(page, by_column)?, rows.len() > limit, ends)
    });
    // Rows came in the fetch's order: oldest first towards a newer page.
    let ends = ends.map(|(first, last)| if newer { (last, first) } else { (first, last) });
    if newer {
        events.reverse();
    }
    // Rows are newest first now. `more` says whether the fetch direction
    // had rows beyond this page; the other direction has rows whenever a
    // cursor led here, since a cursor is made from an event of the query.
    let newest = ends.map(|(newest, _)| newest);
    let oldest = ends.map(|(_, oldest)| oldest);
    let (next, prev) = match q.cursor {
        None => (oldest.filter(|_| more).map(Cursor::older_than), None),
        Some(Cursor {
            edge,
            direction: Direction::Older,
        }) => (
            oldest.filter(|_| more).map(Cursor::older_than),
            // An empty page: the page newer than it starts at the edge itself.
            Some(Cursor::newer_than(newest.unwrap_or_else(|| {
                Edge::new(edge.occurred_at, edge.id.saturating_sub(1).max(0))
            }))),
        ),
        Some(Cursor {
            edge,
            direction: Direction::Newer,
        }) => (
            Some(Cursor::older_than(oldest.unwrap_or_else(|| {
                Edge::new(edge.occurred_at, edge.id.saturating_add(1))
            }))),
            newest.filter(|_| more).map(Cursor::newer_than),
        ),
    };
    Ok(Page { events, next, prev })
}

/// The SQL text and the values bound to it that [`run`] sends for `q` on
/// `backend` (for benchmarks that run the same SQL by hand).
#[cfg(feature = "testing")]
pub(crate) fn sql_of(backend: crate::backend::Backend, q: &EventQuery) -> (String, Vec<Bind>) {
    build_sql(backend, q)
}

/// Every event with an id above `after`, in id order (what the testing
/// harness reads after a command: it is the only writer of its database,
/// so ids are commit order there). Not a page: pages are in time order.
#[cfg(feature = "testing")]
pub(crate) async fn after_id<E: EventCatalog>(
    pool: &Pool,
    after: i64,
) -> Result<Vec<StoredEvent<E>>, AuditError> {
    let dialect = pool.backend().dialect();
    let select = crate::store::table::select_list(dialect.payload_as_text, dialect.position_tx);
    let sql = format!(
        "SELECT {select} FROM {} WHERE id > $1 ORDER BY id LIMIT $2",
        crate::store::table::EVENTS_TABLE
    );
    let by_column = dialect.values_have_column_type;
    let mut events = Vec::new();
    let mut edge = after.max(0);
    loop {
        let mut batch: Vec<StoredEvent<E>> = on_backend!(pool, pool => {
            // Built from our own fragments; the values are bound.
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(edge)
                .bind(i64::from(MAX_PAGE_SIZE))
                .fetch_all(pool)
                .await
                .map_err(classify)?;
            events_of(&rows, by_column)?
        });
        let full = batch.len() == MAX_PAGE_SIZE as usize;
        edge = batch.last().map_or(edge, |e| e.id);
        events.append(&mut batch);
        if !full {
            return Ok(events);
        }
    }
}
