// The template leaves an expression open (`{{ name` without `}}`).
audit_core::declare_events! {
    #[events(templates = "templates/fail")]
    pub enum E {
        #[event(code = "thing_added", label = "Added", group = "Things")]
        ThingAdded { name: String },

        #[event(code = "thing_renamed", label = "Renamed", group = "Things",
                template = "things/syntax_error.html")]
        ThingRenamed { name: String },
    }
}

// The rest of the catalog is still generated.
fn main() {
    let _ = E::from(ThingAdded { name: String::new() }).render(&audit_core::present::PresentContext::new());
    let _ = ThingRenamed { name: String::new() };
}
