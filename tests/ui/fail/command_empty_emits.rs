include!("../cmd_catalog.rs");

#[audit_core::auditable(emits())]
async fn add_thing(_cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    Ok(())
}

#[audit_core::auditable]
async fn add_other(_cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
    Ok(())
}

fn main() {}
