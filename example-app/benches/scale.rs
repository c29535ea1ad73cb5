//! Queries at scale: a log of 1,000,000 events over 1,000 projects and
//! 10,000 users, written through the library by a bulk loader (with a
//! progress bar), then the newest page of 25 for one project, one user, one
//! type and the whole log, and page 1,000 (reached through the cursor)
//! against page 1. Measured in-process through `Auditor::query`, connection
//! set-up excluded, and each newest page also by hand through sqlx (the same
//! SQL and binds, every column read into owned values: `pages/mod.rs`).
//!
//! At that size, the append rate: one command of 100 events per iteration,
//! committed, on the loaded log (`append-100`).
//!
//! The loaded databases are kept (`target/audit-scale/` for SQLite, the
//! PostgreSQL database `audit_scale_1000000`) and reused by later runs.
//! `AUDIT_SCALE_EVENTS` sets another size (criterion's groups are then
//! `scale-<size>/<backend>`, and the side-by-side ratios go to
//! `target/audit-bench/scale-ratios-<size>.jsonl`), and
//! `AUDIT_SCALE_BACKENDS` the backends (`sqlite,postgres` by default;
//! `postgres` for the 10,000,000-event run `scripts/bench.sh` makes).
//!
//! `scripts/bench.sh` runs this and writes the table in BENCHMARKS.md.

use std::time::Duration;

mod pages;

use audit_core::query::{Cursor, EventQuery};
use audit_core::store::{Backend, Pool};
use audit_core::{Actor, AuditError, Auditor, auditable};
use criterion::{Criterion, criterion_group, criterion_main};
use example_app::commands::StaffAudit;
use example_app::crash::Rng;
use example_app::domain::{MembershipId, ProjectRef, Role, Roles, UserRef};
use example_app::events::{
    ProjectCreated, ProjectMemberAdded, ProjectMemberRemoved, ProjectMemberUpdatedRoles,
    StaffEvent, UserUpdatedRoles,
};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};

const PROJECTS: u64 = 1_000;
const USERS: u64 = 10_000;
const EVENTS_PER_COMMAND: u64 = 1_000;
const PAGE: u32 = pages::PAGE;

/// The backends to run, from `AUDIT_SCALE_BACKENDS` (both by default).
fn backends_wanted() -> Vec<String> {
    std::env::var("AUDIT_SCALE_BACKENDS")
        .unwrap_or_else(|_| "sqlite,postgres".into())
        .split(',')
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty())
        .collect()
}

/// The name of this size's criterion groups and ratio file: `scale` at
/// 1,000,000 events (the report's main table), `scale-<size>` otherwise.
fn size_label(wanted: u64) -> String {
    if wanted == 1_000_000 {
        "scale".to_owned()
    } else {
        format!("scale-{wanted}")
    }
}

fn events_wanted() -> u64 {
    std::env::var("AUDIT_SCALE_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// A number below `n` from `rng`, as an id.
fn below(rng: &mut Rng, n: u64) -> i64 {
    rng.below(n) as i64
}

fn user(id: i64) -> UserRef {
    UserRef {
        id,
        username: format!("user-{id}"),
    }
}

fn project(id: i64) -> ProjectRef {
    ProjectRef {
        id,
        name: format!("project-{id}"),
    }
}

/// One loader command: `count` events of mixed types on random projects
/// about random users.
#[auditable(emits(
    ProjectMemberAdded?,
    ProjectMemberUpdatedRoles?,
    ProjectMemberRemoved?,
    ProjectCreated?,
    UserUpdatedRoles?
))]
async fn load(cx: &mut StaffAudit, rng: &mut Rng, count: u64) -> Result<(), AuditError> {
    let dev: Roles = [Role::ProjectDeveloper].into_iter().collect();
    for _ in 0..count {
        let (p, u, m) = (
            project(below(rng, PROJECTS)),
            user(below(rng, USERS)),
            MembershipId(below(rng, 1 << 40)),
        );
        match rng.below(10) {
            0..=3 => cx.emit(ProjectMemberAdded {
                membership: m,
                project: p,
                user: u,
            })?,
            4..=6 => cx.emit(ProjectMemberUpdatedRoles {
                membership: m,
                project: p,
                user: u,
                before: Roles::new(),
                after: dev.clone(),
            })?,
            7 => cx.emit(ProjectMemberRemoved {
                membership: m,
                project: p,
                user: u,
            })?,
            8 => cx.emit(ProjectCreated { project: p })?,
            _ => cx.emit(UserUpdatedRoles {
                user: u,
                before: Roles::new(),
                after: dev.clone(),
            })?,
        }
    }
    Ok(())
}

async fn count(auditor: &Auditor) -> i64 {
    let sql = "SELECT COUNT(*) FROM audit_events";
    audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
    })
}

/// Loads the log up to `wanted` events, with a progress bar; each command
/// acts as a random user.
async fn fill(auditor: &Auditor, label: &str, wanted: u64) {
    auditor.migrate().await.unwrap();
    let have = count(auditor).await as u64;
    if have >= wanted {
        eprintln!("{label}: reusing {have} events");
        return;
    }
    let bar = ProgressBar::new(wanted).with_message(format!("loading {label}"));
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} events, {per_sec}, eta {eta}")
            .unwrap()
            .progress_chars("=> "),
    );
    bar.set_position(have);
    let mut rng = Rng::new(have);
    let mut loaded = have;
    while loaded < wanted {
        let n = EVENTS_PER_COMMAND.min(wanted - loaded);
        let actor = user(below(&mut rng, USERS));
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::user(actor.id, &actor.username))
            .await
            .unwrap();
        load(&mut audit, &mut rng, n).await.unwrap();
        audit.commit().await.unwrap();
        loaded += n;
        bar.set_position(loaded);
    }
    bar.finish();
}

async fn open_sqlite() -> Auditor {
    let path = pages::sqlite_path(events_wanted());
    std::fs::create_dir_all(path.parent().expect("a file in a directory")).unwrap();
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    Auditor::connect_sqlite(options, SqliteSynchronous::Normal)
        .await
        .unwrap()
}

async fn open_postgres() -> Option<Auditor> {
    let url = std::env::var("AUDIT_TEST_POSTGRES_URL").ok()?;
    let name = pages::postgres_name(events_wanted());
    let admin = Auditor::connect(&url).await.unwrap();
    let Pool::Postgres(pool) = admin.pool() else {
        unreachable!("a postgres:// URL opens PostgreSQL")
    };
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(pool)
            .await
            .unwrap();
    if !exists {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(pool)
            .await
            .unwrap();
    }
    let base = url.rsplit_once('/').map_or(url.as_str(), |(s, _)| s);
    Some(Auditor::connect(&format!("{base}/{name}")).await.unwrap())
}

/// The cursor of page `n` (1-based) of `query`.
async fn cursor_of_page(auditor: &Auditor, query: &EventQuery, n: u32) -> Cursor {
    let mut cursor = None;
    for _ in 1..n {
        let q = match cursor {
            Some(c) => query.clone().cursor(c),
            None => query.clone(),
        };
        cursor = auditor.query::<StaffEvent>(&q).await.unwrap().next;
    }
    cursor.expect("the log has that many pages")
}

fn scale(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let wanted = events_wanted();
    let backends = backends_wanted();
    let size = size_label(wanted);
    let auditors: Vec<(&str, Auditor)> = runtime.block_on(async {
        let mut all = Vec::new();
        if backends.iter().any(|b| b == "sqlite") {
            all.push(("sqlite", open_sqlite().await));
        }
        if backends.iter().any(|b| b == "postgres") {
            match open_postgres().await {
                Some(pg) => all.push(("postgres", pg)),
                None => eprintln!("notice: AUDIT_TEST_POSTGRES_URL unset; PostgreSQL skipped"),
            }
        }
        for (label, auditor) in &all {
            fill(auditor, label, wanted).await;
            let analyze = match auditor.backend() {
                Backend::Postgres => "VACUUM ANALYZE audit_events",
                Backend::Sqlite => "ANALYZE",
            };
            audit_core::on_backend!(auditor.pool(), pool => {
                sqlx::raw_sql(analyze).execute(pool).await.unwrap();
            });
        }
        all
    });
    pages::check_hand_sql();
    for (label, auditor) in &auditors {
        let mut group = c.benchmark_group(format!("{size}/{label}"));
        group
            .sample_size(50)
            .measurement_time(Duration::from_secs(3));
        for name in pages::NAMES {
            let query = pages::query(name);
            // 26 rows at 1,000,000 events; a smaller log may hold fewer
            // (the user's page at 200,000).
            let found = runtime.block_on(pages::hand_page(auditor, name)).len();
            // The same SQL and binds by hand through sqlx: what the driver
            // and the database cost, without the library.
            group.bench_function(format!("{name}-page-1-hand"), |b| {
                b.to_async(&runtime).iter(|| async {
                    let rows = pages::hand_page(auditor, name).await;
                    assert_eq!(rows.len(), found);
                })
            });
            group.bench_function(format!("{name}-page-1"), |b| {
                b.to_async(&runtime).iter(|| async {
                    let page = auditor.query::<StaffEvent>(&query).await.unwrap();
                    assert_eq!(page.events.len(), found.min(PAGE as usize));
                })
            });
            if matches!(name, "type" | "global") {
                let deep = runtime.block_on(cursor_of_page(auditor, &query, 1000));
                let deep_query = query.clone().cursor(deep);
                group.bench_function(format!("{name}-page-1000"), |b| {
                    b.to_async(&runtime).iter(|| async {
                        let page = auditor.query::<StaffEvent>(&deep_query).await.unwrap();
                        assert_eq!(page.events.len(), PAGE as usize);
                    })
                });
            }
        }
        // Appending at this size: one command of 100 events per iteration
        // (the log grows by a few thousand events over the measurement).
        let mut rng = Rng::new(wanted ^ 0xa99e);
        group.bench_function("append-100", |b| {
            b.to_async(&runtime).iter(|| {
                let actor = user(below(&mut rng, USERS));
                let mut command_rng = Rng::new(rng.below(u64::MAX));
                async move {
                    let mut audit = auditor
                        .begin::<StaffEvent>(Actor::user(actor.id, &actor.username))
                        .await
                        .unwrap();
                    load(&mut audit, &mut command_rng, 100).await.unwrap();
                    audit.commit().await.unwrap();
                }
            })
        });
        group.finish();
    }
    // Library against hand side by side, in alternating rounds: the ratio
    // the report quotes (criterion's groups run one after the other).
    let (runs, rounds) = (100, 15);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/audit-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let mut lines = String::new();
    for (label, auditor) in &auditors {
        for name in pages::NAMES {
            let r = runtime.block_on(pages::compare(auditor, name, runs, rounds));
            eprintln!(
                "{size}/{label}/{name}: library / hand {:.2} [{:.2}-{:.2}] over {rounds} rounds",
                r.median, r.min, r.max
            );
            let line = serde_json::json!({
                "backend": label, "page": name, "events": wanted, "runs": runs,
                "rounds": rounds, "library_us": r.library_us, "hand_us": r.hand_us,
                "ratio": {"median": r.median, "min": r.min, "max": r.max},
            });
            lines.push_str(&format!("{line}\n"));
        }
    }
    let file = if wanted == 1_000_000 {
        "scale-ratios.jsonl".to_owned()
    } else {
        format!("scale-ratios-{wanted}.jsonl")
    };
    std::fs::write(dir.join(file), lines).unwrap();
}

criterion_group!(benches, scale);
criterion_main!(benches);
