//! Append throughput: events per second written through the library, one
//! event per command (one command per transaction) and one command
//! emitting 100 events, on SQLite (WAL, `synchronous` FULL) and PostgreSQL.
//!
//! `scripts/bench.sh` runs this and writes the table in BENCHMARKS.md.

use std::time::{Duration, Instant};

use audit_core::{Actor, Auditor};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use example_app::domain::ProjectRef;
use example_app::events::StaffEvent;
use support::{databases_with_a_project, record};

mod support;

async fn commands_of(auditor: &Auditor, project: &ProjectRef, commands: u64, events: usize) {
    for _ in 0..commands {
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::system("bench"))
            .await
            .unwrap();
        record(&mut audit, project, events).await.unwrap();
        audit.commit().await.unwrap();
    }
}

fn append(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setups = runtime.block_on(databases_with_a_project("append"));
    for (name, auditor, project) in &setups {
        let mut group = c.benchmark_group(format!("append/{name}"));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(4));
        for events in [1usize, 100] {
            group.throughput(Throughput::Elements(events as u64));
            group.bench_function(format!("{events}-per-command"), |b| {
                b.to_async(&runtime).iter_custom(|iters| async move {
                    let start = Instant::now();
                    commands_of(auditor, project, iters, events).await;
                    start.elapsed()
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, append);
criterion_main!(benches);
