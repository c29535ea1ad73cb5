// A session written through an alias after another `&mut` parameter: the first `&mut`
// parameter, `buf`, is taken as the session; the error says to put the session first.
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
