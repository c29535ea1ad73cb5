//! Rendering a page of 25 events: the batched presenter (one lookup per
//! kind of reference for the whole page) against a per-event presenter
//! (the reference system's approach: each event looks up its own
//! references), on SQLite and PostgreSQL. Time per page, and the lookups
//! each issues, written to `target/criterion/render-queries.json`.
//!
//! `scripts/bench.sh` runs this and writes the table in BENCHMARKS.md.

use std::time::Duration;

use audit_core::present::PresentContext;
use audit_core::query::{EventQuery, StoredEvent};
use audit_core::{Actor, Auditor};
use criterion::{Criterion, criterion_group, criterion_main};
use example_app::commands;
use example_app::domain::{Role, Roles};
use example_app::events::StaffEvent;
use example_app::present::StaffResolver;
use sqlx::sqlite::SqliteSynchronous;
use support::{postgres, sqlite};

mod support;

const PAGE: u32 = 25;

/// 25 members, each a different user, added to 5 projects by one admin.
async fn fill(auditor: &Auditor) {
    example_app::schema::migrate(auditor).await.unwrap();
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("bench"))
        .await
        .unwrap();
    let admin = commands::add_user(&mut audit, "admin", Roles::new())
        .await
        .unwrap();
    audit.commit().await.unwrap();
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::user(admin.id, &admin.username))
        .await
        .unwrap();
    let mut projects = Vec::new();
    for p in 0..5 {
        projects.push(
            commands::add_project(&mut audit, &format!("project-{p}"))
                .await
                .unwrap(),
        );
    }
    for i in 0..PAGE as usize {
        let user = commands::add_user(&mut audit, &format!("user-{i}"), Roles::new())
            .await
            .unwrap();
        let roles: Roles = [Role::ProjectDeveloper].into_iter().collect();
        commands::add_member(&mut audit, &projects[i % 5], &user, roles)
            .await
            .unwrap();
    }
    audit.commit().await.unwrap();
}

/// One lookup round for the whole page.
async fn batched(events: &[StoredEvent<StaffEvent>], resolver: &StaffResolver) -> Vec<String> {
    let cx = PresentContext::for_page(events, resolver).await.unwrap();
    events.iter().map(|e| e.render(&cx)).collect()
}

/// A lookup round per event.
async fn per_event(events: &[StoredEvent<StaffEvent>], resolver: &StaffResolver) -> Vec<String> {
    let mut html = Vec::with_capacity(events.len());
    for event in events {
        let cx = PresentContext::for_page(std::slice::from_ref(event), resolver)
            .await
            .unwrap();
        html.push(event.render(&cx));
    }
    html
}

fn render(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let auditors: Vec<(&str, Auditor)> = runtime.block_on(async {
        let mut auditors = vec![("sqlite", sqlite(SqliteSynchronous::Full, "render").await)];
        if let Some(pg) = postgres().await {
            auditors.push(("postgres", pg));
        }
        for (_, auditor) in &auditors {
            fill(auditor).await;
        }
        auditors
    });
    let mut queries = serde_json::Map::new();
    for (name, auditor) in &auditors {
        let events = runtime.block_on(async {
            auditor
                .query::<StaffEvent>(&EventQuery::new().limit(PAGE))
                .await
                .unwrap()
                .events
        });
        assert_eq!(events.len(), PAGE as usize);
        // The two presenters show the same page; count what each asks.
        let (a, b) = (
            StaffResolver::new(auditor.clone()),
            StaffResolver::new(auditor.clone()),
        );
        let (one, other) =
            runtime.block_on(async { (batched(&events, &a).await, per_event(&events, &b).await) });
        assert_eq!(one, other);
        queries.insert(
            name.to_string(),
            serde_json::json!({"batched": a.queries(), "per-event": b.queries()}),
        );

        let mut group = c.benchmark_group(format!("render/{name}"));
        group
            .sample_size(30)
            .measurement_time(Duration::from_secs(3));
        let resolver = StaffResolver::new(auditor.clone());
        group.bench_function("batched", |bench| {
            bench
                .to_async(&runtime)
                .iter(|| batched(&events, &resolver));
        });
        group.bench_function("per-event", |bench| {
            bench
                .to_async(&runtime)
                .iter(|| per_event(&events, &resolver));
        });
        group.finish();
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("render-queries.json"),
        serde_json::to_string_pretty(&queries).unwrap(),
    )
    .unwrap();
}

criterion_group!(benches, render);
criterion_main!(benches);
