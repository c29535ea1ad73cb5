//! The command line under concurrency: 8 clients at once, each running 100
//! change commands one after the other (a new process per command, as a
//! user or a script would), half of them changing the roles of a few
//! shared memberships. A change the database refuses because of a
//! concurrent one is retried inside the command (`Auditor::transact`), so
//! none may fail; afterwards the log holds exactly one event per command
//! and each shared membership's roles events form an unbroken chain. On
//! every available backend.

use crate::common;

use std::process::{Command, Output};

use audit_core::Actor;
use example_app::commands::{self, StaffAudit};
use example_app::crash::check;
use example_app::domain::{Role, Roles};

/// Clients running at once, each starting one command-line process per
/// command, one after the other.
const CLIENTS: usize = 8;
/// Change commands each client runs.
const COMMANDS: usize = 100;
/// The shared memberships whose roles half of the commands change.
const MEMBERS: usize = 3;
const PROJECT: &str = "shared";

fn member(m: usize) -> String {
    format!("member-{m}")
}

/// The `i`-th command of client `p`: even ones set a shared member's
/// roles (each time another set, so that a stale `before` shows), odd
/// ones add a user of a name of its own.
fn command_args(p: usize, i: usize) -> Vec<String> {
    if i.is_multiple_of(2) {
        let k = p * COMMANDS + i;
        let mut args = vec![
            "update-member-roles".to_owned(),
            "--project".to_owned(),
            PROJECT.to_owned(),
            "--user".to_owned(),
            member((p + i / 2) % MEMBERS),
        ];
        for (bit, role) in [Role::ProjectDeveloper, Role::ProjectCollaborator]
            .iter()
            .enumerate()
        {
            if (k / 2) >> bit & 1 == 1 {
                args.extend(["--role".to_owned(), role.name().to_owned()]);
            }
        }
        args
    } else {
        vec!["add-user".to_owned(), format!("cli-{p}-{i}")]
    }
}

/// Why a command's run is a failure, if it is one.
fn failure(args: &[String], out: &Output) -> Option<String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ok = out.status.success()
        && !stderr.to_lowercase().contains("error")
        && stdout.contains("done: 1 audit event(s) recorded");
    (!ok).then(|| {
        format!(
            "`{}`: {}\nstdout: {stdout}stderr: {stderr}",
            args.join(" "),
            out.status
        )
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_cli_changes_never_fail_and_keep_the_roles_chain() {
    for auditor in common::auditors("cli_concurrency").await {
        let label = common::label(&auditor);
        let url = common::url_of(&auditor).await;
        let mut setup: StaffAudit = auditor.begin(Actor::system("setup")).await.unwrap();
        let project = commands::add_project(&mut setup, PROJECT).await.unwrap();
        for m in 0..MEMBERS {
            let user = commands::add_user(&mut setup, &member(m), Roles::new())
                .await
                .unwrap();
            // With roles, as the checker expects of an add (and a first
            // link in each chain).
            let roles: Roles = [Role::ProjectDeveloper].into_iter().collect();
            commands::add_member(&mut setup, &project, &user, roles)
                .await
                .unwrap();
        }
        setup.commit().await.unwrap();
        let events_before = common::scalar(&auditor, "SELECT COUNT(*) FROM audit_events").await;

        let started = std::time::Instant::now();
        let failures: Vec<String> = tokio::task::block_in_place(|| {
            std::thread::scope(|scope| {
                let clients: Vec<_> = (0..CLIENTS)
                    .map(|p| {
                        let url = &url;
                        scope.spawn(move || {
                            for i in 0..COMMANDS {
                                let args = command_args(p, i);
                                let out = Command::new(env!("CARGO_BIN_EXE_example-app"))
                                    .args(&args)
                                    .env("DATABASE_URL", url)
                                    .output()
                                    .expect("run example-app");
                                // One failure fails the test: this
                                // client stops at its first.
                                if let Some(failure) = failure(&args, &out) {
                                    return Some(format!("client {p}, command {i}: {failure}"));
                                }
                            }
                            None
                        })
                    })
                    .collect();
                clients
                    .into_iter()
                    .filter_map(|client| client.join().unwrap())
                    .collect()
            })
        });
        assert!(
            failures.is_empty(),
            "{label}: {} of {CLIENTS} clients met a failing command:\n{}",
            failures.len(),
            failures.join("\n")
        );

        // Exactly one event per command, of its type.
        let count = |sql: &'static str| common::scalar(&auditor, sql);
        let total = CLIENTS * COMMANDS;
        assert_eq!(
            count("SELECT COUNT(*) FROM audit_events").await - events_before,
            total as i64,
            "{label}"
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM audit_events WHERE event_type = 'project_member_updated_roles'")
                .await,
            (MEMBERS + total / 2) as i64,
            "{label}"
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM audit_events WHERE event_type = 'user_created'").await,
            (MEMBERS + total / 2) as i64,
            "{label}"
        );
        // Every roles event follows on from the one before it, each
        // membership's stored roles are its last event's, no event is
        // there twice, no row lacks its creating event.
        let findings = check(&auditor).await.unwrap();
        assert!(
            findings.problems.is_empty(),
            "{label}:\n{}",
            findings.problems.join("\n")
        );
        assert_eq!(findings.roles_links, MEMBERS + total / 2, "{label}");
        eprintln!(
            "{label}: {CLIENTS} clients x {COMMANDS} commands in {:.1} s, 0 failed; \
             {} roles links of {MEMBERS} shared memberships unbroken",
            started.elapsed().as_secs_f64(),
            findings.roles_links
        );
    }
}
