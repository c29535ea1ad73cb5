//! A template using what askama offers (`let`, `for` and `loop`, `if let`,
//! `match`, filters, whitespace control, comments, raw blocks, macros from an
//! imported file, an included file, a parent template it extends) passes the
//! template check and renders.

use audit_core::present::{PresentContext, Shown};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    Admin,
    Member { level: u8 },
}

audit_core::declare_events! {
    #[events(templates = "templates/constructs")]
    pub enum TeamEvent {
        #[event(code = "team_changed", label = "Team changed", group = "Teams", presenter = present_team)]
        TeamChanged { team: String, members: Vec<String>, role: Role, note: Option<String> },

        #[event(code = "team_renamed", label = "Team renamed", group = "Teams")]
        TeamRenamed { team: String },
    }
}

fn present_team<'a>(payload: &'a TeamChanged, _: &PresentContext) -> TeamChangedView<'a> {
    TeamChangedView {
        payload,
        team: Shown::text(payload.team.clone()),
        members: Shown::text(payload.members.join(", ")),
        role: Shown::text(format!("{:?}", payload.role)),
        note: Shown::text(payload.note.clone().unwrap_or_default()),
    }
}

fn main() {
    let cx = PresentContext::new();
    let event = TeamEvent::from(TeamChanged {
        team: "Ops".into(),
        members: vec!["Ann".into(), "Bob".into()],
        role: Role::Member { level: 2 },
        note: Some("moved to the new building".into()),
    });
    assert_eq!(
        event.render(&cx).unwrap(),
        "OPS has 2 members: 1. ann, 2. bob.\nlevel 2 (moved t...)\n[Ops] by Ops\n{{ raw }}"
    );
    let alone = TeamEvent::from(TeamChanged {
        team: "Lab".into(),
        members: vec![],
        role: Role::Admin,
        note: None,
    });
    assert_eq!(
        alone.render(&cx).unwrap(),
        "LAB has 0 members: none.\nadmin\n[Lab] by Lab\n{{ raw }}"
    );
    let renamed = TeamEvent::from(TeamRenamed { team: "Lab".into() });
    assert_eq!(renamed.render(&cx).unwrap(), "<p>renamed to Lab</p>");
}
