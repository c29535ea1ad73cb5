// A syntax error inside a command's body: rustc reports it, and nothing else does.
include!("../cmd_catalog.rs");

#[audit_core::auditable(emits(ThingAdded))]
async fn add_thing(cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    let name = ;
    cx.emit(ThingAdded { name: "x".into() })?;
    Ok(())
}

fn main() {}
