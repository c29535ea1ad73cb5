include!("../cmd_catalog.rs");

#[audit_core::auditable(emits(ThingAdded))]
async fn add_thing(_cx: &mut audit_core::Audit<ThingEvent>) -> u32 {
    1
}

#[audit_core::auditable(emits(ThingAdded))]
async fn add_other(_cx: &mut audit_core::Audit<ThingEvent>) {}

fn main() {}
