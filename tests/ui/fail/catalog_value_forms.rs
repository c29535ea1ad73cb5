// Values of the wrong form: `code` is a string, `presenter` a path (not a string), `crate` a
// path. Each error says what to write.
// expect 3 errors
#[audit_core::events(templates = "templates/fail", crate = "audit_core")]
pub enum E {
    #[event(code = thing_added, label = "Added", group = "Things", presenter = "show")]
    ThingAdded { name: String },
}

fn show<'a>(payload: &'a ThingAdded, cx: &audit_core::present::PresentContext) -> ThingAddedView<'a> {
    ThingAddedView::new(payload, cx)
}

fn main() {}
