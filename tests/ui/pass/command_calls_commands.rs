//! A command that emits nothing itself (`#[auditable]`, or `emits()`) and only
//! calls other commands: their events are recorded, all under one command id.

#![deny(warnings)]

include!("../cmd_catalog.rs");
include!("../command_log.rs");

use audit_core::{Audit, auditable};

#[auditable(emits(ThingAdded))]
async fn add_thing(cx: &mut Audit<ThingEvent>, name: &str) -> Result<(), AppError> {
    cx.emit(ThingAdded { name: name.to_owned() })?;
    Ok(())
}

#[auditable(emits(ThingRemoved))]
async fn remove_thing(cx: &mut Audit<ThingEvent>, name: &str) -> Result<(), AppError> {
    cx.emit(ThingRemoved { name: name.to_owned() })?;
    Ok(())
}

/// Replaces one thing by another.
#[auditable]
async fn replace_thing(cx: &mut Audit<ThingEvent>, old: &str, new: &str) -> Result<(), AppError> {
    remove_thing(cx, old).await?;
    add_thing(cx, new).await
}

/// Replaces twice.
#[auditable(emits())]
async fn replace_twice(cx: &mut Audit<ThingEvent>) -> Result<(), AppError> {
    replace_thing(cx, "a", "b").await?;
    replace_thing(cx, "b", "c").await
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let auditor = store().await;
    let mut audit = auditor.begin::<ThingEvent>(audit_core::Actor::system("test")).await.unwrap();
    replace_twice(&mut audit).await.unwrap();
    audit.commit().await.unwrap();
    let events = recorded(&auditor).await;
    assert_eq!(
        names(&events),
        [
            ("remove_thing", "thing_removed"),
            ("add_thing", "thing_added"),
            ("remove_thing", "thing_removed"),
            ("add_thing", "thing_added"),
        ]
    );
    assert!(events.iter().all(|e| e.2 == events[0].2), "{events:?}");
}
