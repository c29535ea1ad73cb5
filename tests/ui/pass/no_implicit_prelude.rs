//! A catalog in a module without the prelude.

#[no_implicit_prelude]
mod events {
    ::audit_core::declare_events! {
        /// Events without a prelude.
        #[events(templates = "templates/catalog", classify_personal)]
        pub enum PlainEvent {
            #[event(code = "maintenance", label = "Maintenance", group = "System")]
            Maintenance,
            #[event(code = "note", label = "Note", group = "System", template = "system/maintenance.html")]
            Note {
                #[personal]
                author: ::std::string::String,
                #[not_personal]
                count: u32,
            },
        }
    }
}

fn main() {
    let event = events::PlainEvent::from(events::Maintenance {});
    assert_eq!(event.event_type(), events::PlainEventType::Maintenance);
    assert_eq!(events::PlainEventType::Note.personal_fields(), ["author"]);
    let decoded = <events::PlainEvent as audit_core::events::EventCatalog>::decode("note", 1, r#"{"author":null,"count":1}"#);
    assert!(matches!(decoded, audit_core::events::Decoded::Known(events::PlainEvent::Note(n)) if n.author == "[erased]"));
}
