//! `crate = ::audit`: a command written against the runtime under another name.
//! Cargo refuses one crate depending on another under two names, so the rename
//! (`audit = { package = "audit-core", .. }` in a user's Cargo.toml) is made here
//! with `extern crate`, which puts `audit` in the extern prelude the same way.

#![deny(warnings)]

extern crate audit_core as audit;

include!("../cmd_catalog.rs");
include!("../command_log.rs");

#[audit::auditable(crate = ::audit, emits(ThingAdded))]
async fn add_thing(cx: &mut audit::Audit<ThingEvent>) -> Result<(), AppError> {
    cx.emit(ThingAdded { name: "renamed".into() })?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let auditor = store().await;
    let mut audit = auditor.begin::<ThingEvent>(audit::Actor::system("test")).await.unwrap();
    add_thing(&mut audit).await.unwrap();
    audit.commit().await.unwrap();
    assert_eq!(names(&recorded(&auditor).await), [("add_thing", "thing_added")]);
}
