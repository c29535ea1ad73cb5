//! Sealing and verifying throughput, and what background sealing costs the
//! write path, on SQLite (WAL, `synchronous` FULL) and PostgreSQL.
//!
//! - `seal`: events sealed per second; each iteration first writes 10,000
//!   new events (100 per command; not timed), then seals them (timed).
//! - `verify`: the whole log as the seal runs left it, verified.
//! - `write`: one `add_project` command per transaction, without and with a
//!   task sealing in the background every second.
//!
//! `scripts/bench.sh` runs this and writes the table in BENCHMARKS.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use audit_core::seals::VerifyOptions;
use audit_core::{Actor, Auditor};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use example_app::commands;
use example_app::domain::ProjectRef;
use example_app::events::StaffEvent;
use support::{databases_with_a_project, record};

mod support;

/// Events written per timed seal.
const SEALED: u64 = 10_000;

/// Writes `events` events, 100 per command.
async fn write(auditor: &Auditor, project: &ProjectRef, events: u64) {
    for _ in 0..events / 100 {
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::system("bench"))
            .await
            .unwrap();
        record(&mut audit, project, 100).await.unwrap();
        audit.commit().await.unwrap();
    }
}

/// Seals until `events` more events are sealed (on PostgreSQL they become
/// stable once older transactions of the same database have ended).
async fn seal(auditor: &Auditor, events: u64) {
    let mut sealed = 0;
    while sealed < events {
        sealed += auditor.seal(None).await.unwrap().events;
    }
}

fn sealing(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setups = runtime.block_on(databases_with_a_project("seal"));
    for (name, auditor, project) in &setups {
        let mut group = c.benchmark_group(format!("seal/{name}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(10));
        group.throughput(Throughput::Elements(SEALED));
        group.bench_function("seal", |b| {
            b.to_async(&runtime).iter_custom(|iters| async move {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    write(auditor, project, SEALED).await;
                    let start = Instant::now();
                    seal(auditor, SEALED).await;
                    timed += start.elapsed();
                }
                timed
            });
        });
        // Verify the whole log as it now stands (every event sealed).
        let sealed = runtime.block_on(async {
            write(auditor, project, 20_000).await;
            seal(auditor, 20_000).await;
            let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
            assert!(report.is_intact(), "{:?}", report.divergences);
            report.events
        });
        group.throughput(Throughput::Elements(sealed));
        group.bench_function("verify", |b| {
            b.to_async(&runtime).iter(|| async {
                let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
                assert_eq!(report.events, sealed);
            });
        });
        group.finish();

        let mut group = c.benchmark_group(format!("seal-write/{name}"));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(5));
        let next = Arc::new(AtomicU64::new(0));
        for background in [false, true] {
            let stop = Arc::new(AtomicBool::new(false));
            let sealer = background.then(|| {
                let (auditor, stop) = (auditor.clone(), Arc::clone(&stop));
                runtime.spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        auditor.seal(None).await.unwrap();
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                })
            });
            let label = if background {
                "with-background-sealing"
            } else {
                "without-sealing"
            };
            let next = Arc::clone(&next);
            group.bench_function(label, |b| {
                b.to_async(&runtime).iter(|| {
                    let next = Arc::clone(&next);
                    async move {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let mut audit = auditor
                            .begin::<StaffEvent>(Actor::system("bench"))
                            .await
                            .unwrap();
                        commands::add_project(&mut audit, &format!("p{n}"))
                            .await
                            .unwrap();
                        audit.commit().await.unwrap();
                    }
                });
            });
            stop.store(true, Ordering::Relaxed);
            if let Some(sealer) = sealer {
                runtime.block_on(sealer).unwrap();
            }
        }
        group.finish();
    }
}

criterion_group!(benches, sealing);
criterion_main!(benches);
