audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        /// Forgot the attribute.
        ThingAdded { name: String },
    }
}

fn main() {}
