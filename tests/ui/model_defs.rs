// Shared by the model cases (included with `include!`).
include!("cmd_catalog.rs");

#[derive(Debug, Clone, PartialEq, audit_core::Model)]
#[model(table = "things", immutable)]
pub struct Thing {
    #[model(id)]
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, audit_core::Model)]
#[model(table = "notes", mutable)]
pub struct Note {
    #[model(id)]
    pub id: i64,
    pub text: String,
}
