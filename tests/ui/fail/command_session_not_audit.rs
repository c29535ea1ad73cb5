// The session is the parameter typed `&mut Audit<..>`, or, when it is written through
// an alias, the first `&mut` parameter: a lone `&mut Vec<u8>` (the session forgotten)
// is taken as the session and refused by the compiler.
include!("../cmd_catalog.rs");

#[audit_core::auditable]
async fn fill(buf: &mut Vec<u8>) -> Result<(), AppError> {
    buf.push(1);
    Ok(())
}

fn main() {}
