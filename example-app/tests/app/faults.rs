//! Faults inside commands: a command future dropped at each of its await
//! points (a timeout, a client that went away) leaves nothing half-written
//! and no connection inside an open transaction. On every backend.

use crate::common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use audit_core::store::Backend;
use audit_core::{Actor, Auditor};
use example_app::commands;
use example_app::crash::check;
use example_app::domain::{Role, Roles};
use example_app::events::StaffEvent;

/// Runs a future until it has been suspended `allowed` times, then drops it
/// (`None`) unless it finished first.
struct DropAfter<F: Future> {
    inner: Pin<Box<F>>,
    allowed: usize,
}

impl<F: Future> Future for DropAfter<F> {
    type Output = Option<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.inner.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(Some(out)),
            Poll::Pending if self.allowed == 0 => Poll::Ready(None),
            Poll::Pending => {
                self.allowed -= 1;
                Poll::Pending
            }
        }
    }
}

/// A whole audited change: a new user added to a project with roles (two
/// commands, three events), committed.
async fn change(auditor: &Auditor, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let project = example_app::directory::project_named(auditor, "Apollo")
        .await?
        .expect("set up");
    let mut audit = auditor.begin::<StaffEvent>(Actor::system("faults")).await?;
    let user = commands::add_user(&mut audit, &format!("user-{n}"), Roles::new()).await?;
    let roles: Roles = [Role::ProjectDeveloper].into_iter().collect();
    commands::add_member(&mut audit, &project, &user, roles).await?;
    audit.commit().await?;
    Ok(())
}

/// Connections of this database sitting inside a transaction (PostgreSQL).
async fn idle_in_transaction(auditor: &Auditor) -> i64 {
    common::scalar(
        auditor,
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND state LIKE 'idle in transaction%'",
    )
    .await
}

/// The change and its events are both there or both absent (a drop during
/// COMMIT may land either way), and no connection is left inside the
/// abandoned transaction: on PostgreSQL none is idle in one (the rollback
/// is sent when the connection goes back to the pool); on SQLite the next
/// change could not take the write lock if one were.
async fn assert_consistent(auditor: &Auditor, when: &str) {
    let label = common::label(auditor);
    let findings = check(auditor).await.unwrap();
    assert!(
        findings.problems.is_empty(),
        "{label}, {when}: {:?}",
        findings.problems
    );
    // One statement, one snapshot.
    let users_without_event = common::scalar(
        auditor,
        "SELECT (SELECT COUNT(*) FROM users) \
         - (SELECT COUNT(*) FROM audit_events WHERE event_type = 'user_created')",
    )
    .await;
    assert_eq!(
        users_without_event, 0,
        "{label}, {when}: a user without its event, or the reverse"
    );
    if auditor.backend() == Backend::Postgres {
        let mut open = idle_in_transaction(auditor).await;
        for _ in 0..50 {
            if open == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            open = idle_in_transaction(auditor).await;
        }
        assert_eq!(
            open, 0,
            "{label}, {when}: a connection idle in a transaction"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_dropped_at_any_await_point_leaves_nothing_half_done() {
    for auditor in common::auditors("dropped").await {
        let label = common::label(&auditor);
        let mut setup = auditor
            .begin::<StaffEvent>(Actor::system("faults"))
            .await
            .unwrap();
        commands::add_project(&mut setup, "Apollo").await.unwrap();
        setup.commit().await.unwrap();

        // Two sweeps: dropped after its k-th suspension, for each k until
        // it finishes (where the executor could cancel it); then dropped by
        // a timeout after 0, 100, 200, ... microseconds (where a server
        // answering fast leaves few suspensions, this reaches the points
        // between them too).
        let mut dropped = 0;
        let mut n = 0;
        for allowed in 0..500 {
            n += 1;
            let outcome = DropAfter {
                inner: Box::pin(change(&auditor, n)),
                allowed,
            }
            .await;
            match outcome {
                Some(result) => {
                    result
                        .unwrap_or_else(|e| panic!("{label}: the undisturbed change failed: {e}"));
                    break;
                }
                None => dropped += 1,
            }
            assert_consistent(&auditor, &format!("dropped after {allowed} suspensions")).await;
        }
        for micros in (0..5_000).step_by(100) {
            n += 1;
            let limit = Duration::from_micros(micros);
            match tokio::time::timeout(limit, change(&auditor, n)).await {
                Ok(result) => result.unwrap_or_else(|e| panic!("{label}: the change failed: {e}")),
                Err(_) => dropped += 1,
            }
            assert_consistent(&auditor, &format!("timed out after {micros} µs")).await;
        }
        assert!(
            dropped >= 5,
            "{label}: the change was cut short only {dropped} times"
        );
        // And the database takes the next change at once.
        tokio::time::timeout(Duration::from_secs(10), change(&auditor, 100_000))
            .await
            .unwrap_or_else(|_| panic!("{label}: a transaction was left holding a lock"))
            .unwrap();
        eprintln!("{label}: cut short {dropped} times, nothing half-done");
    }
}

/// Two serializable transactions that each count a project's members, wait
/// for each other, then add one: PostgreSQL must refuse one of them.
async fn write_skew(
    auditor: &Auditor,
    user: &example_app::domain::UserRef,
    barrier: &tokio::sync::Barrier,
    first_attempt: bool,
    audit: &mut audit_core::Audit<StaffEvent>,
) -> Result<(), example_app::commands::CommandError> {
    let project = example_app::directory::project_named(auditor, "Apollo")
        .await?
        .expect("set up");
    let _members: i64 = audit_core::on_backend!(audit.db(), conn => {
        sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE project_id = $1")
            .bind(project.id)
            .fetch_one(conn)
            .await?
    });
    if first_attempt {
        barrier.wait().await;
    }
    let roles: Roles = [Role::ProjectDeveloper].into_iter().collect();
    commands::add_member(audit, &project, user, roles).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn serialization_failures_are_typed_and_transact_retries_them_safely() {
    use audit_core::commands::{Isolation, RetryPolicy, Retryable};
    use std::sync::Arc;
    let Some(auditor) = common::postgres("serialization").await else {
        return; // SQLite runs one writer at a time: no serialization failure.
    };
    example_app::schema::migrate(&auditor).await.unwrap();
    let mut setup = auditor
        .begin::<StaffEvent>(Actor::system("faults"))
        .await
        .unwrap();
    commands::add_project(&mut setup, "Apollo").await.unwrap();
    let mut users = Vec::new();
    for name in ["u1", "u2", "u3", "u4"] {
        users.push(
            commands::add_user(&mut setup, name, Roles::new())
                .await
                .unwrap(),
        );
    }
    setup.commit().await.unwrap();

    // Plain serializable transactions: one of the two is refused, with an
    // error that says a retry may succeed, and leaves nothing.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let mut tasks = Vec::new();
    for user in &users[..2] {
        let (auditor, barrier, user) = (auditor.clone(), barrier.clone(), user.clone());
        tasks.push(tokio::spawn(async move {
            let mut audit = auditor
                .begin_with::<StaffEvent>(Actor::system("faults"), Isolation::Serializable)
                .await?;
            write_skew(&auditor, &user, &barrier, true, &mut audit).await?;
            audit.commit().await?;
            Ok::<(), example_app::commands::CommandError>(())
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failures.len(), 1, "{results:?}");
    assert!(failures[0].is_retryable(), "{}", failures[0]);
    let added = "SELECT COUNT(*) FROM audit_events WHERE event_type = 'project_member_added'";
    assert_eq!(common::scalar(&auditor, added).await, 1);
    assert_eq!(
        common::scalar(&auditor, "SELECT COUNT(*) FROM memberships").await,
        1
    );

    // The same through `transact`: both succeed, each change once, with
    // exactly its events.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let mut tasks = Vec::new();
    for user in &users[2..] {
        let (auditor, barrier, user) = (auditor.clone(), barrier.clone(), user.clone());
        tasks.push(tokio::spawn(async move {
            let mut attempts = 0;
            let outcome = auditor
                .transact::<StaffEvent, _, example_app::commands::CommandError, _>(
                    Actor::system("faults"),
                    RetryPolicy::default(),
                    |audit| {
                        attempts += 1;
                        let first = attempts == 1;
                        let (auditor, user, barrier) =
                            (auditor.clone(), user.clone(), barrier.clone());
                        Box::pin(async move {
                            write_skew(&auditor, &user, &barrier, first, audit).await
                        })
                    },
                )
                .await;
            (outcome, attempts)
        }));
    }
    let mut attempts = 0;
    for task in tasks {
        let (outcome, n) = task.await.unwrap();
        outcome.unwrap();
        attempts += n;
    }
    assert!(
        attempts >= 3,
        "one of the two was retried: {attempts} attempts"
    );
    assert_eq!(common::scalar(&auditor, added).await, 3);
    assert_eq!(
        common::scalar(&auditor, "SELECT COUNT(*) FROM memberships").await,
        3
    );
    let findings = check(&auditor).await.unwrap();
    assert!(findings.problems.is_empty(), "{:?}", findings.problems);
}
