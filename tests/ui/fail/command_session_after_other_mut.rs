// A session written through an alias (not named `..Audit`) next to another `&mut` parameter:
// the macro cannot tell which one is the session, and says how to write it.
include!("../cmd_catalog.rs");

type Session = audit_core::Audit<ThingEvent>;

struct Things;

impl Things {
    #[audit_core::auditable(emits(ThingAdded))]
    async fn add(&self, buf: &mut Vec<u8>, cx: &mut Session) -> Result<(), AppError> {
        buf.push(1);
        cx.emit(ThingAdded { name: "x".into() })?;
        Ok(())
    }
}

fn main() {}
