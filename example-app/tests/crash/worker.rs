//! The crash test's worker: membership commands in a loop until the test
//! kills the process, several workers at once on shared memberships. It
//! runs inside the crash test's own executable (see `worker_process` in
//! `crash.rs`), never in the shipped `example-app` binary.

use std::io::Write;

use audit_core::commands::{Isolation, RetryPolicy, Retryable};
use audit_core::{Actor, Auditor};
use example_app::commands::{self, CommandError, StaffAudit};
use example_app::crash::Rng;
use example_app::directory;
use example_app::domain::{ProjectRef, Role, Roles, UserRef};
use example_app::events::StaffEvent;

/// The database a worker works on (set by the crash test for the worker
/// process it starts).
pub const URL_VAR: &str = "CRASH_WORKER_URL";
/// The worker's seed, which its changes follow from.
pub const SEED_VAR: &str = "CRASH_WORKER_SEED";
/// How many changes the worker commits before it ends; without it, it
/// works until killed.
pub const LIMIT_VAR: &str = "CRASH_WORKER_LIMIT";

/// What a worker process is told by the crash test that starts it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The database.
    pub url: String,
    /// The seed of its changes.
    pub seed: u64,
    /// Changes to commit before it ends, if it is to end on its own.
    pub limit: Option<u64>,
}

impl Config {
    /// The worker's configuration from [`URL_VAR`], [`SEED_VAR`] and
    /// [`LIMIT_VAR`]; `None` when this process was not started as a worker
    /// (no [`URL_VAR`]).
    pub fn from_env() -> Option<Config> {
        let url = std::env::var(URL_VAR).ok()?;
        let number = |name: &str| {
            std::env::var(name).ok().map(|value| {
                value
                    .parse()
                    .unwrap_or_else(|e| panic!("{name}={value:?} is not a number: {e}"))
            })
        };
        let seed = number(SEED_VAR).unwrap_or_else(|| panic!("{URL_VAR} without {SEED_VAR}"));
        Some(Config {
            url,
            seed,
            limit: number(LIMIT_VAR),
        })
    }

    /// Sets the variables [`Config::from_env`] reads on `command`.
    pub fn pass_to(&self, command: &mut std::process::Command) {
        command
            .env(URL_VAR, &self.url)
            .env(SEED_VAR, self.seed.to_string());
        match self.limit {
            Some(limit) => command.env(LIMIT_VAR, limit.to_string()),
            None => command.env_remove(LIMIT_VAR),
        };
    }
}

/// The worker process: opens the database as the example app does on
/// start, prints `ready` once its projects exist, works, and when it ends
/// on its own prints `committed N changes; N gone ...; N attempts retried`.
/// A failure is a panic (a failed process, its message on standard error).
pub async fn main(config: Config) {
    let Config { url, seed, limit } = config;
    let auditor = Auditor::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("error: cannot open the database `{url}`: {e}"));
    example_app::schema::open(&auditor)
        .await
        .unwrap_or_else(|e| panic!("error: cannot use the database `{url}`: {e}"));
    let report = work(&auditor, seed, limit, || {
        println!("ready");
        // The test waits for this line; a failed flush only delays it.
        let _ = std::io::stdout().flush();
    })
    .await
    .unwrap_or_else(|e| panic!("error: worker (seed {seed}): {e}"));
    println!(
        "committed {} changes; {} gone (removed by another worker first); {} attempts retried",
        report.committed, report.gone, report.retried
    );
}

/// The projects the workers spread memberships over.
const PROJECTS: [&str; 3] = ["crash-a", "crash-b", "crash-c"];

/// How many of the most recent memberships (of all workers) a change or a
/// removal picks from: few, so that workers running at once change the
/// same memberships and wait for each other's locks.
const SHARED_MEMBERSHIPS: i64 = 8;

/// A member's roles: one of the first two of [`Role::ALL`], half the time
/// with [`Role::ProjectCollaborator`] as well.
fn random_roles(rng: &mut Rng) -> Roles {
    let mut roles: Roles = [Role::ALL[rng.below(2) as usize]].into_iter().collect();
    if rng.below(2) == 0 {
        roles.insert(Role::ProjectCollaborator);
    }
    roles
}

/// How a worker runs each change: retried when the database refuses it
/// because of a concurrent one (a deadlock or a serialization failure on
/// PostgreSQL, a busy database on SQLite). READ COMMITTED, not
/// serializable: the commands' locking reads (`find_for_update`) are what
/// keep a `before` true, and they need to see the latest committed row.
fn retry_policy() -> RetryPolicy {
    RetryPolicy::default()
        .isolation(Isolation::Default)
        .attempts(20)
}

/// The project named `name`, created if missing. Workers start at once, so
/// another one may create it first: then its name is taken, and the
/// project is read again.
async fn ensure_project(auditor: &Auditor, name: &'static str) -> Result<ProjectRef, CommandError> {
    if let Some(project) = directory::project_named(auditor, name).await? {
        return Ok(project);
    }
    let created = auditor
        .transact::<StaffEvent, _, CommandError, _>(
            Actor::system("crash-worker"),
            retry_policy(),
            |audit| Box::pin(commands::add_project(audit, name)),
        )
        .await;
    match created {
        Ok(project) => Ok(project),
        Err(e) => directory::project_named(auditor, name).await?.ok_or(e),
    }
}

/// A project and a user of one of the most recent memberships, whichever
/// worker added it.
async fn random_member(
    auditor: &Auditor,
    rng: &mut Rng,
) -> Result<Option<(ProjectRef, UserRef)>, sqlx::Error> {
    let rows: Vec<(i64, String, i64, String)> = audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::query_as(
            "SELECT p.id, p.name, u.id, u.username FROM memberships m \
             JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = m.user_id \
             ORDER BY m.id DESC LIMIT $1",
        )
        .bind(SHARED_MEMBERSHIPS)
        .fetch_all(pool)
        .await?
    });
    if rows.is_empty() {
        return Ok(None);
    }
    let (pid, pname, uid, uname) = rows[rng.below(rows.len() as u64) as usize].clone();
    Ok(Some((
        ProjectRef {
            id: pid,
            name: pname,
        },
        UserRef {
            id: uid,
            username: uname,
        },
    )))
}

/// One change of a worker, chosen before its transaction begins so that a
/// retry makes the same change.
#[derive(Debug, Clone)]
enum Change {
    /// A new user, added to a project with roles (two commands, one
    /// transaction).
    Join {
        username: String,
        project: ProjectRef,
        roles: Roles,
    },
    /// A member's roles changed.
    SetRoles {
        project: ProjectRef,
        user: UserRef,
        roles: Roles,
    },
    /// A member removed (its roles cleared first, by a nested command).
    Leave { project: ProjectRef, user: UserRef },
}

impl Change {
    async fn apply(self, audit: &mut StaffAudit) -> Result<(), CommandError> {
        match self {
            Change::Join {
                username,
                project,
                roles,
            } => {
                let user = commands::add_user(audit, &username, Roles::new()).await?;
                commands::add_member(audit, &project, &user, roles).await?;
            }
            Change::SetRoles {
                project,
                user,
                roles,
            } => commands::update_member_roles(audit, &project, &user, roles).await?,
            Change::Leave { project, user } => {
                commands::remove_member(audit, &project, &user).await?
            }
        }
        Ok(())
    }
}

/// What a worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WorkReport {
    /// Changes committed.
    pub committed: u64,
    /// Changes not made because another worker had removed the membership
    /// after it was picked (the command failed with `NotAMember` and its
    /// transaction rolled back).
    pub gone: u64,
    /// Attempts that the database refused because of a concurrent
    /// transaction and that ran again.
    pub retried: u64,
}

/// Runs membership changes until killed (or until `limit` have committed,
/// if given), calling `ready` once its projects exist: add a new user to a
/// project with roles, change a member's roles, or remove a member, each in
/// its own transaction through [`Auditor::transact`], so that a change the
/// database refuses because of another worker is made again. Changes and
/// removals pick among the few most recent memberships of all workers, so
/// that several workers contend. A change whose membership another worker
/// removed first is counted as gone; any other failure ends the worker with
/// its error.
pub async fn work(
    auditor: &Auditor,
    seed: u64,
    limit: Option<u64>,
    ready: impl FnOnce(),
) -> Result<WorkReport, CommandError> {
    let mut rng = Rng::new(seed);
    let mut projects = Vec::new();
    for name in PROJECTS {
        projects.push(ensure_project(auditor, name).await?);
    }
    ready();
    let actor = Actor::system("crash-worker");
    let mut report = WorkReport::default();
    let mut picked = 0u64;
    while limit.is_none_or(|limit| report.committed < limit) {
        picked += 1;
        let op = rng.below(4);
        let change = if op < 2 {
            Change::Join {
                username: format!("u{seed:x}-{picked}-{:x}", rng.next_u64()),
                project: projects[rng.below(projects.len() as u64) as usize].clone(),
                roles: random_roles(&mut rng),
            }
        } else {
            let (project, user) = match random_member(auditor, &mut rng).await {
                Ok(Some(member)) => member,
                Ok(None) => continue,
                // A read refused by a concurrent writer: pick again.
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(e.into()),
            };
            if op == 2 {
                let roles = random_roles(&mut rng);
                Change::SetRoles {
                    project,
                    user,
                    roles,
                }
            } else {
                Change::Leave { project, user }
            }
        };
        let mut attempts = 0u64;
        let outcome = auditor
            .transact::<StaffEvent, _, CommandError, _>(actor.clone(), retry_policy(), |audit| {
                attempts += 1;
                Box::pin(change.clone().apply(audit))
            })
            .await;
        report.retried += attempts.saturating_sub(1);
        match outcome {
            Ok(()) => report.committed += 1,
            Err(CommandError::NotAMember { .. }) => report.gone += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}
