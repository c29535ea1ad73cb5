//! G7, G8 and G11 against attacks on PostgreSQL: a role set up as
//! `Auditor::grant_application_role` recommends (with the application's
//! own rights on `widgets`) that shadows what the protected tables'
//! trigger reads, forges the log's own records or calls retention; and a
//! schema owner who neutralises a trigger, a function or a privilege,
//! which a start must then refuse (`schema_status` says `Damaged`, naming
//! the object) and `repair_schema` must restore, on the record.
//!
//! Each test has a database and roles of its own (unique names); the roles
//! are dropped with what they own and were granted when the test ends,
//! failed or not ([`Role`]).

use audit_core::store::{Pool, SchemaStatus};
use audit_core::{Actor, Auditor, testing};
use sqlx::{Connection, PgConnection, PgPool};

use crate::support::{self, as_role};

// ---------------------------------------------------------------------------
// The audit schema's functions as the tests name them: every signature is
// here, and the retention function's is read from the catalog (its
// argument list is the schema's to choose).

/// The events table's append-only trigger function.
const APPEND_ONLY_FN: &str = "audit_events_append_only()";

/// The protected tables' deferred trigger function.
const REQUIRE_EVENT_FN: &str = "audit_require_event()";

/// The name of the retention function.
const PRUNE_BATCH: &str = "audit_prune_batch";

/// A direct call of the retention function deleting events before
/// `cutoff_micros`: the one place that knows its argument list.
fn prune_batch_sql(cutoff_micros: i64) -> String {
    format!(
        "SELECT {PRUNE_BATCH}({cutoff_micros}, 100000, 1, 'system', 'mallory', 'mallory', 'why')"
    )
}

/// The retention function's signature, as `GRANT ... ON FUNCTION` and
/// `has_function_privilege` take it, read from the catalog.
async fn prune_batch_signature(auditor: &Auditor) -> String {
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT oid::regprocedure::text FROM pg_proc \
         WHERE proname = $1 AND pronamespace = current_schema()::regnamespace",
    )
    .bind(PRUNE_BATCH)
    .fetch_all(pool(auditor))
    .await
    .unwrap();
    assert_eq!(found.len(), 1, "one {PRUNE_BATCH}: {found:?}");
    found.into_iter().next().unwrap()
}

// ---------------------------------------------------------------------------
// Roles, databases and running SQL as the application role.

/// A role made for one test, server-wide under a unique name. Dropped with
/// what it owns and was granted in the test's database when the guard is,
/// failed test or not (a failed test keeps its database; a role would
/// otherwise outlive it).
struct Role {
    name: String,
    /// The test database's URL, where its objects and grants are.
    url: String,
}

impl Role {
    async fn create(auditor: &Auditor, prefix: &str) -> Role {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        testing::execute(auditor, &format!("CREATE ROLE {name} NOLOGIN"))
            .await
            .unwrap();
        Role {
            name,
            url: testing::database_url(auditor).await,
        }
    }
}

impl Drop for Role {
    /// `DROP OWNED BY` and `DROP ROLE`, on a thread and runtime of their
    /// own (a drop may run inside the test's runtime). What the role owns
    /// is first given to the owner, so that an object the schema depends
    /// on (a function given away) does not stop the drop.
    fn drop(&mut self) {
        let (name, url) = (self.name.clone(), self.url.clone());
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&url)
                    .await
                    .map_err(|e| e.to_string())?;
                // `name` is ours: a prefix and a uuid.
                let sql = format!(
                    "REASSIGN OWNED BY {name} TO CURRENT_USER; DROP OWNED BY {name}; \
                     DROP ROLE {name}"
                );
                let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                let _ = conn.close().await;
                done
            })
        })
        .join()
        .unwrap_or_else(|_| Err("its thread panicked".into()));
        if let Err(e) = dropped {
            eprintln!("warning: cannot drop the test role {}: {e}", self.name);
        }
    }
}

/// A migrated database with a protected `widgets` table holding widget 1
/// (and its event), and an application role.
struct Fixture {
    // Dropped before the database (fields drop in order).
    role: Role,
    auditor: Auditor,
}

/// The fixture of test `name`, or `None` (with the usual notice) without
/// PostgreSQL. Also checks that the application role's own grants are not
/// damage.
async fn fixture(name: &str) -> Option<Fixture> {
    let auditor = testing::postgres(&format!("attacks_{name}")).await?;
    support::protected_widgets(&auditor).await;
    let role = Role::create(&auditor, "audit_attack").await;
    testing::execute(
        &auditor,
        &format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON widgets TO {}",
            role.name
        ),
    )
    .await
    .unwrap();
    auditor.grant_application_role(&role.name).await.unwrap();
    assert_eq!(
        auditor.schema_status().await.unwrap(),
        SchemaStatus::Current,
        "the grants of grant_application_role are not damage"
    );
    Some(Fixture { role, auditor })
}

impl Fixture {
    /// A connection of its own to the test database, for the role's
    /// sessions (closed by [`done`]: its temporary objects go with it).
    async fn connect(&self) -> PgConnection {
        PgConnection::connect(&testing::database_url(&self.auditor).await)
            .await
            .unwrap()
    }
}

/// Closes a role's session.
async fn done(conn: PgConnection) {
    conn.close().await.unwrap();
}

fn pool(auditor: &Auditor) -> &PgPool {
    let Pool::Postgres(pool) = auditor.pool() else {
        unreachable!("testing::postgres opens PostgreSQL")
    };
    pool
}

/// The ids of the widgets.
async fn widget_ids(auditor: &Auditor) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM widgets ORDER BY id")
        .fetch_all(pool(auditor))
        .await
        .unwrap()
}

/// The one boolean `sql` returns, as the owner.
async fn holds(auditor: &Auditor, sql: &str) -> bool {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool(auditor))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The problems of a damaged schema, or a panic naming what came instead.
async fn damaged(auditor: &Auditor, context: &str) -> Vec<String> {
    match auditor.schema_status().await.unwrap() {
        SchemaStatus::Damaged { problems } => problems,
        other => panic!("{context}: schema_status() is {other:?}, not Damaged"),
    }
}

/// Whether one of `problems` names every one of `names` (case aside; a
/// `public.` qualifier is not a mention of PUBLIC).
fn names_all(problems: &[String], names: &[&str]) -> bool {
    problems.iter().any(|p| {
        let p = p.to_lowercase().replace("public.", "");
        names.iter().all(|n| p.contains(&n.to_lowercase()))
    })
}

/// The role's change of a protected table, with no event.
const WIDGET_CHANGE: &str = "UPDATE widgets SET id = id + 1";

/// One event row's values, for [`support::ROW_COLUMNS`], of type `code`
/// with `payload`.
fn row(code: &str, payload: &str) -> String {
    format!("(1, '{code}', 1, 'system', 'x', 'mallory', 'x', 'forged', '{payload}')")
}

// ---------------------------------------------------------------------------
// Shadows: the application role makes what the deferred trigger reads
// resolve to its own objects, and changes `widgets` with no event.

/// Runs `attack` (the role's, then [`WIDGET_CHANGE`]) as the application
/// role, after the owner's `setup` (`{role}` and `{evil}`, a schema, are
/// replaced): the COMMIT must be refused as immutable, and the widgets and
/// the schema must be as before.
async fn shadow(name: &str, setup: &str, attack: &str) {
    let Some(f) = fixture(name).await else {
        return;
    };
    let role = &f.role.name;
    let evil = format!("evil_{}", uuid::Uuid::new_v4().simple());
    let expand = |sql: &str| sql.replace("{role}", role).replace("{evil}", &evil);
    if !setup.is_empty() {
        testing::execute(&f.auditor, &expand(setup)).await.unwrap();
    }
    let before = widget_ids(&f.auditor).await;
    let mut conn = f.connect().await;
    let outcome = as_role(
        &mut conn,
        role,
        &format!("{}; {WIDGET_CHANGE}", expand(attack)),
        true,
    )
    .await;
    done(conn).await;
    let err = outcome.expect_err(&format!(
        "{name}: a change of widgets with no event committed (the trigger was fooled)"
    ));
    assert!(err.to_string().contains("immutable"), "{name}: {err}");
    assert_eq!(widget_ids(&f.auditor).await, before, "{name}");
    assert_eq!(
        f.auditor.schema_status().await.unwrap(),
        SchemaStatus::Current,
        "{name}"
    );
}

#[tokio::test]
async fn a_temp_table_named_like_the_log_does_not_satisfy_the_trigger() {
    shadow(
        "temp_table",
        "",
        "CREATE TEMP TABLE audit_events (tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()); \
         INSERT INTO audit_events DEFAULT VALUES",
    )
    .await;
}

#[tokio::test]
async fn a_shadowing_transaction_id_function_does_not_satisfy_the_trigger() {
    shadow(
        "function",
        "CREATE SCHEMA {evil} AUTHORIZATION {role}",
        // An event's transaction, read by the role itself.
        "CREATE FUNCTION {evil}.pg_current_xact_id() RETURNS xid8 LANGUAGE sql AS \
         $$ SELECT tx_id FROM public.audit_events WHERE id > 0 ORDER BY id LIMIT 1 $$; \
         SET LOCAL search_path = {evil}, pg_catalog, public",
    )
    .await;
}

#[tokio::test]
async fn a_shadowing_equality_operator_does_not_satisfy_the_trigger() {
    shadow(
        "operator",
        "CREATE SCHEMA {evil} AUTHORIZATION {role}",
        "CREATE FUNCTION {evil}.always_true(xid8, xid8) RETURNS boolean LANGUAGE sql \
         IMMUTABLE AS $$ SELECT true $$; \
         CREATE OPERATOR {evil}.= (LEFTARG = xid8, RIGHTARG = xid8, \
         FUNCTION = {evil}.always_true); \
         SET LOCAL search_path = {evil}, pg_catalog, public",
    )
    .await;
}

#[tokio::test]
async fn a_log_table_in_another_schema_does_not_satisfy_the_trigger() {
    shadow(
        "table",
        "CREATE SCHEMA {evil} AUTHORIZATION {role}",
        "CREATE TABLE {evil}.audit_events \
         (tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()); \
         INSERT INTO {evil}.audit_events DEFAULT VALUES; \
         SET LOCAL search_path = {evil}, public",
    )
    .await;
}

#[tokio::test]
async fn a_log_in_a_schema_of_its_own_is_not_shadowed_from_public() {
    // The application and its log in schema `app`; the role may create
    // tables in `public` (PostgreSQL 14 and older let every role), and puts
    // `public` first on its path, with a table named like the log.
    let Some(owner) = testing::postgres("attacks_own_schema").await else {
        return;
    };
    testing::execute(&owner, "CREATE SCHEMA app").await.unwrap();
    let url = testing::database_url(&owner).await;
    let separator = if url.contains('?') { '&' } else { '?' };
    let auditor = Auditor::connect(&format!("{url}{separator}options=-c%20search_path%3Dapp"))
        .await
        .unwrap();
    support::protected_widgets(&auditor).await;
    let role = Role::create(&owner, "audit_attack").await;
    testing::execute(
        &owner,
        &format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON app.widgets TO {0}; \
             GRANT CREATE ON SCHEMA public TO {0}",
            role.name
        ),
    )
    .await
    .unwrap();
    auditor.grant_application_role(&role.name).await.unwrap();
    assert_eq!(
        auditor.schema_status().await.unwrap(),
        SchemaStatus::Current,
        "a log in a schema of its own checks as sound"
    );
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let outcome = as_role(
        &mut conn,
        &role.name,
        &format!(
            "CREATE TABLE public.audit_events (tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()); \
             INSERT INTO public.audit_events DEFAULT VALUES; \
             SET LOCAL search_path = public, app; {WIDGET_CHANGE}"
        ),
        true,
    )
    .await;
    done(conn).await;
    let err = outcome.expect_err("a table in public satisfied the trigger of a table in app");
    assert!(err.to_string().contains("immutable"), "{err}");
    assert_eq!(widget_ids(&auditor).await, [1]);
    drop(role);
}

// ---------------------------------------------------------------------------
// The log's own records, the import keys and retention.

#[tokio::test]
async fn the_application_role_cannot_forge_the_log_s_own_records() {
    let Some(f) = fixture("own_records").await else {
        return;
    };
    let mut conn = f.connect().await;
    let forgeries = [
        (
            "audit:log_pruned",
            r#"{"before":"2999-01-01T00:00:00Z","deleted":0,"batch":1,"reason":"x"}"#,
        ),
        ("audit:schema_repaired", r#"{"problems":[],"reason":"x"}"#),
        (
            "audit:events_imported",
            r#"{"source":"x","reason":"x","batch":1,"imported":0,"skipped":0,"keys":[]}"#,
        ),
    ];
    for (code, payload) in forgeries {
        let sql = format!(
            "INSERT INTO audit_events ({}) VALUES {}",
            support::ROW_COLUMNS,
            row(code, payload)
        );
        let err = as_role(&mut conn, &f.role.name, &sql, true)
            .await
            .expect_err(&format!("the application role wrote a `{code}` record"));
        assert!(err.to_string().contains("audit:"), "{code}: {err}");
    }
    done(conn).await;
}

#[tokio::test]
async fn the_application_role_cannot_write_import_keys() {
    let Some(f) = fixture("import_keys").await else {
        return;
    };
    let mut conn = f.connect().await;
    let err = as_role(
        &mut conn,
        &f.role.name,
        "INSERT INTO audit_import_keys (import_key, run_id, event_type) \
         VALUES ('k', 'r', 'note_written')",
        true,
    )
    .await
    .expect_err("the application role wrote an import key");
    assert!(err.to_string().contains("permission denied"), "{err}");
    // Through the import function, a key comes only with its event, and
    // one key names one event: the same key twice is refused.
    let row = r#"[1, "note_written", 1, "system", "old", "old", null, null, "widget", "1", null, null, "x", "x", "{\"widget\": 1, \"text\": \"t\"}"]"#;
    let err = as_role(
        &mut conn,
        &f.role.name,
        &format!(
            "SELECT audit_import_batch('r', ARRAY['k', 'k'], '[{row}, {row}]'::jsonb, \
             'system', 'importer', 'importer', '{{}}'::jsonb)"
        ),
        true,
    )
    .await
    .expect_err("the import function took one key for two events");
    assert!(err.to_string().contains("twice"), "{err}");
    done(conn).await;
}

#[tokio::test]
async fn the_retention_function_refuses_a_cutoff_in_the_future() {
    let Some(f) = fixture("future_cutoff").await else {
        return;
    };
    let before = support::events(&f.auditor).await;
    let cutoff = chrono::Utc::now() + chrono::Duration::days(365);
    let err = testing::execute(&f.auditor, &prune_batch_sql(cutoff.timestamp_micros()))
        .await
        .expect_err("the owner's direct call with a cutoff a year ahead was not refused");
    assert!(err.to_string().contains("retention"), "{err}");
    assert_eq!(support::events(&f.auditor).await, before);
}

#[tokio::test]
async fn an_execute_grant_on_the_retention_function_is_damage_and_repaired() {
    let Some(f) = fixture("prune_grant").await else {
        return;
    };
    let role = &f.role.name;
    let signature = prune_batch_signature(&f.auditor).await;
    testing::execute(
        &f.auditor,
        &format!("GRANT EXECUTE ON FUNCTION {signature} TO {role}"),
    )
    .await
    .unwrap();
    let problems = damaged(&f.auditor, "EXECUTE granted on the retention function").await;
    assert!(names_all(&problems, &[PRUNE_BATCH, role]), "{problems:?}");

    // A cutoff the owner could use.
    let before = support::events(&f.auditor).await;
    let cutoff = chrono::Utc::now() - chrono::Duration::days(365);
    let mut conn = f.connect().await;
    let outcome = as_role(
        &mut conn,
        role,
        &prune_batch_sql(cutoff.timestamp_micros()),
        true,
    )
    .await;
    done(conn).await;
    outcome.expect_err("the role granted EXECUTE called the retention function");
    assert_eq!(support::events(&f.auditor).await, before);

    let repaired = f
        .auditor
        .repair_schema(&Actor::system("t"), "why")
        .await
        .unwrap();
    assert!(names_all(&repaired, &[PRUNE_BATCH, role]), "{repaired:?}");
    assert_eq!(
        f.auditor.schema_status().await.unwrap(),
        SchemaStatus::Current
    );
    assert!(
        !holds(
            &f.auditor,
            &format!("SELECT has_function_privilege('{role}', '{signature}', 'EXECUTE')")
        )
        .await,
        "the repair left the grant"
    );
    assert_repair_recorded(&f.auditor, &repaired).await;
}

// ---------------------------------------------------------------------------
// The owner neutralises a trigger, a function or a privilege: a start
// must refuse the schema, and a repair restore it, on the record.

/// What a neutralisation lets through, shown while it lasts and refused
/// after the repair; or, where nothing shows it, a check of the catalog.
#[derive(Clone, Copy)]
enum Effect {
    /// The role's change of `widgets` with no event commits.
    RoleChangesWidgets,
    /// The owner deletes an event.
    OwnerDeletesEvent,
    /// `sql` (`SELECT` of one boolean) is true of a sound schema, false
    /// while neutralised.
    Holds(&'static str),
}

/// A neutralisation: the owner's SQL (`{role}`, `{other}` (a second role,
/// made when named), `{append_only}`, `{require_event}` and `{prune}`
/// are replaced), what one problem must name, and its effect.
struct Case {
    name: &'static str,
    sql: &'static str,
    names: &'static [&'static str],
    effect: Effect,
}

/// Replaces the placeholders of a [`Case`]'s SQL and names.
fn placeholders(text: &str, role: &str, other: &str, prune: &str) -> String {
    text.replace("{role}", role)
        .replace("{other}", other)
        .replace("{append_only}", APPEND_ONLY_FN)
        .replace("{require_event}", REQUIRE_EVENT_FN)
        .replace("{prune}", prune)
}

async fn neutralised(case: &Case) {
    let Some(f) = fixture(case.name).await else {
        return;
    };
    let name = case.name;
    let role = &f.role.name;
    let other = if case.sql.contains("{other}") {
        Some(Role::create(&f.auditor, "audit_other").await)
    } else {
        None
    };
    let other_name = other.as_ref().map_or("", |o| o.name.as_str());
    let prune = prune_batch_signature(&f.auditor).await;
    let expand = |text: &str| placeholders(text, role, other_name, &prune);
    if let Effect::Holds(sql) = case.effect {
        assert!(holds(&f.auditor, &expand(sql)).await, "{name}: before");
    }
    testing::execute(&f.auditor, &expand(case.sql))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));

    // The neutralisation works: why a start must refuse it.
    match case.effect {
        Effect::RoleChangesWidgets => {
            let mut conn = f.connect().await;
            as_role(&mut conn, role, WIDGET_CHANGE, true)
                .await
                .unwrap_or_else(|e| panic!("{name}: not effective: {e}"));
            done(conn).await;
        }
        Effect::OwnerDeletesEvent => {
            let deleted = testing::execute(
                &f.auditor,
                "DELETE FROM audit_events WHERE id = (SELECT MAX(id) FROM audit_events)",
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: not effective: {e}"));
            assert_eq!(deleted, 1, "{name}");
        }
        Effect::Holds(sql) => {
            assert!(
                !holds(&f.auditor, &expand(sql)).await,
                "{name}: not applied"
            )
        }
    }

    let names: Vec<String> = case.names.iter().map(|n| expand(n)).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let problems = damaged(&f.auditor, name).await;
    assert!(
        names_all(&problems, &names),
        "{name}: no problem names {names:?}: {problems:?}"
    );

    let repaired = f
        .auditor
        .repair_schema(&Actor::system("t"), "why")
        .await
        .unwrap();
    assert!(!repaired.is_empty(), "{name}");
    assert_eq!(
        f.auditor.schema_status().await.unwrap(),
        SchemaStatus::Current,
        "{name}: after the repair"
    );

    // Refused again.
    match case.effect {
        Effect::RoleChangesWidgets => {
            let before = widget_ids(&f.auditor).await;
            let mut conn = f.connect().await;
            let outcome = as_role(&mut conn, role, WIDGET_CHANGE, true).await;
            done(conn).await;
            let err = outcome.expect_err(&format!("{name}: not refused after the repair"));
            assert!(err.to_string().contains("immutable"), "{name}: {err}");
            assert_eq!(widget_ids(&f.auditor).await, before, "{name}");
        }
        Effect::OwnerDeletesEvent => {
            let err = testing::execute(
                &f.auditor,
                "DELETE FROM audit_events WHERE id = (SELECT MAX(id) FROM audit_events)",
            )
            .await
            .expect_err(&format!("{name}: not refused after the repair"));
            assert!(err.to_string().contains("append-only"), "{name}: {err}");
        }
        Effect::Holds(sql) => assert!(
            holds(&f.auditor, &expand(sql)).await,
            "{name}: not restored by the repair"
        ),
    }
    // What the application role needs is left to it.
    let mut conn = f.connect().await;
    as_role(
        &mut conn,
        role,
        &format!(
            "INSERT INTO audit_events ({}) VALUES {}",
            support::ROW_COLUMNS,
            row("note_written", r#"{"widget": 1, "text": "t"}"#)
        ),
        false,
    )
    .await
    .unwrap_or_else(|e| panic!("{name}: the application role cannot append after the repair: {e}"));
    done(conn).await;
    assert_repair_recorded(&f.auditor, &repaired).await;
}

/// The log's newest `audit:schema_repaired` record lists `problems`.
async fn assert_repair_recorded(auditor: &Auditor, problems: &[String]) {
    let log = support::log(auditor).await;
    let record = log
        .iter()
        .find(|e| e.event.code() == "audit:schema_repaired")
        .expect("the repair is recorded");
    assert_eq!(
        support::payload(record)["problems"],
        serde_json::json!(problems)
    );
}

const REPLICA_AUDIT_REQUIRED: Case = Case {
    name: "replica_required",
    sql: "ALTER TABLE widgets ENABLE REPLICA TRIGGER audit_required",
    names: &["audit_required"],
    effect: Effect::RoleChangesWidgets,
};

const REPLICA_NO_CHANGE: Case = Case {
    name: "replica_no_change",
    sql: "ALTER TABLE audit_events ENABLE REPLICA TRIGGER audit_events_no_change",
    names: &["audit_events_no_change"],
    effect: Effect::OwnerDeletesEvent,
};

const CONDITIONAL_AUDIT_REQUIRED: Case = Case {
    name: "when_false",
    sql: "DROP TRIGGER audit_required ON widgets; \
          CREATE CONSTRAINT TRIGGER audit_required AFTER INSERT OR UPDATE OR DELETE ON widgets \
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (false) \
          EXECUTE FUNCTION {require_event}",
    names: &["audit_required"],
    effect: Effect::RoleChangesWidgets,
};

const NARROWED_NO_CHANGE: Case = Case {
    name: "update_of",
    sql: "DROP TRIGGER audit_events_no_change ON audit_events; \
          CREATE TRIGGER audit_events_no_change BEFORE UPDATE OF occurred_at ON audit_events \
          FOR EACH ROW EXECUTE FUNCTION {append_only}",
    names: &["audit_events_no_change"],
    effect: Effect::OwnerDeletesEvent,
};

const SAME_NAMED_FUNCTION: Case = Case {
    name: "other_schema_fn",
    sql: "CREATE SCHEMA evil; \
          CREATE FUNCTION evil.{require_event} RETURNS trigger LANGUAGE plpgsql AS \
          $$ BEGIN RETURN NULL; END $$; \
          DROP TRIGGER audit_required ON widgets; \
          CREATE CONSTRAINT TRIGGER audit_required AFTER INSERT OR UPDATE OR DELETE ON widgets \
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION evil.{require_event}",
    names: &["audit_required"],
    effect: Effect::RoleChangesWidgets,
};

const INVOKER_APPEND_ONLY: Case = Case {
    name: "security_invoker",
    sql: "ALTER FUNCTION {append_only} SECURITY INVOKER",
    names: &["audit_events_append_only"],
    effect: Effect::Holds(
        "SELECT prosecdef FROM pg_proc WHERE oid = '{append_only}'::regprocedure",
    ),
};

const UNPINNED_APPEND_ONLY: Case = Case {
    name: "reset_all",
    sql: "ALTER FUNCTION {append_only} RESET ALL",
    names: &["audit_events_append_only"],
    effect: Effect::Holds(
        "SELECT COALESCE(array_to_string(proconfig, ',') LIKE '%search_path=%', false) \
         FROM pg_proc WHERE oid = '{append_only}'::regprocedure",
    ),
};

const GIVEN_AWAY_FUNCTION: Case = Case {
    name: "owner_to",
    sql: "ALTER FUNCTION {require_event} OWNER TO {other}",
    names: &["audit_require_event"],
    effect: Effect::Holds(
        "SELECT p.proowner = c.relowner FROM pg_proc p, pg_class c \
         WHERE p.oid = '{require_event}'::regprocedure AND c.oid = 'audit_events'::regclass",
    ),
};

const DELETE_GRANT: Case = Case {
    name: "grant_delete",
    sql: "GRANT DELETE ON audit_events TO {role}",
    names: &["audit_events", "{role}"],
    effect: Effect::Holds("SELECT NOT has_table_privilege('{role}', 'audit_events', 'DELETE')"),
};

const TABLE_WIDE_INSERT_GRANT: Case = Case {
    name: "grant_insert",
    sql: "GRANT INSERT ON audit_events TO {role}",
    names: &["audit_events", "{role}"],
    effect: Effect::Holds(
        "SELECT NOT has_column_privilege('{role}', 'audit_events', 'id', 'INSERT') \
         AND NOT has_column_privilege('{role}', 'audit_events', 'tx_id', 'INSERT')",
    ),
};

const PUBLIC_PRUNE_GRANT: Case = Case {
    name: "grant_public",
    sql: "GRANT EXECUTE ON FUNCTION {prune} TO PUBLIC",
    names: &[PRUNE_BATCH, "PUBLIC"],
    effect: Effect::Holds("SELECT NOT has_function_privilege('public', '{prune}', 'EXECUTE')"),
};

#[tokio::test]
async fn a_replica_only_audit_required_trigger_is_damage() {
    neutralised(&REPLICA_AUDIT_REQUIRED).await;
}

#[tokio::test]
async fn a_replica_only_no_change_trigger_is_damage() {
    neutralised(&REPLICA_NO_CHANGE).await;
}

#[tokio::test]
async fn an_audit_required_trigger_with_a_false_condition_is_damage() {
    neutralised(&CONDITIONAL_AUDIT_REQUIRED).await;
}

#[tokio::test]
async fn a_no_change_trigger_narrowed_to_one_column_is_damage() {
    neutralised(&NARROWED_NO_CHANGE).await;
}

#[tokio::test]
async fn a_trigger_running_a_same_named_function_elsewhere_is_damage() {
    neutralised(&SAME_NAMED_FUNCTION).await;
}

#[tokio::test]
async fn an_append_only_function_made_security_invoker_is_damage() {
    neutralised(&INVOKER_APPEND_ONLY).await;
}

#[tokio::test]
async fn an_append_only_function_without_its_search_path_is_damage() {
    neutralised(&UNPINNED_APPEND_ONLY).await;
}

#[tokio::test]
async fn a_function_given_to_another_owner_is_damage() {
    neutralised(&GIVEN_AWAY_FUNCTION).await;
}

#[tokio::test]
async fn a_delete_grant_on_the_log_is_damage() {
    neutralised(&DELETE_GRANT).await;
}

#[tokio::test]
async fn a_table_wide_insert_grant_on_the_log_is_damage() {
    neutralised(&TABLE_WIDE_INSERT_GRANT).await;
}

#[tokio::test]
async fn an_execute_grant_to_public_on_the_retention_function_is_damage() {
    neutralised(&PUBLIC_PRUNE_GRANT).await;
}

#[tokio::test]
async fn the_application_role_s_own_grants_are_not_damage() {
    // `fixture` checks it.
    let _ = fixture("own_grants").await;
}

#[tokio::test]
async fn the_application_role_cannot_move_a_place_in_commit_order_or_take_the_clock() {
    let Some(f) = fixture("commit_order").await else {
        return;
    };
    let mut conn = f.connect().await;
    for attack in [
        "SELECT setval('audit_commit_seq', 1)",
        "SELECT nextval('audit_commit_seq')",
        "INSERT INTO audit_commit_order (seq, commit_tx) VALUES (1, pg_current_xact_id())",
        "UPDATE audit_commit_order SET seq = seq + 1000000",
        "DELETE FROM audit_commit_order",
        "TRUNCATE audit_commit_order",
        "LOCK TABLE audit_commit_clock IN EXCLUSIVE MODE",
        "LOCK TABLE audit_commit_order IN SHARE ROW EXCLUSIVE MODE",
    ] {
        let err = as_role(&mut conn, &f.role.name, attack, true)
            .await
            .expect_err(attack);
        assert!(
            err.to_string().contains("permission denied"),
            "{attack}: {err}"
        );
    }
    // An event the role writes by hand gets its place, and is followed.
    let before = support::events(&f.auditor).await;
    as_role(
        &mut conn,
        &f.role.name,
        &format!(
            "INSERT INTO audit_events ({}) VALUES (0, 'note_written', 1, 'system', 'app', \
             'app', 'write_note', 'by-hand', '{{\"widget\": 1, \"text\": \"by hand\"}}')",
            support::ROW_COLUMNS
        ),
        true,
    )
    .await
    .expect("the role writes an event");
    let read = support::read_stable(
        &f.auditor,
        audit_core::query::Position::START,
        before as usize + 1,
    )
    .await;
    assert_eq!(
        support::codes(&read).last().map(String::as_str),
        Some("note_written")
    );
    done(conn).await;
}
