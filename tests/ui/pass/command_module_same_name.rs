//! Modules named like commands, an event reached through one, and user types named
//! like the items the macro generates: nothing collides or is shadowed. (The
//! macro's local variables are hygienic, but a unit struct or constant named
//! like one, `__audit_command`, would still clash with it, as with any `let`.)
#![deny(warnings)]
#![allow(dead_code, non_camel_case_types)]

include!("../cmd_catalog.rs");
include!("../command_log.rs");

use audit_core::{Audit, auditable};

mod add_thing {
    pub fn label() -> &'static str {
        "from the module"
    }
}

mod remove_thing {
    pub use super::ThingRemoved;
}

struct __AuditEvent0;
struct Marker;

#[auditable(emits(ThingAdded))]
async fn add_thing(cx: &mut Audit<ThingEvent>) -> Result<(), AppError> {
    let _ = (__AuditEvent0, Marker);
    cx.emit(ThingAdded { name: add_thing::label().into() })?;
    Ok(())
}

#[auditable(emits(remove_thing::ThingRemoved))]
async fn remove_thing(cx: &mut Audit<ThingEvent>) -> Result<(), AppError> {
    cx.emit(remove_thing::ThingRemoved { name: "x".into() })?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let auditor = store().await;
    let mut audit = auditor.begin::<ThingEvent>(audit_core::Actor::system("test")).await.unwrap();
    add_thing(&mut audit).await.unwrap();
    remove_thing(&mut audit).await.unwrap();
    audit.commit().await.unwrap();
    assert_eq!(
        names(&recorded(&auditor).await),
        [("add_thing", "thing_added"), ("remove_thing", "thing_removed")]
    );
}
