include!("../cmd_catalog.rs");

struct Service;

impl Service {
    #[audit_core::auditable(emits(ThingAdded))]
    async fn add_thing(&mut self, _cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), AppError> {
        Ok(())
    }
}

fn main() {}
