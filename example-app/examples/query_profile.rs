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

/// Prints page `page`'s ratio library / hand over 15 alternating rounds of
/// `runs` queries each way.
async fn compare(auditor: &Auditor, page: &str, runs: u32) {
    let r = pages::compare(auditor, page, runs, 15).await;
    println!(
        "{page}: library {:.0} µs, hand {:.0} µs, library / hand {:.2} [{:.2}–{:.2}]",
        r.library_us, r.hand_us, r.median, r.min, r.max
    );
}
