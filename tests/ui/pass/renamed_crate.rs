//! `crate = path` on all three macros, for a runtime that is not reachable as `::audit_core`
//! (a renamed dependency, `audit = { package = "audit-core", .. }`, then `crate = ::audit`).
//! Here the path is a module that re-exports the runtime and replaces one of its functions, so
//! the test sees that generated code goes through the given path.
#![deny(missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};

static RENDERS: AtomicUsize = AtomicUsize::new(0);

/// The runtime under another name.
pub mod audit {
    pub use ::audit_core::*;

    /// The runtime's private items, with `render` counting its calls.
    pub mod __private {
        pub use ::audit_core::__private::*;

        /// Counts, then renders as the runtime does.
        pub fn render<V: askama::Template>(
            view: &V,
            code: &'static str,
        ) -> Result<String, RenderError> {
            crate::RENDERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ::audit_core::__private::render(view, code)
        }
    }
}

/// Written with the attribute.
#[audit::events(templates = "templates/catalog", crate = crate::audit)]
pub enum AttrEvent {
    /// Maintenance ran.
    #[event(code = "maintenance", label = "Maintenance", group = "System")]
    Maintenance { note: Option<String> },
}

audit::declare_events! {
    /// Written with the function-like macro.
    #[events(templates = "templates/catalog", crate = crate::audit)]
    pub enum MacroEvent {
        /// Maintenance ran.
        #[event(code = "maintenance", label = "Maintenance", group = "System", template = "system/maintenance.html")]
        Maintained,
    }
}

/// A table.
#[derive(Debug, Clone, PartialEq, audit::Model)]
#[model(table = "notes", mutable, crate = crate::audit)]
pub struct Note {
    /// Its id.
    #[model(id)]
    pub id: i64,
    /// Its text.
    pub text: String,
}

fn main() {
    let cx = audit::present::PresentContext::new();
    let event = AttrEvent::from(Maintenance { note: None });
    assert_eq!(event.render(&cx).unwrap(), "ran maintenance");
    assert_eq!(
        MacroEvent::from(Maintained {}).render(&cx).unwrap(),
        "ran maintenance"
    );
    assert_eq!(RENDERS.load(Ordering::SeqCst), 2);
    assert_eq!(<Note as audit::commands::Model>::TABLE, "notes");
    let _ = Note::insert;
}
