// `emit` on a plain transaction: events are emitted only inside an `#[auditable]` command.
include!("../cmd_catalog.rs");

async fn add_thing(audit: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    audit.emit(ThingAdded { name: "x".into() })?;
    Ok(())
}

fn main() {}
