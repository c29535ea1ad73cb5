//! Crash test: a worker process runs membership commands in a loop and is
//! killed with SIGKILL at random moments; after each kill the checker
//! verifies that every change in the tables has its events and every event
//! its change. On every available backend.
//!
//! `AUDIT_CRASH_KILLS` sets the number of kills per backend (50 by
//! default); `AUDIT_CRASH_SEED` replays a run (the seed is printed).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use audit_core::{Auditor, Backend, Pool};
use example_app::crash::{Rng, check};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The URL the worker process opens for `auditor`'s database.
async fn url_of(auditor: &Auditor) -> String {
    match auditor.backend() {
        Backend::Sqlite => {
            let Pool::Sqlite(pool) = auditor.pool() else {
                unreachable!("the backend is SQLite")
            };
            let file: String =
                sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_one(pool)
                    .await
                    .unwrap();
            format!("sqlite://{file}")
        }
        Backend::Postgres => {
            let Pool::Postgres(pool) = auditor.pool() else {
                unreachable!("the backend is PostgreSQL")
            };
            let name: String = sqlx::query_scalar("SELECT current_database()")
                .fetch_one(pool)
                .await
                .unwrap();
            let server = std::env::var(common::POSTGRES_VAR).unwrap();
            let base = server.rsplit_once('/').map_or(server.as_str(), |(s, _)| s);
            format!("{base}/{name}")
        }
    }
}

/// Starts a worker; returns once it is set up and working.
fn start_worker(url: &str, seed: u64, limit: Option<u64>) -> std::process::Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_example-app"));
    command
        .args(["crash-worker", "--seed", &seed.to_string()])
        .env("DATABASE_URL", url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(limit) = limit {
        command.args(["--limit", &limit.to_string()]);
    }
    let mut child = command.spawn().expect("start the worker");
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(
        first.trim(),
        "ready",
        "the worker failed to start (seed {seed})"
    );
    child
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_workers_leave_no_change_without_its_events() {
    let kills = env_u64("AUDIT_CRASH_KILLS").unwrap_or(50);
    let seed = env_u64("AUDIT_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    eprintln!("crash test: {kills} kills per backend, AUDIT_CRASH_SEED={seed}");
    for auditor in common::auditors("crash").await {
        let label = common::label(&auditor);
        let url = url_of(&auditor).await;
        let mut rng = Rng::new(seed);
        let mut events_before = 0;
        for kill in 0..kills {
            let mut worker = start_worker(&url, seed.wrapping_add(kill), None);
            tokio::time::sleep(Duration::from_millis(rng.below(40))).await;
            worker.kill().expect("SIGKILL the worker");
            worker.wait().unwrap();
            let findings = check(&auditor).await.unwrap();
            assert!(
                findings.problems.is_empty(),
                "{label}, kill {kill}, AUDIT_CRASH_SEED={seed}:\n{}",
                findings.problems.join("\n")
            );
            events_before = findings.events;
        }
        // The kills interrupted real work: the log grew under them.
        assert!(
            events_before as u64 >= kills,
            "{label}: only {events_before} events after {kills} kills"
        );
        // A worker that finishes leaves the same invariants.
        let finisher = start_worker(&url, seed.wrapping_sub(1), Some(20));
        let out = finisher.wait_with_output().unwrap();
        assert!(out.status.success(), "{label}: the finishing worker failed");
        let findings = check(&auditor).await.unwrap();
        assert!(
            findings.problems.is_empty(),
            "{label}: {:?}",
            findings.problems
        );
        assert!(findings.events > events_before, "{label}");
        eprintln!(
            "{label}: {kills} kills survived; {} memberships, {} membership events",
            findings.memberships, findings.events
        );
    }
}
