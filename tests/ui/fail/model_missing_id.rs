// A model without `#[model(id)]`: that one error, and nothing from the code that uses it.
#[derive(audit_core::Model)]
#[model(table = "invoices", mutable)]
pub struct Invoice {
    pub id: i64,
    pub total: i64,
}

async fn write(auditor: &audit_core::Auditor) {
    let mut audit = auditor
        .begin::<E>(audit_core::Actor::system("t"))
        .await
        .unwrap();
    let _ = Invoice::delete(&mut audit, 1).await;
}

#[audit_core::events(templates = "templates/fail")]
pub enum E {
    #[event(code = "thing_removed", label = "Removed", group = "Things")]
    ThingRemoved,
}

fn main() {
    let _ = write;
}
