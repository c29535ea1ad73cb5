// Commands whose error type has no `From<AuditError>`, written as `Result<T, E>` and
// through an alias: the command cannot return the error of a missing event.
include!("../cmd_catalog.rs");

#[derive(Debug)]
pub struct PlainError;

type PlainResult<T> = Result<T, PlainError>;

#[audit_core::auditable(emits(ThingAdded?))]
async fn add_thing(_cx: &mut audit_core::Audit<ThingEvent>) -> Result<(), PlainError> {
    Ok(())
}

#[audit_core::auditable(emits(ThingAdded?))]
async fn add_other(_cx: &mut audit_core::Audit<ThingEvent>) -> PlainResult<()> {
    Ok(())
}

fn main() {}
// expect 2 errors
