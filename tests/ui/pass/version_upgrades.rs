//! An event at version 3 reads rows of versions 1 and 2 through its
//! upgrades (one on payload types, one on JSON), and each row it cannot read
//! says why.

use audit_core::events::{Decoded, EventCatalog, UnknownReason};
use audit_core::present::PresentContext;

/// What version 1 stored.
mod v1 {
    #[derive(serde::Deserialize)]
    pub struct ProjectCreated {
        pub name: String,
    }
}

/// What version 2 stored: who asked for the project.
mod v2 {
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct ProjectCreated {
        pub name: String,
        pub owner: Option<String>,
    }
}

/// Nobody was recorded before version 2.
fn v1_to_v2(old: v1::ProjectCreated) -> v2::ProjectCreated {
    v2::ProjectCreated {
        name: old.name,
        owner: None,
    }
}

/// Version 3 calls the owner `created_by`.
fn v2_to_v3(mut json: serde_json::Value) -> Result<serde_json::Value, String> {
    let fields = json.as_object_mut().ok_or("not an object")?;
    let owner = fields.remove("owner").unwrap_or(serde_json::Value::Null);
    if !(owner.is_null() || owner.is_string()) {
        return Err(format!("`owner` is not a name: {owner}"));
    }
    fields.insert("created_by".into(), owner);
    Ok(json)
}

#[audit_core::events(templates = "templates/versions", lock = "locks/version_upgrades.lock")]
pub enum ProjectEvent {
    #[event(
        code = "project_created",
        label = "Project created",
        group = "Projects",
        version = 3,
        upgrade(from = 1, with = v1_to_v2),
        upgrade(from = 2, json = v2_to_v3)
    )]
    ProjectCreated {
        name: String,
        created_by: Option<String>,
    },
    /// At version 2; rows of version 1 are no longer read.
    #[event(code = "project_renamed", label = "Project renamed", group = "Projects", version = 2)]
    ProjectRenamed { name: String },
}

fn created(name: &str, created_by: Option<&str>) -> ProjectEvent {
    ProjectEvent::from(ProjectCreated {
        name: name.into(),
        created_by: created_by.map(Into::into),
    })
}

fn reason(code: &str, version: i64, payload: &str) -> UnknownReason {
    match ProjectEvent::decode(code, version, payload) {
        Decoded::Unknown(unknown) => unknown.reason,
        Decoded::Known(event) => panic!("{code} v{version} decoded as {event:?}"),
    }
}

fn main() {
    // Each version reads as the current payload.
    let v1 = ProjectEvent::decode("project_created", 1, r#"{"name":"Apollo"}"#);
    assert_eq!(v1, Decoded::Known(created("Apollo", None)));
    let v2 = ProjectEvent::decode("project_created", 2, r#"{"name":"Apollo","owner":"ann"}"#);
    assert_eq!(v2, Decoded::Known(created("Apollo", Some("ann"))));
    let v3 = ProjectEvent::decode("project_created", 3, r#"{"name":"Apollo","created_by":"bo"}"#);
    assert_eq!(v3, Decoded::Known(created("Apollo", Some("bo"))));
    let html = v1.known().unwrap().render(&PresentContext::new()).unwrap();
    assert_eq!(html, "created Apollo by none");

    // Each row it cannot read, with its reason.
    assert_eq!(
        reason("project_created", 4, "{}"),
        UnknownReason::NewerVersion { stored: 4, supported: 3 }
    );
    assert_eq!(
        reason("project_renamed", 1, r#"{"name":"A"}"#),
        UnknownReason::OlderVersion { stored: 1, current: 2 }
    );
    assert_eq!(reason("project_created", 0, "{}"), UnknownReason::InvalidVersion(0));
    assert_eq!(
        reason("project_created", 1, r#"{"title":"A"}"#),
        UnknownReason::MalformedPayload("missing field `name` at line 1 column 13".into())
    );
    assert_eq!(
        reason("project_created", 2, r#"{"name":"A","owner":7}"#),
        UnknownReason::MalformedPayload(
            "the upgrade from version 2 to 3 failed: `owner` is not a name: 7".into()
        )
    );
    assert_eq!(reason("project_deleted", 1, "{}"), UnknownReason::UnknownCode);
}
