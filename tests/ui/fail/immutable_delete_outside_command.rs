// Deleting a row of an immutable model outside a command.
include!("../model_defs.rs");

async fn not_a_command(auditor: &audit_core::Auditor) {
    let mut audit = auditor.begin::<ThingEvent>(audit_core::Actor::system("t")).await.unwrap();
    let _ = Thing::delete(&mut audit, 1).await;
}

fn main() {}
