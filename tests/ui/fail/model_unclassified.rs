// A model that says neither `mutable` nor `immutable`: that one error, and nothing from the
// code that writes it.
#[derive(audit_core::Model)]
#[model(table = "invoices")]
pub struct Invoice {
    #[model(id)]
    pub id: i64,
    pub total: i64,
}

async fn write(auditor: &audit_core::Auditor) {
    let mut audit = auditor
        .begin::<E>(audit_core::Actor::system("t"))
        .await
        .unwrap();
    let _ = Invoice::insert(&mut audit, &Invoice { id: 0, total: 1 }).await;
    let _ = Invoice::find(audit.db(), 1).await;
}

#[audit_core::events(templates = "templates/fail")]
pub enum E {
    #[event(code = "thing_removed", label = "Removed", group = "Things")]
    ThingRemoved,
}

fn main() {
    let _ = write;
    let _ = <Invoice as audit_core::commands::Model>::TABLE;
}
