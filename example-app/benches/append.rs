//! Append throughput: events per second written through the library, one
//! event per command (one command per transaction) and one command
//! emitting 100 events, on SQLite (WAL, `synchronous` FULL) and PostgreSQL.
//!
//! `scripts/bench.sh` runs this and writes the table in BENCHMARKS.md.

use std::time::{Duration, Instant};

use audit_core::{Actor, AuditError, Auditor, auditable};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use example_app::commands::{self, StaffAudit};
use example_app::domain::ProjectRef;
use example_app::events::{ProjectCreated, StaffEvent};
use sqlx::sqlite::SqliteSynchronous;
use support::{postgres, sqlite};

mod support;

/// Records that `project` was created, `count` times: the log's write path
/// alone, without the application's own SQL.
#[auditable(emits(ProjectCreated))]
async fn record(cx: &mut StaffAudit, project: &ProjectRef, count: usize) -> Result<(), AuditError> {
    for _ in 0..count {
        cx.emit(ProjectCreated {
            project: project.clone(),
        })?;
    }
    Ok(())
}

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
    let setups: Vec<(&str, Auditor, ProjectRef)> = runtime.block_on(async {
        let mut auditors = vec![(
            "sqlite-wal-full",
            sqlite(SqliteSynchronous::Full, "append").await,
        )];
        if let Some(pg) = postgres().await {
            auditors.push(("postgres", pg));
        }
        let mut setups = Vec::new();
        for (name, auditor) in auditors {
            example_app::schema::migrate(&auditor).await.unwrap();
            let mut audit = auditor
                .begin::<StaffEvent>(Actor::system("bench"))
                .await
                .unwrap();
            let project = commands::add_project(&mut audit, "append").await.unwrap();
            audit.commit().await.unwrap();
            setups.push((name, auditor, project));
        }
        setups
    });
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
