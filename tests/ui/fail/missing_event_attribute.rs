// An event without its `#[event(...)]` attribute.
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        /// Forgot the attribute.
        ThingAdded { name: String },
    }
}

fn main() {}
