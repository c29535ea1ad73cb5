//! Generic commands with lifetimes, returning `Result` aliases (one of a generic
//! error type), and required events emitted through a helper named at the emit.

#![deny(warnings)]

include!("../cmd_catalog.rs");
include!("../command_log.rs");

use std::fmt::Display;

use audit_core::{Audit, AuditError, auditable};

type CmdResult<T> = Result<T, AppError>;
type Fallible<T, E = AppError> = std::result::Result<T, E>;

/// Adds a thing named by any `Display`, returning the tag it was given.
#[auditable(emits(ThingAdded))]
async fn add_named<'a, N: Display + ?Sized>(
    cx: &mut Audit<ThingEvent>,
    name: &'a N,
    tag: &'a str,
) -> CmdResult<&'a str> {
    cx.emit(ThingAdded { name: name.to_string() })?;
    Ok(tag)
}

/// A command generic over its error type.
#[auditable(emits(ThingRemoved?))]
async fn remove_if<E: From<AuditError>>(cx: &mut Audit<ThingEvent>, remove: bool) -> Fallible<bool, E> {
    if remove {
        cx.emit(ThingRemoved { name: "maybe".into() })?;
    }
    Ok(remove)
}

fn build(name: &str) -> ThingRemoved {
    ThingRemoved { name: name.to_owned() }
}

/// A required event built by a helper: the type is named at the emit.
#[auditable(emits(ThingRemoved))]
async fn remove_built(cx: &mut Audit<ThingEvent>) -> Fallible<()> {
    cx.emit::<ThingRemoved>(build("built"))?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let auditor = store().await;
    let mut audit = auditor.begin::<ThingEvent>(audit_core::Actor::system("test")).await.unwrap();
    let tag = String::from("t");
    assert_eq!(add_named(&mut audit, &42, &tag).await.unwrap(), "t");
    assert_eq!(add_named(&mut audit, "str", "u").await.unwrap(), "u");
    assert!(!remove_if::<AppError>(&mut audit, false).await.unwrap());
    assert!(remove_if::<AppError>(&mut audit, true).await.unwrap());
    remove_built(&mut audit).await.unwrap();
    audit.commit().await.unwrap();
    assert_eq!(
        names(&recorded(&auditor).await),
        [
            ("add_named", "thing_added"),
            ("add_named", "thing_added"),
            ("remove_if", "thing_removed"),
            ("remove_built", "thing_removed"),
        ]
    );
}
