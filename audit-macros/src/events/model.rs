//! The catalog as the macro understands it, independent of how it was written.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Attribute, Ident, Path, Type, Visibility};

use crate::runtime::RuntimePath;

/// Where template paths are resolved from when an event does not override it.
pub const DEFAULT_TEMPLATES_DIR: &str = "templates/audit";

/// The schema lock file of a catalog without `lock = "..."`, in the crate root.
pub const DEFAULT_LOCK_FILE: &str = "audit-events.lock";

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
    /// `lock = "..."`: the schema lock file, relative to the template root;
    /// `None` for the default, [`DEFAULT_LOCK_FILE`].
    pub lock: Option<Spanned<String>>,
    /// The catalog's arguments had an error (reported): where its files are
    /// is unsure, so they are not read.
    pub arguments_unreadable: bool,
    /// `classify_personal`: every payload field must be marked `#[personal]`
    /// or `#[not_personal]`.
    pub classify_personal: Option<Span>,
    pub events: Vec<Event>,
}

/// One declared event.
pub struct Event {
    pub docs: Vec<Attribute>,
    pub ident: Ident,
    pub code: Spanned<String>,
    pub label: Spanned<String>,
    pub group: Spanned<String>,
    /// The current payload version (`version = N`, default 1).
    pub version: Spanned<u32>,
    /// `upgrade(from = N, ..)`: how older versions are read, as written.
    pub upgrades: Vec<Upgrade>,
    /// `retired`: kept to decode stored rows, no longer emitted.
    pub retired: Option<Span>,
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

/// One step of an event's upgrade chain: from version `from` to the next.
pub struct Upgrade {
    pub from: Spanned<u32>,
    pub step: UpgradeStep,
    /// The whole `upgrade(...)`.
    pub span: Span,
}

pub use crate::args::UpgradeStep;

/// One payload field of an event.
pub struct Field {
    /// Doc comments and `#[serde(...)]` attributes, forwarded to the payload struct.
    pub forwarded_attrs: Vec<Attribute>,
    pub ident: Ident,
    pub ty: Type,
    pub markers: Vec<Spanned<Marker>>,
    /// `#[personal]` and `#[not_personal]`, as written: validation reports
    /// more than one; the first counts.
    pub classification: Vec<Spanned<Classification>>,
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

/// Whether a payload field holds data about a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classification {
    /// `#[personal]`: erased with the person it is about; its type says what
    /// it reads back as then (`Erasable`).
    Personal,
    /// `#[not_personal]`: said explicitly not to be personal.
    NotPersonal,
}

impl Classification {
    /// Both classifications.
    pub const ALL: [Classification; 2] = [Classification::Personal, Classification::NotPersonal];

    /// The attribute name that sets it.
    pub fn name(self) -> &'static str {
        match self {
            Classification::Personal => "personal",
            Classification::NotPersonal => "not_personal",
        }
    }

    /// Parses an attribute name into a classification.
    pub fn from_name(name: &str) -> Option<Classification> {
        Classification::ALL.into_iter().find(|c| c.name() == name)
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

impl Field {
    /// Whether the field is marked `#[personal]` (first of its classifications).
    pub fn is_personal(&self) -> bool {
        self.classification
            .first()
            .is_some_and(|c| c.value == Classification::Personal)
    }

    /// The name the field is stored under in the payload's JSON: the
    /// serialized name of a forwarded `#[serde(rename = "..")]` (or of
    /// `rename(serialize = "..")`), else the field's name without `r#`.
    pub fn stored_name(&self) -> String {
        self.forwarded_attrs
            .iter()
            .filter(|a| a.path().is_ident("serde"))
            .find_map(serialized_rename)
            .unwrap_or_else(|| self.ident.unraw().to_string())
    }
}

/// The serialized name a `#[serde(...)]` attribute gives its field, if any.
fn serialized_rename(attr: &Attribute) -> Option<String> {
    let mut found = None;
    // Keys the macro does not read are skipped; serde reports malformed ones.
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("rename") {
            if meta.input.peek(syn::Token![=]) {
                let name: syn::LitStr = meta.value()?.parse()?;
                found.get_or_insert(name.value());
            } else {
                meta.parse_nested_meta(|inner| {
                    let value: syn::LitStr = inner.value()?.parse()?;
                    if inner.path.is_ident("serialize") {
                        found.get_or_insert(value.value());
                    }
                    Ok(())
                })?;
            }
        } else if meta.input.peek(syn::Token![=]) {
            meta.value()?.parse::<syn::Expr>()?;
        } else if meta.input.peek(syn::token::Paren) {
            let inner;
            syn::parenthesized!(inner in meta.input);
            inner.parse::<proc_macro2::TokenStream>()?;
        }
        Ok(())
    });
    found
}

impl Event {
    /// The generated view its template binds to: `ProjectCreated` -> `ProjectCreatedView`.
    pub fn view_ident(&self) -> Ident {
        quote::format_ident!("{}View", self.ident)
    }

    /// The upgrade steps ordered by the version they read, when they form
    /// a chain ending at the current version (validation reports otherwise).
    pub fn upgrade_chain(&self) -> Option<Vec<&Upgrade>> {
        let mut steps: Vec<&Upgrade> = self.upgrades.iter().collect();
        steps.sort_by_key(|u| u.from.value);
        let consecutive = steps
            .iter()
            .zip(steps.iter().skip(1))
            .all(|(a, b)| a.from.value.checked_add(1) == Some(b.from.value));
        let ends_at_current = steps
            .last()
            .is_none_or(|last| last.from.value.checked_add(1) == Some(self.version.value));
        let starts_at_one_or_more = steps.first().is_none_or(|first| first.from.value >= 1);
        (consecutive && ends_at_current && starts_at_one_or_more).then_some(steps)
    }

    /// The oldest version this event reads: where its upgrades start, or the
    /// current version.
    pub fn oldest_readable(&self) -> u32 {
        self.upgrade_chain()
            .and_then(|steps| steps.first().map(|s| s.from.value))
            .unwrap_or(self.version.value)
    }

    /// The field carrying `marker`, if any (the first one when validation failed).
    pub fn field_with(&self, marker: Marker) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.markers.iter().any(|m| m.value == marker))
    }

    /// The stored names of the `#[personal]` fields, in declaration order.
    pub fn personal_fields(&self) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| f.is_personal())
            .map(Field::stored_name)
            .collect()
    }
}
