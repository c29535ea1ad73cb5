//! G12: positions follow commit order, so replaying the log as read
//! reproduces the state. What [`Auditor::read_after`] returns (and with it
//! the command line's `export` and `follow`) is read "in commit order": a
//! consumer that applies each roles event's `after` in the order read must
//! end with the roles the tables hold, and every roles event's `before` must
//! be the `after` of the one read before it for the same membership (or
//! user). A transaction that began first but committed last must be read
//! after the one that committed before it.
//!
//! - `a_transaction_that_waited_is_read_after_the_one_that_committed_first`
//!   (PostgreSQL only: SQLite runs one writer at a time): a clear of a
//!   user's roles starts first and waits on a row lock; an update of one of
//!   that user's memberships starts after it and commits first; the clear
//!   then overwrites the update's roles and commits last.
//! - `replaying_what_a_follower_read_rebuilds_the_tables` (every backend):
//!   writers change, clear, remove and add memberships of a few users at
//!   once while a follower reads on from its last position, as `follow`
//!   does; replaying what it read must rebuild the tables, every event read
//!   once.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use audit_core::commands::{Isolation, RetryPolicy};
use audit_core::events::Decoded;
use audit_core::query::{Position, StoredEvent};
use audit_core::{Actor, Auditor};
use example_app::commands::{self, CommandError, StaffAudit};
use example_app::crash::Rng;
use example_app::domain::{ProjectRef, Role, Roles, UserRef};
use example_app::events::StaffEvent;
use sqlx::{Connection, PgConnection};

/// How the command line runs a change (`main.rs`'s `retry_policy`): READ
/// COMMITTED on PostgreSQL, made again when the database refuses it
/// because of a concurrent transaction.
fn app_policy() -> RetryPolicy {
    RetryPolicy::default()
        .isolation(Isolation::Default)
        .attempts(10)
}

/// Runs `work` as the command line runs a change: one audited transaction
/// acting for `actor`, retried as [`app_policy`] says.
async fn change<A, F>(auditor: &Auditor, actor: &str, args: A, work: F) -> Result<(), CommandError>
where
    A: Clone + Send + 'static,
    F: for<'a> Fn(&'a mut StaffAudit, A) -> audit_core::commands::Attempt<'a, (), CommandError>
        + Copy
        + Send
        + 'static,
{
    auditor
        .transact::<StaffEvent, _, CommandError, _>(Actor::system(actor), app_policy(), |audit| {
            let args = args.clone();
            Box::pin(async move { work(&mut *audit, args).await })
        })
        .await
}

fn roles(list: &[Role]) -> Roles {
    list.iter().copied().collect()
}

/// Every event after `Position::START`, read with `read_after` in pages of
/// `page` until one comes back empty with nothing held back (no change
/// runs any more when this is called; the bound only tells a hang from
/// an answer).
async fn read_all(auditor: &Auditor, page: u32) -> Vec<StoredEvent<StaffEvent>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut events = Vec::new();
    let mut at = Position::START;
    loop {
        let tail = auditor
            .read_after::<StaffEvent>(at, page)
            .await
            .unwrap_or_else(|e| panic!("{}: read_after: {e}", common::label(auditor)));
        if tail.events.is_empty() {
            match tail.held_back {
                None => return events,
                Some(held) => {
                    assert!(Instant::now() < deadline, "still held back: {held}");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
        at = tail.next;
        events.extend(tail.events);
    }
}

/// What a consumer that applies the events in the order read ends up
/// with, and where the order read contradicts itself.
#[derive(Debug, Default)]
struct Replay {
    /// Each membership present, with its roles (the last `after` read).
    memberships: RolesById,
    /// Each user, with their global roles.
    users: RolesById,
    /// Roles events checked against the previous `after` of their entity.
    links: usize,
    /// The roles events whose `before` is not the previous `after` read
    /// for their entity (or whose entity was not there), one line each.
    out_of_order: Vec<String>,
    /// Adds and removes that do not fit the order read.
    stray: Vec<String>,
}

impl Replay {
    fn of(events: &[StoredEvent<StaffEvent>]) -> Replay {
        let mut replay = Replay::default();
        for (n, stored) in events.iter().enumerate() {
            let event = match &stored.event {
                Decoded::Known(event) => event,
                Decoded::Unknown(unknown) => panic!("event {} unreadable: {unknown:?}", stored.id),
            };
            let at = format!("#{n} (id {}, {})", stored.id, stored.actor);
            match event {
                StaffEvent::ProjectMemberAdded(e) => {
                    if replay
                        .memberships
                        .insert(e.membership.0, Roles::new())
                        .is_some()
                    {
                        replay.stray.push(format!(
                            "{at}: membership {} added while present",
                            e.membership.0
                        ));
                    }
                }
                StaffEvent::ProjectMemberRemoved(e) => {
                    if replay.memberships.remove(&e.membership.0).is_none() {
                        replay.stray.push(format!(
                            "{at}: membership {} removed while absent",
                            e.membership.0
                        ));
                    }
                }
                StaffEvent::ProjectMemberUpdatedRoles(e) => {
                    replay.links += 1;
                    let current = replay.memberships.get(&e.membership.0);
                    if current != Some(&e.before) {
                        replay.out_of_order.push(format!(
                            "{at}: membership {} ({} in {}): before {:?}, but the replay had {:?}; after {:?}",
                            e.membership.0,
                            e.user.username,
                            e.project.name,
                            e.before,
                            current,
                            e.after
                        ));
                    }
                    replay.memberships.insert(e.membership.0, e.after.clone());
                }
                StaffEvent::UserCreated(e) => {
                    replay.users.insert(e.user.id, e.global_roles.clone());
                }
                StaffEvent::UserUpdatedRoles(e) => {
                    replay.links += 1;
                    let current = replay.users.get(&e.user.id);
                    if current != Some(&e.before) {
                        replay.out_of_order.push(format!(
                            "{at}: user {}'s global roles: before {:?}, but the replay had {:?}; after {:?}",
                            e.user.username, e.before, current, e.after
                        ));
                    }
                    replay.users.insert(e.user.id, e.after.clone());
                }
                StaffEvent::UserRemoved(e) => {
                    if replay.users.remove(&e.user.id).is_none() {
                        replay
                            .stray
                            .push(format!("{at}: user {} removed while absent", e.user.id));
                    }
                }
                StaffEvent::ProjectCreated(_) | StaffEvent::UserPasswordSet(_) => {}
            }
        }
        replay
    }

    /// Where the replay differs from the tables, one line each.
    /// What is wrong with the order read: the replay differs from the
    /// tables, or links are out of order; each failure's text starts with
    /// its `labels`.
    async fn failures(&self, auditor: &Auditor, labels: [&str; 2]) -> Vec<String> {
        let mut failures = Vec::new();
        let differences = self.differences(auditor).await;
        if !differences.is_empty() {
            failures.push(format!(
                "{}replaying the events in the order read differs from the tables:\n{}",
                labels[0],
                some(&differences)
            ));
        }
        if !self.out_of_order.is_empty() || !self.stray.is_empty() {
            failures.push(format!(
                "{}{} of {} roles events read out of order (`before` is not the previous \
                 `after`), {} adds/removes out of place:\n{}",
                labels[1],
                self.out_of_order.len(),
                self.links,
                self.stray.len(),
                some(&[&self.out_of_order[..], &self.stray[..]].concat())
            ));
        }
        failures
    }

    async fn differences(&self, auditor: &Auditor) -> Vec<String> {
        let (memberships, users) = tables(auditor).await;
        let mut differences = differ("membership", &self.memberships, &memberships);
        differences.extend(differ("user", &self.users, &users));
        differences
    }
}

/// Roles by id: of each membership, or each user's global roles.
type RolesById = BTreeMap<i64, Roles>;

/// The memberships' and the users' roles, as the tables hold them now.
async fn tables(auditor: &Auditor) -> (RolesById, RolesById) {
    (
        roles_in(auditor, "SELECT id, roles FROM memberships").await,
        roles_in(auditor, "SELECT id, roles FROM users").await,
    )
}

/// The roles of each row that `sql` returns (its id, its roles as JSON).
async fn roles_in(auditor: &Auditor, sql: &'static str) -> RolesById {
    let rows: Vec<(i64, String)> = audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::query_as(sql).fetch_all(pool).await.unwrap()
    });
    rows.into_iter()
        .map(|(id, json)| (id, serde_json::from_str(&json).unwrap()))
        .collect()
}

fn differ(what: &str, replay: &RolesById, table: &RolesById) -> Vec<String> {
    let ids: BTreeSet<i64> = replay.keys().chain(table.keys()).copied().collect();
    ids.into_iter()
        .filter(|id| replay.get(id) != table.get(id))
        .map(|id| {
            format!(
                "{what} {id}: replay {:?}, table {:?}",
                replay.get(&id),
                table.get(&id)
            )
        })
        .collect()
}

/// At most 10 of `lines`, and how many more.
fn some(lines: &[String]) -> String {
    let mut shown: Vec<String> = lines.iter().take(10).map(|l| format!("  {l}")).collect();
    if lines.len() > 10 {
        shown.push(format!("  ... and {} more", lines.len() - 10));
    }
    shown.join("\n")
}

/// Waits until a session is blocked by the session `holder` (a lock it
/// holds), or panics at `deadline` (a bound telling a hang from an
/// answer) or when `background` ended without blocking.
async fn wait_until_blocked_by(
    observer: &mut PgConnection,
    holder: i32,
    background: &tokio::task::JoinHandle<Result<(), CommandError>>,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let blocked: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
        )
        .bind(holder)
        .fetch_one(&mut *observer)
        .await
        .unwrap();
        if blocked > 0 {
            return;
        }
        assert!(
            !background.is_finished(),
            "the clear ended without waiting on the row lock"
        );
        assert!(
            Instant::now() < deadline,
            "the clear never waited on the row lock"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transaction_that_waited_is_read_after_the_one_that_committed_first() {
    // SQLite runs one writer at a time: no transaction can wait inside
    // another's, and ids are commit order there.
    let Some(auditor) = common::postgres("commit_order_waited").await else {
        return;
    };
    example_app::schema::migrate(&auditor).await.unwrap();
    let url = common::url_of(&auditor).await;

    let mut setup: StaffAudit = auditor.begin(Actor::system("setup")).await.unwrap();
    let p0 = commands::add_project(&mut setup, "P0").await.unwrap();
    let p1 = commands::add_project(&mut setup, "P1").await.unwrap();
    let developer = roles(&[Role::ProjectDeveloper]);
    let u = commands::add_user(&mut setup, "u", developer.clone())
        .await
        .unwrap();
    let m0 = commands::add_member(&mut setup, &p0, &u, developer.clone())
        .await
        .unwrap();
    let m1 = commands::add_member(&mut setup, &p1, &u, developer.clone())
        .await
        .unwrap();
    setup.commit().await.unwrap();

    // Another session locks u's membership of P0 and keeps it.
    let mut holder = PgConnection::connect(&url).await.unwrap();
    let mut holding = holder.begin().await.unwrap();
    let holder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *holding)
        .await
        .unwrap();
    sqlx::query("SELECT id FROM memberships WHERE id = $1 FOR UPDATE")
        .bind(m0.0)
        .execute(&mut *holding)
        .await
        .unwrap();

    // The clear begins: it changes u's global roles (a transaction id),
    // then waits on P0's membership.
    let clear = tokio::spawn({
        let (auditor, u) = (auditor.clone(), u.clone());
        async move {
            change(&auditor, "clear", u, |audit, u| {
                Box::pin(async move { u.clear_roles(audit).await })
            })
            .await
        }
    });
    let mut observer = PgConnection::connect(&url).await.unwrap();
    wait_until_blocked_by(&mut observer, holder_pid, &clear).await;

    // Meanwhile u's roles on P1 change, and commit first.
    change(
        &auditor,
        "update",
        (p1.clone(), u.clone()),
        |audit, (p1, u)| {
            Box::pin(async move {
                commands::update_member_roles(audit, &p1, &u, roles(&[Role::OutputChecker])).await
            })
        },
    )
    .await
    .unwrap();

    // The lock goes; the clear goes on, sees P1's new roles, clears them,
    // and commits last.
    holding.rollback().await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), clear)
        .await
        .expect("the clear never finished")
        .unwrap()
        .unwrap();

    // The scenario went as meant: the clear committed last.
    let (memberships, users) = tables(&auditor).await;
    assert_eq!(memberships.get(&m0.0), Some(&Roles::new()), "scenario");
    assert_eq!(memberships.get(&m1.0), Some(&Roles::new()), "scenario");
    assert_eq!(users.get(&u.id), Some(&Roles::new()), "scenario");

    let events = read_all(&auditor, 3).await;
    let clear_saw = events.iter().find_map(|stored| match &stored.event {
        Decoded::Known(StaffEvent::ProjectMemberUpdatedRoles(e))
            if stored.actor == Actor::system("clear") && e.membership == m1 =>
        {
            Some(e.before.clone())
        }
        _ => None,
    });
    assert_eq!(
        clear_saw,
        Some(roles(&[Role::OutputChecker])),
        "scenario: the clear's `before` on P1 is the update's `after`"
    );

    let replay = Replay::of(&events);
    let order: Vec<String> = events
        .iter()
        .map(|e| format!("{} {}", e.actor, e.command_name))
        .collect();
    let mut failures = replay.failures(&auditor, ["(a) ", "(b) "]).await;
    let last_update = events
        .iter()
        .rposition(|e| e.actor == Actor::system("update"));
    let first_clear = events
        .iter()
        .position(|e| e.actor == Actor::system("clear"));
    let (Some(last_update), Some(first_clear)) = (last_update, first_clear) else {
        panic!("the update's or the clear's events were not read: {order:?}");
    };
    if last_update > first_clear {
        failures.push(format!(
            "(c) the clear (committed last) was read before the update (committed first): \
             the clear's first event at #{first_clear}, the update's last at #{last_update}"
        ));
    }
    assert!(
        failures.is_empty(),
        "postgres: read_after is not in commit order:\n{}\norder read: {order:#?}",
        failures.join("\n")
    );
}

/// Writers at once, and the changes each makes.
const WRITERS: usize = 6;
const CHANGES_PER_WRITER: usize = 40;
const USERS: usize = 3;
const PROJECTS: usize = 3;

/// Up to two random roles (possibly none), in random order.
fn random_roles(rng: &mut Rng) -> Roles {
    let mut picked = Roles::new();
    for _ in 0..rng.below(3) {
        picked.insert(Role::ALL[rng.below(Role::ALL.len() as u64) as usize]);
    }
    picked
}

/// Whether `user` is a member of `project`, in `audit`'s transaction.
async fn is_member(
    audit: &mut StaffAudit,
    project: &ProjectRef,
    user: &UserRef,
) -> Result<bool, CommandError> {
    let id: Option<i64> = audit_core::on_backend!(audit.db(), conn => {
        sqlx::query_scalar("SELECT id FROM memberships WHERE project_id = $1 AND user_id = $2")
            .bind(project.id)
            .bind(user.id)
            .fetch_optional(conn)
            .await?
    });
    Ok(id.is_some())
}

/// One writer's changes: `CHANGES_PER_WRITER` of a random mix. Returns
/// how many committed and how many were refused because a concurrent
/// change removed or added the membership first (as a user would see).
async fn writer(
    auditor: Auditor,
    w: usize,
    seed: u64,
    projects: Vec<ProjectRef>,
    users: Vec<UserRef>,
) -> Result<(usize, usize), String> {
    let mut rng = Rng::new(seed ^ (w as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let actor = format!("writer-{w}");
    let (mut committed, mut refused) = (0, 0);
    for i in 0..CHANGES_PER_WRITER {
        let user = users[rng.below(USERS as u64) as usize].clone();
        let project = projects[rng.below(PROJECTS as u64) as usize].clone();
        let kind = rng.below(100);
        let outcome = if kind < 35 {
            let to = random_roles(&mut rng);
            change(
                &auditor,
                &actor,
                (project, user, to),
                |audit, (p, u, to)| {
                    Box::pin(async move { commands::update_member_roles(audit, &p, &u, to).await })
                },
            )
            .await
        } else if kind < 60 {
            // The command line's `clear-user-roles`: u's global roles,
            // then each of u's memberships, in one transaction.
            change(&auditor, &actor, user, |audit, u| {
                Box::pin(async move { u.clear_roles(audit).await })
            })
            .await
        } else if kind < 85 {
            // New roles on each of u's memberships, in one transaction, in
            // project order (as the clear goes: no deadlock), letting the
            // other writers run between them: a transaction with an early
            // id that reaches its later rows after others have changed and
            // committed them.
            let plan: Vec<(ProjectRef, Roles)> = projects
                .iter()
                .map(|p| (p.clone(), random_roles(&mut rng)))
                .collect();
            change(&auditor, &actor, (user, plan), |audit, (u, plan)| {
                Box::pin(async move {
                    for (p, to) in plan {
                        if is_member(audit, &p, &u).await? {
                            commands::update_member_roles(audit, &p, &u, to).await?;
                            tokio::task::yield_now().await;
                        }
                    }
                    Ok(())
                })
            })
            .await
        } else {
            // Remove the member, or add them back with new roles.
            let to = random_roles(&mut rng);
            change(
                &auditor,
                &actor,
                (project, user, to),
                |audit, (p, u, to)| {
                    Box::pin(async move {
                        if is_member(audit, &p, &u).await? {
                            commands::remove_member(audit, &p, &u).await
                        } else {
                            commands::add_member(audit, &p, &u, to).await.map(|_| ())
                        }
                    })
                },
            )
            .await
        };
        match outcome {
            Ok(()) => committed += 1,
            Err(
                CommandError::NotAMember { .. }
                | CommandError::AlreadyAMember { .. }
                | CommandError::Conflict(_),
            ) => refused += 1,
            Err(e) => return Err(format!("writer {w}, change {i}: {e}")),
        }
    }
    Ok((committed, refused))
}

/// The follower's page size.
const FOLLOW_PAGE: u32 = 50;

/// Reads on from its last position, as `follow` does, until `done` was set
/// before a read that found nothing more and nothing held back.
async fn follower(auditor: Auditor, done: Arc<AtomicBool>) -> Vec<StoredEvent<StaffEvent>> {
    let mut read = Vec::new();
    let mut at = Position::START;
    loop {
        let finished = done.load(Ordering::SeqCst);
        let tail = auditor
            .read_after::<StaffEvent>(at, FOLLOW_PAGE)
            .await
            .unwrap_or_else(|e| panic!("{}: follower: {e}", common::label(&auditor)));
        let caught_up = tail.events.is_empty() && tail.held_back.is_none();
        let short = tail.events.len() < FOLLOW_PAGE as usize;
        at = tail.next;
        read.extend(tail.events);
        if caught_up && finished {
            return read;
        }
        if short {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replaying_what_a_follower_read_rebuilds_the_tables() {
    let seed = std::env::var("COMMIT_ORDER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("commit_order: seed {seed} (COMMIT_ORDER_SEED={seed} replays the writers' choices)");
    for auditor in common::auditors("commit_order_follow").await {
        let label = common::label(&auditor);
        let mut setup: StaffAudit = auditor.begin(Actor::system("setup")).await.unwrap();
        let mut projects = Vec::new();
        for p in 0..PROJECTS {
            projects.push(
                commands::add_project(&mut setup, &format!("P{p}"))
                    .await
                    .unwrap(),
            );
        }
        let mut users = Vec::new();
        for u in 0..USERS {
            let user =
                commands::add_user(&mut setup, &format!("u{u}"), roles(&[Role::OutputChecker]))
                    .await
                    .unwrap();
            for project in &projects {
                commands::add_member(&mut setup, project, &user, roles(&[Role::ProjectDeveloper]))
                    .await
                    .unwrap();
            }
            users.push(user);
        }
        setup.commit().await.unwrap();

        let done = Arc::new(AtomicBool::new(false));
        let follow = tokio::spawn(follower(auditor.clone(), done.clone()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(writer(
                    auditor.clone(),
                    w,
                    seed,
                    projects.clone(),
                    users.clone(),
                ))
            })
            .collect();
        let (mut committed, mut refused) = (0, 0);
        for w in writers {
            let (c, r) = w
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{label} (seed {seed}): {e}"));
            committed += c;
            refused += r;
        }
        done.store(true, Ordering::SeqCst);
        let read = tokio::time::timeout(Duration::from_secs(60), follow)
            .await
            .expect("the follower never caught up")
            .unwrap();

        // Every event read once, and every event of the log read.
        let mut failures = Vec::new();
        let mut seen = BTreeSet::new();
        let twice: Vec<String> = read
            .iter()
            .filter(|e| !seen.insert(e.id))
            .map(|e| format!("event {} read twice", e.id))
            .collect();
        if !twice.is_empty() {
            failures.push(format!(
                "{} events read twice:\n{}",
                twice.len(),
                some(&twice)
            ));
        }
        let all: BTreeSet<i64> = read_all(&auditor, 200).await.iter().map(|e| e.id).collect();
        let in_table =
            common::scalar(&auditor, "SELECT COUNT(*) FROM audit_events WHERE id > 0").await;
        assert_eq!(
            all.len() as i64,
            in_table,
            "{label}: a full read_after vs the table"
        );
        let missed: Vec<String> = all
            .difference(&seen)
            .map(|id| format!("event {id} never read by the follower"))
            .collect();
        if !missed.is_empty() {
            failures.push(format!(
                "{} events missed:\n{}",
                missed.len(),
                some(&missed)
            ));
        }

        // Replaying them in the order read rebuilds the tables.
        let replay = Replay::of(&read);
        failures.extend(replay.failures(&auditor, ["", ""]).await);
        eprintln!(
            "{label}: {committed} changes committed, {refused} refused (membership gone or there); \
             {} events read by the follower, {} roles links, {} out of order",
            read.len(),
            replay.links,
            replay.out_of_order.len()
        );
        assert!(
            failures.is_empty(),
            "{label} (seed {seed}): what the follower read is not in commit order:\n{}",
            failures.join("\n")
        );
    }
}
