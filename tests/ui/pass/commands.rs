//! Commands: required and optional events, nesting, SQL in the transaction.

include!("../cmd_catalog.rs");

use audit_core::{Audit, auditable};

#[auditable(emits(ThingAdded, ThingRemoved?))]
pub async fn add_thing(cx: &mut Audit<ThingEvent>, name: &str, replace: bool) -> Result<u32, AppError> {
    if replace {
        remove_thing(cx, name).await?;
    }
    cx.emit(ThingAdded { name: name.to_owned() })?;
    Ok(1)
}

#[auditable(emits(ThingRemoved))]
async fn remove_thing(cx: &mut Audit<ThingEvent>, name: &str) -> Result<(), AppError> {
    let _actor = cx.actor().clone();
    audit_core::on_backend!(cx.db(), conn => {
        let _ = &conn;
    });
    if name.is_empty() {
        return Ok(());
    }
    cx.emit(ThingRemoved { name: name.to_owned() })?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let auditor = audit_core::Auditor::connect("sqlite::memory:").await.unwrap();
    auditor.migrate().await.unwrap();
    let mut audit = auditor.begin::<ThingEvent>(audit_core::Actor::system("test")).await.unwrap();
    assert_eq!(add_thing(&mut audit, "a", true).await.unwrap(), 1);
    assert_eq!(audit.pending_events(), 2);
    audit.commit().await.unwrap();
    let page = auditor.query::<ThingEvent>(&audit_core::query::EventQuery::new()).await.unwrap();
    let names: Vec<&str> = page.events.iter().map(|e| e.command_name.as_str()).collect();
    assert_eq!(names, ["add_thing", "remove_thing"]);
}
