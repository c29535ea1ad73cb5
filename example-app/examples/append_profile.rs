//! A fixed amount of append work for instruction counts (`valgrind
//! --tool=callgrind`): `AUDIT_PROFILE_COMMANDS` commands (default 50) of
//! `AUDIT_PROFILE_EVENTS` events each (default 100), on SQLite (WAL,
//! `synchronous` OFF, so no time goes to the disk) or, with
//! `AUDIT_PROFILE_BACKEND=postgres`, on a new PostgreSQL database of the
//! server `AUDIT_TEST_POSTGRES_URL` names. Run it with 0 commands too and
//! subtract: the difference divided by the commands is one command's cost.
//!
//! `cargo build --release -p example-app --example append_profile`, then
//! `valgrind --tool=callgrind target/release/examples/append_profile`.

#[path = "../benches/support/mod.rs"]
mod support;

use audit_core::Actor;
use example_app::events::StaffEvent;

fn number(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let commands = number("AUDIT_PROFILE_COMMANDS", 50);
    let events = number("AUDIT_PROFILE_EVENTS", 100);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let auditor = match std::env::var("AUDIT_PROFILE_BACKEND").as_deref() {
            Ok("postgres") => support::postgres()
                .await
                .expect("AUDIT_TEST_POSTGRES_URL names a server"),
            _ => support::sqlite(sqlx::sqlite::SqliteSynchronous::Off, "profile").await,
        };
        example_app::schema::migrate(&auditor)
            .await
            .expect("migrate");
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::system("profile"))
            .await
            .expect("begin");
        let project = example_app::commands::add_project(&mut audit, "profile")
            .await
            .expect("a project");
        audit.commit().await.expect("commit");
        for _ in 0..commands {
            let mut audit = auditor
                .begin::<StaffEvent>(Actor::system("profile"))
                .await
                .expect("begin");
            support::record(&mut audit, &project, events)
                .await
                .expect("record");
            audit.commit().await.expect("commit");
        }
    });
}
