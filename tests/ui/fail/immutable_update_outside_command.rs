// Updating an immutable model outside a command.
include!("../model_defs.rs");

async fn not_a_command(auditor: &audit_core::Auditor) {
    let mut audit = auditor.begin::<ThingEvent>(audit_core::Actor::system("t")).await.unwrap();
    let _ = Thing::update(&mut audit, &Thing { id: 1, name: "x".into() }).await;
}

fn main() {}
