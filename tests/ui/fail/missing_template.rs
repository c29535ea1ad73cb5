// An event whose template file does not exist; the rest of the catalog is still usable.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { name: String },
        #[event(code = "thing_archived", label = "Archived", group = "Things")]
        ThingArchived,
    }
}

fn main() {
    // The rest of the catalog is still generated: no errors cascade from here.
    let _ = E::from(ThingAdded { name: "x".into() }).event_type();
}
