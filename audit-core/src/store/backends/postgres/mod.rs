//! PostgreSQL's [`Storage`]: concurrent writers, so commit order is each
//! writing transaction's place, taken under the commit clock (`clock.rs`)
//! and read through `audit_commit_order`; work of one kind is serialized
//! by advisory locks, and the schema is guarded by privileges, definer
//! functions and triggers. Its schema is in `schema.rs`; its batch
//! INSERT's one bound value in `rows_json.rs`.

mod checks;
mod clock;
mod rows_json;
mod schema;

use std::sync::LazyLock;

use sqlx::{PgConnection, PgPool};

use super::storage::{ImportBatch, PruneBatch, Storage};
use crate::actor::Actor;
use crate::store::error::{AuditError, classify};
use crate::store::position::{HeldBack, Position};
use crate::store::schema::{
    V1_INDEXES, V7_INDEXES, V8_ACTOR_KINDS, V8_INDEXES, expand, is_plain_identifier, script_index,
};
use crate::store::seal::raw::{CHUNK, Entry, RawEvent};
use crate::store::table::{
    ColumnType, EVENTS_TABLE, EventRow, IMPORT_COMMAND, WRITTEN, added_in_v8, added_in_v9,
    written_names,
};

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
static INSERT: LazyLock<String> = LazyLock::new(|| insert_from(EVENTS_TABLE, "$1::jsonb", "", &[]));

/// PostgreSQL's INSERT into `table` of the rows in `source`, a JSON array
/// of rows as `rows_json` writes them, in the array's order, those
/// `filter` (a `WHERE` clause over the row `r` and its ordinal `n`, or
/// empty) keeps, with the columns of `fixed` given their expression
/// instead of the row's value.
fn insert_from(table: &str, source: &str, filter: &str, fixed: &[(&str, &str)]) -> String {
    let values: Vec<String> = WRITTEN
        .iter()
        .enumerate()
        .map(
            |(i, (name, ty))| match fixed.iter().find(|(column, _)| column == name) {
                Some((_, expression)) => (*expression).to_owned(),
                None => match ty {
                    ColumnType::Int => format!("(r ->> {i})::int8"),
                    ColumnType::Text => format!("r ->> {i}"),
                    ColumnType::Json => format!("(r ->> {i})::jsonb"),
                },
            },
        )
        .collect();
    format!(
        "INSERT INTO {table} ({}) SELECT {} \
         FROM jsonb_array_elements({source}) WITH ORDINALITY AS e(r, n){filter} ORDER BY n",
        written_names(),
        values.join(", ")
    )
}

/// The INSERT of `audit_import_batch`: the rows whose key was claimed,
/// each with the import's command name and the run's id.
fn insert_imported() -> String {
    let command = format!("'{IMPORT_COMMAND}'");
    insert_from(
        "{schema}.{events}",
        "batch_rows",
        " WHERE keys[n::int] = ANY(claimed)",
        &[("command_name", &command), ("command_id", "run_id")],
    ) + ";"
}

impl Storage for Postgres {
    type Database = sqlx::Postgres;

    const ABSENT_TABLES: &'static [&'static str] = &[];

    fn migration_script(version: i64, schema_name: &str) -> String {
        let mut script = schema::SCRIPTS[script_index(version)].to_owned();
        if version == 1 {
            script.push_str(V1_INDEXES);
        }
        let script = script
            .replace("{functions}", &schema::functions(&insert_imported()))
            .replace("{privileges}", &schema::function_privileges())
            .replace("{triggers}", &schema::create_triggers(version))
            .replace("{import_args}", schema::IMPORT_ARGS)
            .replace("{v7_indexes}", V7_INDEXES)
            .replace("{v8_indexes}", V8_INDEXES)
            .replace(
                "{grant_v8_columns}",
                &schema::GRANT_INSERT_LIKE_PAYLOAD
                    .replace("{columns}", &added_in_v8().collect::<Vec<_>>().join(", ")),
            )
            .replace(
                "{grant_v9_columns}",
                &schema::GRANT_INSERT_LIKE_PAYLOAD
                    .replace("{columns}", &added_in_v9().collect::<Vec<_>>().join(", ")),
            )
            .replace("{v8_actor_kinds}", V8_ACTOR_KINDS);
        expand(&script, schema_name)
    }

    /// The scripts do it all (`ADD COLUMN IF NOT EXISTS`).
    async fn before_script(_: &mut PgConnection, _: i64) -> Result<(), AuditError> {
        Ok(())
    }

    async fn current_schema(conn: &mut PgConnection) -> Result<String, AuditError> {
        let name: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(conn)
            .await?;
        Ok(checks::quote(&name))
    }

    /// Whether any function of the audit schema exists in the current schema.
    async fn has_audit_functions(pool: &PgPool) -> Result<bool, AuditError> {
        let names = schema::function_names();
        let found: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_proc \
             WHERE pronamespace = current_schema()::regnamespace AND proname = ANY($1))",
        )
        .bind(names)
        .fetch_one(pool)
        .await?;
        Ok(found)
    }

    /// The functions are the schema's (body, rights, pinned `search_path`,
    /// owner), every trigger is as the migrations made it (enabled for
    /// every session, timing, events, columns, no condition, its function
    /// in the audit schema), and no role but the owner holds a right the
    /// schema does not give (`checks.rs`).
    async fn check_objects(pool: &PgPool, problems: &mut Vec<String>) -> Result<(), AuditError> {
        let mut conn = pool.acquire().await?;
        checks::functions(&mut conn, &insert_imported(), problems).await?;
        checks::own_triggers(&mut conn, problems).await?;
        let protected: Vec<String> =
            sqlx::query_scalar("SELECT name FROM audit_protected_tables ORDER BY name")
                .fetch_all(&mut *conn)
                .await?;
        for table in protected {
            checks::triggers(&mut conn, &table, &schema::PROTECTION_TRIGGERS, problems).await?;
        }
        checks::privileges(&mut conn, problems).await?;
        checks::transaction_ids(&mut conn, problems).await?;
        Ok(())
    }

    /// Protects every registered table again, takes back every right the
    /// schema does not give, and gives the owner back what it owned.
    async fn after_repair(conn: &mut PgConnection) -> Result<(), AuditError> {
        let schema_name = Self::current_schema(&mut *conn).await?;
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM audit_protected_tables ORDER BY name")
                .fetch_all(&mut *conn)
                .await?;
        for table in tables.iter().filter(|t| is_plain_identifier(t)) {
            // Checked to be a plain identifier just above.
            sqlx::raw_sql(sqlx::AssertSqlSafe(schema::protect_table(
                table,
                &schema_name,
            )))
            .execute(&mut *conn)
            .await?;
        }
        checks::restore_privileges(conn).await
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
        checks::triggers(
            &mut *conn,
            table,
            &schema::PROTECTION_TRIGGERS,
            &mut missing,
        )
        .await?;
        if registered && missing.is_empty() {
            return Ok(false);
        }
        let schema_name = Self::current_schema(&mut *conn).await?;
        // `table` was checked to be a plain identifier by the caller.
        sqlx::raw_sql(sqlx::AssertSqlSafe(schema::protect_table(
            table,
            &schema_name,
        )))
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
        Ok(true)
    }

    /// `USAGE` on the audit schema, `SELECT` on the audit tables (the
    /// commit order included, which reading in position order joins), `INSERT`
    /// into the events table's written columns (not `id`, not `tx_id`),
    /// `SELECT` on the import keys and `EXECUTE` on `audit_import_batch`
    /// (the one way to write them).
    async fn grant_role(pool: &PgPool, role: &str) -> Result<(), AuditError> {
        let columns: Vec<&str> = WRITTEN.iter().map(|(name, _)| *name).collect();
        let mut conn = pool.acquire().await.map_err(classify)?;
        let schema_name = Self::current_schema(&mut conn).await?;
        let sql = format!(
            "GRANT USAGE ON SCHEMA {schema_name} TO {role};
             GRANT SELECT ON {EVENTS_TABLE}, audit_schema, audit_log_identity, \
             audit_protected_tables, audit_import_keys, audit_settings, \
             audit_commit_order TO {role};
             GRANT INSERT ({}) ON {EVENTS_TABLE} TO {role};
             GRANT EXECUTE ON FUNCTION {}({}) TO {role};",
            columns.join(", "),
            schema::APPLICATION_FUNCTION,
            schema::IMPORT_ARGS,
        );
        // `role` was checked to be a plain identifier by the caller; the
        // schema's name is quoted; the rest is ours.
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
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

    /// A row for this transaction, which only the schema's owner may write.
    const ERASURE_PERMIT: [&'static str; 2] = [
        "INSERT INTO audit_erasure_permit (tx_id) VALUES (pg_current_xact_id())",
        "DELETE FROM audit_erasure_permit WHERE tx_id = pg_current_xact_id()",
    ];

    /// Nothing at once: the old row versions go with `VACUUM`, once no
    /// transaction older than the erasure runs (see the `erasure` module).
    async fn after_erasure(_: &PgPool) -> Result<(), AuditError> {
        Ok(())
    }

    /// Through `audit_import_batch`, a definer function: the rows as one
    /// JSON array (`rows_json`), the keys beside them.
    async fn import_batch(
        conn: &mut PgConnection,
        batch: &ImportBatch<'_>,
    ) -> Result<Vec<String>, AuditError> {
        let claimed: Vec<String> = sqlx::query_scalar(
            "SELECT unnest(audit_import_batch($1, $2::text[], $3::jsonb, $4, $5, $6, $7::jsonb))",
        )
        .bind(batch.run_id)
        .bind(&batch.keys)
        .bind(rows_json::encode(&batch.rows))
        .bind(batch.actor.kind())
        .bind(batch.actor.id())
        .bind(batch.actor.name())
        .bind(serde_json::Value::Object(batch.summary.clone()).to_string())
        .fetch_all(conn)
        .await
        .map_err(classify)?;
        Ok(claimed)
    }

    /// Through `audit_prune_batch`, which only the owner may run: it checks
    /// the stored minimum retention, opens the permit (a row only it may
    /// write), deletes, and writes the record, all in this transaction.
    async fn prune_batch(
        conn: &mut PgConnection,
        batch: &PruneBatch<'_>,
    ) -> Result<u64, AuditError> {
        let deleted: i64 =
            sqlx::query_scalar("SELECT audit_prune_batch($1, $2::int4, $3::int4, $4, $5, $6, $7)")
                .bind(batch.cutoff)
                .bind(batch.max_rows)
                .bind(batch.number)
                .bind(batch.actor.kind())
                .bind(batch.actor.id())
                .bind(batch.actor.name())
                .bind(batch.reason)
                .fetch_one(&mut *conn)
                .await
                .map_err(classify)?;
        Ok(u64::try_from(deleted).unwrap_or_default())
    }

    /// The entries expanded by `jsonb_array_elements`.
    /// The entries as one array per column, expanded by `unnest` (faster
    /// than a JSON document, which the server parses whole).
    async fn insert_seal_entries(
        conn: &mut PgConnection,
        seal_seq: i64,
        entries: &[(Position, i64, String, String)],
    ) -> Result<(), AuditError> {
        const INSERT: &str = "INSERT INTO audit_seal_entries \
            (seal_seq, tx, id, occurred_at, event_hash, column_tags) \
            SELECT $1, * FROM unnest($2::int8[], $3::int8[], $4::int8[], $5::text[], $6::text[])";
        let column = |f: fn(&(Position, i64, String, String)) -> i64| -> Vec<i64> {
            entries.iter().map(f).collect()
        };
        sqlx::query(INSERT)
            .bind(seal_seq)
            .bind(column(|e| e.0.tx()))
            .bind(column(|e| e.0.id()))
            .bind(column(|e| e.1))
            .bind(entries.iter().map(|e| e.2.as_str()).collect::<Vec<&str>>())
            .bind(entries.iter().map(|e| e.3.as_str()).collect::<Vec<&str>>())
            .execute(conn)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Joined with each transaction's place in commit order, by (place,
    /// id): one statement, whose snapshot sees the places in a prefix
    /// (`position.rs`).
    async fn read_after(
        pool: &PgPool,
        select: &str,
        after: Position,
        limit: i64,
    ) -> Result<Vec<sqlx::postgres::PgRow>, AuditError> {
        let sql = in_position_order(select, "", "$3");
        // Our own fragments and numbered placeholders; every value is bound.
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after.tx())
            .bind(after.id())
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(classify)
    }

    /// As [`read_after`](Self::read_after), up to `until` when given.
    async fn seal_event_rows(
        conn: &mut PgConnection,
        select: &str,
        after: Position,
        until: Option<Position>,
    ) -> Result<Vec<sqlx::postgres::PgRow>, AuditError> {
        let until = until.unwrap_or(Position::new(i64::MAX, i64::MAX));
        let sql = in_position_order(select, " AND seq <= $3 AND (seq, id) <= ($3, $4)", "$5");
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

    /// The holder of the commit clock, when it holds writers up (`clock.rs`).
    async fn held_back(pool: &PgPool) -> Result<Option<HeldBack>, AuditError> {
        let mut conn = pool.acquire().await.map_err(classify)?;
        clock::held_back(&mut conn).await
    }
}

/// The events after the position (`$1`, `$2`), the anchor excluded, with
/// `select` (whose position is `seq`, the place) and the condition `and`,
/// in position order, at most `limit` (a placeholder): each transaction's
/// place (`audit_commit_order`), then id. Two parts, so that each is one
/// range of an index: the rest of the position's own transaction (its
/// events by (`tx_id`, `id`) from the position's id on, however many it
/// wrote; the place a constant, so that the index's order serves the
/// limit), then the transactions after it (the places in order, each one's
/// events in id order).
fn in_position_order(select: &str, and: &str, limit: &str) -> String {
    format!(
        "SELECT * FROM (\
         (SELECT {select} FROM (SELECT $1::int8 AS seq) AS place CROSS JOIN {EVENTS_TABLE} \
          WHERE tx_id = (SELECT commit_tx FROM audit_commit_order WHERE seq = $1) \
          AND id > $2 AND id > 0{and} ORDER BY id LIMIT {limit}) \
         UNION ALL \
         (SELECT {select} FROM audit_commit_order JOIN {EVENTS_TABLE} ON tx_id = commit_tx \
          WHERE seq > $1 AND id > 0{and} ORDER BY seq, id LIMIT {limit})\
         ) AS in_order ORDER BY position_tx, id LIMIT {limit}"
    )
}
