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
