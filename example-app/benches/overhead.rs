//! What auditing costs per change, measured in rotating rounds so that the
//! ratios hold on a noisy machine.
//!
//! Two cases, on SQLite (WAL, `synchronous` FULL and NORMAL) and PostgreSQL
//! (when `AUDIT_TEST_POSTGRES_URL` is set; skipped with a notice when not),
//! with 1 and 8 tasks:
//!
//! - `add-member`: add a membership with one role. `plain` is a transaction
//!   running the SQL the command `add_member` runs (the check that the user
//!   is not a member yet, then the INSERT) and writing no event; `hand` is
//!   the same transaction plus the two event rows `add_member` writes, by one
//!   hand-written INSERT (the statement's own cost, so that `audited - hand`
//!   is what the library adds around it); `audited` is the command
//!   `add_member`; `audited+context` is the same command with a web
//!   request's context set (request id, client address, a browser's user
//!   agent, route, trace id, host, program: what `audit_core::axum`'s
//!   layer records), stored with each of its events.
//! - `insert-then-update`: the peers' workload (`../shared/peers/django`):
//!   insert a membership, then update its roles, in one transaction (two
//!   statements; two events when audited). `plain` against `audited` and
//!   `audited+context`.
//!
//! Protocol: one untimed prewarm pass per variant, then `AUDIT_BENCH_ROUNDS`
//! rounds (default 9). Each round runs every variant once, the order rotated
//! by one each round; each variant's block is `AUDIT_BENCH_WARMUP` untimed
//! changes, then `AUDIT_BENCH_N` timed ones. A round's figure for a variant
//! is, with 1 task, the median of its changes' times (each transaction timed
//! on its own, as the peers' bench does) and, with more tasks, the block's
//! wall time divided by its changes. Reported per variant: the median time,
//! the ratio to `plain` computed in each round and given as median [min–max]
//! over the rounds, and the added µs. Results go to stdout as a Markdown
//! table and to `target/audit-bench/overhead.jsonl` (one JSON object a line;
//! `AUDIT_BENCH_OUT` overrides the path; cargo runs benches in
//! `example-app/`, so a relative path starts there), which
//! `scripts/bench_report.py` reads.
//!
//! `AUDIT_BENCH_BACKENDS` (`sqlite-wal-full`, `sqlite-wal-normal`,
//! `postgres`) and `AUDIT_BENCH_CASES` (`add-member`, `insert-then-update`),
//! comma-separated, run only those (all by default); `scripts/before_after.sh`
//! runs PostgreSQL alone.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use audit_core::store::Backend;
use audit_core::{Actor, Auditor, Context, auditable};
use example_app::commands::{self, CommandResult, StaffAudit};
use example_app::domain::{MembershipId, ProjectRef, Role, Roles, UserRef};
use example_app::events::{ProjectMemberAdded, ProjectMemberUpdatedRoles, StaffEvent};
use example_app::models::Membership;
use serde_json::json;
use sqlx::sqlite::SqliteSynchronous;
use support::{conditions, env_number, median, percentile, pg_pool, postgres, sqlite, sqlite_pool};

mod support;

/// The bench's knobs, from the environment.
#[derive(Clone, Copy)]
struct Settings {
    /// Rounds; every variant runs once per round.
    rounds: usize,
    /// Timed changes per block.
    n: u64,
    /// Untimed changes before each timed block.
    warmup: u64,
    /// Untimed blocks of `n` changes per variant before the first round.
    prewarm: u64,
}

impl Settings {
    fn from_env() -> Settings {
        let settings = Settings {
            rounds: env_number("AUDIT_BENCH_ROUNDS", 9) as usize,
            n: env_number("AUDIT_BENCH_N", 1000),
            warmup: env_number("AUDIT_BENCH_WARMUP", 100),
            prewarm: env_number("AUDIT_BENCH_PREWARM", 1),
        };
        assert!(
            settings.rounds >= 1 && settings.n >= 1,
            "AUDIT_BENCH_ROUNDS and AUDIT_BENCH_N must be at least 1"
        );
        if settings.rounds < 7 {
            eprintln!(
                "note: AUDIT_BENCH_ROUNDS={} is below 7: a smoke run, not a figure to quote",
                settings.rounds
            );
        }
        settings
    }
}

/// The names `var` lists, comma-separated, each one of `known`; all of
/// `known` when it is unset or empty.
fn chosen(var: &str, known: &[&'static str]) -> Vec<&'static str> {
    match std::env::var(var) {
        Ok(list) if !list.trim().is_empty() => list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                known
                    .iter()
                    .copied()
                    .find(|k| *k == name)
                    .unwrap_or_else(|| panic!("{var}: {name:?} is not one of {known:?}"))
            })
            .collect(),
        _ => known.to_vec(),
    }
}

/// Where the JSON lines go.
fn out_path() -> PathBuf {
    if let Ok(path) = std::env::var("AUDIT_BENCH_OUT") {
        return PathBuf::from(path);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("audit-bench").join("overhead.jsonl")
}

/// What one change is.
#[derive(Clone, Copy, PartialEq)]
enum Case {
    /// `add_member` with one role: one INSERT, two events.
    AddMember,
    /// The peers' workload: INSERT, then UPDATE of the roles; two events.
    InsertThenUpdate,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::AddMember => "add-member",
            Case::InsertThenUpdate => "insert-then-update",
        }
    }

    fn variants(self) -> &'static [Variant] {
        match self {
            Case::AddMember => &[
                Variant::Plain,
                Variant::Hand,
                Variant::Audited,
                Variant::WithContext,
            ],
            Case::InsertThenUpdate => &[Variant::Plain, Variant::Audited, Variant::WithContext],
        }
    }
}

/// How one change is made.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// No event.
    Plain,
    /// No library; the two event rows by hand.
    Hand,
    /// Through the library.
    Audited,
    /// Through the library, with a web request's context.
    WithContext,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::Hand => "hand",
            Variant::Audited => "audited",
            Variant::WithContext => "audited+context",
        }
    }
}

struct Setup {
    name: &'static str,
    /// The durability and connection settings in force, as the database
    /// reports them.
    conditions: String,
    auditor: Auditor,
    user: UserRef,
    next_project: Arc<AtomicI64>,
}

async fn prepare(name: &'static str, auditor: Auditor) -> Setup {
    example_app::schema::migrate(&auditor).await.unwrap();
    if auditor.backend() == Backend::Postgres {
        // The plain baseline writes no event, which the immutability trigger
        // would refuse; every variant runs without it, so the figure is the
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
        name,
        conditions: conditions(
            &auditor,
            &["synchronous_commit", "fsync", "wal_sync_method"],
        )
        .await,
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

fn roles(roles: &[Role]) -> Roles {
    roles.iter().copied().collect()
}

fn roles_json(roles: &Roles) -> String {
    serde_json::to_string(roles).expect("a set of roles always serializes")
}

/// A web request's context, as `audit_core::axum::ContextLayer` records it
/// (a new request id each time).
fn request_context() -> Context {
    Context::new()
        .with_request_id(uuid::Uuid::new_v4().to_string())
        .with_client_address(std::net::IpAddr::from([203, 0, 113, 9]))
        .with_user_agent(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/131.0.0.0 Safari/537.36",
        )
        .with_route("POST /projects/{id}/members")
        .with_trace_id("4bf92f3577b34da6a3ce929d0e0e4736")
        .with_host("web-1")
        .with_program("example-app", "0.1.0")
}

async fn add_member_audited(
    auditor: &Auditor,
    project: &ProjectRef,
    user: &UserRef,
    context: Option<Context>,
) {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::user(user.id, &user.username))
        .await
        .unwrap();
    if let Some(context) = context {
        audit.set_context(context).unwrap();
    }
    commands::add_member(&mut audit, project, user, roles(&[Role::ProjectDeveloper]))
        .await
        .unwrap();
    audit.commit().await.unwrap();
}

/// The peers' transaction as an application on this library writes it:
/// the model's INSERT, then its UPDATE, each with its event.
#[auditable(emits(ProjectMemberAdded, ProjectMemberUpdatedRoles))]
async fn insert_then_update(
    cx: &mut StaffAudit,
    project: &ProjectRef,
    user: &UserRef,
) -> CommandResult<()> {
    let before = roles(&[Role::ProjectDeveloper]);
    let after = roles(&[Role::ProjectDeveloper, Role::ProjectCollaborator]);
    let mut row = Membership {
        id: 0,
        project_id: project.id,
        user_id: user.id,
        roles: roles_json(&before),
    };
    row.id = Membership::insert(cx, &row).await?;
    cx.emit(ProjectMemberAdded {
        membership: MembershipId(row.id),
        project: project.clone(),
        user: user.clone(),
    })?;
    row.roles = roles_json(&after);
    Membership::update(cx, &row).await?;
    cx.emit(ProjectMemberUpdatedRoles {
        membership: MembershipId(row.id),
        project: project.clone(),
        user: user.clone(),
        before,
        after,
    })?;
    Ok(())
}

async fn insert_then_update_audited(
    auditor: &Auditor,
    project: &ProjectRef,
    user: &UserRef,
    context: Option<Context>,
) {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::user(user.id, &user.username))
        .await
        .unwrap();
    if let Some(context) = context {
        audit.set_context(context).unwrap();
    }
    insert_then_update(&mut audit, project, user).await.unwrap();
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

/// `add_member`'s check that the user is not a member yet, as the command
/// writes it.
const EXISTING_SQL: &str = "SELECT id FROM memberships WHERE project_id = $1 AND user_id = $2";

const INSERT_SQL: &str =
    "INSERT INTO memberships (project_id, user_id, roles) VALUES ($1, $2, $3) RETURNING id";

/// The model's UPDATE: every column but the id, as `Membership::update`
/// (and Django's `save()`) writes it.
const UPDATE_SQL: &str =
    "UPDATE memberships SET project_id = $1, user_id = $2, roles = $3 WHERE id = $4";

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

/// The unaudited transaction of `case`, on one backend's connection: `tx`
/// is an open transaction, `events_sql` the hand-written event rows when
/// `with_events`.
macro_rules! plain_body {
    ($tx:expr, $case:expr, $project:expr, $user:expr, $with_events:expr, $events_sql:expr) => {{
        if $case == Case::AddMember {
            let existing: Option<i64> = sqlx::query_scalar(EXISTING_SQL)
                .bind($project.id)
                .bind($user.id)
                .fetch_optional(&mut *$tx)
                .await
                .unwrap();
            assert_eq!(existing, None, "each change adds a new member");
        }
        let first = roles_json(&roles(&[Role::ProjectDeveloper]));
        let id: i64 = sqlx::query_scalar(INSERT_SQL)
            .bind($project.id)
            .bind($user.id)
            .bind(&first)
            .fetch_one(&mut *$tx)
            .await
            .unwrap();
        if $case == Case::InsertThenUpdate {
            let second = roles_json(&roles(&[Role::ProjectDeveloper, Role::ProjectCollaborator]));
            sqlx::query(UPDATE_SQL)
                .bind($project.id)
                .bind($user.id)
                .bind(&second)
                .bind(id)
                .execute(&mut *$tx)
                .await
                .unwrap();
        }
        if $with_events {
            event_rows!(sqlx::AssertSqlSafe($events_sql), $project, $user, id)
                .execute(&mut *$tx)
                .await
                .unwrap();
        }
    }};
}

async fn plain(
    auditor: &Auditor,
    case: Case,
    project: &ProjectRef,
    user: &UserRef,
    with_events: bool,
) {
    match auditor.backend() {
        Backend::Sqlite => {
            // The library's SQLite transactions take the write lock at once.
            let mut tx = sqlite_pool(auditor)
                .begin_with("BEGIN IMMEDIATE")
                .await
                .unwrap();
            plain_body!(tx, case, project, user, with_events, EVENT_ROWS_SQL);
            tx.commit().await.unwrap();
        }
        Backend::Postgres => {
            let events_sql = EVENT_ROWS_SQL
                .replace("$6)", "$6::jsonb)")
                .replace("$7)", "$7::jsonb)");
            let mut tx = pg_pool(auditor).begin().await.unwrap();
            plain_body!(tx, case, project, user, with_events, events_sql);
            tx.commit().await.unwrap();
        }
    }
}

async fn change(
    auditor: &Auditor,
    case: Case,
    variant: Variant,
    project: &ProjectRef,
    user: &UserRef,
) {
    match (case, variant) {
        (_, Variant::Plain) => plain(auditor, case, project, user, false).await,
        (_, Variant::Hand) => plain(auditor, case, project, user, true).await,
        (Case::AddMember, Variant::Audited) => {
            add_member_audited(auditor, project, user, None).await
        }
        (Case::AddMember, Variant::WithContext) => {
            add_member_audited(auditor, project, user, Some(request_context())).await
        }
        (Case::InsertThenUpdate, Variant::Audited) => {
            insert_then_update_audited(auditor, project, user, None).await
        }
        (Case::InsertThenUpdate, Variant::WithContext) => {
            insert_then_update_audited(auditor, project, user, Some(request_context())).await
        }
    }
}

/// One block's measurements.
struct Block {
    /// Each change's own time, in µs.
    latencies: Vec<f64>,
    /// The block's wall time per change, in µs.
    wall_per_change: f64,
}

/// Runs `count` changes of one variant spread over `tasks` tasks (the
/// projects they need are made first, untimed).
async fn block(setup: &Setup, case: Case, variant: Variant, tasks: u64, count: u64) -> Block {
    let per_task = count.div_ceil(tasks);
    let mut work = Vec::new();
    for _ in 0..tasks {
        work.push(projects(setup, per_task).await);
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    for batch in work {
        let (auditor, user) = (setup.auditor.clone(), setup.user.clone());
        handles.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(batch.len());
            for project in &batch {
                let t = Instant::now();
                change(&auditor, case, variant, project, &user).await;
                times.push(micros(t.elapsed()));
            }
            times
        }));
    }
    let mut latencies = Vec::new();
    for handle in handles {
        latencies.extend(handle.await.unwrap());
    }
    Block {
        wall_per_change: micros(start.elapsed()) / (per_task * tasks) as f64,
        latencies,
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Every variant's blocks, round by round.
struct Series {
    variant: Variant,
    blocks: Vec<Block>,
}

impl Series {
    /// A round's figure: the median change with one task, the wall time per
    /// change with several.
    fn round_figure(&self, round: usize, tasks: u64) -> f64 {
        let b = &self.blocks[round];
        if tasks == 1 {
            median(&b.latencies)
        } else {
            b.wall_per_change
        }
    }

    fn round_figures(&self, tasks: u64) -> Vec<f64> {
        (0..self.blocks.len())
            .map(|r| self.round_figure(r, tasks))
            .collect()
    }

    /// The variant's time: pooled median of every change with one task,
    /// median of the rounds' figures with several.
    fn median_us(&self, tasks: u64) -> f64 {
        if tasks == 1 {
            let pooled: Vec<f64> = self
                .blocks
                .iter()
                .flat_map(|b| b.latencies.iter().copied())
                .collect();
            median(&pooled)
        } else {
            median(&self.round_figures(tasks))
        }
    }
}

/// Runs one case on one setup with `tasks` tasks, in rotating rounds.
async fn measure(setup: &Setup, case: Case, tasks: u64, settings: Settings) -> Vec<Series> {
    let variants = case.variants();
    for _ in 0..settings.prewarm {
        for &variant in variants {
            block(setup, case, variant, tasks, settings.n).await;
        }
    }
    let mut series: Vec<Series> = variants
        .iter()
        .map(|&variant| Series {
            variant,
            blocks: Vec::new(),
        })
        .collect();
    for round in 0..settings.rounds {
        for i in 0..variants.len() {
            let index = (i + round) % variants.len();
            let variant = variants[index];
            if settings.warmup > 0 {
                block(setup, case, variant, tasks, settings.warmup).await;
            }
            let timed = block(setup, case, variant, tasks, settings.n).await;
            eprintln!(
                "  {} {} {tasks}-tasks round {}/{} {:<8} {:>8.0} µs",
                setup.name,
                case.name(),
                round + 1,
                settings.rounds,
                variant.name(),
                if tasks == 1 {
                    median(&timed.latencies)
                } else {
                    timed.wall_per_change
                }
            );
            series[index].blocks.push(timed);
        }
    }
    series
}

/// One result line: a variant of a case on a backend with some tasks.
struct Row {
    backend: &'static str,
    case: Case,
    tasks: u64,
    variant: Variant,
    median_us: f64,
    added_us: f64,
    ratios: Vec<f64>,
}

fn summarize(
    setup: &Setup,
    case: Case,
    tasks: u64,
    settings: Settings,
    series: &[Series],
) -> (Vec<Row>, Vec<serde_json::Value>) {
    let plain = &series[0];
    let plain_rounds = plain.round_figures(tasks);
    let plain_median = plain.median_us(tasks);
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    for s in series {
        let rounds = s.round_figures(tasks);
        let ratios: Vec<f64> = rounds
            .iter()
            .zip(&plain_rounds)
            .map(|(v, p)| v / p)
            .collect();
        let median_us = s.median_us(tasks);
        let pooled: Vec<f64> = s
            .blocks
            .iter()
            .flat_map(|b| b.latencies.iter().copied())
            .collect();
        lines.push(json!({
            "bench": "overhead",
            "backend": setup.name,
            "conditions": setup.conditions,
            "case": case.name(),
            "tasks": tasks,
            "variant": s.variant.name(),
            "rounds": settings.rounds,
            "n": settings.n,
            "warmup": settings.warmup,
            "prewarm": settings.prewarm,
            "figure": if tasks == 1 { "median of each change's time" } else { "block wall time per change" },
            "median_us": median_us,
            "added_us": median_us - plain_median,
            "ratio": {
                "median": median(&ratios),
                "min": ratios.iter().copied().fold(f64::INFINITY, f64::min),
                "max": ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                "per_round": ratios,
            },
            "round_us": rounds,
            "latency_p50_us": median(&pooled),
            "latency_p99_us": percentile(&pooled, 99.0),
        }));
        rows.push(Row {
            backend: setup.name,
            case,
            tasks,
            variant: s.variant,
            median_us,
            added_us: median_us - plain_median,
            ratios,
        });
    }
    (rows, lines)
}

fn markdown(rows: &[Row], settings: Settings) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "{} rounds, {} timed changes per block after {} untimed, {} prewarm pass(es)\n",
        settings.rounds, settings.n, settings.warmup, settings.prewarm
    )
    .unwrap();
    out.push_str(
        "| backend | case | tasks | variant | median µs | ratio to plain, median [min–max] | added µs |\n\
         |---|---|---:|---|---:|---|---:|\n",
    );
    for r in rows {
        let (ratio, added) = if r.variant == Variant::Plain {
            ("1 (baseline)".to_owned(), "—".to_owned())
        } else {
            let min = r.ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let max = r.ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (
                format!("{:.2}× [{min:.2}–{max:.2}]", median(&r.ratios)),
                format!("{:+.0}", r.added_us),
            )
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.0} | {ratio} | {added} |",
            r.backend,
            r.case.name(),
            r.tasks,
            r.variant.name(),
            r.median_us
        )
        .unwrap();
    }
    out
}

fn main() {
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let backends = chosen(
        "AUDIT_BENCH_BACKENDS",
        &["sqlite-wal-full", "sqlite-wal-normal", "postgres"],
    );
    let cases: Vec<Case> = chosen("AUDIT_BENCH_CASES", &["add-member", "insert-then-update"])
        .into_iter()
        .map(|name| match name {
            "add-member" => Case::AddMember,
            _ => Case::InsertThenUpdate,
        })
        .collect();
    let (rows, lines) = runtime.block_on(async {
        let mut setups = Vec::new();
        for name in backends {
            match name {
                "sqlite-wal-full" => {
                    setups.push(prepare(name, sqlite(SqliteSynchronous::Full, "full").await).await)
                }
                "sqlite-wal-normal" => setups
                    .push(prepare(name, sqlite(SqliteSynchronous::Normal, "normal").await).await),
                _ => match postgres().await {
                    Some(pg) => setups.push(prepare(name, pg).await),
                    None => eprintln!(
                        "notice: AUDIT_TEST_POSTGRES_URL is not set; PostgreSQL is skipped"
                    ),
                },
            }
        }
        let (mut rows, mut lines) = (Vec::new(), Vec::new());
        for setup in &setups {
            for &case in &cases {
                for tasks in [1, 8] {
                    let series = measure(setup, case, tasks, settings).await;
                    let (r, l) = summarize(setup, case, tasks, settings, &series);
                    rows.extend(r);
                    lines.extend(l);
                }
            }
        }
        (rows, lines)
    });
    let path = out_path();
    std::fs::create_dir_all(path.parent().expect("the output path names a file")).unwrap();
    let mut file = std::fs::File::create(&path).unwrap();
    for line in &lines {
        writeln!(file, "{line}").unwrap();
    }
    println!("{}", markdown(&rows, settings));
    let shown = std::fs::canonicalize(&path).unwrap_or(path);
    println!("(JSON lines: {})", shown.display());
}
