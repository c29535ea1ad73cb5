//! The example staff area's command line.

use audit_core::{Decoded, EventCatalog, PresentContext};
use example_app::domain::{MembershipId, ProjectRef, Role, Roles, UserRef};
use example_app::events::{
    ProjectCreated, ProjectMemberAdded, ProjectMemberUpdatedRoles, StaffEvent, StaffEventType,
};

fn main() {
    println!("Event catalog `{}`:", StaffEvent::NAME);
    for event_type in StaffEventType::ALL {
        println!(
            "  {:<30} {:<30} group {:?}, version {}",
            event_type.code(),
            event_type.label(),
            event_type.group(),
            event_type.version()
        );
    }

    let project = ProjectRef {
        id: 31337,
        name: "Apollo".into(),
    };
    let bob = UserRef {
        id: 2,
        username: "bob".into(),
    };
    let developer: Roles = [Role::ProjectDeveloper].into_iter().collect();
    let sample: Vec<StaffEvent> = vec![
        ProjectCreated {
            project: project.clone(),
        }
        .into(),
        ProjectMemberAdded {
            membership: MembershipId(7),
            project: project.clone(),
            user: bob.clone(),
        }
        .into(),
        ProjectMemberUpdatedRoles {
            membership: MembershipId(7),
            project,
            user: bob,
            before: Roles::new(),
            after: developer,
        }
        .into(),
    ];

    println!("\nSample events, stored and read back:");
    let cx = PresentContext::new();
    for event in sample {
        let code = event.event_type().code();
        let version = i64::from(event.event_type().version());
        let payload = match event.payload_json() {
            Ok(payload) => payload,
            Err(e) => {
                eprintln!("error: cannot encode `{code}`: {e}");
                std::process::exit(1);
            }
        };
        match StaffEvent::decode(code, version, &payload) {
            Decoded::Known(decoded) => match decoded.render(&cx) {
                Ok(text) => println!("  {code}: {text}\n      payload {payload}"),
                Err(e) => println!("  {code}: (cannot render: {e})"),
            },
            Decoded::Unknown(unknown) => println!("  {code}: unknown ({})", unknown.reason),
        }
    }
}
