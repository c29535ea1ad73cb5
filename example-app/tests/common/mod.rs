//! Test databases, from `audit_core::testing`: a fresh SQLite file, and a
//! fresh PostgreSQL database when `AUDIT_TEST_POSTGRES_URL` is set
//! (required under `CI=true`), each with the staff area's schema where asked.
// Each test binary uses only some of these.
#![allow(dead_code, unused_imports)]

use audit_core::Auditor;
pub use audit_core::testing::{
    POSTGRES_URL_VAR as POSTGRES_VAR, database_url as url_of, execute, label, postgres, scalar,
    sqlite,
};

/// One auditor per available backend, each on its own new database with
/// the staff area's schema.
pub async fn auditors(test: &str) -> Vec<Auditor> {
    let all = audit_core::testing::all(test).await;
    for auditor in &all {
        example_app::schema::migrate(auditor)
            .await
            .unwrap_or_else(|e| panic!("migrate {}: {e}", label(auditor)));
    }
    all
}

/// The example app's binary on the database at `url` (no signing key from
/// the environment).
pub fn example_app(url: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_example-app"));
    command
        .env("DATABASE_URL", url)
        .env_remove("AUDIT_SEAL_KEY");
    command
}

/// Runs the example app on `url` with `args`, to its end, on a thread of
/// its own.
pub async fn cli(url: &str, args: &[&str]) -> std::process::Output {
    let mut command = example_app(url);
    command.args(args);
    tokio::task::spawn_blocking(move || command.output().expect("run example-app"))
        .await
        .expect("the command line's thread")
}

/// Writes two of the log's own records, acting for `actor`: an import of
/// one "project created" event of 1 May 2019 (source `backfill-2026-12`,
/// reason `before auditing`), recorded as `audit:events_imported`, then a
/// prune of every event before 2020-01-01 (that one; reason `policy`),
/// recorded as `audit:log_pruned`. Their sentences are
/// [`IMPORTED_SENTENCE`] and [`PRUNED_SENTENCE`] after the actor's name.
pub async fn own_records(auditor: &Auditor, actor: &audit_core::Actor) {
    use audit_core::store::Import;
    use chrono::TimeZone;
    use example_app::domain::ProjectRef;
    use example_app::events::{ProjectCreated, StaffEvent};

    let mut import = Import::<StaffEvent>::new("backfill-2026-12").reason("before auditing");
    import
        .event(
            "project_created:999",
            chrono::Utc.with_ymd_and_hms(2019, 5, 1, 12, 0, 0).unwrap(),
            audit_core::Actor::system("legacy"),
            ProjectCreated {
                project: ProjectRef {
                    id: 999,
                    name: "Legacy".into(),
                },
            },
        )
        .unwrap();
    let report = auditor.import(actor, &import).await.unwrap();
    assert_eq!(report.imported, 1, "{}", label(auditor));
    let cutoff = chrono::Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    let pruned = auditor.prune_before(actor, cutoff, "policy").await.unwrap();
    assert_eq!(pruned, 1, "{}", label(auditor));
}

/// The import record's sentence of [`own_records`], after the actor's name.
pub const IMPORTED_SENTENCE: &str =
    "imported 1 event from backfill-2026-12 (reason: before auditing)";

/// The prune record's sentence of [`own_records`], after the actor's name.
pub const PRUNED_SENTENCE: &str =
    "pruned 1 event from before 2020-01-01 from the log (reason: policy)";

pub mod web;

/// An INSERT of one `project_created` event by hand, as a session of the
/// database owner writes it: with it, a transaction holds PostgreSQL's
/// commit order until it ends (other writers' commits wait behind it).
pub const HOLDING_EVENT: &str = "INSERT INTO audit_events (occurred_at, event_type, \
    payload_version, actor_kind, actor_id, actor_name, target_kind, target_id, parent_kind, \
    parent_id, command_name, command_id, payload) VALUES \
    ((extract(epoch FROM now()) * 1000000)::int8, 'project_created', 1, 'system', 'blocker', \
    'blocker', 'project', '999', 'project', '999', 'add_project', 'blocker', \
    '{\"project\": {\"id\": 999, \"name\": \"held\"}}')";
