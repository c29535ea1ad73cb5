//! Presenting a page of events: one lookup per kind of reference, whatever
//! the page size, with the reference system's fallbacks and escaped output.

use crate::common;

use audit_core::Actor;
use audit_core::events::Decoded;
use audit_core::present::{PresentContext, plain_text};
use audit_core::query::EventQuery;
use example_app::commands;
use example_app::domain::{MembershipId, ProjectRef, Role, Roles, UserRef};
use example_app::events::{ProjectMemberAdded, StaffEvent};
use example_app::present::StaffResolver;

async fn render_page(auditor: &audit_core::Auditor, limit: u32) -> (Vec<String>, usize) {
    let page = auditor
        .query::<StaffEvent>(&EventQuery::new().limit(limit))
        .await
        .unwrap();
    assert_eq!(page.events.len(), limit as usize);
    let resolver = StaffResolver::new(auditor.clone());
    let cx = PresentContext::for_page(&page.events, &resolver)
        .await
        .unwrap();
    let html = page
        .events
        .iter()
        .map(|e| match &e.event {
            Decoded::Known(event) => event.render(&cx).unwrap(),
            Decoded::Unknown(u) => panic!("{u:?}"),
        })
        .collect();
    (html, resolver.queries())
}

#[tokio::test]
async fn a_page_costs_one_lookup_per_kind_whatever_its_size() {
    for auditor in common::auditors("batched").await {
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::user(1, "alice"))
            .await
            .unwrap();
        let project = commands::add_project(&mut audit, "Apollo").await.unwrap();
        let dev: Roles = [Role::ProjectDeveloper].into_iter().collect();
        for i in 0..125 {
            let user = commands::add_user(&mut audit, &format!("user{i}"), Roles::new())
                .await
                .unwrap();
            commands::add_member(&mut audit, &project, &user, dev.clone())
                .await
                .unwrap();
        }
        audit.commit().await.unwrap();

        let mut counts = Vec::new();
        for size in [1, 25, 250] {
            let (html, queries) = render_page(&auditor, size).await;
            assert!(html[0].contains("<a href=\"/users/"), "{}", html[0]);
            counts.push(queries);
        }
        // Users (subjects and the acting user) and projects: two queries, at every size.
        assert_eq!(counts, [2, 2, 2], "{}", common::label(&auditor));
    }
}

#[tokio::test]
async fn references_that_are_gone_fall_back_like_the_reference_system() {
    let cx = PresentContext::new();
    let render = |user: UserRef| {
        StaffEvent::from(ProjectMemberAdded {
            membership: MembershipId(1),
            project: ProjectRef {
                id: 9,
                name: "Gone".into(),
            },
            user,
        })
        .render(&cx)
        .unwrap()
    };
    assert_eq!(
        render(UserRef {
            id: 5,
            username: "dave".into()
        }),
        "added dave to a project"
    );
    assert_eq!(
        render(UserRef {
            id: 5,
            username: String::new()
        }),
        "added Unknown User to a project"
    );
    let hostile = render(UserRef {
        id: 5,
        username: "<script>alert(1)</script>".into(),
    });
    assert_eq!(
        hostile,
        "added &#60;script&#62;alert(1)&#60;/script&#62; to a project"
    );
    assert_eq!(
        plain_text(&hostile),
        "added <script>alert(1)</script> to a project"
    );
}

#[tokio::test]
async fn unknown_events_render_as_a_generic_escaped_line() {
    for auditor in common::auditors("generic_line").await {
        common::execute(
            &auditor,
            "INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, \
             actor_id, actor_name, command_name, command_id, payload) \
             VALUES (0, 'project_archived', 1, 'user', '9', '<b>eve</b>', 'x', 'c', '{}')",
        )
        .await
        .unwrap();
        let page = auditor
            .query::<StaffEvent>(&EventQuery::new())
            .await
            .unwrap();
        let html = page.events[0].render(&PresentContext::new());
        assert_eq!(
            html,
            "&#60;b&#62;eve&#60;/b&#62; recorded an event of type \u{201c}project_archived\u{201d} that this program cannot show"
        );
    }
}
