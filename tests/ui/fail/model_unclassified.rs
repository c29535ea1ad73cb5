#[derive(audit_core::Model)]
#[model(table = "invoices")]
pub struct Invoice {
    #[model(id)]
    pub id: i64,
    pub total: i64,
}

fn main() {}
