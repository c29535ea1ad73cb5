//! What auditing costs per command: the same change (add a membership with
//! one role) as an audited command (two events) and as a plain transaction
//! that writes no event, on SQLite (WAL, `synchronous` FULL and NORMAL) and
//! PostgreSQL (when `AUDIT_TEST_POSTGRES_URL` is set), with 1 and 8 tasks.
//! A third variant, `hand`, is the plain transaction plus the same two event
//! rows written by hand in one INSERT: the statement's own cost, so that
//! `audited - hand` is what the library adds around it.
//!
//! `scripts/bench.sh` runs this and writes the table in BENCHMARKS.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use audit_core::{Actor, Auditor, Backend};
use criterion::{Criterion, criterion_group, criterion_main};
use example_app::commands;
use example_app::domain::{ProjectRef, Role, Roles, UserRef};
use example_app::events::StaffEvent;
use sqlx::sqlite::SqliteSynchronous;
use support::{pg_pool, postgres, sqlite, sqlite_pool};

mod support;

const TASKS: u64 = 8;

struct Setup {
    name: String,
    auditor: Auditor,
    user: UserRef,
    next_project: Arc<AtomicI64>,
}

async fn prepare(name: &str, auditor: Auditor) -> Setup {
    example_app::schema::migrate(&auditor).await.unwrap();
    if auditor.backend() == Backend::Postgres {
        // The plain baseline writes no event, which the immutability trigger
        // would refuse; both variants run without it, so the figure is the
        // cost of the events alone.
        sqlx::raw_sql("DROP TRIGGER audit_required ON memberships")
            .execute(pg_pool(&auditor))
            .await
            .unwrap();
    }
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("bench"))
        .await
        .unwrap();
    let user = commands::add_user(&mut audit, "bench-user", Roles::new())
        .await
        .unwrap();
    audit.commit().await.unwrap();
    Setup {
        name: name.to_owned(),
        auditor,
        user,
        next_project: Arc::new(AtomicI64::new(0)),
    }
}

/// Creates `count` projects outside the timed loop; returns them.
async fn projects(setup: &Setup, count: u64) -> Vec<ProjectRef> {
    let first = setup.next_project.fetch_add(count as i64, Ordering::SeqCst);
    let mut audit = setup
        .auditor
        .begin::<StaffEvent>(Actor::system("bench"))
        .await
        .unwrap();
    let mut out = Vec::with_capacity(count as usize);
    for i in first..first + count as i64 {
        out.push(
            commands::add_project(&mut audit, &format!("p{i}"))
                .await
                .unwrap(),
        );
    }
    audit.commit().await.unwrap();
    out
}

async fn audited(auditor: &Auditor, project: &ProjectRef, user: &UserRef) {
    let roles: Roles = [Role::ProjectDeveloper].into_iter().collect();
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::user(user.id, &user.username))
        .await
        .unwrap();
    commands::add_member(&mut audit, project, user, roles)
        .await
        .unwrap();
    audit.commit().await.unwrap();
}

/// The two event rows `add_member` writes, as one hand-written INSERT.
const EVENT_ROWS_SQL: &str = "INSERT INTO audit_events (occurred_at, event_type, payload_version, \
    actor_kind, actor_id, actor_name, target_kind, target_id, parent_kind, parent_id, \
    subject_kind, subject_id, command_name, command_id, payload) VALUES \
    ($1, 'project_member_added', 1, 'user', $2, 'bench-user', 'membership', $3, 'project', $4, \
     'user', $2, 'add_member', $5, $6), \
    ($1, 'project_member_updated_roles', 1, 'user', $2, 'bench-user', 'membership', $3, \
     'project', $4, 'user', $2, 'add_member', $5, $7)";

/// Binds `EVENT_ROWS_SQL` for one membership; the payloads are the
/// command's, byte for byte in size.
macro_rules! event_rows {
    ($sql:expr, $project:expr, $user:expr, $membership:expr) => {{
        let added = format!(
            r#"{{"membership":{},"project":{{"id":{},"name":"{}"}},"user":{{"id":{},"username":"{}"}}}}"#,
            $membership, $project.id, $project.name, $user.id, $user.username
        );
        let roles = format!(
            r#"{{"membership":{},"project":{{"id":{},"name":"{}"}},"user":{{"id":{},"username":"{}"}},"before":[],"after":["ProjectDeveloper"]}}"#,
            $membership, $project.id, $project.name, $user.id, $user.username
        );
        sqlx::query($sql)
            .bind(chrono::Utc::now().timestamp_micros())
            .bind($user.id.to_string())
            .bind($membership.to_string())
            .bind($project.id.to_string())
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(added)
            .bind(roles)
    }};
}

async fn plain(auditor: &Auditor, project: &ProjectRef, user: &UserRef, with_events: bool) {
    let roles = serde_json::to_string(&Roles::from_iter([Role::ProjectDeveloper])).unwrap();
    let sql =
        "INSERT INTO memberships (project_id, user_id, roles) VALUES ($1, $2, $3) RETURNING id";
    let events_sql = match auditor.backend() {
        Backend::Sqlite => EVENT_ROWS_SQL.to_owned(),
        Backend::Postgres => EVENT_ROWS_SQL
            .replace("$6)", "$6::jsonb)")
            .replace("$7)", "$7::jsonb)"),
    };
    match auditor.backend() {
        Backend::Sqlite => {
            let mut tx = sqlite_pool(auditor)
                .begin_with("BEGIN IMMEDIATE")
                .await
                .unwrap();
            let id: i64 = sqlx::query_scalar(sql)
                .bind(project.id)
                .bind(user.id)
                .bind(&roles)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            if with_events {
                event_rows!(sqlx::AssertSqlSafe(events_sql.clone()), project, user, id)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
        Backend::Postgres => {
            let mut tx = pg_pool(auditor).begin().await.unwrap();
            let id: i64 = sqlx::query_scalar(sql)
                .bind(project.id)
                .bind(user.id)
                .bind(&roles)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            if with_events {
                event_rows!(sqlx::AssertSqlSafe(events_sql.clone()), project, user, id)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
    }
}

/// What one timed change is.
#[derive(Clone, Copy)]
enum Variant {
    /// No event.
    Plain,
    /// No library; the two event rows by hand.
    Hand,
    /// The audited command.
    Audited,
}

/// Times `iters` changes spread over `tasks` tasks.
async fn timed(setup: &Setup, iters: u64, tasks: u64, variant: Variant) -> Duration {
    let per_task = iters.div_ceil(tasks);
    let mut work = Vec::new();
    for _ in 0..tasks {
        work.push(projects(setup, per_task).await);
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    for batch in work {
        let (auditor, user) = (setup.auditor.clone(), setup.user.clone());
        handles.push(tokio::spawn(async move {
            for project in &batch {
                match variant {
                    Variant::Plain => plain(&auditor, project, &user, false).await,
                    Variant::Hand => plain(&auditor, project, &user, true).await,
                    Variant::Audited => audited(&auditor, project, &user).await,
                }
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    // Per change, whatever the number of tasks.
    start
        .elapsed()
        .mul_f64(iters as f64 / (per_task * tasks) as f64)
}

fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setups: Vec<Setup> = runtime.block_on(async {
        let mut setups = vec![
            prepare(
                "sqlite-wal-full",
                sqlite(SqliteSynchronous::Full, "full").await,
            )
            .await,
            prepare(
                "sqlite-wal-normal",
                sqlite(SqliteSynchronous::Normal, "normal").await,
            )
            .await,
        ];
        if let Some(pg) = postgres().await {
            setups.push(prepare("postgres", pg).await);
        }
        setups
    });
    for setup in &setups {
        let mut group = c.benchmark_group(format!("add_member/{}", setup.name));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(4));
        for tasks in [1, TASKS] {
            for (name, variant) in [
                ("plain", Variant::Plain),
                ("hand", Variant::Hand),
                ("audited", Variant::Audited),
            ] {
                group.bench_function(format!("{name}/{tasks}-tasks"), |b| {
                    b.to_async(&runtime)
                        .iter_custom(|iters| timed(setup, iters, tasks, variant));
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, overhead);
criterion_main!(benches);
