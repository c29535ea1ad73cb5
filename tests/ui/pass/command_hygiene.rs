//! The code `#[auditable]` generates does not depend on the caller's names: one
//! command sits among shadowed prelude items, another in a module without the prelude.
#![deny(warnings)]

include!("../cmd_catalog.rs");
include!("../command_log.rs");

#[allow(dead_code, non_camel_case_types)]
mod shadowed {
    use super::{AppError, ThingAdded, ThingEvent};

    struct Result;
    struct Ok;
    struct Err;
    struct Option;
    struct Some;
    struct None;
    struct String;
    struct Vec;
    struct Box;
    struct From;
    struct Into;
    struct Drop;
    struct Send;
    struct Sized;
    struct Future;
    struct u32;
    struct str;
    mod core {}
    mod std {}
    mod audit_core {}

    #[::audit_core::auditable(emits(ThingAdded))]
    pub async fn add_thing(
        cx: &mut ::audit_core::Audit<ThingEvent>,
    ) -> ::core::result::Result<(), AppError> {
        cx.emit(ThingAdded { name: ::std::borrow::ToOwned::to_owned("shadowed") })?;
        ::core::result::Result::Ok(())
    }
}

#[no_implicit_prelude]
mod bare {
    use super::{AppError, ThingRemoved, ThingEvent};

    #[::audit_core::auditable(emits(ThingRemoved))]
    pub async fn remove_thing(
        cx: &mut ::audit_core::Audit<ThingEvent>,
    ) -> ::core::result::Result<(), AppError> {
        cx.emit(ThingRemoved { name: ::std::borrow::ToOwned::to_owned("bare") })?;
        ::core::result::Result::Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let auditor = store().await;
    let mut audit = auditor.begin::<ThingEvent>(audit_core::Actor::system("test")).await.unwrap();
    shadowed::add_thing(&mut audit).await.unwrap();
    bare::remove_thing(&mut audit).await.unwrap();
    audit.commit().await.unwrap();
    assert_eq!(
        names(&recorded(&auditor).await),
        [("add_thing", "thing_added"), ("remove_thing", "thing_removed")]
    );
}
