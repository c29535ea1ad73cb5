//! The crash test's checker: verifies, from what the database holds after
//! worker processes were killed at random moments, that every committed
//! change has its events, no event lacks its change or is there twice, and
//! each membership's roles events form an unbroken chain. The workers
//! themselves are test code (`tests/crash/worker.rs`), not part of the
//! application; other tests run the checker after their own workloads.

use std::collections::{BTreeMap, BTreeSet};

use audit_core::Auditor;
use serde::Deserialize;

use crate::domain::Roles;

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

/// What the checker found: `problems` is empty when every invariant holds.
#[derive(Debug, Default)]
pub struct Findings {
    /// The broken invariants, one sentence each.
    pub problems: Vec<String>,
    /// Memberships in the table.
    pub memberships: usize,
    /// Users in the table.
    pub users: usize,
    /// Events in the log, of every type.
    pub events: usize,
    /// Membership events in the log.
    pub membership_events: usize,
    /// Roles events whose `before` was checked against the `after` of the
    /// previous roles event of their membership.
    pub roles_links: usize,
}

/// What the checker reads, in one snapshot.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Each membership's id and stored roles (JSON).
    pub memberships: Vec<(i64, String)>,
    /// Each user's id.
    pub users: Vec<i64>,
    /// Every event, by id.
    pub events: Vec<SnapshotEvent>,
}

/// One event as the checker reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotEvent {
    /// The event's id.
    pub id: i64,
    /// Its type code.
    pub code: String,
    /// Its target's id, if any.
    pub target: Option<String>,
    /// The id of the command that emitted it.
    pub command: String,
    /// Its payload, as JSON text.
    pub payload: String,
}

/// Reads the memberships, the users and the whole log in one snapshot.
pub async fn snapshot(auditor: &Auditor) -> Result<Snapshot, sqlx::Error> {
    let payload = if auditor.backend() == audit_core::store::Backend::Postgres {
        "payload::text"
    } else {
        "payload"
    };
    let events_sql = format!(
        // Id 0 is the log's anchor, and `audit:` codes are the log's own
        // records (its anchor, prunes, repairs): not the application's events.
        "SELECT id, event_type, target_id, command_id, {payload} FROM audit_events \
         WHERE id > 0 AND event_type NOT LIKE 'audit:%' ORDER BY id"
    );
    // All reads in one snapshot, or a commit landing between them (a
    // command still finishing elsewhere) would look like a broken invariant.
    type Row = (i64, String, Option<String>, String, String);
    let (memberships, users, events): (Vec<(i64, String)>, Vec<i64>, Vec<Row>) = audit_core::on_backend!(auditor.pool(), pool => {{
        let mut tx = pool.begin().await?;
        if auditor.backend() == audit_core::store::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        let memberships = sqlx::query_as("SELECT id, roles FROM memberships ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
        let users = sqlx::query_scalar("SELECT id FROM users ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
        let events = sqlx::query_as(sqlx::AssertSqlSafe(events_sql.clone())).fetch_all(&mut *tx).await?;
        tx.rollback().await?;
        (memberships, users, events)
    }});
    Ok(Snapshot {
        memberships,
        users,
        events: events
            .into_iter()
            .map(|(id, code, target, command, payload)| SnapshotEvent {
                id,
                code,
                target,
                command,
                payload,
            })
            .collect(),
    })
}

/// Reads a snapshot of the database ([`snapshot`]) and checks it ([`verify`]).
pub async fn check(auditor: &Auditor) -> Result<Findings, sqlx::Error> {
    Ok(verify(&snapshot(auditor).await?))
}

/// The part of a roles event's payload the chain needs.
#[derive(Deserialize)]
struct RolesChange {
    before: Roles,
    after: Roles,
}

/// One membership's history, as its events tell it so far.
#[derive(Default)]
struct History {
    /// The id of its added event.
    added: Option<i64>,
    /// The id of its removed event.
    removed: Option<i64>,
    /// Its roles after the latest roles event (empty when added).
    roles: Roles,
    /// The id of its latest roles event.
    last_roles_event: Option<i64>,
}

/// Checks the invariants of the workers' log against the tables:
/// - every membership has its added event, and its roles are those of its
///   latest roles event (its last change has its event);
/// - every membership with an added event is in the table unless a removed
///   event says it left, and no removed membership is in the table (every
///   event's change is visible);
/// - every user has its created event, and every created user is in the
///   table (users are never deleted);
/// - every command id holds a whole command: an add has its roles event, a
///   removal its roles-cleared event, for the same membership;
/// - no event is there twice (one command id, type and target);
/// - each membership's roles events, in commit order, form a chain: each
///   one's `before` is the previous one's `after`, the first one's `before`
///   is the empty set the membership is added with, none comes before the
///   added event or after the removed one, and a membership leaves with
///   its roles cleared.
///
/// Commit order: on SQLite (one writer at a time) ids are commit order. On
/// PostgreSQL they are not in general (an id is taken at INSERT, and a
/// transaction that took a smaller one may commit later), but they are for
/// one membership's events: every command that changes a membership locks
/// its row from its read to its commit (`Membership::find_for_update`; an
/// added membership is invisible to others until its commit) and writes
/// its events just before COMMIT, so of two transactions on one
/// membership, the second takes its event ids after the first committed.
pub fn verify(snapshot: &Snapshot) -> Findings {
    let mut events: Vec<&SnapshotEvent> = snapshot.events.iter().collect();
    events.sort_by_key(|e| e.id);
    let mut findings = Findings {
        memberships: snapshot.memberships.len(),
        users: snapshot.users.len(),
        events: events.len(),
        ..Findings::default()
    };
    let problems = &mut findings.problems;

    let mut seen: BTreeMap<(&str, &str, &str), i64> = BTreeMap::new();
    let mut created_users = BTreeSet::new();
    let mut histories: BTreeMap<&str, History> = BTreeMap::new();
    let mut by_command: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for event in events {
        let (id, code) = (event.id, event.code.as_str());
        let Some(target) = event.target.as_deref() else {
            problems.push(format!("event {id} ({code}) has no target"));
            continue;
        };
        if let Some(first) = seen.insert((&event.command, code, target), id) {
            problems.push(format!(
                "event {id} repeats event {first}: {code} of {target} in command {}",
                event.command
            ));
        }
        if code == "user_created" {
            created_users.insert(target);
        }
        if !code.starts_with("project_member_") {
            continue;
        }
        findings.membership_events += 1;
        by_command
            .entry(&event.command)
            .or_default()
            .push((code, target));
        let history = histories.entry(target).or_default();
        if code != "project_member_added" && history.added.is_none() {
            problems.push(format!(
                "event {id} ({code}) of membership {target} comes before its added event"
            ));
        }
        if let Some(removed) = history.removed {
            problems.push(format!(
                "event {id} ({code}) of membership {target} comes after its removed event {removed}"
            ));
        }
        match code {
            "project_member_added" => {
                if let Some(first) = history.added {
                    problems.push(format!(
                        "membership {target} is added twice, by events {first} and {id}"
                    ));
                }
                history.added = Some(id);
            }
            "project_member_removed" => {
                if !history.roles.is_empty() {
                    problems.push(format!(
                        "membership {target} is removed (event {id}) with roles {:?} never cleared",
                        history.roles
                    ));
                }
                history.removed = Some(id);
            }
            "project_member_updated_roles" => {
                let change: RolesChange = match serde_json::from_str(&event.payload) {
                    Ok(change) => change,
                    Err(e) => {
                        problems.push(format!("roles event {id} cannot be read: {e}"));
                        continue;
                    }
                };
                if change.before != history.roles {
                    let previous = match history.last_roles_event {
                        Some(previous) => format!("roles event {previous} left"),
                        None => "it was added with".to_owned(),
                    };
                    problems.push(format!(
                        "membership {target}: roles event {id} says before {:?}, but {previous} {:?}",
                        change.before, history.roles
                    ));
                }
                findings.roles_links += 1;
                history.roles = change.after;
                history.last_roles_event = Some(id);
            }
            _ => {}
        }
    }

    let in_table: BTreeMap<String, &str> = snapshot
        .memberships
        .iter()
        .map(|(id, roles)| (id.to_string(), roles.as_str()))
        .collect();
    for (id, roles) in &in_table {
        let Some(history) = histories.get(id.as_str()).filter(|h| h.added.is_some()) else {
            problems.push(format!(
                "membership {id} is in the table without its added event"
            ));
            continue;
        };
        match serde_json::from_str::<Roles>(roles) {
            Ok(stored) if stored == history.roles => {}
            Ok(stored) => problems.push(format!(
                "membership {id} has roles {stored:?} but its latest roles event says {:?}",
                history.roles
            )),
            Err(e) => problems.push(format!("membership {id} has unreadable roles: {e}")),
        }
        if let Some(removed) = history.removed {
            problems.push(format!(
                "membership {id} is in the table after its removed event {removed}"
            ));
        }
    }
    for (id, history) in &histories {
        if history.added.is_some() && history.removed.is_none() && !in_table.contains_key(*id) {
            problems.push(format!(
                "membership {id} has an added event but is not in the table"
            ));
        }
    }

    let users: BTreeSet<String> = snapshot.users.iter().map(i64::to_string).collect();
    for id in &users {
        if !created_users.contains(id.as_str()) {
            problems.push(format!(
                "user {id} is in the table without its created event"
            ));
        }
    }
    for id in &created_users {
        if !users.contains(*id) {
            problems.push(format!(
                "user {id} has a created event but is not in the table"
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
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn event(id: i64, code: &str, target: &str, command: &str) -> SnapshotEvent {
        SnapshotEvent {
            id,
            code: code.to_owned(),
            target: Some(target.to_owned()),
            command: command.to_owned(),
            payload: "{}".to_owned(),
        }
    }

    fn roles(roles: &[Role]) -> Roles {
        roles.iter().copied().collect()
    }

    fn roles_event(
        id: i64,
        target: &str,
        command: &str,
        before: &[Role],
        after: &[Role],
    ) -> SnapshotEvent {
        SnapshotEvent {
            payload: serde_json::json!({ "before": roles(before), "after": roles(after) })
                .to_string(),
            ..event(id, "project_member_updated_roles", target, command)
        }
    }

    const DEV: Role = Role::ProjectDeveloper;
    const COLLAB: Role = Role::ProjectCollaborator;

    /// Two users, each joined to a project: membership 1 then has its
    /// roles changed; membership 2 is removed.
    fn consistent() -> Snapshot {
        Snapshot {
            memberships: vec![(1, serde_json::to_string(&roles(&[COLLAB])).unwrap())],
            users: vec![7, 8],
            events: vec![
                event(1, "user_created", "7", "a"),
                event(2, "project_member_added", "1", "b"),
                roles_event(3, "1", "b", &[], &[DEV]),
                event(4, "user_created", "8", "c"),
                event(5, "project_member_added", "2", "d"),
                roles_event(6, "2", "d", &[], &[DEV, COLLAB]),
                roles_event(7, "1", "e", &[DEV], &[COLLAB]),
                roles_event(8, "2", "f", &[DEV, COLLAB], &[]),
                event(9, "project_member_removed", "2", "f"),
            ],
        }
    }

    fn problems(snapshot: &Snapshot) -> String {
        verify(snapshot).problems.join("\n")
    }

    #[test]
    fn a_consistent_log_passes_and_every_roles_event_is_a_link() {
        let findings = verify(&consistent());
        assert!(findings.problems.is_empty(), "{:?}", findings.problems);
        assert_eq!(findings.roles_links, 4);
        assert_eq!(findings.membership_events, 7);
        assert_eq!(findings.events, 9);
    }

    #[test]
    fn a_stale_before_breaks_the_chain() {
        let mut snapshot = consistent();
        snapshot.events[6] = roles_event(7, "1", "e", &[COLLAB], &[COLLAB]);
        let found = problems(&snapshot);
        assert!(
            found.contains("membership 1: roles event 7 says before")
                && found.contains("roles event 3 left"),
            "{found}"
        );
        // The first roles event starts from the empty set.
        let mut snapshot = consistent();
        snapshot.events[2] = roles_event(3, "1", "b", &[COLLAB], &[DEV]);
        assert!(problems(&snapshot).contains("it was added with"));
    }

    #[test]
    fn events_out_of_place_are_found() {
        // A roles event after the removal, one before the addition.
        let mut snapshot = consistent();
        snapshot.events.push(roles_event(10, "2", "g", &[], &[DEV]));
        snapshot.events.push(roles_event(11, "3", "h", &[], &[DEV]));
        let found = problems(&snapshot);
        assert!(found.contains("comes after its removed event 9"), "{found}");
        assert!(
            found.contains("membership 3 comes before its added event"),
            "{found}"
        );
        // A removal that did not clear the roles.
        let mut snapshot = consistent();
        snapshot.events.remove(7);
        assert!(problems(&snapshot).contains("never cleared"));
    }

    #[test]
    fn a_repeated_event_is_a_duplicate() {
        let mut snapshot = consistent();
        snapshot.events.push(event(10, "user_created", "8", "c"));
        assert!(problems(&snapshot).contains("event 10 repeats event 4"));
    }

    #[test]
    fn rows_without_their_creating_event_are_found() {
        let mut snapshot = consistent();
        snapshot.users.push(9);
        snapshot.memberships.push((5, "[]".to_owned()));
        let found = problems(&snapshot);
        assert!(
            found.contains("user 9 is in the table without its created event"),
            "{found}"
        );
        assert!(
            found.contains("membership 5 is in the table without its added event"),
            "{found}"
        );
        // And events without their rows.
        let mut snapshot = consistent();
        snapshot.users.retain(|&u| u != 8);
        snapshot.memberships.clear();
        let found = problems(&snapshot);
        assert!(
            found.contains("user 8 has a created event but is not in the table"),
            "{found}"
        );
        assert!(
            found.contains("membership 1 has an added event but is not in the table"),
            "{found}"
        );
    }

    #[test]
    fn stored_roles_must_match_the_latest_roles_event() {
        let mut snapshot = consistent();
        snapshot.memberships[0].1 = serde_json::to_string(&roles(&[DEV])).unwrap();
        assert!(problems(&snapshot).contains("but its latest roles event says"));
    }
}
