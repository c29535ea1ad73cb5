//! What the start compares with PostgreSQL's catalog: each function of the
//! audit schema (body, `SECURITY DEFINER`, pinned `search_path`, owner,
//! no second definition), each trigger field by field (`pg_trigger`: enabled
//! for every session, timing, level and events, no column list, no `WHEN`,
//! its function in the audit schema, deferral, transition table), and the
//! rights of every other role on the audit tables, their columns, the
//! events' id sequence and the functions. A neutralised trigger (enabled
//! only for replication, a `WHEN (false)`, `UPDATE OF` one column, a
//! same-named function elsewhere) or a right granted beyond what
//! `grant_application_role` gives is a problem the start refuses, and a
//! repair undoes.

use sqlx::PgConnection;

use super::schema::{self, APPLICATION_FUNCTION, FUNCTIONS, OWN_TRIGGERS, Trigger, function_names};
use crate::store::error::AuditError;
use crate::store::schema::{OWN_TABLES, expand};
use crate::store::table::{EVENTS_TABLE, WRITTEN};

/// Each function of the schema is there once, as the migrations made it.
pub(super) async fn functions(
    conn: &mut PgConnection,
    insert_imported: &str,
    problems: &mut Vec<String>,
) -> Result<(), AuditError> {
    const SQL: &str = "SELECT p.prosrc, p.prosecdef, \
            coalesce(array_to_string(p.proconfig, ';'), ''), \
            pg_get_function_identity_arguments(p.oid), \
            p.proowner = c.relowner, \
            'search_path=pg_catalog, ' || quote_ident(current_schema()) || ', pg_temp' \
        FROM pg_proc p, pg_class c \
        WHERE p.pronamespace = current_schema()::regnamespace AND p.proname = $1 \
          AND c.oid = (quote_ident(current_schema()) || '.' || $2)::regclass";
    // Quoted as the migrations wrote it.
    let current: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut *conn)
        .await?;
    let schema_name = quote(&current);
    for function in &FUNCTIONS {
        let name = expand(function.name, "");
        type Found = (String, bool, String, String, bool, String);
        let found: Vec<Found> = sqlx::query_as(SQL)
            .bind(&name)
            .bind(EVENTS_TABLE)
            .fetch_all(&mut *conn)
            .await?;
        let expected_body = expand(&schema::body(function, insert_imported), &schema_name);
        match found.as_slice() {
            [] => problems.push(format!("function `{name}` is missing")),
            [(body, definer, config, args, owned, pinned)] => {
                if *body != expected_body {
                    problems.push(format!("function `{name}` was altered: its body differs"));
                }
                if *definer != function.definer {
                    let rights = if function.definer {
                        "its owner's (SECURITY DEFINER)"
                    } else {
                        "the caller's (SECURITY INVOKER)"
                    };
                    problems.push(format!(
                        "function `{name}` was altered: it must run with {rights} rights"
                    ));
                }
                if config != pinned {
                    problems.push(format!(
                        "function `{name}` was altered: its settings are `{config}`, not `{pinned}`"
                    ));
                }
                if args != function.args {
                    problems.push(format!(
                        "function `{name}` takes `({args})`, not `({})`",
                        function.args
                    ));
                }
                if !owned {
                    problems.push(format!(
                        "function `{name}` is not owned by the owner of `{EVENTS_TABLE}`"
                    ));
                }
            }
            more => problems.push(format!(
                "function `{name}` has {} definitions: a second one was added",
                more.len()
            )),
        }
    }
    Ok(())
}

/// The triggers of the schema's own tables.
pub(super) async fn own_triggers(
    conn: &mut PgConnection,
    problems: &mut Vec<String>,
) -> Result<(), AuditError> {
    for trigger in &OWN_TRIGGERS {
        triggers(
            &mut *conn,
            &expand(trigger.table, ""),
            &[*trigger],
            problems,
        )
        .await?;
    }
    Ok(())
}

/// Checks that `table` has each of `triggers`, as it was made.
pub(super) async fn triggers(
    conn: &mut PgConnection,
    table: &str,
    triggers: &[Trigger],
    problems: &mut Vec<String>,
) -> Result<(), AuditError> {
    const SQL: &str = "SELECT t.tgenabled::text, t.tgtype::int2, \
            p.proname::text, p.pronamespace = c.relnamespace, \
            t.tgqual IS NOT NULL, cardinality(t.tgattr::int2[]) > 0, t.tgnargs::int4, \
            coalesce(k.condeferrable AND k.condeferred, false), t.tgnewtable::text, t.tgoldtable::text \
        FROM pg_trigger t \
        JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid \
        LEFT JOIN pg_constraint k ON k.oid = t.tgconstraint \
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = $1 AND t.tgname = $2";
    type Found = (
        String,
        i16,
        String,
        bool,
        bool,
        bool,
        i32,
        bool,
        Option<String>,
        Option<String>,
    );
    for trigger in triggers {
        let (name, function) = (expand(trigger.name, ""), expand(trigger.function, ""));
        let found: Option<Found> = sqlx::query_as(SQL)
            .bind(table)
            .bind(&name)
            .fetch_optional(&mut *conn)
            .await?;
        let Some((enabled, tgtype, runs, ours, when, columns, args, deferred, new, old)) = found
        else {
            problems.push(format!("trigger `{name}` on `{table}` is missing"));
            continue;
        };
        let mut wrong = |what: String| {
            problems.push(format!("trigger `{name}` on `{table}` {what}"));
        };
        match (enabled.as_str(), trigger.always) {
            ("O", false) | ("A", true) => {}
            ("O", true) => wrong("does not fire in replication sessions (ENABLE ALWAYS)".into()),
            ("D", _) => wrong("is disabled".into()),
            ("R", _) => wrong("fires only for replication sessions (ENABLE REPLICA)".into()),
            ("A", false) => wrong("fires in replication sessions too (ENABLE ALWAYS)".into()),
            (other, _) => wrong(format!("is in state `{other}`")),
        }
        if runs != function || !ours {
            let schema = if ours { "" } else { " of another schema" };
            wrong(format!("runs `{runs}`{schema} instead of `{function}`"));
        }
        if tgtype != trigger.tgtype {
            wrong(format!(
                "fires at other times or on other statements than it should (type {tgtype}, not {})",
                trigger.tgtype
            ));
        }
        if when {
            wrong("fires only when a condition holds (WHEN)".into());
        }
        if columns {
            wrong("fires only for updates of some columns (UPDATE OF)".into());
        }
        if args != 0 {
            wrong("was given arguments".into());
        }
        if deferred != trigger.deferred {
            wrong(if trigger.deferred {
                "is not deferred to commit".into()
            } else {
                "is deferred".into()
            });
        }
        if new.as_deref() != trigger.new_rows || old.is_some() {
            wrong("has other transition tables than it should".into());
        }
    }
    Ok(())
}

/// A right that no role but the owner should hold: on what, for whom,
/// which, and the statement that takes it back.
struct ExtraRight {
    object: String,
    grantee: String,
    privilege: String,
    revoke: String,
}

/// Every right held by a role other than the owner on the audit tables
/// (and their columns), the events' id sequence, the commit order's
/// sequence (a role that could set it back could give a transaction a
/// place followers have passed) and the functions, beyond
/// `SELECT` on the tables (not the retention permit), column `INSERT` on
/// the events table's written columns, and `EXECUTE` on the import
/// function: what `grant_application_role` gives.
async fn extra_rights(conn: &mut PgConnection) -> Result<Vec<ExtraRight>, AuditError> {
    // Rows: kind, object, column (or ''), grantee (or PUBLIC), privilege,
    // the object as DDL names it.
    const SQL: &str = "\
        WITH s AS (SELECT current_schema()::regnamespace AS ns, quote_ident(current_schema()) AS q) \
        SELECT 'table', c.relname::text, '', \
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
               a.privilege_type, s.q || '.' || quote_ident(c.relname) \
        FROM s, pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a \
        WHERE c.relnamespace = s.ns AND c.relkind IN ('r', 'p') AND c.relname = ANY($1) \
          AND a.grantee <> c.relowner \
        UNION ALL \
        SELECT 'column', c.relname::text, att.attname::text, \
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
               a.privilege_type, s.q || '.' || quote_ident(c.relname) \
        FROM s, pg_class c JOIN pg_attribute att ON att.attrelid = c.oid, aclexplode(att.attacl) a \
        WHERE c.relnamespace = s.ns AND c.relkind IN ('r', 'p') AND c.relname = ANY($1) \
          AND att.attacl IS NOT NULL AND a.grantee <> c.relowner \
        UNION ALL \
        SELECT 'sequence', c.relname::text, '', \
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
               a.privilege_type, s.q || '.' || quote_ident(c.relname) \
        FROM s, pg_class c, aclexplode(coalesce(c.relacl, acldefault('s', c.relowner))) a \
        WHERE (c.oid = pg_get_serial_sequence(s.q || '.' || $2, 'id')::regclass \
               OR (c.relnamespace = s.ns AND c.relkind = 'S' AND c.relname = 'audit_commit_seq')) \
          AND a.grantee <> c.relowner \
        UNION ALL \
        SELECT 'function', p.proname::text, '', \
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
               a.privilege_type, s.q || '.' || quote_ident(p.proname) || '(' || \
                   pg_get_function_identity_arguments(p.oid) || ')' \
        FROM s, pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a \
        WHERE p.pronamespace = s.ns AND p.proname = ANY($3) AND a.grantee <> p.proowner \
        ORDER BY 1, 2, 3, 4, 5";
    let functions = function_names();
    let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(SQL)
        .bind(&OWN_TABLES[..])
        .bind(EVENTS_TABLE)
        .bind(&functions)
        .fetch_all(&mut *conn)
        .await?;
    let written = |column: &str| WRITTEN.iter().any(|(name, _)| *name == column);
    Ok(rows
        .into_iter()
        .filter(|(kind, object, column, _, privilege, _)| {
            let allowed = match (kind.as_str(), privilege.as_str()) {
                ("table" | "column", "SELECT") => object != "audit_retention_permit",
                ("column", "INSERT") => object == EVENTS_TABLE && written(column),
                ("function", "EXECUTE") => object == APPLICATION_FUNCTION,
                _ => false,
            };
            !allowed
        })
        .map(|(kind, object, column, grantee, privilege, ddl)| {
            let (target, on) = match kind.as_str() {
                "column" => (
                    format!("column `{column}` of `{object}`"),
                    format!("{privilege} ({}) ON {ddl}", quote(&column)),
                ),
                "function" => (
                    format!("function `{object}`"),
                    format!("{privilege} ON FUNCTION {ddl}"),
                ),
                "sequence" => (
                    format!("sequence `{object}`"),
                    format!("{privilege} ON SEQUENCE {ddl}"),
                ),
                _ => (format!("table `{object}`"), format!("{privilege} ON {ddl}")),
            };
            ExtraRight {
                revoke: format!("REVOKE {on} FROM {grantee}"),
                object: target,
                grantee,
                privilege,
            }
        })
        .collect())
}

/// Checks that this server's transaction ids are ahead of every one the
/// log has given a place: in a database restored into another server (by
/// `pg_dump`, whose ids may start lower), a new transaction could have the
/// id of one in the log, and be given that transaction's old place in
/// commit order (`audit_stamp_commit` keeps a transaction's first place),
/// before what followers have read; and it could pass a protected table's
/// check with that transaction's events.
pub(super) async fn transaction_ids(
    conn: &mut PgConnection,
    problems: &mut Vec<String>,
) -> Result<(), AuditError> {
    let found: Option<(String, String)> = sqlx::query_as(
        "SELECT c.commit_tx::text, pg_snapshot_xmax(pg_current_snapshot())::text \
         FROM (SELECT commit_tx FROM audit_commit_order ORDER BY commit_tx DESC LIMIT 1) AS c \
         WHERE c.commit_tx >= pg_snapshot_xmax(pg_current_snapshot())",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((logged, next)) = found {
        problems.push(format!(
            "this server's next transaction id ({next}) is not past the log's last one \
             ({logged}): the database was restored into another server, and a new transaction \
             could take an old one's place in commit order; advance the server's transaction \
             ids past {logged} (`pg_resetwal --next-transaction-id` on the stopped server), or \
             move databases with `pg_upgrade`, which keeps them"
        ));
    }
    Ok(())
}

/// An identifier quoted for DDL, always (as the migrations quote the
/// schema's name).
pub(super) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Rights beyond what the schema gives, and objects not owned by the
/// events table's owner, as problems.
pub(super) async fn privileges(
    conn: &mut PgConnection,
    problems: &mut Vec<String>,
) -> Result<(), AuditError> {
    for right in extra_rights(&mut *conn).await? {
        problems.push(format!(
            "{} may {} by role {}: a right the audit schema does not give",
            right.object,
            right.privilege,
            right.grantee.trim_matches('"')
        ));
    }
    for table in misowned_tables(&mut *conn).await? {
        problems.push(format!(
            "table `{table}` is not owned by the owner of `{EVENTS_TABLE}`"
        ));
    }
    Ok(())
}

/// The audit tables owned by another role than the events table's owner.
async fn misowned_tables(conn: &mut PgConnection) -> Result<Vec<String>, AuditError> {
    let found = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c, pg_class e \
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1) \
           AND e.oid = (quote_ident(current_schema()) || '.' || $2)::regclass \
           AND c.relowner <> e.relowner ORDER BY 1",
    )
    .bind(&OWN_TABLES[..])
    .bind(EVENTS_TABLE)
    .fetch_all(conn)
    .await?;
    Ok(found)
}

/// Takes back every right [`privileges`] reports, gives the events
/// table's owner back the audit tables and functions another role owns
/// (which only a superuser may do), and drops definitions of the schema's
/// function names that are not the schema's.
pub(super) async fn restore_privileges(conn: &mut PgConnection) -> Result<(), AuditError> {
    // Revoking a table's INSERT revokes its columns' too: the roles that
    // may insert the written columns get them back below.
    let inserting: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' \
                ELSE quote_ident(pg_get_userbyid(a.grantee)) END \
         FROM pg_attribute att, aclexplode(att.attacl) a \
         WHERE att.attrelid = (quote_ident(current_schema()) || '.' || $1)::regclass \
           AND att.attacl IS NOT NULL AND a.privilege_type = 'INSERT' AND att.attname = ANY($2)",
    )
    .bind(EVENTS_TABLE)
    .bind(WRITTEN.iter().map(|(name, _)| *name).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    for right in extra_rights(&mut *conn).await? {
        // Names quoted by the database; the privilege is its own word.
        sqlx::raw_sql(sqlx::AssertSqlSafe(right.revoke))
            .execute(&mut *conn)
            .await?;
    }
    let columns: Vec<&str> = WRITTEN.iter().map(|(name, _)| *name).collect();
    for grantee in inserting {
        let grant = format!(
            "GRANT INSERT ({}) ON {EVENTS_TABLE} TO {grantee}",
            columns.join(", ")
        );
        // The table's own column names; the grantee quoted by the database.
        sqlx::raw_sql(sqlx::AssertSqlSafe(grant))
            .execute(&mut *conn)
            .await?;
    }
    let owner: String = sqlx::query_scalar(
        "SELECT quote_ident(pg_get_userbyid(relowner)) FROM pg_class \
         WHERE oid = (quote_ident(current_schema()) || '.' || $1)::regclass",
    )
    .bind(EVENTS_TABLE)
    .fetch_one(&mut *conn)
    .await?;
    let schema_name: String = sqlx::query_scalar("SELECT quote_ident(current_schema())")
        .fetch_one(&mut *conn)
        .await?;
    let mut statements = Vec::new();
    for table in misowned_tables(&mut *conn).await? {
        statements.push(format!(
            "ALTER TABLE {schema_name}.{} OWNER TO {owner}",
            quote(&table)
        ));
    }
    let functions = function_names();
    let misowned: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')' \
         FROM pg_proc p, pg_class e \
         WHERE p.pronamespace = current_schema()::regnamespace AND p.proname = ANY($1) \
           AND e.oid = (quote_ident(current_schema()) || '.' || $2)::regclass \
           AND p.proowner <> e.relowner",
    )
    .bind(&functions)
    .bind(EVENTS_TABLE)
    .fetch_all(&mut *conn)
    .await?;
    for function in misowned {
        statements.push(format!(
            "ALTER FUNCTION {schema_name}.{function} OWNER TO {owner}"
        ));
    }
    // Definitions of the schema's function names that are not the schema's.
    let names = function_names();
    let args: Vec<&str> = FUNCTIONS.iter().map(|f| f.args).collect();
    let others: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')' \
         FROM pg_proc p JOIN unnest($1::text[], $2::text[]) AS f(name, args) ON f.name = p.proname \
         WHERE p.pronamespace = current_schema()::regnamespace \
           AND pg_get_function_identity_arguments(p.oid) <> f.args",
    )
    .bind(&names)
    .bind(&args)
    .fetch_all(&mut *conn)
    .await?;
    for function in others {
        statements.push(format!("DROP FUNCTION {schema_name}.{function}"));
    }
    for statement in statements {
        // Names quoted by the database.
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
