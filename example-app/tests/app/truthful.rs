//! G10: what the log says is what happened, whatever runs concurrently.
//! Many writers change one membership's roles at once; every roles event's
//! `before` must be the previous event's `after`.

use crate::common;

use audit_core::Actor;
use audit_core::events::Decoded;
use audit_core::query::EventQuery;
use example_app::commands::{self, StaffAudit};
use example_app::domain::{Role, Roles};
use example_app::events::StaffEvent;

const WRITERS: usize = 8;
const CHANGES_PER_WRITER: usize = 200;

/// The roles writer `w` sets on its `i`-th change: they differ from one
/// change to the next, so a stale `before` shows.
fn roles_for(w: usize, i: usize) -> Roles {
    let mut roles = Roles::new();
    for (bit, role) in Role::ALL.iter().enumerate() {
        if (w * CHANGES_PER_WRITER + i + 1) >> bit & 1 == 1 {
            roles.insert(*role);
        }
    }
    roles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_role_changes_of_one_membership_form_an_unbroken_chain() {
    for auditor in common::auditors("truthful_chain").await {
        let label = common::label(&auditor);
        let mut setup: StaffAudit = auditor.begin(Actor::system("setup")).await.unwrap();
        let project = commands::add_project(&mut setup, "Apollo").await.unwrap();
        let user = commands::add_user(&mut setup, "bob", Roles::new())
            .await
            .unwrap();
        commands::add_member(&mut setup, &project, &user, Roles::new())
            .await
            .unwrap();
        setup.commit().await.unwrap();

        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (auditor, project, user) = (auditor.clone(), project.clone(), user.clone());
            writers.push(tokio::spawn(async move {
                for i in 0..CHANGES_PER_WRITER {
                    let mut audit: StaffAudit =
                        auditor.begin(Actor::system(format!("writer-{w}"))).await?;
                    commands::update_member_roles(&mut audit, &project, &user, roles_for(w, i))
                        .await?;
                    audit.commit().await?;
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            }));
        }
        for writer in writers {
            writer
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{label}: a writer failed: {e}"));
        }

        // The membership's row is locked from the read to the commit, and
        // the events are written just before the commit: their ids follow
        // commit order.
        let mut changes = Vec::new();
        let mut query = EventQuery::new()
            .types(["project_member_updated_roles"])
            .limit(1000);
        loop {
            let page = auditor.query::<StaffEvent>(&query).await.unwrap();
            for stored in &page.events {
                match &stored.event {
                    Decoded::Known(StaffEvent::ProjectMemberUpdatedRoles(e)) => {
                        changes.push((stored.id, e.before.clone(), e.after.clone()))
                    }
                    other => panic!("{label}: {other:?}"),
                }
            }
            match page.next {
                Some(next) => query = query.cursor(next),
                None => break,
            }
        }
        changes.sort_by_key(|(id, ..)| *id);
        assert_eq!(changes.len(), WRITERS * CHANGES_PER_WRITER, "{label}");
        let mut current = Roles::new();
        let mut broken = 0;
        for (_, before, after) in &changes {
            if *before != current {
                broken += 1;
            }
            current = after.clone();
        }
        assert_eq!(
            broken,
            0,
            "{label}: {broken} of {} roles events name a `before` that was not the roles at the time",
            changes.len()
        );
        let stored: String = audit_core::on_backend!(auditor.pool(), pool => {
            sqlx::query_scalar("SELECT roles FROM memberships").fetch_one(pool).await.unwrap()
        });
        assert_eq!(stored, serde_json::to_string(&current).unwrap(), "{label}");
    }
}
