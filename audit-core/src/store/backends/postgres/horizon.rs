//! PostgreSQL's horizon: the transaction id below which events are read in
//! commit order, and what holds it back. Why it is correct is in
//! `store/position.rs`; here is how it is found.
//!
//! - The snapshot's running ids: `pg_snapshot_xip(pg_current_snapshot())`,
//!   the snapshot of the statement that reads the events, so the horizon and
//!   the rows read agree.
//! - Whose they are: `pg_stat_activity.backend_xid` (the top-level id a
//!   session's transaction holds) with the session's `datid`, and
//!   `pg_prepared_xacts` (`transaction`, `database`) for prepared
//!   transactions, which have no session. Every role may read both (the
//!   other columns of another role's session are hidden, not these). The
//!   lookup goes by the id itself, not by process id (as a join of
//!   `pg_locks` on `pid` would): an id names one transaction until it ends,
//!   and a process id can pass to a new session meanwhile, so even an older
//!   view of the sessions says only true things.
//! - An id that is not known to be another database's holds the horizon:
//!   any id of this database, and any id not found (taken after the
//!   sessions were read, below; a process without a database; a prepared
//!   transaction that ended before its lookup). Passing over one by
//!   mistake could skip an event; holding one needlessly only delays.
//! - The sessions are read before the snapshot is taken: each read runs in
//!   a READ COMMITTED, read-only transaction ([`begin`]) whose first
//!   statement loads this session's view of the others (PostgreSQL keeps it
//!   until the transaction ends) and whose next statement, with a snapshot
//!   of its own, reads. So an id the view lacks was assigned after it was
//!   loaded, later than every transaction committed by then: it holds back
//!   only what committed in between, a moment ago. (Read after the
//!   snapshot, the view would lack every transaction of another database
//!   that ended in between, and each would hold the log back at random.)

use sqlx::postgres::PgRow;
use sqlx::{Connection as _, PgConnection, Postgres, Row as _, Transaction};

use crate::store::error::{AuditError, classify};
use crate::store::position::{HeldBack, Position};
use crate::store::table::EVENTS_TABLE;

/// The transaction a read below the horizon runs in: READ COMMITTED (each
/// statement its own snapshot, whatever the server's default), read-only.
const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED, READ ONLY";

/// Loads this session's view of the others, kept until the transaction
/// ends (PostgreSQL's "information about the current queries of all
/// sessions is collected when any such information is first requested
/// within a transaction").
const LOAD_SESSIONS: &str = "SELECT count(*) FROM pg_stat_activity";

/// The smallest running id of the snapshot `{snapshot}` that may have
/// written this database's rows: of all but those that a session of
/// another database, or a prepared transaction of another database, holds.
const MAY_WRITE_HERE: &str = "SELECT x FROM pg_snapshot_xip({snapshot}) AS x \
    WHERE x::xid NOT IN (\
        SELECT backend_xid FROM pg_stat_activity \
        WHERE backend_xid IS NOT NULL \
        AND datid <> (SELECT oid FROM pg_database WHERE datname = current_database()) \
        UNION ALL \
        SELECT transaction FROM pg_prepared_xacts WHERE database <> current_database()) \
    ORDER BY x LIMIT 1";

/// The horizon, as a scalar subquery of type `xid8`: the smallest running
/// id of the statement's snapshot that may have written this database's
/// rows, else the snapshot's xmax. Every event with `tx_id` below it is
/// committed or rolled back for good.
pub(super) fn horizon() -> String {
    let may_write_here = MAY_WRITE_HERE.replace("{snapshot}", "snapshot.s");
    format!(
        "(SELECT COALESCE(({may_write_here}), pg_snapshot_xmax(snapshot.s)) \
         FROM (SELECT pg_current_snapshot() AS s) AS snapshot)"
    )
}

/// Opens the transaction a read below the horizon runs in on `conn` (a
/// savepoint when `conn` is already in one; the view of the sessions is
/// then the one its first look loaded, or is loaded now), and loads the
/// view of the sessions. Read-only: commit or drop it.
pub(super) async fn begin(
    conn: &mut PgConnection,
) -> Result<Transaction<'_, Postgres>, AuditError> {
    let mut tx = if conn.is_in_transaction() {
        conn.begin().await
    } else {
        conn.begin_with(BEGIN).await
    }
    .map_err(classify)?;
    sqlx::query(LOAD_SESSIONS)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    Ok(tx)
}

/// What holds the horizon back after `after`: the smallest running id that
/// may have written here, when committed events (visible, so committed)
/// wait after it and after `after`; with its session or its prepared
/// transaction, as far as the role may see them. `None` when nothing waits,
/// and when the blocker is not found and no longer runs (it ended just now:
/// the next read goes on).
pub(super) async fn held_back(
    conn: &mut PgConnection,
    after: Position,
) -> Result<Option<HeldBack>, AuditError> {
    let may_write_here = MAY_WRITE_HERE.replace("{snapshot}", "pg_current_snapshot()");
    let sql = format!(
        "WITH blocker AS ({may_write_here}), \
         waiting AS (SELECT count(*) AS n FROM (\
             SELECT 1 FROM {EVENTS_TABLE}, blocker \
             WHERE id > 0 AND tx_id > blocker.x AND (tx_id, id) > ($1::int8::text::xid8, $2) \
             LIMIT $3) AS w) \
         SELECT b.x::text::int8 AS transaction, w.n AS waiting, \
             a.pid, COALESCE(a.datname::text, p.database::text) AS database, \
             a.state, a.application_name, p.gid, \
             floor(extract(epoch FROM now() - COALESCE(p.prepared, a.xact_start)) * 1000000)::int8 \
                 AS age_us \
         FROM blocker AS b CROSS JOIN waiting AS w \
         LEFT JOIN LATERAL (SELECT * FROM pg_stat_activity \
             WHERE backend_xid = b.x::xid LIMIT 1) AS a ON true \
         LEFT JOIN LATERAL (SELECT * FROM pg_prepared_xacts \
             WHERE transaction = b.x::xid LIMIT 1) AS p ON true \
         WHERE w.n > 0 \
         AND (a.pid IS NOT NULL OR p.gid IS NOT NULL OR pg_xact_status(b.x) = 'in progress')"
    );
    let counted = i64::try_from(HeldBack::MAX_COUNTED).unwrap_or(i64::MAX);
    let mut tx = begin(conn).await?;
    // Our own fragments and numbered placeholders; every value is bound.
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after.tx())
        .bind(after.id())
        .bind(counted)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
    tx.commit().await.map_err(classify)?;
    row.map(|row| held_back_of(&row)).transpose()
}

/// One row of [`held_back`]'s query.
fn held_back_of(row: &PgRow) -> Result<HeldBack, AuditError> {
    let transaction: i64 = row.try_get("transaction")?;
    let waiting: i64 = row.try_get("waiting")?;
    let pid: Option<i32> = row.try_get("pid")?;
    let age_us: Option<i64> = row.try_get("age_us")?;
    Ok(HeldBack {
        transaction: u64::try_from(transaction).unwrap_or_default(),
        pid: pid.and_then(|p| u32::try_from(p).ok()),
        database: row.try_get("database")?,
        state: row.try_get("state")?,
        // A clock a little behind another session's start is no time at all.
        in_transaction_for: age_us
            .map(|us| u64::try_from(us.max(0)).unwrap_or_default())
            .map(std::time::Duration::from_micros),
        application_name: row.try_get("application_name")?,
        prepared_as: row.try_get("gid")?,
        events_waiting: u64::try_from(waiting).unwrap_or_default(),
    })
}
