//! Parsing: the tokens of `declare_events!` into a [`Catalog`].
//!
//! Parsing never stops at the first problem: it records each error and fills
//! in a placeholder, so that all errors are reported at once and code can
//! still be generated for what did parse.

use darling::FromMeta;
use darling::util::SpannedValue;
use syn::spanned::Spanned as _;
use syn::{Attribute, Fields, ItemEnum, Meta, Variant};

use super::model::{Catalog, DEFAULT_TEMPLATES_DIR, Event, Field, Marker, Spanned};
use crate::diagnostics::Diagnostics;
use crate::naming::snake_case;

/// `#[events(...)]` on the catalog enum.
#[derive(Default, FromMeta)]
struct CatalogArgs {
    /// Directory of the event templates, relative to the crate root.
    templates: Option<SpannedValue<String>>,
}

/// `#[event(...)]` on one variant.
#[derive(FromMeta)]
struct EventArgs {
    code: SpannedValue<String>,
    label: SpannedValue<String>,
    group: SpannedValue<String>,
    version: Option<SpannedValue<u32>>,
    template: Option<SpannedValue<String>>,
    presenter: Option<syn::Path>,
}

/// Parses the catalog enum, recording problems in `diag` and carrying on past them.
pub fn parse_catalog(item: ItemEnum, diag: &mut Diagnostics) -> Catalog {
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        diag.error(
            item.generics.span(),
            "an event catalog cannot be generic: each event's payload is stored as JSON and \
             decoded by its code, so every field needs a concrete type",
        );
    }
    let mut docs = Vec::new();
    let mut args = CatalogArgs::default();
    for attr in item.attrs {
        if attr.path().is_ident("doc") {
            docs.push(attr);
        } else if attr.path().is_ident("events") {
            match CatalogArgs::from_meta(&attr.meta) {
                Ok(parsed) => args = parsed,
                Err(e) => push_spanned(diag, e, &attr),
            }
        } else {
            diag.error(
                attr.path().span(),
                "unsupported attribute on an event catalog: expected `#[events(templates = \"...\")]` \
                 or a doc comment",
            );
        }
    }
    if item.variants.is_empty() {
        diag.error(
            item.ident.span(),
            format!("event catalog `{}` declares no events", item.ident),
        );
    }
    let templates_dir = match args.templates {
        Some(dir) => Spanned::new(dir.as_ref().clone(), dir.span()),
        None => Spanned::new(DEFAULT_TEMPLATES_DIR.to_owned(), item.ident.span()),
    };
    Catalog {
        docs,
        vis: item.vis,
        ident: item.ident,
        templates_dir,
        events: item
            .variants
            .into_iter()
            .map(|v| parse_event(v, diag))
            .collect(),
    }
}

fn parse_event(variant: Variant, diag: &mut Diagnostics) -> Event {
    let ident = variant.ident;
    let mut docs = Vec::new();
    let mut args: Option<EventArgs> = None;
    let mut seen_event_attr = false;
    for attr in variant.attrs {
        if attr.path().is_ident("doc") {
            docs.push(attr);
        } else if attr.path().is_ident("event") {
            if seen_event_attr {
                diag.error(
                    attr.path().span(),
                    format!("event `{ident}` has more than one `#[event(...)]` attribute"),
                );
                continue;
            }
            seen_event_attr = true;
            match EventArgs::from_meta(&attr.meta) {
                Ok(parsed) => args = Some(parsed),
                Err(e) => push_spanned(diag, e, &attr),
            }
        } else {
            diag.error(
                attr.path().span(),
                format!(
                    "unsupported attribute on event `{ident}`: expected `#[event(...)]` or a doc comment"
                ),
            );
        }
    }
    if !seen_event_attr {
        diag.error(
            ident.span(),
            format!(
                "event `{ident}` needs an `#[event(code = \"...\", label = \"...\", group = \"...\")]` attribute"
            ),
        );
    }
    if let Some((_, discriminant)) = &variant.discriminant {
        diag.error(
            discriminant.span(),
            "events cannot have explicit discriminants: an event is identified by its `code`",
        );
    }

    let mut complete = true;
    let fields = match variant.fields {
        Fields::Named(named) => named
            .named
            .into_iter()
            .map(|f| parse_field(f, diag))
            .collect(),
        Fields::Unit => Vec::new(),
        Fields::Unnamed(unnamed) => {
            complete = false;
            diag.error(
                unnamed.span(),
                format!(
                    "tuple variants are not supported: write `{ident} {{ name: Type, .. }}` so every \
                     field has a stable name in the stored payload"
                ),
            );
            Vec::new()
        }
    };

    // Placeholders keep code generation going when the attribute was unusable;
    // the error above makes sure the build still fails.
    let fallback = || Spanned::new(snake_case(&ident.to_string()), ident.span());
    let spanned = |v: SpannedValue<String>| Spanned::new(v.as_ref().clone(), v.span());
    match args {
        Some(args) => Event {
            docs,
            code: spanned(args.code),
            label: spanned(args.label),
            group: spanned(args.group),
            version: args.version.map_or(Spanned::new(1, ident.span()), |v| {
                Spanned::new(*v, v.span())
            }),
            template: args.template.map(spanned),
            presenter: args.presenter,
            fields,
            ident,
            complete,
        },
        None => Event {
            docs,
            code: fallback(),
            label: fallback(),
            group: fallback(),
            version: Spanned::new(1, ident.span()),
            template: None,
            presenter: None,
            fields,
            ident,
            complete: false,
        },
    }
}

fn parse_field(field: syn::Field, diag: &mut Diagnostics) -> Field {
    let mut forwarded_attrs = Vec::new();
    let mut markers = Vec::new();
    for attr in field.attrs {
        let marker = attr
            .path()
            .get_ident()
            .and_then(|i| Marker::from_name(&i.to_string()));
        if let Some(marker) = marker {
            if !matches!(attr.meta, Meta::Path(_)) {
                diag.error(
                    attr.meta.span(),
                    format!("`#[{}]` takes no arguments", marker.name()),
                );
            }
            markers.push(Spanned::new(marker, attr.path().span()));
        } else if is_forwarded(&attr) {
            forwarded_attrs.push(attr);
        } else {
            diag.error(
                attr.path().span(),
                "unsupported attribute on an event field: expected `#[target]`, `#[parent]`, \
                 `#[subject]`, `#[serde(...)]` or a doc comment",
            );
        }
    }
    if !matches!(field.vis, syn::Visibility::Inherited) {
        diag.error(
            field.vis.span(),
            "event fields take the visibility of the catalog; remove this visibility",
        );
    }
    let ident = field
        .ident
        .expect("invariant: fields of a named variant have identifiers");
    Field {
        forwarded_attrs,
        ident,
        ty: field.ty,
        markers,
    }
}

/// Records a darling error, spanning on `attr` the parts that carry no span
/// (such as "Missing field").
fn push_spanned(diag: &mut Diagnostics, error: darling::Error, attr: &Attribute) {
    for e in error {
        diag.push_darling(e.with_span(attr.path()));
    }
}

fn is_forwarded(attr: &Attribute) -> bool {
    attr.path().is_ident("doc") || attr.path().is_ident("serde")
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn parse(item: ItemEnum) -> (Catalog, Vec<String>) {
        let mut diag = Diagnostics::default();
        let catalog = parse_catalog(item, &mut diag);
        (catalog, diag.messages())
    }

    #[test]
    fn parses_events_fields_and_markers() {
        let (catalog, errors) = parse(parse_quote! {
            /// Staff events.
            #[events(templates = "tpl")]
            pub enum StaffEvent {
                /// Created.
                #[event(code = "project_created", label = "Project created", group = "Projects", version = 2)]
                ProjectCreated { #[target] #[parent] project: ProjectRef, #[serde(default)] name: String },
                #[event(code = "ping", label = "Ping", group = "System", template = "x.html", presenter = show_ping)]
                Ping,
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(catalog.ident, "StaffEvent");
        assert_eq!(catalog.templates_dir.value, "tpl");
        assert_eq!(catalog.docs.len(), 1);
        let created = &catalog.events[0];
        assert_eq!(created.code.value, "project_created");
        assert_eq!(created.label.value, "Project created");
        assert_eq!(created.group.value, "Projects");
        assert_eq!(created.version.value, 2);
        assert_eq!(created.docs.len(), 1);
        assert_eq!(created.fields.len(), 2);
        let markers: Vec<Marker> = created.fields[0].markers.iter().map(|m| m.value).collect();
        assert_eq!(markers, [Marker::Target, Marker::Parent]);
        assert_eq!(created.fields[1].forwarded_attrs.len(), 1);
        let ping = &catalog.events[1];
        assert_eq!(ping.version.value, 1);
        assert!(ping.fields.is_empty());
        assert_eq!(
            ping.template.as_ref().map(|t| t.value.as_str()),
            Some("x.html")
        );
        assert!(
            ping.presenter
                .as_ref()
                .is_some_and(|p| p.is_ident("show_ping"))
        );
    }

    #[test]
    fn default_templates_dir_is_templates_audit() {
        let (catalog, _) = parse(parse_quote! {
            enum E { #[event(code = "a", label = "A", group = "G")] A }
        });
        assert_eq!(catalog.templates_dir.value, DEFAULT_TEMPLATES_DIR);
    }

    #[test]
    fn reports_every_error_of_a_declaration() {
        let (catalog, errors) = parse(parse_quote! {
            enum E<T> {
                #[event(code = "a", label = "A", group = "G", colour = "red")]
                A(u32),
                B { #[target(x)] pub a: u32, #[index] b: u32 },
            }
        });
        assert_eq!(catalog.events.len(), 2, "events still parsed");
        let all = errors.join("\n");
        for expected in [
            "cannot be generic",
            "Unknown field: `colour`",
            "tuple variants are not supported",
            "event `B` needs an `#[event(",
            "`#[target]` takes no arguments",
            "remove this visibility",
            "unsupported attribute on an event field",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
    }

    #[test]
    fn missing_attribute_falls_back_to_snake_case_placeholders() {
        let (catalog, errors) = parse(parse_quote! {
            enum E { MemberAdded { user: u32 } }
        });
        assert_eq!(errors.len(), 1);
        assert_eq!(catalog.events[0].code.value, "member_added");
        assert_eq!(catalog.events[0].fields.len(), 1);
    }

    #[test]
    fn suggests_the_closest_key() {
        let (_, errors) = parse(parse_quote! {
            enum E { #[event(cod = "a", label = "A", group = "G")] A }
        });
        let all = errors.join("\n");
        assert!(all.contains("Did you mean `code`?"), "{all}");
    }
}
