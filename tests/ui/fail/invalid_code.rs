// Two invalid event codes (an uppercase letter and a dash; an empty code).
// expect 2 errors
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "Thing-Added", label = "Added", group = "Things")]
        ThingAdded { name: String },
        #[event(code = "", label = "Removed", group = "Things")]
        ThingRemoved,
    }
}

fn main() {}
