//! PostgreSQL's commit clock: what gives each transaction that writes
//! events its place in commit order, and who holds it. Why the order is
//! commit order is in `store/position.rs`; the clock's objects are in
//! `schema.rs` (version 7).
//!
//! - `audit_commit_clock`, an empty table that only the stamping function
//!   locks (`EXCLUSIVE`, until its transaction ends). A role that may only
//!   read it can take no lock on it that conflicts (`ACCESS SHARE`), and it
//!   is never written, so autovacuum never takes one either.
//! - `audit_commit_seq`, the sequence the places are taken from, under the
//!   clock; and `audit_commit_order (seq, commit_tx)`, one row per
//!   transaction that wrote events: its place, and its transaction id,
//!   which the events carry (`tx_id`). Reads in position order join them.
//! - `audit_stamp_commit`, run once per INSERT statement into the events
//!   table (after it): it takes the clock, then the next place, once per
//!   transaction (`ON CONFLICT` keeps the first, with no read a serializable
//!   transaction would be tracked on).
//!
//! The holder is found in `pg_locks` (the granted `ExclusiveLock` on the
//! clock), with its session (`pg_stat_activity`) or prepared transaction
//! (`pg_prepared_xacts`), as far as the reading role may see them.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};

use crate::store::error::{AuditError, classify};
use crate::store::position::HeldBack;

/// The holder of the clock and the writers waiting for it, when it holds
/// them up: a holder that is not running a statement (idle in its
/// transaction, or prepared), or one that writers wait behind.
const HOLDER: &str = "\
    WITH clock AS (SELECT 'audit_commit_clock'::regclass AS oid), \
    holder AS (\
        SELECT l.pid, l.virtualtransaction FROM pg_locks l, clock \
        WHERE l.locktype = 'relation' AND l.relation = clock.oid \
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
          AND l.mode = 'ExclusiveLock' AND l.granted LIMIT 1), \
    waiting AS (\
        SELECT count(*) AS n FROM pg_locks l, clock \
        WHERE l.locktype = 'relation' AND l.relation = clock.oid AND NOT l.granted \
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())) \
    SELECT COALESCE(a.backend_xid::text, p.transaction::text)::int8 AS transaction, \
        w.n AS waiting, a.pid, COALESCE(a.datname::text, p.database::text) AS database, \
        a.state, a.application_name, p.gid, \
        floor(extract(epoch FROM now() - COALESCE(p.prepared, a.xact_start)) * 1000000)::int8 \
            AS age_us \
    FROM holder h CROSS JOIN waiting w \
    LEFT JOIN pg_stat_activity a ON a.pid = h.pid AND h.pid IS NOT NULL AND h.pid <> 0 \
    LEFT JOIN pg_prepared_xacts p ON (h.pid IS NULL OR h.pid = 0) \
        AND p.transaction::text = split_part(h.virtualtransaction, '/', 2) \
    WHERE w.n > 0 OR p.gid IS NOT NULL OR a.state LIKE 'idle%'";

/// Who holds the clock, when it holds writers up (see [`HOLDER`]); `None`
/// when nobody does, or the holder runs a statement and nobody waits.
pub(super) async fn held_back(conn: &mut PgConnection) -> Result<Option<HeldBack>, AuditError> {
    let row = sqlx::query(HOLDER)
        .fetch_optional(conn)
        .await
        .map_err(classify)?;
    row.map(|row| held_back_of(&row)).transpose()
}

/// One row of [`HOLDER`].
fn held_back_of(row: &PgRow) -> Result<HeldBack, AuditError> {
    let transaction: Option<i64> = row.try_get("transaction")?;
    let waiting: i64 = row.try_get("waiting")?;
    let pid: Option<i32> = row.try_get("pid")?;
    let age_us: Option<i64> = row.try_get("age_us")?;
    Ok(HeldBack {
        transaction: transaction
            .and_then(|t| u64::try_from(t).ok())
            .unwrap_or_default(),
        pid: pid.and_then(|p| u32::try_from(p).ok()),
        database: row.try_get("database")?,
        state: row.try_get("state")?,
        // A clock a little behind another session's start is no time at all.
        in_transaction_for: age_us
            .map(|us| u64::try_from(us.max(0)).unwrap_or_default())
            .map(std::time::Duration::from_micros),
        application_name: row.try_get("application_name")?,
        prepared_as: row.try_get("gid")?,
        writers_waiting: u64::try_from(waiting).unwrap_or_default(),
    })
}
