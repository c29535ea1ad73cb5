//! The application's own PostgreSQL role, set up by `example-app
//! grant-application-role` as a deployment does: the schema's owner
//! migrates a fresh database (the demo's), creates a LOGIN role and grants
//! it; the command line and the web pages then work connected as that
//! role, and what a person holding its credentials tries against the log
//! (G7, G8, G11) is refused or has no effect. On SQLite there are no roles.
//!
//! Each PostgreSQL test makes its own database and a role of its own (a
//! unique name: roles belong to the whole server), and drops the role at
//! its end, failed or not (`DROP OWNED BY`, `DROP ROLE`).

use std::future::Future;
use std::io::Write;
use std::process::{Output, Stdio};

use audit_core::Auditor;
use axum::http::StatusCode;
use sqlx::{Connection, PgConnection};

use crate::common;
use crate::common::web::Browser;

/// The attacks' SQL, as the role runs it: here alone, so that it can be
/// adjusted when a table or a function changes.
mod attack_sql {
    /// (a) In one transaction, then COMMIT: a temporary `audit_events`
    /// (first in the caller's search path) shadows the log for the trigger
    /// that checks that a transaction writing a protected table recorded an
    /// event; the updates make bob a staff area administrator and change
    /// his roles in his projects, with no event.
    pub const TEMP_TABLE_SHADOW: &str = "\
        CREATE TEMP TABLE audit_events (tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()); \
        INSERT INTO audit_events DEFAULT VALUES; \
        UPDATE users SET roles = '[\"StaffAreaAdministrator\"]' WHERE username = 'bob'; \
        UPDATE memberships SET roles = '[\"OutputChecker\"]' \
            WHERE user_id = (SELECT id FROM users WHERE username = 'bob')";

    /// (b) A record of the log's own (an `audit:` code), forged: a prune
    /// "before 2999", after which `verify` would count any missing sealed
    /// event as pruned rather than deleted.
    pub const FORGED_AUDIT_RECORD: &str = "\
        INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, \
            actor_id, actor_name, command_name, command_id, payload) \
        VALUES ((extract(epoch FROM now()) * 1000000)::bigint, 'audit:log_pruned', 1, \
            'system', 'audit-core', 'audit-core', 'prune_before', 'forged-by-the-role', \
            '{\"before\": \"2999-01-01T00:00:00Z\", \"deleted\": 0, \"batch\": 1, \
              \"reason\": \"forged\"}')";

    /// The command id [`FORGED_AUDIT_RECORD`] writes.
    pub const FORGED_COMMAND_ID: &str = "forged-by-the-role";

    /// (c) An import key that `backfill` will use later (`$1`:
    /// `backfill::key(id)`), taken first, so that the import skips it.
    pub const IMPORT_KEY_PREEMPTION: &str = "\
        INSERT INTO audit_import_keys (import_key, run_id, event_type) \
        VALUES ($1, 'forged-run', 'project_created')";

    /// (d) The owner's retention function, every event before the end of time.
    pub const PRUNE_BATCH: &str =
        "SELECT audit_prune_batch(9223372036854775807, 1000, 1, 'user', '2', 'bob', 'x')";

    /// The retention function, as `has_function_privilege` names it.
    pub const PRUNE_BATCH_SIGNATURE: &str =
        "audit_prune_batch(bigint, integer, integer, text, text, text, text)";
}

/// A demo database migrated by its owner, and a LOGIN role of the
/// application's own, set up by `grant-application-role`.
#[derive(Clone)]
struct Deployment {
    /// The owner's connection (the test database's).
    owner: Auditor,
    /// The database, as its owner.
    owner_url: String,
    /// The application's role.
    role: String,
    /// The database, as the role (trust authentication: no password).
    role_url: String,
}

/// `url` with `role` as its user (and no password).
fn as_user(url: &str, role: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .unwrap_or_else(|| panic!("not a URL: {url}"));
    let host_and_path = match rest.split_once('@') {
        Some((user, after)) if !user.contains('/') => after,
        _ => rest,
    };
    format!("{scheme}://{role}@{host_and_path}")
}

/// The command's standard output; fails the test, with its standard error,
/// unless it succeeded.
fn ok(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command's standard error; fails the test unless it failed with 1.
fn refused(what: &str, out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what} should fail: stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the example app on `url` with `args`, `input` on its standard input.
async fn cli_with_input(url: &str, args: &[&str], input: &str) -> Output {
    let mut command = common::example_app(url);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let input = input.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("run example-app");
        child
            .stdin
            .take()
            .expect("a piped standard input")
            .write_all(input.as_bytes())
            .expect("write the standard input");
        child.wait_with_output().expect("wait for example-app")
    })
    .await
    .expect("the command line's thread")
}

impl Deployment {
    /// As a deployment does it, as the owner: `migrate`, the demo's data,
    /// then `grant-application-role`, twice (the second changes nothing),
    /// and a seal, so that `verify` has something to check.
    async fn set_up(&self) {
        ok("migrate", common::cli(&self.owner_url, &["migrate"]).await);
        ok("demo", common::cli(&self.owner_url, &["demo"]).await);
        let args = ["grant-application-role", self.role.as_str()];
        let first = ok("grant", common::cli(&self.owner_url, &args).await);
        assert!(first.contains(&self.role), "{first}");
        let second = ok("grant again", common::cli(&self.owner_url, &args).await);
        assert_eq!(first, second);
        ok("seal", common::cli(&self.owner_url, &["seal"]).await);
    }

    /// The example app's command line, connected as the role.
    async fn app(&self, args: &[&str]) -> Output {
        common::cli(&self.role_url, args).await
    }

    /// A connection of the role's own, for SQL by hand.
    async fn role_connection(&self) -> PgConnection {
        PgConnection::connect(&self.role_url)
            .await
            .unwrap_or_else(|e| panic!("connect as {}: {e}", self.role))
    }

    /// The number of events, read by the owner.
    async fn events(&self) -> i64 {
        common::scalar(&self.owner, "SELECT COUNT(*) FROM audit_events").await
    }

    /// `verify`, run by the owner (the role may not read the seals): the
    /// sealed log is intact.
    async fn assert_verified(&self) {
        let out = ok("verify", common::cli(&self.owner_url, &["verify"]).await);
        assert!(out.contains("The sealed log is intact."), "{out}");
    }

    /// Each line of `SQL`'s one text column, read by the owner.
    async fn owner_lines(&self, sql: &str) -> Vec<String> {
        let mut conn = PgConnection::connect(&self.owner_url).await.unwrap();
        let lines = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        conn.close().await.unwrap();
        lines
    }
}

/// Sets up a [`Deployment`] on a new PostgreSQL database named after
/// `test` and runs `body` in it; the role is dropped afterwards whatever
/// happened (a panic is raised again once it is). Nothing without
/// PostgreSQL.
async fn as_deployed<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Deployment) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(owner) = common::postgres(test).await else {
        return;
    };
    let owner_url = common::url_of(&owner).await;
    let role = format!("approle_{}", uuid::Uuid::new_v4().simple());
    common::execute(&owner, &format!("CREATE ROLE {role} LOGIN"))
        .await
        .unwrap_or_else(|e| panic!("create the role {role}: {e}"));
    let deployment = Deployment {
        owner: owner.clone(),
        role_url: as_user(&owner_url, &role),
        owner_url,
        role: role.clone(),
    };
    let outcome = tokio::spawn(async move {
        deployment.set_up().await;
        body(deployment).await
    })
    .await;
    // Its sessions first (a failed test may have left one, with a
    // temporary table), then what it was granted, then the role.
    let dropped = common::execute(
        &owner,
        &format!(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE usename = '{role}'; \
             DROP OWNED BY {role}; DROP ROLE {role}"
        ),
    )
    .await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("{test}: {e}"),
        }
    }
    dropped.unwrap_or_else(|e| panic!("drop the role {role}: {e}"));
}

/// What an attack achieved, a sentence each: the test fails listing them all.
#[derive(Default)]
struct Breaches(Vec<String>);

impl Breaches {
    /// Records `breach` unless `holds`.
    fn check(&mut self, holds: bool, breach: impl FnOnce() -> String) {
        if !holds {
            self.0.push(breach());
        }
    }

    /// Records `breach`.
    fn push(&mut self, breach: String) {
        self.0.push(breach);
    }

    /// Fails the test when the attack achieved anything.
    fn assert_none(self, attack: &str) {
        assert!(
            self.0.is_empty(),
            "{attack}: the attack was not stopped:\n  - {}",
            self.0.join("\n  - ")
        );
    }
}

/// What the role may do on the staff area's tables, one line per table and
/// right (`table RIGHT` or `table RIGHT (columns)`), as the catalog says.
const APP_TABLE_RIGHTS: &str = "\
memberships DELETE
memberships INSERT (project_id, roles, user_id)
memberships SELECT
memberships UPDATE (project_id, roles, user_id)
projects INSERT (created_at, created_by, name)
projects SELECT
staff_schema SELECT
users INSERT (password_hash, roles, username)
users SELECT
users UPDATE (password_hash, roles, username)
web_secrets INSERT
web_secrets SELECT
web_sessions DELETE
web_sessions INSERT
web_sessions SELECT
web_sign_in_attempts DELETE
web_sign_in_attempts INSERT (address, at, username)
web_sign_in_attempts SELECT";

/// The rights of `role` on tables other than the audit log's, from the
/// catalog's access lists (table and column grants).
fn app_rights_sql(role: &str) -> String {
    format!(
        "WITH granted AS ( \
             SELECT c.relname AS tab, a.privilege_type AS priv, NULL::text AS col \
             FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = '{role}'::regrole \
             UNION ALL \
             SELECT c.relname, a.privilege_type, att.attname::text \
             FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid, \
                 aclexplode(att.attacl) a WHERE a.grantee = '{role}'::regrole) \
         SELECT tab || ' ' || priv || COALESCE(' (' || string_agg(col, ', ' ORDER BY col) || ')', '') \
         FROM granted WHERE tab NOT LIKE 'audit\\_%' GROUP BY tab, priv ORDER BY 1"
    )
}

#[tokio::test]
async fn the_role_gets_exactly_the_rights_the_app_needs() {
    as_deployed("approle_rights", |d| async move {
        let role = &d.role;
        assert_eq!(
            d.owner_lines(&app_rights_sql(role)).await.join("\n"),
            APP_TABLE_RIGHTS
        );
        // Nowhere UPDATE, DELETE or TRUNCATE of the log, no retention, no
        // DDL: the role owns nothing and may create nothing.
        let forbidden = d
            .owner_lines(&format!(
                "SELECT c.relname || ' ' || p FROM pg_class c, \
                     unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p \
                 WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace \
                   AND has_table_privilege('{role}', c.oid, p) \
                   AND NOT (c.relname IN ('memberships', 'web_sessions', 'web_sign_in_attempts') \
                            AND p = 'DELETE') \
                 UNION ALL SELECT '{prune} EXECUTE' \
                 WHERE has_function_privilege('{role}', '{prune}', 'EXECUTE') \
                 UNION ALL SELECT 'owns ' || relname FROM pg_class \
                 WHERE relowner = '{role}'::regrole \
                 UNION ALL SELECT 'CREATE on the database' \
                 WHERE has_database_privilege('{role}', current_database(), 'CREATE')",
                prune = attack_sql::PRUNE_BATCH_SIGNATURE,
            ))
            .await;
        assert_eq!(forbidden, Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn connected_as_the_role_the_commands_and_pages_work() {
    as_deployed("approle_commands", |d| async move {
        // A project made before auditing began, for `backfill`.
        common::execute(
            &d.owner,
            "INSERT INTO projects (name, created_by, created_at) VALUES ('Legacy', NULL, NULL)",
        )
        .await
        .unwrap();
        let before = d.events().await;
        for (args, expected) in [
            (
                vec!["add-user", "dave", "--role", "OutputChecker"],
                "done: 1 audit event(s) recorded\n",
            ),
            (
                vec!["--as", "alice", "add-project", "Vostok"],
                "done: 1 audit event(s) recorded\n",
            ),
            (
                vec![
                    "add-member",
                    "--project",
                    "Vostok",
                    "--user",
                    "dave",
                    "--user",
                    "carol",
                    "--role",
                    "ProjectDeveloper",
                ],
                "done: 4 audit event(s) recorded\n",
            ),
            (
                vec![
                    "update-member-roles",
                    "--project",
                    "Vostok",
                    "--user",
                    "dave",
                    "--role",
                    "ProjectCollaborator",
                ],
                "done: 1 audit event(s) recorded\n",
            ),
            (
                vec!["update-user-roles", "--user", "carol"],
                "done: 1 audit event(s) recorded\n",
            ),
            (
                vec!["remove-member", "--project", "Vostok", "--user", "carol"],
                "done: 2 audit event(s) recorded\n",
            ),
            (
                vec!["clear-user-roles", "--user", "dave"],
                "done: 2 audit event(s) recorded\n",
            ),
            (
                vec!["backfill"],
                "backfill: 1 \"project created\" event(s) imported, 0 imported before\n",
            ),
        ] {
            assert_eq!(ok(&args.join(" "), d.app(&args).await), expected);
        }
        let set = cli_with_input(
            &d.role_url,
            &["set-password", "--user", "dave"],
            "dave's new password\n",
        )
        .await;
        assert_eq!(ok("set-password", set), "done: 1 audit event(s) recorded\n");
        // 13 events of commands, the imported one and the import's record.
        assert_eq!(d.events().await, before + 15);

        // Reading: the log and the export, as the role.
        let log = ok("log", d.app(&["log", "--project", "Vostok"]).await);
        assert!(
            log.contains("alice") && log.contains("removed carol from Vostok"),
            "{log}"
        );
        let legacy = ok("log", d.app(&["log", "--project", "Legacy"]).await);
        assert!(legacy.contains("(imported)"), "{legacy}");
        let export = ok("export", d.app(&["export"]).await);
        let exported = i64::try_from(export.lines().count()).unwrap();
        assert_eq!(
            exported,
            common::scalar(&d.owner, "SELECT COUNT(*) FROM audit_events WHERE id > 0").await
        );
        // A change refused by the commands' own rules is still refused.
        let again = refused("add dave twice", d.app(&["add-user", "dave"]).await);
        assert_eq!(again, "error: user `dave` already exists\n");

        // The web pages, as the role: a failed sign-in is recorded, a
        // session made, read and ended, the form secret made and read.
        let auditor = Auditor::connect(&d.role_url).await.unwrap();
        let mut browser = Browser::new(&auditor);
        let wrong = browser.sign_in("alice", "not her password").await;
        assert_eq!(wrong.status, StatusCode::OK);
        assert!(wrong.body.contains("Wrong username or password."));
        let (user, password, _) = example_app::demo::SIGN_INS[0];
        assert_eq!(
            browser.sign_in(user, password).await.status,
            StatusCode::SEE_OTHER
        );
        let home = browser.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("Signed in as alice"), "{}", home.body);
        assert_eq!(browser.get("/projects").await.status, StatusCode::OK);
        assert_eq!(browser.sign_out().await.status, StatusCode::SEE_OTHER);
        assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
        audit_core::on_backend!(auditor.pool(), pool => pool.close().await);
        assert_eq!(
            common::scalar(&d.owner, "SELECT COUNT(*) FROM web_sessions").await,
            0
        );

        // What stays the owner's: the schema, and the seals.
        let migrate = refused("migrate as the role", d.app(&["migrate"]).await);
        assert!(migrate.contains("permission denied"), "{migrate}");
        let seal = refused("seal as the role", d.app(&["seal"]).await);
        assert!(seal.contains("permission denied"), "{seal}");
        ok("seal", common::cli(&d.owner_url, &["seal"]).await);
        d.assert_verified().await;
        let findings = example_app::crash::check(&d.owner).await.unwrap();
        assert!(findings.problems.is_empty(), "{:?}", findings.problems);
    })
    .await;
}

#[tokio::test]
async fn the_grant_refuses_a_name_that_is_not_a_plain_identifier() {
    // Refused before the database is asked anything: SQLite answers the same.
    let auditor = common::sqlite("approle_names").await;
    let url = common::url_of(&auditor).await;
    for (name, message) in [
        (
            "App",
            "error: `App` is not a plain PostgreSQL identifier: a role name here is \
             lowercase ASCII letters, digits and `_`, starting with a letter or `_`, \
             at most 63 bytes\n",
        ),
        (
            "app; DROP TABLE users",
            "error: `app; DROP TABLE users` is not a plain PostgreSQL identifier: a role \
             name here is lowercase ASCII letters, digits and `_`, starting with a letter \
             or `_`, at most 63 bytes\n",
        ),
        (
            "two\nlines",
            "error: `two\\nlines` is not a plain PostgreSQL identifier: a role name here \
             is lowercase ASCII letters, digits and `_`, starting with a letter or `_`, \
             at most 63 bytes\n",
        ),
        (
            "public",
            "error: `public` is reserved by PostgreSQL (`public` means every role, `none` \
             no role, and `pg_` names are the server's own roles): name the application's \
             own role\n",
        ),
    ] {
        let err = refused(
            name,
            common::cli(&url, &["grant-application-role", name]).await,
        );
        assert_eq!(err, message);
    }
}

#[tokio::test]
async fn on_sqlite_the_grant_says_there_are_no_roles() {
    let auditor = common::sqlite("approle_sqlite").await;
    let url = common::url_of(&auditor).await;
    ok("migrate", common::cli(&url, &["migrate"]).await);
    let err = refused(
        "grant on SQLite",
        common::cli(&url, &["grant-application-role", "app"]).await,
    );
    assert!(err.starts_with("error: SQLite has no roles: "), "{err}");
}

#[tokio::test]
async fn the_grant_refuses_an_unknown_role_a_superuser_and_an_unmigrated_database() {
    let Some(owner) = common::postgres("approle_refusals").await else {
        return;
    };
    let url = common::url_of(&owner).await;
    // A name no role has (roles belong to the whole server).
    let nobody = format!("approle_nobody_{}", uuid::Uuid::new_v4().simple());
    let grant = ["grant-application-role", nobody.as_str()];
    let err = refused("no schema", common::cli(&url, &grant).await);
    assert!(err.contains("run `example-app migrate`"), "{err}");
    ok("migrate", common::cli(&url, &["migrate"]).await);
    let err = refused("unknown role", common::cli(&url, &grant).await);
    assert!(
        err.starts_with(&format!(
            "error: role `{nobody}` does not exist: create it first"
        )),
        "{err}"
    );
    let owner_name: String = audit_core::on_backend!(owner.pool(), pool => {
        sqlx::query_scalar("SELECT current_user::text").fetch_one(pool).await.unwrap()
    });
    let out = common::cli(&url, &["grant-application-role", &owner_name]).await;
    let err = refused("the owner", out);
    // The tests' owner is a superuser; either refusal names the reason.
    assert!(
        err.contains("is a superuser") || err.contains("owns the staff area's tables"),
        "{err}"
    );
}

/// The role's attack on `conn`: `sql` in one transaction, then COMMIT;
/// the database's answer (`Err` naming the step that was refused).
async fn in_one_transaction(conn: &mut PgConnection, sql: &str) -> Result<(), String> {
    let mut tx = conn.begin().await.map_err(|e| format!("BEGIN: {e}"))?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await
        .map_err(|e| format!("before COMMIT: {e}"))?;
    tx.commit().await.map_err(|e| format!("COMMIT: {e}"))
}

/// The staff area still holds what its log says, a start is sound and the
/// sealed log verifies, and the log has exactly `events` events.
async fn assert_log_truthful(d: &Deployment, events: i64, breaches: &mut Breaches) {
    let now = d.events().await;
    breaches.check(now == events, || {
        format!("the log has {now} events, {events} before the attack")
    });
    let findings = example_app::crash::check(&d.owner).await.unwrap();
    breaches.check(findings.problems.is_empty(), || {
        format!("the tables and the log disagree: {:?}", findings.problems)
    });
    let start = d.app(&["log", "--limit", "1"]).await;
    breaches.check(start.status.success(), || {
        format!(
            "a start as the role fails: {}",
            String::from_utf8_lossy(&start.stderr)
        )
    });
    let verify = common::cli(&d.owner_url, &["verify"]).await;
    breaches.check(verify.status.success(), || {
        format!("verify fails: {}", String::from_utf8_lossy(&verify.stdout))
    });
}

#[tokio::test]
async fn attack_a_a_temporary_table_shadowing_the_log_does_not_let_an_unaudited_write_through() {
    as_deployed("approle_attack_a", |d| async move {
        let events = d.events().await;
        let mut conn = d.role_connection().await;
        let outcome = in_one_transaction(&mut conn, attack_sql::TEMP_TABLE_SHADOW).await;
        conn.close().await.unwrap();
        let mut breaches = Breaches::default();
        match &outcome {
            Ok(()) => breaches.push("the transaction committed".to_owned()),
            Err(e) => breaches.check(e.contains("immutable"), || {
                format!("refused, but not as a write to an immutable table: {e}")
            }),
        }
        let staff = common::scalar(
            &d.owner,
            "SELECT COUNT(*) FROM users WHERE username = 'bob' \
             AND roles LIKE '%StaffAreaAdministrator%'",
        )
        .await;
        breaches.check(staff == 0, || {
            "bob is a staff area administrator, and the log does not say so".to_owned()
        });
        assert_log_truthful(&d, events, &mut breaches).await;
        let acting = d.app(&["--as", "bob", "add-project", "Mercury"]).await;
        breaches.check(!acting.status.success(), || {
            "bob acts as a member of staff: he added a project".to_owned()
        });
        breaches.assert_none("(a) a temporary audit_events shadowing the log");
    })
    .await;
}

#[tokio::test]
async fn attack_b_the_role_cannot_forge_a_record_of_the_logs_own() {
    as_deployed("approle_attack_b", |d| async move {
        let events = d.events().await;
        let mut conn = d.role_connection().await;
        let outcome = sqlx::raw_sql(attack_sql::FORGED_AUDIT_RECORD)
            .execute(&mut conn)
            .await;
        conn.close().await.unwrap();
        let mut breaches = Breaches::default();
        breaches.check(outcome.is_err(), || {
            "the INSERT of an `audit:log_pruned` record was accepted".to_owned()
        });
        let forged = common::scalar(
            &d.owner,
            &format!(
                "SELECT COUNT(*) FROM audit_events WHERE command_id = '{}'",
                attack_sql::FORGED_COMMAND_ID
            ),
        )
        .await;
        breaches.check(forged == 0, || {
            "the forged prune record is in the log: `verify` now counts any missing \
             sealed event before 2999 as pruned"
                .to_owned()
        });
        assert_log_truthful(&d, events, &mut breaches).await;
        breaches.assert_none("(b) a forged `audit:` record");
    })
    .await;
}

#[tokio::test]
async fn attack_c_the_role_cannot_take_an_import_key_before_the_backfill() {
    as_deployed("approle_attack_c", |d| async move {
        // A project made before auditing began: the backfill's to import.
        common::execute(
            &d.owner,
            "INSERT INTO projects (name, created_by, created_at) VALUES ('Legacy', NULL, NULL)",
        )
        .await
        .unwrap();
        let id = common::scalar(&d.owner, "SELECT id FROM projects WHERE name = 'Legacy'").await;
        let key = example_app::backfill::key(id);
        let mut conn = d.role_connection().await;
        let outcome = sqlx::query(attack_sql::IMPORT_KEY_PREEMPTION)
            .bind(&key)
            .execute(&mut conn)
            .await;
        conn.close().await.unwrap();
        let mut breaches = Breaches::default();
        breaches.check(outcome.is_err(), || {
            format!("the INSERT of the import key `{key}` was accepted")
        });
        let backfill = ok("backfill", d.app(&["backfill"]).await);
        breaches.check(
            backfill == "backfill: 1 \"project created\" event(s) imported, 0 imported before\n",
            || format!("the backfill said: {}", backfill.trim_end()),
        );
        let created = common::scalar(
            &d.owner,
            &format!(
                "SELECT COUNT(*) FROM audit_events WHERE event_type = 'project_created' \
                 AND target_kind = 'project' AND target_id = '{id}'"
            ),
        )
        .await;
        breaches.check(created == 1, || {
            format!("project Legacy has {created} \"project created\" event(s), not 1")
        });
        let events = d.events().await;
        assert_log_truthful(&d, events, &mut breaches).await;
        breaches.assert_none("(c) an import key taken before the backfill");
    })
    .await;
}

#[tokio::test]
async fn attack_d_the_role_cannot_run_the_retention_function() {
    as_deployed("approle_attack_d", |d| async move {
        let events = d.events().await;
        let mut conn = d.role_connection().await;
        let outcome = sqlx::raw_sql(attack_sql::PRUNE_BATCH)
            .execute(&mut conn)
            .await;
        conn.close().await.unwrap();
        let mut breaches = Breaches::default();
        match &outcome {
            Ok(_) => breaches.push("audit_prune_batch ran".to_owned()),
            Err(e) => breaches.check(e.to_string().contains("permission denied"), || {
                format!("refused, but not for want of the right: {e}")
            }),
        }
        assert_log_truthful(&d, events, &mut breaches).await;
        breaches.assert_none("(d) the retention function");
    })
    .await;
}
