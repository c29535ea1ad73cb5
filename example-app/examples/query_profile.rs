//! Runs one page query of the scale bench N times, through the library or
//! by hand through sqlx, on the log the scale bench loaded: a driver for
//! `valgrind --tool=callgrind`, whose instruction counts compare the two
//! deterministically where timings on a shared machine do not.
//!
//! ```text
//! cargo build --release -p example-app --example query_profile
//! AUDIT_SCALE_EVENTS=200000 valgrind --tool=callgrind \
//!     target/release/examples/query_profile sqlite project library 100
//! ```
//!
//! Arguments: `sqlite|postgres`, a page (`project`, `user`, `type`,
//! `global`), `library|hand`, and how many runs (after one untimed warm-up
//! run, which prepares the statement). PostgreSQL needs
//! `AUDIT_TEST_POSTGRES_URL`. Run it with 0 and with N runs: the difference
//! divided by N is one query's instructions, start-up excluded.
//!
//! With the mode `compare`, it times instead: rounds of one block of N runs
//! through the library and one by hand (which goes first alternates), and
//! prints the per-round ratio library / hand as median [min–max] over 15
//! rounds, a ratio that holds on a shared machine where criterion's
//! sequential groups do not.

#[path = "../benches/pages/mod.rs"]
mod pages;

use audit_core::Auditor;
use example_app::events::StaffEvent;
use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [backend, page, mode, runs] = &args[..] else {
        eprintln!("usage: query_profile sqlite|postgres PAGE library|hand|compare RUNS");
        std::process::exit(2);
    };
    let runs: u32 = runs.parse().expect("RUNS is a number");
    let events: u64 = std::env::var("AUDIT_SCALE_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let auditor = match backend.as_str() {
            "sqlite" => {
                let path = pages::sqlite_path(events);
                assert!(
                    path.exists(),
                    "run the scale bench first: {}",
                    path.display()
                );
                let options = SqliteConnectOptions::new().filename(path);
                Auditor::connect_sqlite(options, SqliteSynchronous::Normal)
                    .await
                    .expect("the scale bench's SQLite log opens")
            }
            "postgres" => {
                let url = std::env::var("AUDIT_TEST_POSTGRES_URL")
                    .expect("AUDIT_TEST_POSTGRES_URL names the server");
                let base = url.rsplit_once('/').map_or(url.as_str(), |(s, _)| s);
                let name = pages::postgres_name(events);
                Auditor::connect(&format!("{base}/{name}"))
                    .await
                    .expect("the scale bench's PostgreSQL log opens")
            }
            other => panic!("no backend {other}"),
        };
        let query = pages::query(page);
        let library = match mode.as_str() {
            "library" => true,
            "hand" => false,
            "compare" => return compare(&auditor, page, runs).await,
            other => panic!("no mode {other}"),
        };
        let mut total = 0;
        for _ in 0..=runs {
            total += if library {
                let page = auditor.query::<StaffEvent>(&query).await.expect("a page");
                page.events.len()
            } else {
                pages::hand_page(&auditor, page).await.len()
            };
        }
        println!("{backend} {page} {mode}: {runs} runs after a warm-up, {total} rows");
    });
}

/// Times `runs` queries through the library, then (or first, every other
/// round) `runs` by hand, 15 rounds; prints the per-round ratio.
async fn compare(auditor: &Auditor, page: &str, runs: u32) {
    let query = pages::query(page);
    let library = async || {
        let start = std::time::Instant::now();
        for _ in 0..runs {
            let page = auditor.query::<StaffEvent>(&query).await.expect("a page");
            std::hint::black_box(page);
        }
        start.elapsed().as_secs_f64() / f64::from(runs)
    };
    let hand = async || {
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(pages::hand_page(auditor, page).await);
        }
        start.elapsed().as_secs_f64() / f64::from(runs)
    };
    // Warm-up: statements prepared, caches filled.
    library().await;
    hand().await;
    let mut rounds = Vec::new();
    for round in 0..15 {
        let (l, h) = if round % 2 == 0 {
            let l = library().await;
            (l, hand().await)
        } else {
            let h = hand().await;
            (library().await, h)
        };
        rounds.push((l, h));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratios: Vec<f64> = rounds.iter().map(|(l, h)| l / h).collect();
    let (min, max) = ratios
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), r| (a.min(*r), b.max(*r)));
    println!(
        "{page}: library {:.0} µs, hand {:.0} µs, library / hand {:.2} [{min:.2}–{max:.2}]",
        median(rounds.iter().map(|r| r.0 * 1e6).collect()),
        median(rounds.iter().map(|r| r.1 * 1e6).collect()),
        median(ratios),
    );
}
