// A misspelt key in `#[model(...)]`: that one error; the model's methods still exist, so the
// code calling them reports nothing more.
#[derive(audit_core::Model)]
#[model(tabel = "invoices", mutable)]
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
    let _ = Invoice::update(&mut audit, &Invoice { id: 0, total: 1 }).await;
}

#[audit_core::events(templates = "templates/fail")]
pub enum E {
    #[event(code = "thing_removed", label = "Removed", group = "Things")]
    ThingRemoved,
}

fn main() {
    let _ = write;
}
