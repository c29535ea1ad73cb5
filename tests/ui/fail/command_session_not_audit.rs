// The session is the parameter typed `&mut Audit<..>`, or, when none is written so, the
// only `&mut` parameter: with two `&mut` parameters written otherwise the macro cannot
// tell, and a lone `&mut` parameter that is no `Audit` is refused by the compiler.
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

#[audit_core::auditable]
async fn fill(buf: &mut Vec<u8>) -> Result<(), AppError> {
    buf.push(1);
    Ok(())
}

fn main() {}
