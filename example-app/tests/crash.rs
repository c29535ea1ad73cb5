//! Crash test: four worker processes at once run membership commands in a
//! loop on shared memberships and are killed with SIGKILL at random
//! moments; after each round of kills the checker verifies that every
//! change in the tables has its events and every event its change, that no
//! event is there twice, and that each membership's roles events form an
//! unbroken chain. On every available backend.
//!
//! `AUDIT_CRASH_KILLS` sets the number of kills per backend (200 by
//! default, rounded up to a whole number of rounds); `AUDIT_CRASH_SEED`
//! replays a run (the seed is printed).
//!
//! Where the worker lives: in this test's own executable, as the ignored
//! test [`worker_process`], which the test starts as a process of its own
//! (`std::env::current_exe()` with `worker_process --exact --ignored
//! --nocapture`, told what to do by environment variables). The shipped
//! `example-app` binary has no test code, and this executable is the one
//! worker that is always there and always as new as the test: Cargo builds
//! it for every selection that runs the test (`cargo test --workspace`,
//! `-p example-app`, `--test crash`, and nextest). The alternatives fall
//! short: `CARGO_BIN_EXE_<name>` names only `[[bin]]` targets, which `cargo
//! install` would install too (or, with `required-features`, which a plain
//! `cargo test` does not build); an `[[example]]` or another test target is
//! not built by `cargo test --test crash`, so its file would be missing or
//! left from an older build.

mod common;
#[path = "crash/worker.rs"]
mod worker;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::Duration;

use example_app::crash::{Rng, check};

/// Worker processes running at once.
const WORKERS: u64 = 4;
/// Changes each finishing worker commits before it exits.
const FINISH_LIMIT: u64 = 20;
/// A worker is killed at a random moment within this many milliseconds of
/// the round's last start.
const KILL_WINDOW_MS: u64 = 40;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// A running worker process.
struct Worker {
    seed: u64,
    child: Child,
    stdout: BufReader<ChildStdout>,
}

/// How a worker ended, with what it printed.
struct Ended {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Worker {
    /// Starts a worker (this executable, running [`worker_process`]);
    /// returns once it is set up and working.
    fn start(url: &str, seed: u64, limit: Option<u64>) -> Worker {
        let exe = std::env::current_exe().expect("the crash test's own executable");
        let mut command = Command::new(exe);
        // `--nocapture`: the worker's lines go to its standard output as it
        // prints them, not to the test harness's buffer.
        command
            .args(["worker_process", "--exact", "--ignored", "--nocapture"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let config = worker::Config {
            url: url.to_owned(),
            seed,
            limit,
        };
        config.pass_to(&mut command);
        let mut child = command.spawn().expect("start the worker");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // The test harness prints its own lines (`running 1 test`) first.
        let mut before = String::new();
        let ready = loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break false;
            }
            if line.trim() == "ready" {
                break true;
            }
            before.push_str(&line);
        };
        let mut worker = Worker {
            seed,
            child,
            stdout,
        };
        if !ready {
            let ended = worker.wait();
            panic!(
                "the worker failed to start (seed {seed}, {}): {}{}",
                ended.status, before, ended.stderr
            );
        }
        worker
    }

    /// Waits for the worker to end and reads the rest of its output.
    fn wait(&mut self) -> Ended {
        let status = self.child.wait().unwrap();
        let mut stdout = String::new();
        self.stdout.read_to_string(&mut stdout).unwrap();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            pipe.read_to_string(&mut stderr).unwrap();
        }
        Ended {
            status,
            stdout,
            stderr,
        }
    }
}

/// Starts `WORKERS` workers, one after the other: each start runs the
/// app's migrations, whose DDL two processes starting at the same moment
/// would deadlock on (PostgreSQL). Once started, they all work at once.
fn start_workers(url: &str, seeds: impl Iterator<Item = u64>, limit: Option<u64>) -> Vec<Worker> {
    seeds.map(|seed| Worker::start(url, seed, limit)).collect()
}

/// The figures a finishing worker prints: committed, gone, retried.
fn figures(stdout: &str) -> Option<(u64, u64, u64)> {
    let line = stdout.lines().find(|l| l.starts_with("committed "))?;
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    match numbers[..] {
        [committed, gone, retried] => Some((committed, gone, retried)),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_workers_leave_no_change_without_its_events() {
    let kills = env_u64("AUDIT_CRASH_KILLS").unwrap_or(200);
    let rounds = kills.div_ceil(WORKERS).max(1);
    let seed = env_u64("AUDIT_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    eprintln!(
        "crash test: {rounds} rounds of {WORKERS} workers killed per backend, AUDIT_CRASH_SEED={seed}"
    );
    for auditor in common::auditors("crash").await {
        let label = common::label(&auditor);
        let url = common::url_of(&auditor).await;
        let started = std::time::Instant::now();
        let mut rng = Rng::new(seed);
        let mut events_before = 0;
        for round in 0..rounds {
            let seeds = (0..WORKERS).map(|w| seed.wrapping_add(round * WORKERS + w));
            let mut workers = start_workers(&url, seeds, None);
            // Each worker is killed at its own random moment.
            let mut moments: Vec<(u64, usize)> = (0..workers.len())
                .map(|w| (rng.below(KILL_WINDOW_MS), w))
                .collect();
            moments.sort_unstable();
            let mut waited = 0;
            for (at, w) in moments {
                tokio::time::sleep(Duration::from_millis(at - waited)).await;
                waited = at;
                // A worker that already ended has its status checked below.
                let _ = workers[w].child.kill();
            }
            for worker in &mut workers {
                let ended = worker.wait();
                assert_eq!(
                    ended.status.signal(),
                    Some(9),
                    "{label}, round {round}: worker (seed {}) ended before it was killed, {}; \
                     AUDIT_CRASH_SEED={seed}:\n{}",
                    worker.seed,
                    ended.status,
                    ended.stderr
                );
            }
            let findings = check(&auditor).await.unwrap();
            assert!(
                findings.problems.is_empty(),
                "{label}, round {round}, AUDIT_CRASH_SEED={seed}:\n{}",
                findings.problems.join("\n")
            );
            events_before = findings.events;
        }
        // The kills interrupted real work: the log grew under them.
        assert!(
            events_before as u64 >= rounds,
            "{label}: only {events_before} events after {rounds} rounds"
        );
        // Workers that finish, contending all the while, leave the same
        // invariants, and none of them fails.
        let seeds = (1..=WORKERS).map(|w| seed.wrapping_sub(w));
        let mut finishers = start_workers(&url, seeds, Some(FINISH_LIMIT));
        let (mut gone, mut retried) = (0, 0);
        for worker in &mut finishers {
            let ended = worker.wait();
            assert!(
                ended.status.success() && !ended.stderr.to_lowercase().contains("error"),
                "{label}: a finishing worker (seed {}) failed, {}; AUDIT_CRASH_SEED={seed}:\n{}",
                worker.seed,
                ended.status,
                ended.stderr
            );
            let (committed, g, r) = figures(&ended.stdout)
                .unwrap_or_else(|| panic!("{label}: no figures in {:?}", ended.stdout));
            assert_eq!(committed, FINISH_LIMIT, "{label}");
            (gone, retried) = (gone + g, retried + r);
        }
        let findings = check(&auditor).await.unwrap();
        assert!(
            findings.problems.is_empty(),
            "{label}, AUDIT_CRASH_SEED={seed}:\n{}",
            findings.problems.join("\n")
        );
        assert!(findings.events > events_before, "{label}");
        eprintln!(
            "{label}: {} kills survived in {:.1} s; {} memberships, {} users, {} events \
             ({} membership events, {} roles links checked); finishers: {} changes gone, {} attempts retried",
            rounds * WORKERS,
            started.elapsed().as_secs_f64(),
            findings.memberships,
            findings.users,
            findings.events,
            findings.membership_events,
            findings.roles_links,
            gone,
            retried
        );
    }
}

/// The worker process the crash test starts (see the top of this file): it
/// does nothing when run as a test of its own (`--ignored` without the
/// worker's environment variables).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "the crash test's worker process, which the crash test starts itself"]
async fn worker_process() {
    match worker::Config::from_env() {
        Some(config) => worker::main(config).await,
        None => eprintln!("not started by the crash test: nothing to do"),
    }
}
