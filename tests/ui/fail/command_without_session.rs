// Commands without an audit session parameter (`cx: &mut Audit<..>`), one of them a method.
include!("../cmd_catalog.rs");

#[audit_core::auditable]
async fn add_thing(_name: String) -> Result<(), AppError> {
    Ok(())
}

#[audit_core::auditable]
async fn add_other() -> Result<(), AppError> {
    Ok(())
}

struct Things;

impl Things {
    #[audit_core::auditable]
    async fn add(&self, _name: &str) -> Result<(), AppError> {
        Ok(())
    }
}

fn main() {}
// expect 3 errors
