//! A catalog in a module without the prelude.

#[no_implicit_prelude]
mod events {
    ::audit_core::declare_events! {
        /// Events without a prelude.
        #[events(templates = "templates/catalog")]
        pub enum PlainEvent {
            #[event(code = "maintenance", label = "Maintenance", group = "System")]
            Maintenance,
        }
    }
}

fn main() {
    let event = events::PlainEvent::from(events::Maintenance {});
    assert_eq!(event.event_type(), events::PlainEventType::Maintenance);
}
