// Every problem of one declaration is reported in one build: eight mistakes.
// expect 8 errors
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing added", label = "", group = "Things", version = 0)]
        ThingAdded { name: String },
        #[event(code = "thing_removed", label = "Removed", group = "Things", colour = "red")]
        ThingRemoved,
        ThingLost { #[subject] #[subject] payload: String },
    }
}

fn main() {}
