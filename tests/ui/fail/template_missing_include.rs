// The template includes a file that does not exist next to it.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things",
                template = "things/missing_include.html")]
        ThingAdded { name: String },
    }
}

fn main() {}
