include!("../cmd_catalog.rs");

#[audit_core::auditable(emits(ThingAdded))]
async fn add_thing(_name: String) -> Result<(), AppError> {
    Ok(())
}

#[audit_core::auditable(emits(ThingAdded))]
async fn add_other() -> Result<(), AppError> {
    Ok(())
}

fn main() {}
