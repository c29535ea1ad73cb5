//! The catalog as the macro understands it, independent of how it was written.

use proc_macro2::Span;
use syn::{Attribute, Ident, Path, Type, Visibility};

use crate::runtime::RuntimePath;

/// Where template paths are resolved from when an event does not override it.
pub const DEFAULT_TEMPLATES_DIR: &str = "templates/audit";

/// Name of the view field that holds the raw payload; no event field may use it.
pub const RESERVED_VIEW_FIELD: &str = "payload";

/// One catalog: a `declare_events!` invocation or an `#[events]` enum.
pub struct Catalog {
    /// Doc comments of the catalog enum.
    pub docs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    /// Directory holding the event templates, relative to the template root.
    pub templates_dir: Spanned<String>,
    /// Where generated code finds the runtime (`crate = path`).
    pub runtime: RuntimePath,
    pub events: Vec<Event>,
}

/// One declared event.
pub struct Event {
    pub docs: Vec<Attribute>,
    pub ident: Ident,
    pub code: Spanned<String>,
    pub label: Spanned<String>,
    pub group: Spanned<String>,
    pub version: Spanned<u32>,
    /// `template = "..."`: a path relative to the catalog's templates directory.
    pub template: Option<Spanned<String>>,
    /// `presenter = path`: a function replacing the default presenter.
    pub presenter: Option<Path>,
    pub fields: Vec<Field>,
    /// False when the attribute or the shape could not be used (or the
    /// variant did not parse); placeholders then stand in for the missing
    /// parts and its template is not looked up.
    pub complete: bool,
}

/// One payload field of an event.
pub struct Field {
    /// Doc comments and `#[serde(...)]` attributes, forwarded to the payload struct.
    pub forwarded_attrs: Vec<Attribute>,
    pub ident: Ident,
    pub ty: Type,
    pub markers: Vec<Spanned<Marker>>,
    /// How the field's `#[serde(...)]` attributes let the macro (de)serialize it.
    pub serde: FieldSerde,
}

/// What the user's `#[serde(...)]` attributes on a field leave to the macro.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldSerde {
    /// Only keys that keep serde's own (de)serialization of the type
    /// (`rename`, `alias`, `default`, `skip_serializing_if`): the macro routes
    /// the field through its own functions and checks the type once, so that
    /// a type without serde support is one error on the type.
    Plain {
        /// Whether the user gave `default`, which the macro must not repeat.
        has_default: bool,
    },
    /// Anything else (`with`, `skip`, `flatten`, ...): serde's derive handles
    /// the field exactly as written.
    Custom,
}

/// The role a reference field plays in the indexed columns of the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// The object the event changed (`#[target]`).
    Target,
    /// The object the target belongs to (`#[parent]`).
    Parent,
    /// The person the event is about (`#[subject]`).
    Subject,
}

impl Marker {
    /// All markers, in the order their columns are stored.
    pub const ALL: [Marker; 3] = [Marker::Target, Marker::Parent, Marker::Subject];

    /// The attribute name that sets this marker.
    pub fn name(self) -> &'static str {
        match self {
            Marker::Target => "target",
            Marker::Parent => "parent",
            Marker::Subject => "subject",
        }
    }

    /// Parses an attribute name into a marker.
    pub fn from_name(name: &str) -> Option<Marker> {
        Marker::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A value with the span of the user's token it came from.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl Catalog {
    /// The generated event-type enum: `StaffEvent` -> `StaffEventType`.
    pub fn type_ident(&self) -> Ident {
        quote::format_ident!("{}Type", self.ident)
    }

    /// The catalog enum and the event-type enum, with what each is; the
    /// names every expansion defines besides the events and their views.
    pub fn generated_names(&self) -> Vec<(Ident, String)> {
        vec![
            (self.ident.clone(), "the catalog itself".to_owned()),
            (
                self.type_ident(),
                format!("the event-type enum of `{}`", self.ident),
            ),
        ]
    }
}

impl Event {
    /// The generated view its template binds to: `ProjectCreated` -> `ProjectCreatedView`.
    pub fn view_ident(&self) -> Ident {
        quote::format_ident!("{}View", self.ident)
    }

    /// The field carrying `marker`, if any (the first one when validation failed).
    pub fn field_with(&self, marker: Marker) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.markers.iter().any(|m| m.value == marker))
    }
}
