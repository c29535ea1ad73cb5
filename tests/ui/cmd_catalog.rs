// Shared by the `#[auditable]` cases (included with `include!`).
audit_core::declare_events! {
    #[events(templates = "templates/cmd")]
    pub enum ThingEvent {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { name: String },
        #[event(code = "thing_removed", label = "Removed", group = "Things")]
        ThingRemoved { name: String },
    }
}

#[derive(Debug)]
pub enum AppError {
    Audit(audit_core::AuditError),
}

impl From<audit_core::AuditError> for AppError {
    fn from(e: audit_core::AuditError) -> Self {
        AppError::Audit(e)
    }
}
