//! PostgreSQL's [`Storage`]: concurrent writers, so commit order is read
//! through each row's writing transaction (`tx_id`) below the oldest one
//! of this database still running (`horizon.rs`), work of one kind is
//! serialized by advisory locks, and the schema is guarded by privileges,
//! definer functions and triggers. Its schema is in `schema.rs`; its batch
//! INSERT's one bound value in `rows_json.rs`.

mod horizon;
mod rows_json;
mod schema;

use std::sync::LazyLock;

use sqlx::{PgConnection, PgPool};

use super::storage::Storage;
use crate::actor::Actor;
use crate::store::error::{AuditError, classify};
use crate::store::position::{HeldBack, Position};
use crate::store::schema::{V1_INDEXES, expand, is_plain_identifier, script_index};
use crate::store::seal::raw::{CHUNK, Entry, RawEvent};
use crate::store::table::{ColumnType, EVENTS_TABLE, EventRow, WRITTEN, written_names};

/// PostgreSQL.
pub(crate) struct Postgres;

/// Rows per PostgreSQL INSERT, bounding the one JSON value it binds (a
/// payload is at most `MAX_PAYLOAD_BYTES`).
pub(crate) const ROWS_PER_INSERT: usize = 500;

/// PostgreSQL's INSERT: the rows as one bound JSON array (`rows_json`),
/// expanded in the order given, so the statement (and its plan) is the
/// same for every batch. Against fifteen bound arrays (`UNNEST`): a third
/// fewer client instructions per 100-event command (callgrind: 0.83 M
/// against 1.21 M), and no slower in the server (generic plan on a
/// 1,000,000-event table, 100 rows, JSON parse included: median 4.2 ms
/// against 6.5 ms, minimum 2.15 against 2.18, noisy machine).
static INSERT: LazyLock<String> = LazyLock::new(|| insert_from("$1::jsonb"));

/// PostgreSQL's INSERT of the rows in `source`, a JSON array of rows as
/// `rows_json` writes them, in the array's order.
fn insert_from(source: &str) -> String {
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

impl Storage for Postgres {
    type Database = sqlx::Postgres;

    const ABSENT_TABLES: &'static [&'static str] = &[];

    fn migration_script(version: i64, schema_name: &str) -> String {
        let mut script = schema::SCRIPTS[script_index(version)].to_owned();
        if version == 1 {
            script.push_str(V1_INDEXES);
        }
        expand(
            &script.replace("{functions}", &schema::functions()),
            schema_name,
        )
    }

    async fn current_schema(conn: &mut PgConnection) -> Result<String, AuditError> {
        let name: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(conn)
            .await?;
        Ok(format!("\"{}\"", name.replace('"', "\"\"")))
    }

    /// Whether any function of the audit schema exists in the current schema.
    async fn has_audit_functions(pool: &PgPool) -> Result<bool, AuditError> {
        let names: Vec<String> = schema::FUNCTIONS
            .iter()
            .map(|(name, ..)| expand(name, ""))
            .collect();
        let found: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_proc \
             WHERE pronamespace = current_schema()::regnamespace AND proname = ANY($1))",
        )
        .bind(names)
        .fetch_one(pool)
        .await?;
        Ok(found)
    }

    /// The functions hold the schema's code, and the events table and every
    /// registered protected table have their triggers, enabled.
    async fn check_objects(pool: &PgPool, problems: &mut Vec<String>) -> Result<(), AuditError> {
        let mut conn = pool.acquire().await?;
        for (name, _, _, body) in schema::FUNCTIONS {
            let name = expand(name, "");
            let stored: Option<String> = sqlx::query_scalar(
                "SELECT prosrc FROM pg_proc \
                 WHERE pronamespace = current_schema()::regnamespace AND proname = $1",
            )
            .bind(&name)
            .fetch_optional(&mut *conn)
            .await?;
            match stored {
                None => problems.push(format!("function `{name}` is missing")),
                Some(source) if source != expand(body, "") => {
                    problems.push(format!("function `{name}` was altered"))
                }
                Some(_) => {}
            }
        }
        check_triggers(&mut conn, EVENTS_TABLE, &schema::EVENTS_TRIGGERS, problems).await?;
        for (table, name, function) in schema::SEAL_TRIGGERS
            .into_iter()
            .chain(schema::IMPORT_TRIGGERS)
        {
            check_triggers(&mut conn, table, &[(name, function)], problems).await?;
        }
        let protected: Vec<String> =
            sqlx::query_scalar("SELECT name FROM audit_protected_tables ORDER BY name")
                .fetch_all(&mut *conn)
                .await?;
        for table in protected {
            check_triggers(&mut conn, &table, &schema::PROTECTION_TRIGGERS, problems).await?;
        }
        Ok(())
    }

    /// Protects every registered table again.
    async fn after_repair(conn: &mut PgConnection) -> Result<(), AuditError> {
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM audit_protected_tables ORDER BY name")
                .fetch_all(&mut *conn)
                .await?;
        for table in tables.iter().filter(|t| is_plain_identifier(t)) {
            // Checked to be a plain identifier just above.
            sqlx::raw_sql(sqlx::AssertSqlSafe(schema::protect_table(table)))
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Triggers refuse, at commit, any `INSERT`, `UPDATE` or `DELETE` of a
    /// protected table in a transaction that records no audit event, and
    /// any `TRUNCATE`.
    const PROTECTS_TABLES: bool = true;

    /// When the table is registered and its triggers are in place, nothing
    /// changes (no DDL, so no lock that readers of the table could hold up).
    async fn protect_table(conn: &mut PgConnection, table: &str) -> Result<bool, AuditError> {
        let registered: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM audit_protected_tables WHERE name = $1)",
        )
        .bind(table)
        .fetch_one(&mut *conn)
        .await
        .map_err(classify)?;
        let mut missing = Vec::new();
        check_triggers(
            &mut *conn,
            table,
            &schema::PROTECTION_TRIGGERS,
            &mut missing,
        )
        .await?;
        if registered && missing.is_empty() {
            return Ok(false);
        }
        // `table` was checked to be a plain identifier by the caller.
        sqlx::raw_sql(sqlx::AssertSqlSafe(schema::protect_table(table)))
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        Ok(true)
    }

    /// `SELECT` on the audit tables, `INSERT` into the events table's
    /// written columns (not `id`, not `tx_id`), `SELECT` and `INSERT` on the
    /// import keys.
    async fn grant_role(pool: &PgPool, role: &str) -> Result<(), AuditError> {
        let columns: Vec<&str> = WRITTEN.iter().map(|(name, _)| *name).collect();
        let sql = format!(
            "GRANT SELECT ON {EVENTS_TABLE}, audit_schema, audit_log_identity, \
             audit_protected_tables TO {role};
             GRANT INSERT ({}) ON {EVENTS_TABLE} TO {role};
             GRANT SELECT, INSERT ON audit_import_keys TO {role};",
            columns.join(", ")
        );
        // `role` was checked to be a plain identifier by the caller; the rest is ours.
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// An advisory lock, held until the transaction ends.
    async fn lock(conn: &mut PgConnection, key: i64) -> Result<(), AuditError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// PostgreSQL answers COMMIT of a failed transaction with a silent
    /// ROLLBACK; a statement first makes that an error. (With pending
    /// events, their INSERT has already done so.)
    async fn before_empty_commit(conn: &mut PgConnection) -> Result<(), AuditError> {
        sqlx::query("SELECT 1").execute(conn).await?;
        Ok(())
    }

    /// One INSERT per batch, the rows as one bound JSON array.
    async fn append(
        conn: &mut PgConnection,
        rows: &[(&Actor, &EventRow)],
    ) -> Result<(), AuditError> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            // Built from the table's own names; the rows are the one bound value.
            sqlx::query(sqlx::AssertSqlSafe(INSERT.as_str()))
                .bind(rows_json::encode(chunk))
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
        }
        Ok(())
    }

    /// The id is an identity column `GENERATED ALWAYS`.
    const ANCHOR_OVERRIDING: &'static str = " OVERRIDING SYSTEM VALUE";

    /// The payload is JSONB.
    const JSON_CAST: &'static str = "::jsonb";

    async fn insert_import_keys(
        conn: &mut PgConnection,
        keys: &[(&str, &str)],
        run_id: &str,
    ) -> Result<Vec<String>, AuditError> {
        let (names, codes): (Vec<&str>, Vec<&str>) = keys.iter().copied().unzip();
        sqlx::query_scalar(
            "INSERT INTO audit_import_keys (import_key, run_id, event_type) \
             SELECT k, $2, t FROM UNNEST($1::text[], $3::text[]) WITH ORDINALITY AS x(k, t, n) \
             ORDER BY n ON CONFLICT (import_key) DO NOTHING RETURNING import_key",
        )
        .bind(names)
        .bind(run_id)
        .bind(codes)
        .fetch_all(conn)
        .await
        .map_err(classify)
    }

    /// The permit is a row that only the schema owner's `audit_prune_batch`
    /// function may write: a role without `EXECUTE` on it cannot delete
    /// events at all.
    async fn delete_batch(
        conn: &mut PgConnection,
        cutoff: i64,
        max_rows: i64,
    ) -> Result<u64, AuditError> {
        let deleted: i64 = sqlx::query_scalar("SELECT audit_prune_batch($1, $2::int4)")
            .bind(cutoff)
            .bind(max_rows)
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?;
        Ok(u64::try_from(deleted).unwrap_or_default())
    }

    /// The entries expanded by `jsonb_array_elements`.
    async fn insert_seal_entries(
        conn: &mut PgConnection,
        seal_seq: i64,
        entries_json: String,
    ) -> Result<(), AuditError> {
        const INSERT: &str = "INSERT INTO audit_seal_entries \
            (seal_seq, tx, id, occurred_at, event_hash, column_tags) \
            SELECT $1, (e->>0)::int8, (e->>1)::int8, (e->>2)::int8, e->>3, e->>4 \
            FROM jsonb_array_elements($2::jsonb) AS e";
        sqlx::query(INSERT)
            .bind(seal_seq)
            .bind(entries_json)
            .execute(conn)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Transaction ids are not commit order: only rows of transactions
    /// below the horizon (`horizon.rs`), by (transaction, id).
    async fn read_after(
        pool: &PgPool,
        select: &str,
        after: Position,
        limit: i64,
    ) -> Result<Vec<sqlx::postgres::PgRow>, AuditError> {
        let sql = format!(
            "SELECT {select} FROM {EVENTS_TABLE} \
             WHERE id > 0 AND tx_id < {} \
             AND (tx_id, id) > ($1::int8::text::xid8, $2) \
             ORDER BY tx_id, id LIMIT $3",
            horizon::horizon()
        );
        let mut conn = pool.acquire().await.map_err(classify)?;
        let mut tx = horizon::begin(&mut conn).await?;
        // Our own fragments and numbered placeholders; every value is bound.
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after.tx())
            .bind(after.id())
            .bind(limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(rows)
    }

    /// As [`read_after`](Self::read_after) up to the horizon; up to a
    /// sealed position, by (transaction, id) alone: every transaction below
    /// it had ended when its seal was made (and the horizon may move back
    /// for a moment, see `position.rs`, which must not hide a sealed event
    /// from verification).
    async fn seal_event_rows(
        conn: &mut PgConnection,
        select: &str,
        after: Position,
        until: Option<Position>,
    ) -> Result<Vec<sqlx::postgres::PgRow>, AuditError> {
        let Some(until) = until else {
            let sql = format!(
                "SELECT {select} FROM {EVENTS_TABLE} \
                 WHERE id > 0 AND tx_id < {} \
                 AND (tx_id, id) > ($1::int8::text::xid8, $2) ORDER BY tx_id, id LIMIT $3",
                horizon::horizon()
            );
            let mut tx = horizon::begin(conn).await?;
            // Our own fragments and numbered placeholders; every value is bound.
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(after.tx())
                .bind(after.id())
                .bind(CHUNK)
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
            tx.commit().await.map_err(classify)?;
            return Ok(rows);
        };
        let sql = format!(
            "SELECT {select} FROM {EVENTS_TABLE} \
             WHERE id > 0 AND (tx_id, id) > ($1::int8::text::xid8, $2) \
             AND (tx_id, id) <= ($3::int8::text::xid8, $4) ORDER BY tx_id, id LIMIT $5"
        );
        // Our own fragments and numbered placeholders; every value is bound.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after.tx())
            .bind(after.id())
            .bind(until.tx())
            .bind(until.id())
            .bind(CHUNK)
            .fetch_all(conn)
            .await
            .map_err(classify)
    }

    /// None: row by row is PostgreSQL's fast way.
    async fn seal_events_in_one_go(
        _: &mut PgConnection,
        _: Position,
        _: Position,
    ) -> Result<Option<Vec<RawEvent>>, AuditError> {
        Ok(None)
    }

    /// None: row by row is PostgreSQL's fast way.
    async fn seal_entries_in_one_go(
        _: &mut PgConnection,
        _: Position,
    ) -> Result<Option<Vec<Entry>>, AuditError> {
        Ok(None)
    }

    /// The smallest running transaction that may write here, when
    /// committed events wait behind it (`horizon.rs`).
    async fn held_back(pool: &PgPool, after: Position) -> Result<Option<HeldBack>, AuditError> {
        let mut conn = pool.acquire().await.map_err(classify)?;
        horizon::held_back(&mut conn, after).await
    }
}

/// Checks that `table` has each of `triggers` (name, function), enabled.
async fn check_triggers(
    conn: &mut PgConnection,
    table: &str,
    triggers: &[(&str, &str)],
    problems: &mut Vec<String>,
) -> Result<(), AuditError> {
    const SQL: &str = "SELECT t.tgenabled <> 'D', p.proname::text FROM pg_trigger t \
        JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid \
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = $1 AND t.tgname = $2";
    for (name, function) in triggers {
        let (name, function) = (expand(name, ""), expand(function, ""));
        let found: Option<(bool, String)> = sqlx::query_as(SQL)
            .bind(table)
            .bind(&name)
            .fetch_optional(&mut *conn)
            .await?;
        match found {
            None => problems.push(format!("trigger `{name}` on `{table}` is missing")),
            Some((false, _)) => problems.push(format!("trigger `{name}` on `{table}` is disabled")),
            Some((true, runs)) if runs != function => problems.push(format!(
                "trigger `{name}` on `{table}` runs `{runs}` instead of `{function}`"
            )),
            Some(_) => {}
        }
    }
    Ok(())
}
