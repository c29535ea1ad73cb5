// `version` written as a string: it is a number.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things", version = "2")]
        ThingAdded { name: String },
    }
}

fn main() {
    assert_eq!(EType::ThingAdded.version(), 1);
}
