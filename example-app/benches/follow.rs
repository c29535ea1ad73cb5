//! Follower throughput: how fast [`Auditor::read_after`] reads the log
//! forward, on SQLite (WAL, `synchronous` FULL) and PostgreSQL (when
//! `AUDIT_TEST_POSTGRES_URL` is set; skipped with a notice when not).
//!
//! Setup, untimed: a new database per backend (the support module's), with
//! `AUDIT_BENCH_FOLLOW_EVENTS` events (default 200,000, rounded up to whole
//! transactions) written through the library's write path, one command of
//! 100 events per transaction (the append bench's `record`), by
//! `AUDIT_BENCH_FOLLOW_FILL_TASKS` concurrent tasks (default 4: on
//! PostgreSQL the transactions then interleave, so commit order, id order
//! and transaction id order differ, as with any concurrent writers); then,
//! on PostgreSQL, `VACUUM (ANALYZE)` (so that autovacuum does not visit the
//! new rows during a timed round).
//!
//! Two cases:
//!
//! - `catch-up`: a follower reads the whole log, from `Position::START` to
//!   the end, `read_after(position, AUDIT_BENCH_FOLLOW_BATCH)` (default
//!   1,000, the most a read returns) after `read_after`, each read going on
//!   from the last one's `next`; decoding the events is part of the time.
//!   One untimed read of the whole log per backend first (it also counts
//!   the events, which every timed read must find again), then
//!   `AUDIT_BENCH_FOLLOW_ROUNDS` rounds (default 7); each round reads the
//!   whole log once on every backend, the backends' order rotated by one
//!   each round. A round's figure is the events read divided by the read's
//!   wall time; reported: the median [min–max] over the rounds.
//! - `live`: one writer task commits 100-event transactions without pause
//!   while the follower, starting at the end of the log, tails it until it
//!   has read `AUDIT_BENCH_FOLLOW_LIVE_EVENTS` events written during the
//!   round (default 20,000; 0 skips the case); when a read returns nothing
//!   it sleeps `AUDIT_BENCH_FOLLOW_POLL_MS` (default 1) before the next.
//!   `AUDIT_BENCH_FOLLOW_LIVE_ROUNDS` rounds (default 5), backends rotated;
//!   after each round the writer stops and the follower reads to the end,
//!   untimed. Reported per round: the follower's events/s (events read
//!   divided by the time from the writer's start to the last read) and the
//!   writer's (events committed in that time, divided by it); and, pooled
//!   over the rounds, the lag of each transaction: from its `commit()`
//!   returning in the writer to the `read_after` that returned its last
//!   event returning in the follower (0 when the follower read it before
//!   the writer's `commit()` returned). One writer, so the follower reads
//!   the transactions in the order they were committed (checked: the 100
//!   events of each share one command id).
//!
//! `AUDIT_BENCH_FOLLOW_BACKENDS` chooses the backends
//! (`sqlite-wal-full,postgres` by default). Results go to stdout as a
//! Markdown table and to `target/audit-bench/follow.jsonl` (one JSON
//! object a line; `AUDIT_BENCH_FOLLOW_OUT` overrides the path; cargo runs
//! benches in `example-app/`, so a relative path starts there). The
//! databases are removed at the end. `scripts/before_after.sh` runs this
//! beside the overhead bench on two builds of the library; it uses only
//! public API that positions have had since they exist, so that one copy of
//! this file builds against both.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use audit_core::query::{MAX_PAGE_SIZE, Position};
use audit_core::store::Backend;
use audit_core::{Actor, Auditor};
use example_app::domain::ProjectRef;
use example_app::events::StaffEvent;
use serde_json::json;
use support::{
    conditions, databases_with_a_project, env_number, median, percentile, pg_pool, record,
    sqlite_pool,
};

mod support;

/// Events per written transaction (one command each).
const TX_EVENTS: u64 = 100;

/// The backends this bench knows, as the support module names them.
const BACKENDS: [&str; 2] = ["sqlite-wal-full", "postgres"];

/// The bench's knobs, from the environment.
struct Settings {
    /// Events written before the catch-up reads (a multiple of `TX_EVENTS`).
    events: u64,
    /// Tasks writing them.
    fill_tasks: u64,
    /// `read_after`'s limit.
    batch: u32,
    /// Catch-up rounds.
    rounds: usize,
    /// Events the follower reads per live round (0: no live case).
    live_events: u64,
    /// Live rounds.
    live_rounds: usize,
    /// The follower's pause after a read that returned nothing.
    poll: Duration,
    /// The backends to run.
    backends: Vec<&'static str>,
}

impl Settings {
    fn from_env() -> Settings {
        let batch = env_number("AUDIT_BENCH_FOLLOW_BATCH", 1000);
        assert!(
            (1..=u64::from(MAX_PAGE_SIZE)).contains(&batch),
            "AUDIT_BENCH_FOLLOW_BATCH must be 1 to {MAX_PAGE_SIZE} (read_after returns at most that many)"
        );
        let backends = match std::env::var("AUDIT_BENCH_FOLLOW_BACKENDS") {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(|b| {
                    BACKENDS
                        .iter()
                        .copied()
                        .find(|known| *known == b)
                        .unwrap_or_else(|| {
                            panic!("AUDIT_BENCH_FOLLOW_BACKENDS: {b:?} is not one of {BACKENDS:?}")
                        })
                })
                .collect(),
            _ => BACKENDS.to_vec(),
        };
        let settings = Settings {
            events: env_number("AUDIT_BENCH_FOLLOW_EVENTS", 200_000)
                .div_ceil(TX_EVENTS)
                .max(1)
                * TX_EVENTS,
            fill_tasks: env_number("AUDIT_BENCH_FOLLOW_FILL_TASKS", 4).max(1),
            batch: batch as u32,
            rounds: env_number("AUDIT_BENCH_FOLLOW_ROUNDS", 7) as usize,
            live_events: env_number("AUDIT_BENCH_FOLLOW_LIVE_EVENTS", 20_000),
            live_rounds: env_number("AUDIT_BENCH_FOLLOW_LIVE_ROUNDS", 5) as usize,
            poll: Duration::from_millis(env_number("AUDIT_BENCH_FOLLOW_POLL_MS", 1)),
            backends,
        };
        assert!(
            settings.rounds >= 1 && settings.live_rounds >= 1,
            "AUDIT_BENCH_FOLLOW_ROUNDS and AUDIT_BENCH_FOLLOW_LIVE_ROUNDS must be at least 1"
        );
        if settings.rounds < 7 {
            eprintln!(
                "note: AUDIT_BENCH_FOLLOW_ROUNDS={} is below 7: a smoke run, not a figure to quote",
                settings.rounds
            );
        }
        settings
    }
}

/// Where the JSON lines go.
fn out_path() -> PathBuf {
    if let Ok(path) = std::env::var("AUDIT_BENCH_FOLLOW_OUT") {
        return PathBuf::from(path);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("audit-bench").join("follow.jsonl")
}

/// One backend's log.
struct Setup {
    name: &'static str,
    conditions: String,
    auditor: Auditor,
    project: ProjectRef,
    /// Events in the log after the fill (the fill's, the project's and
    /// whatever the migration recorded), as the untimed read counted them.
    total: u64,
    /// The end of the log: where the live case's follower starts.
    end: Position,
}

/// One transaction of `TX_EVENTS` events, committed.
async fn write_transaction(auditor: &Auditor, project: &ProjectRef) {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("bench"))
        .await
        .unwrap();
    record(&mut audit, project, TX_EVENTS as usize)
        .await
        .unwrap();
    audit.commit().await.unwrap();
}

/// Writes `events` events, `TX_EVENTS` per transaction, by `tasks` tasks.
async fn fill(name: &str, auditor: &Auditor, project: &ProjectRef, events: u64, tasks: u64) {
    let transactions = events / TX_EVENTS;
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let share = transactions / tasks + u64::from(task < transactions % tasks);
        let (auditor, project, done) = (auditor.clone(), project.clone(), done.clone());
        let name = name.to_owned();
        handles.push(tokio::spawn(async move {
            for _ in 0..share {
                write_transaction(&auditor, &project).await;
                let i = done.fetch_add(1, Ordering::Relaxed) + 1;
                if i.is_multiple_of(500) || i == transactions {
                    eprint!(
                        "\r  {name}: filled {} of {events} events ({:.0} events/s)",
                        i * TX_EVENTS,
                        (i * TX_EVENTS) as f64 / start.elapsed().as_secs_f64()
                    );
                }
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    eprintln!();
}

/// Reads from `from` until the log has nothing more: the events read and
/// the position reached. Only when no writer runs (a read that returns
/// fewer events than asked and nothing held back is the end).
async fn read_to_end(auditor: &Auditor, from: Position, batch: u32) -> (u64, Position) {
    let mut position = from;
    let mut read = 0u64;
    loop {
        let tail = auditor
            .read_after::<StaffEvent>(position, batch)
            .await
            .unwrap();
        read += tail.events.len() as u64;
        position = tail.next;
        if tail.events.len() < batch as usize {
            match tail.held_back {
                None => return (read, position),
                Some(held) => {
                    eprintln!("note: {held}; waiting");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn spread(values: &[f64]) -> serde_json::Value {
    json!({
        "median": median(values),
        "min": min(values),
        "max": max(values),
        "per_round": values,
    })
}

/// One live round's measurements.
struct LiveRound {
    /// Events the follower read, all written during the round.
    read: u64,
    /// Follower events per second.
    follower_rate: f64,
    /// Writer events per second over the same time.
    writer_rate: f64,
    /// Each fully read transaction's lag, in ms.
    lags_ms: Vec<f64>,
}

/// One writer committing `TX_EVENTS`-event transactions until told to stop,
/// while the follower tails the log from `setup.end` until it has read
/// `settings.live_events` events; then the follower reads to the end of the
/// log (untimed) and `setup.end` moves there.
async fn live_round(setup: &mut Setup, settings: &Settings) -> LiveRound {
    let stop = Arc::new(AtomicBool::new(false));
    let commits: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let writer = {
        let (auditor, project) = (setup.auditor.clone(), setup.project.clone());
        let (stop, commits) = (stop.clone(), commits.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                write_transaction(&auditor, &project).await;
                commits.lock().unwrap().push(Instant::now());
            }
        })
    };
    let start = Instant::now();
    let mut position = setup.end;
    let mut read = 0u64;
    // When each transaction's last event was read, in commit order.
    let mut read_at: Vec<Instant> = Vec::new();
    let mut command: Option<String> = None;
    let mut progress = Instant::now();
    while read < settings.live_events {
        let tail = setup
            .auditor
            .read_after::<StaffEvent>(position, settings.batch)
            .await
            .unwrap();
        let now = Instant::now();
        if tail.events.is_empty() {
            assert!(
                now.duration_since(progress) < Duration::from_secs(60),
                "{}: the follower read nothing for 60 s (writer stopped?)",
                setup.name
            );
            tokio::time::sleep(settings.poll).await;
            continue;
        }
        progress = now;
        for event in &tail.events {
            if read.is_multiple_of(TX_EVENTS) {
                command = Some(event.command_id.clone());
            } else {
                assert_eq!(
                    command.as_deref(),
                    Some(event.command_id.as_str()),
                    "{}: a transaction's events came apart in the follower's order",
                    setup.name
                );
            }
            read += 1;
            if read.is_multiple_of(TX_EVENTS) {
                read_at.push(now);
            }
        }
        position = tail.next;
    }
    let end = Instant::now();
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let commits = commits.lock().unwrap().clone();
    let secs = end.duration_since(start).as_secs_f64();
    let committed = commits.iter().filter(|at| **at <= end).count() as u64 * TX_EVENTS;
    let lags_ms = read_at
        .iter()
        .zip(&commits)
        .map(|(read, committed)| read.saturating_duration_since(*committed).as_secs_f64() * 1e3)
        .collect();
    let (_, end_position) = read_to_end(&setup.auditor, position, settings.batch).await;
    setup.end = end_position;
    LiveRound {
        read,
        follower_rate: read as f64 / secs,
        writer_rate: committed as f64 / secs,
        lags_ms,
    }
}

/// Removes what the bench made: the SQLite files (the ones made since
/// `before`, named after the bench) and the PostgreSQL database.
async fn clean_up(setups: Vec<Setup>, sqlite_before: &[PathBuf]) {
    for setup in setups {
        if setup.auditor.backend() == Backend::Postgres {
            let name: String = sqlx::query_scalar("SELECT current_database()")
                .fetch_one(pg_pool(&setup.auditor))
                .await
                .unwrap();
            pg_pool(&setup.auditor).close().await;
            if let Ok(url) = std::env::var("AUDIT_TEST_POSTGRES_URL") {
                let admin = Auditor::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(pg_pool(&admin))
                .await
                .unwrap();
            }
        } else {
            sqlite_pool(&setup.auditor).close().await;
        }
    }
    for path in sqlite_files() {
        if !sqlite_before.contains(&path) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The SQLite files of this bench in the support module's directory.
fn sqlite_files() -> Vec<PathBuf> {
    let dir = std::env::temp_dir().join("audit-bench");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("follow-"))
        })
        .collect()
}

fn main() {
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sqlite_before = sqlite_files();
    let (table, lines) = runtime.block_on(async {
        let mut setups = Vec::new();
        let made = databases_with_a_project("follow").await;
        if settings.backends.contains(&"postgres") && !made.iter().any(|(n, ..)| *n == "postgres")
        {
            eprintln!("notice: AUDIT_TEST_POSTGRES_URL is not set; PostgreSQL is skipped");
        }
        for (name, auditor, project) in made {
            if !settings.backends.contains(&name) {
                continue;
            }
            fill(name, &auditor, &project, settings.events, settings.fill_tasks).await;
            if auditor.backend() == Backend::Postgres {
                // Autovacuum would otherwise visit the new rows at a moment
                // of its choosing, maybe in the middle of a timed round.
                sqlx::raw_sql("VACUUM (ANALYZE)")
                    .execute(pg_pool(&auditor))
                    .await
                    .unwrap();
            }
            // The untimed read: it warms the caches, sets PostgreSQL's hint
            // bits on the new rows and counts the log.
            let (total, end) = read_to_end(&auditor, Position::START, settings.batch).await;
            setups.push(Setup {
                name,
                conditions: conditions(
                    &auditor,
                    &["server_version", "synchronous_commit", "shared_buffers"],
                )
                .await,
                auditor,
                project,
                total,
                end,
            });
        }

        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
        for round in 0..settings.rounds {
            for i in 0..setups.len() {
                let index = (i + round) % setups.len();
                let setup = &setups[index];
                let start = Instant::now();
                let (read, _) = read_to_end(&setup.auditor, Position::START, settings.batch).await;
                let secs = start.elapsed().as_secs_f64();
                assert_eq!(read, setup.total, "{}: every read finds the whole log", setup.name);
                rates[index].push(read as f64 / secs);
                eprintln!(
                    "  {} catch-up round {}/{}: {read} events in {secs:.2} s, {:.0} events/s",
                    setup.name,
                    round + 1,
                    settings.rounds,
                    read as f64 / secs
                );
            }
        }

        let mut live: Vec<Vec<LiveRound>> = (0..setups.len()).map(|_| Vec::new()).collect();
        if settings.live_events > 0 {
            for round in 0..settings.live_rounds {
                for i in 0..setups.len() {
                    let index = (i + round) % setups.len();
                    let r = live_round(&mut setups[index], &settings).await;
                    eprintln!(
                        "  {} live round {}/{}: follower {:.0} events/s, writer {:.0} events/s, \
                         lag median {:.1} ms",
                        setups[index].name,
                        round + 1,
                        settings.live_rounds,
                        r.follower_rate,
                        r.writer_rate,
                        median(&r.lags_ms)
                    );
                    live[index].push(r);
                }
            }
        }

        let mut lines = Vec::new();
        let mut table = String::new();
        writeln!(
            table,
            "catch-up: {} rounds, the whole log read from Position::START by read_after({}), \
             after one untimed read; {} events written in transactions of {TX_EVENTS} by {} \
             task(s)\n",
            settings.rounds, settings.batch, settings.events, settings.fill_tasks
        )
        .unwrap();
        table.push_str(
            "| backend | events | batch | events/s, median [min–max] | s per read, median |\n\
             |---|---:|---:|---:|---:|\n",
        );
        for (setup, r) in setups.iter().zip(&rates) {
            writeln!(
                table,
                "| {} | {} | {} | {:.0} [{:.0}–{:.0}] | {:.2} |",
                setup.name,
                setup.total,
                settings.batch,
                median(r),
                min(r),
                max(r),
                setup.total as f64 / median(r)
            )
            .unwrap();
            lines.push(json!({
                "bench": "follow",
                "case": "catch-up",
                "backend": setup.name,
                "conditions": setup.conditions,
                "events": setup.total,
                "written": settings.events,
                "transaction_events": TX_EVENTS,
                "fill_tasks": settings.fill_tasks,
                "batch": settings.batch,
                "rounds": settings.rounds,
                "events_per_s": spread(r),
            }));
        }
        if settings.live_events > 0 {
            writeln!(
                table,
                "\nlive: {} rounds; 1 writer task committing transactions of {TX_EVENTS} events \
                 while the follower tails the log until it has read {} of them \
                 (read_after({}), {} ms pause after an empty read)\n",
                settings.live_rounds,
                settings.live_events,
                settings.batch,
                settings.poll.as_millis()
            )
            .unwrap();
            table.push_str(
                "| backend | follower events/s, median [min–max] | writer events/s, median [min–max] \
                 | lag ms, median / p95 / max |\n|---|---:|---:|---:|\n",
            );
            for (setup, rounds) in setups.iter().zip(&live) {
                let follower: Vec<f64> = rounds.iter().map(|r| r.follower_rate).collect();
                let writer: Vec<f64> = rounds.iter().map(|r| r.writer_rate).collect();
                let lags: Vec<f64> = rounds.iter().flat_map(|r| r.lags_ms.clone()).collect();
                writeln!(
                    table,
                    "| {} | {:.0} [{:.0}–{:.0}] | {:.0} [{:.0}–{:.0}] | {:.1} / {:.1} / {:.1} |",
                    setup.name,
                    median(&follower),
                    min(&follower),
                    max(&follower),
                    median(&writer),
                    min(&writer),
                    max(&writer),
                    median(&lags),
                    percentile(&lags, 95.0),
                    max(&lags)
                )
                .unwrap();
                lines.push(json!({
                    "bench": "follow",
                    "case": "live",
                    "backend": setup.name,
                    "conditions": setup.conditions,
                    "events": rounds.iter().map(|r| r.read).sum::<u64>() / rounds.len() as u64,
                    "transaction_events": TX_EVENTS,
                    "batch": settings.batch,
                    "poll_ms": settings.poll.as_millis() as u64,
                    "rounds": settings.live_rounds,
                    "events_per_s": spread(&follower),
                    "writer_events_per_s": spread(&writer),
                    "lag_ms": {
                        "median": median(&lags),
                        "p95": percentile(&lags, 95.0),
                        "max": max(&lags),
                        "transactions": lags.len(),
                        "per_round_median": rounds.iter().map(|r| median(&r.lags_ms)).collect::<Vec<_>>(),
                    },
                }));
            }
        }
        clean_up(setups, &sqlite_before).await;
        (table, lines)
    });
    let path = out_path();
    std::fs::create_dir_all(path.parent().expect("the output path names a file")).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for line in &lines {
        writeln!(file, "{line}").unwrap();
    }
    file.flush().unwrap();
    println!("{table}");
    let shown = std::fs::canonicalize(&path).unwrap_or(path);
    println!("(JSON lines: {})", shown.display());
}
