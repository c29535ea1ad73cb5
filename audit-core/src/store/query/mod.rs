//! Reading the log: combinable filters, newest first, keyset pagination.
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

use cursor::Direction;
pub(in crate::store) use rows::events_of;
pub(crate) use single::{by_id, of_command};
pub(crate) use sql::Bind;
use sql::build_sql;

use crate::backend::Pool;
use crate::catalog::EventCatalog;
use crate::on_backend;
use crate::store::error::{AuditError, classify};

/// Runs `q` on `pool`: one page, newest first, with the cursors around it.
pub(crate) async fn run<E: EventCatalog>(
    pool: &Pool,
    q: &EventQuery,
) -> Result<Page<E>, AuditError> {
    let (sql, binds) = build_sql(pool.backend(), q);
    let by_column = pool.backend().dialect().values_have_column_type;
    let limit = q.limit as usize;
    let (mut events, more): (Vec<StoredEvent<E>>, bool) = on_backend!(pool, pool => {
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
        (events_of(page, by_column)?, rows.len() > limit)
    });
    if matches!(q.cursor, Some(c) if c.direction == Direction::Newer) {
        events.reverse();
    }
    // Rows are newest first now. `more` says whether the fetch direction
    // had rows beyond this page; the other direction has rows whenever a
    // cursor led here, since a cursor is made from an event of the query.
    let oldest = events.last().map(|e| e.id);
    let newest = events.first().map(|e| e.id);
    let (next, prev) = match q.cursor {
        None => (oldest.filter(|_| more).map(Cursor::older_than), None),
        Some(Cursor {
            edge,
            direction: Direction::Older,
        }) => (
            oldest.filter(|_| more).map(Cursor::older_than),
            Some(Cursor::newer_than(
                newest.unwrap_or_else(|| edge.saturating_sub(1).max(0)),
            )),
        ),
        Some(Cursor {
            edge,
            direction: Direction::Newer,
        }) => (
            Some(Cursor::older_than(
                oldest.unwrap_or_else(|| edge.saturating_add(1)),
            )),
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

/// Every event with an id above `after`, oldest first (what the testing
/// harness reads after a command: it is the only writer of its database,
/// so ids are commit order there).
#[cfg(feature = "testing")]
pub(crate) async fn after_id<E: EventCatalog>(
    pool: &Pool,
    after: i64,
) -> Result<Vec<StoredEvent<E>>, AuditError> {
    let mut events = Vec::new();
    let mut edge = after;
    loop {
        let query = EventQuery::new()
            .limit(MAX_PAGE_SIZE)
            .cursor(Cursor::newer_than(edge));
        let mut page = run::<E>(pool, &query).await?;
        // Newest first: the page's newest is where the next one starts.
        page.events.reverse();
        let full = page.events.len() == MAX_PAGE_SIZE as usize;
        edge = page.events.last().map_or(edge, |e| e.id);
        events.append(&mut page.events);
        if !full {
            return Ok(events);
        }
    }
}
