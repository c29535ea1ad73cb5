// Shared by the compile-pass command cases (included with `include!`, after
// `cmd_catalog.rs`): a fresh in-memory store and what it recorded.

/// A migrated in-memory store.
async fn store() -> audit_core::Auditor {
    let auditor = audit_core::Auditor::connect("sqlite::memory:").await.unwrap();
    auditor.migrate().await.unwrap();
    auditor
}

/// Every recorded event, oldest first: (command name, event code, command id).
async fn recorded(auditor: &audit_core::Auditor) -> Vec<(String, &'static str, String)> {
    let page = auditor.query::<ThingEvent>(&audit_core::query::EventQuery::new()).await.unwrap();
    let mut events: Vec<_> = page
        .events
        .into_iter()
        .map(|e| {
            let code = match &e.event {
                audit_core::events::Decoded::Known(event) => event.event_type().code(),
                audit_core::events::Decoded::Unknown(row) => panic!("unreadable event {row:?}"),
            };
            (e.command_name, code, e.command_id)
        })
        .collect();
    events.reverse();
    events
}

/// The (command name, event code) pairs of `recorded`.
fn names<'a>(events: &'a [(String, &'static str, String)]) -> Vec<(&'a str, &'static str)> {
    events.iter().map(|(name, code, _)| (name.as_str(), *code)).collect()
}
