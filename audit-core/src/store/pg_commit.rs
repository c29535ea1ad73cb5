//! PostgreSQL: a commit's events sent with its COMMIT, in one round trip.
//!
//! sqlx sends one statement per round trip when values are bound, so
//! writing the events and then committing costs two. Here both travel as
//! one simple query, `INSERT ...; COMMIT; BEGIN`, the events' values
//! inside one string literal written by [`literal`](super::literal) (the
//! module's docs say why that literal is safe for any string). The trailing
//! `BEGIN` opens an empty transaction for the one sqlx believes is still
//! open: dropping sqlx's transaction then rolls that empty one back, with
//! no notice, when the connection returns to its pool.
//!
//! Larger batches (over [`MAX_LITERAL_BYTES`]) take the bound path and a
//! separate COMMIT.

use futures_util::StreamExt;
use sqlx::{Either, PgConnection};

use super::append::postgres_insert;
use super::literal::escape_string_literal;
use super::rows_json;
use super::table::EventRow;
use crate::actor::Actor;

/// The largest literal sent with the COMMIT; larger batches are bound.
pub(crate) const MAX_LITERAL_BYTES: usize = 1 << 20;

/// The simple query that writes `rows`, acting for `actor`, and commits
/// (the INSERT, the COMMIT, and the empty transaction that keeps sqlx's
/// bookkeeping true); `None` when its literal would exceed
/// [`MAX_LITERAL_BYTES`].
pub(crate) fn insert_and_commit_sql(actor: &Actor, rows: &[EventRow]) -> Option<String> {
    let rows: Vec<(&Actor, &EventRow)> = rows.iter().map(|row| (actor, row)).collect();
    let json = rows_json::encode_ascii(&rows);
    if json.len() > MAX_LITERAL_BYTES {
        return None;
    }
    // Invariant: `encode_ascii` writes ASCII without NUL, all the literal accepts.
    let literal = escape_string_literal(&json).expect("invariant: encode_ascii writes ASCII");
    Some(format!(
        "{}; COMMIT; BEGIN",
        postgres_insert(&format!("{literal}::jsonb"))
    ))
}

/// Why [`run`] failed: whether the transaction committed is known (it did
/// not), or unknown (the connection failed before the answer came).
pub(crate) enum Failure {
    /// The INSERT or the COMMIT was refused: nothing committed, and the
    /// connection is in a transaction again (failed or empty), as sqlx expects.
    Refused(sqlx::Error),
    /// The connection failed: the COMMIT may have been applied.
    OutcomeUnknown(sqlx::Error),
}

/// Runs `sql` from [`insert_and_commit_sql`] on `conn`, inside the
/// transaction sqlx opened there.
pub(crate) async fn run(conn: &mut PgConnection, sql: String) -> Result<(), Failure> {
    // Statements completed so far: the INSERT, the COMMIT, the BEGIN.
    let mut completed = 0;
    let mut failure = None;
    {
        // Built from the table's own names around one literal from `literal`.
        let mut results = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_many(&mut *conn);
        while let Some(result) = results.next().await {
            match result {
                Ok(Either::Left(_done)) => completed += 1,
                Ok(Either::Right(_row)) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
    }
    let Some(error) = failure else {
        return Ok(());
    };
    if is_connection_failure(&error) {
        return Err(Failure::OutcomeUnknown(error));
    }
    if completed >= 1 {
        // The INSERT ran and the COMMIT (or, after it, the BEGIN) was
        // refused: the connection is outside any transaction, and sqlx will
        // roll one back. Open one for it to roll back.
        if let Err(begin) = sqlx::raw_sql("BEGIN").execute(&mut *conn).await {
            return Err(if is_connection_failure(&begin) && completed >= 2 {
                Failure::OutcomeUnknown(begin)
            } else {
                Failure::Refused(error)
            });
        }
        if completed >= 2 {
            // Committed; only the trailing BEGIN failed, and it is made good.
            return Ok(());
        }
    }
    Err(Failure::Refused(error))
}

/// Whether `error` lost the connection (so whether COMMIT applied is unknown).
pub(crate) fn is_connection_failure(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Io(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::PoolClosed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{EntityRef, References};

    fn row(payload: &str) -> EventRow {
        EventRow {
            occurred_at: 7,
            code: "project_created",
            version: 2,
            references: References {
                target: Some(EntityRef::new("project", "it's")),
                parent: None,
                subject: None,
            },
            command_name: "app::create",
            command_id: "c1".into(),
            payload: payload.into(),
        }
    }

    #[test]
    fn the_statement_is_the_insert_the_commit_and_a_begin() {
        let sql = insert_and_commit_sql(&Actor::system("s"), &[row("{\"a\":\"é\"}")]).unwrap();
        assert!(
            sql.starts_with("INSERT INTO audit_events (occurred_at, "),
            "{sql}"
        );
        assert!(
            sql.contains(
                r#"jsonb_array_elements(E'[[7,"project_created",2,"system","s","s","project","it''s",null,null,null,null,"app::create","c1","{\\"a\\":\\"\\u00e9\\"}"]]'::jsonb)"#
            ),
            "{sql}"
        );
        assert!(sql.ends_with("ORDER BY n; COMMIT; BEGIN"), "{sql}");
    }

    #[test]
    fn a_batch_over_the_limit_is_left_to_the_bound_path() {
        let big = "x".repeat(MAX_LITERAL_BYTES);
        assert!(insert_and_commit_sql(&Actor::system("s"), &[row(&big)]).is_none());
    }
}
