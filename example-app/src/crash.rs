//! The crash test's two halves: a worker that runs membership commands in
//! a loop until it is killed, and a checker that verifies, from what the
//! database holds afterwards, that every committed change has its events
//! and no event lacks its change.

use std::collections::{BTreeMap, BTreeSet};

use audit_core::{Actor, Auditor};

use crate::commands::{self, CommandError};
use crate::directory;
use crate::domain::{ProjectRef, Role, Roles, UserRef};
use crate::events::StaffEvent;

/// The projects the worker spreads memberships over.
const PROJECTS: [&str; 3] = ["crash-a", "crash-b", "crash-c"];

/// A small deterministic generator (SplitMix64), so a seed replays a run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

fn random_roles(rng: &mut Rng) -> Roles {
    let mut roles: Roles = [Role::ALL[rng.below(2) as usize]].into_iter().collect();
    if rng.below(2) == 0 {
        roles.0.insert(Role::ProjectCollaborator);
    }
    roles
}

async fn ensure_projects(auditor: &Auditor) -> Result<Vec<ProjectRef>, CommandError> {
    let mut projects = Vec::new();
    for name in PROJECTS {
        let project = match directory::project_named(auditor, name).await? {
            Some(project) => project,
            None => {
                let mut audit = auditor
                    .begin::<StaffEvent>(Actor::system("crash-worker"))
                    .await?;
                let project = commands::add_project(&mut audit, name).await?;
                audit.commit().await?;
                project
            }
        };
        projects.push(project);
    }
    Ok(projects)
}

async fn random_member(
    auditor: &Auditor,
    rng: &mut Rng,
) -> Result<Option<(ProjectRef, UserRef)>, sqlx::Error> {
    let rows: Vec<(i64, String, i64, String)> = audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::query_as(
            "SELECT p.id, p.name, u.id, u.username FROM memberships m \
             JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = m.user_id \
             ORDER BY m.id DESC LIMIT 20",
        )
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

/// Runs membership commands until killed (or `limit` commands, if given),
/// calling `ready` once its projects exist:
/// add a new user to a project with roles, change a member's roles, or
/// remove a member, each in its own transaction. Returns how many committed.
pub async fn work(
    auditor: &Auditor,
    seed: u64,
    limit: Option<u64>,
    ready: impl FnOnce(),
) -> Result<u64, CommandError> {
    let mut rng = Rng::new(seed);
    let projects = ensure_projects(auditor).await?;
    ready();
    let actor = Actor::system("crash-worker");
    let mut done = 0;
    while limit.is_none_or(|limit| done < limit) {
        let op = rng.below(4);
        let member = match op {
            0 | 1 => None,
            _ => match random_member(auditor, &mut rng).await? {
                Some(member) => Some(member),
                None => continue,
            },
        };
        let mut audit = auditor.begin::<StaffEvent>(actor.clone()).await?;
        match (op, member) {
            (2, Some((project, user))) => {
                let roles = random_roles(&mut rng);
                commands::update_member_roles(&mut audit, &project, &user, roles).await?;
            }
            (_, Some((project, user))) => {
                commands::remove_member(&mut audit, &project, &user).await?;
            }
            (_, None) => {
                let name = format!("u{seed:x}-{done}-{:x}", rng.next_u64());
                let user = commands::add_user(&mut audit, &name, Roles::new()).await?;
                let project = &projects[rng.below(projects.len() as u64) as usize];
                let roles = random_roles(&mut rng);
                commands::add_member(&mut audit, project, &user, roles).await?;
            }
        }
        audit.commit().await?;
        done += 1;
    }
    Ok(done)
}

/// What the checker found: empty when every invariant holds.
#[derive(Debug, Default)]
pub struct Findings {
    /// The broken invariants, one sentence each.
    pub problems: Vec<String>,
    /// Memberships in the table.
    pub memberships: usize,
    /// Membership events in the log.
    pub events: usize,
}

type EventRow = (i64, String, Option<String>, String, String);

/// Checks the invariants of the worker's log against the tables:
/// - every membership has its added event, and its roles are those of its
///   latest roles event (its last change has its event);
/// - every membership with an added event is in the table unless a removed
///   event says it left, and no removed membership is in the table (every
///   event's change is visible);
/// - every command id holds a whole command: an add has its roles event, a
///   removal its roles-cleared event, for the same membership.
pub async fn check(auditor: &Auditor) -> Result<Findings, sqlx::Error> {
    let memberships_sql = "SELECT id, roles FROM memberships";
    let payload = if auditor.backend() == audit_core::Backend::Postgres {
        "payload::text"
    } else {
        "payload"
    };
    let events_sql = format!(
        "SELECT id, event_type, target_id, command_id, {payload} FROM audit_events \
         WHERE event_type LIKE 'project_member_%' ORDER BY id"
    );
    // Both reads in one snapshot, or a commit landing between them (a
    // command still finishing elsewhere) would look like a broken invariant.
    let (memberships, events): (Vec<(i64, String)>, Vec<EventRow>) = audit_core::on_backend!(auditor.pool(), pool => {{
        let mut tx = pool.begin().await?;
        if auditor.backend() == audit_core::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        let memberships = sqlx::query_as(memberships_sql).fetch_all(&mut *tx).await?;
        let events = sqlx::query_as(sqlx::AssertSqlSafe(events_sql.clone())).fetch_all(&mut *tx).await?;
        tx.rollback().await?;
        (memberships, events)
    }});
    let mut findings = Findings {
        memberships: memberships.len(),
        events: events.len(),
        ..Findings::default()
    };
    let problems = &mut findings.problems;

    let mut added = BTreeSet::new();
    let mut removed = BTreeSet::new();
    let mut latest_roles: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut by_command: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (id, code, target, command, payload) in &events {
        let Some(target) = target.as_deref() else {
            problems.push(format!("event {id} ({code}) has no target"));
            continue;
        };
        by_command.entry(command).or_default().push((code, target));
        match code.as_str() {
            "project_member_added" => {
                added.insert(target.to_owned());
            }
            "project_member_removed" => {
                removed.insert(target.to_owned());
            }
            "project_member_updated_roles" => {
                let value: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
                latest_roles.insert(target.to_owned(), value["after"].clone());
            }
            _ => {}
        }
    }
    let in_table: BTreeMap<String, &str> = memberships
        .iter()
        .map(|(id, roles)| (id.to_string(), roles.as_str()))
        .collect();
    for (id, roles) in &in_table {
        if !added.contains(id) {
            problems.push(format!(
                "membership {id} is in the table without its added event"
            ));
        }
        let stored: serde_json::Value = serde_json::from_str(roles).unwrap_or_default();
        let logged = latest_roles
            .get(id)
            .cloned()
            .unwrap_or(serde_json::json!([]));
        if stored != logged {
            problems.push(format!(
                "membership {id} has roles {stored} but its latest roles event says {logged}"
            ));
        }
        if removed.contains(id) {
            problems.push(format!(
                "membership {id} is in the table after its removed event"
            ));
        }
    }
    for id in &added {
        if !in_table.contains_key(id) && !removed.contains(id) {
            problems.push(format!(
                "membership {id} has an added event but is not in the table"
            ));
        }
    }
    for (command, parts) in &by_command {
        let has = |code: &str, target: &str| parts.contains(&(code, target));
        for (code, target) in parts {
            let partner = match *code {
                "project_member_added" => "project_member_updated_roles",
                "project_member_removed" => "project_member_updated_roles",
                _ => continue,
            };
            if !has(partner, target) {
                problems.push(format!(
                    "command {command} is half-present: {code} of membership {target} without {partner}"
                ));
            }
        }
    }
    Ok(findings)
}
