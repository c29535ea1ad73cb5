// A command without a return type, and one returning `impl Trait`: a command names its
// `Result`, which fails when a required event is missing.
include!("../cmd_catalog.rs");

#[audit_core::auditable(emits(ThingAdded))]
async fn add_thing(cx: &mut audit_core::Audit<ThingEvent>) {
    let _ = cx.emit(ThingAdded { name: "x".into() });
}

#[audit_core::auditable(emits(ThingAdded))]
async fn add_other(cx: &mut audit_core::Audit<ThingEvent>) -> impl std::fmt::Debug {
    cx.emit(ThingAdded { name: "x".into() })
}

fn main() {}
// expect 2 errors
