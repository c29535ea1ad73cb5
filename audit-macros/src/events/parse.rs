//! Parsing: the tokens of a catalog into a [`Catalog`].
//!
//! A catalog is written either as `declare_events! { enum .. }` or as
//! `#[audit_core::events(..)] enum ..`; both become a [`CatalogInput`] and
//! from there share every step, so they accept the same catalogs and report
//! the same errors.
//!
//! Parsing never stops at the first problem: it records each error and fills
//! in a placeholder, so that all errors are reported at once and code can
//! still be generated for what did parse. In `declare_events!`, a variant
//! that is not valid Rust is reported once and stands in as an event without
//! fields, so that the rest of the catalog is still generated.

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned as _;
use syn::{Attribute, Fields, Generics, Ident, ItemEnum, Meta, Token, Variant, Visibility};

use super::model::{
    Catalog, Classification, DEFAULT_TEMPLATES_DIR, Event, Field, FieldSerde, Marker, Spanned,
    Upgrade,
};
use crate::args::{FlagArg, PathArg, StrArg, UpgradeArg, VersionArg};
use crate::diagnostics::Diagnostics;
use crate::naming::snake_case;
use crate::runtime::RuntimePath;

/// The catalog's own arguments: `templates = "..."`, `crate = path`, `lock = "..."` and
/// `classify_personal`, in `#[events(...)]` inside `declare_events!` or in
/// `#[audit_core::events(...)]`.
#[derive(Default, FromMeta)]
pub struct CatalogArgs {
    /// Directory of the event templates, relative to the crate root.
    templates: Option<StrArg>,
    /// Where generated code finds the runtime, for a renamed dependency.
    #[darling(rename = "crate")]
    krate: Option<RuntimePath>,
    /// The schema lock file, relative to the crate root (default `audit-events.lock`).
    lock: Option<StrArg>,
    /// Every payload field must be marked `#[personal]` or `#[not_personal]`.
    classify_personal: FlagArg,
    /// The arguments had an error (reported): the templates directory may be
    /// wrong, so templates are not looked up (which would only add errors).
    #[darling(skip)]
    unreadable: bool,
}

/// `#[event(...)]` on one variant.
#[derive(FromMeta)]
struct EventArgs {
    code: StrArg,
    label: StrArg,
    group: StrArg,
    version: Option<VersionArg>,
    /// `upgrade(from = N, with = path)` or `upgrade(from = N, json = path)`, once per older version.
    #[darling(multiple)]
    upgrade: Vec<UpgradeArg>,
    /// Kept to decode stored rows; cannot be emitted.
    retired: FlagArg,
    template: Option<StrArg>,
    presenter: Option<PathArg>,
}

/// How the catalog was written.
pub enum Entry {
    /// `declare_events! { .. }`: the arguments, if any, are in an inner `#[events(...)]`.
    Macro,
    /// `#[audit_core::events(...)]`: the arguments were in the attribute.
    Attribute(CatalogArgs),
}

/// The catalog enum as written, before its attributes are read.
pub struct CatalogInput {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    pub generics: Generics,
    pub variants: Vec<VariantInput>,
}

/// One variant of the catalog enum.
pub struct VariantInput {
    pub variant: Variant,
    /// The variant was not valid Rust (already reported): `variant` holds its
    /// attributes and name only.
    pub broken: bool,
}

impl From<ItemEnum> for CatalogInput {
    fn from(item: ItemEnum) -> Self {
        CatalogInput {
            attrs: item.attrs,
            vis: item.vis,
            ident: item.ident,
            generics: item.generics,
            variants: item
                .variants
                .into_iter()
                .map(|variant| VariantInput {
                    variant,
                    broken: false,
                })
                .collect(),
        }
    }
}

/// Parses the arguments of `#[audit_core::events(...)]`.
pub fn parse_attribute_args(args: TokenStream, diag: &mut Diagnostics) -> CatalogArgs {
    let parsed = NestedMeta::parse_meta_list(args)
        .map_err(darling::Error::from)
        .and_then(|list| CatalogArgs::from_list(&list));
    match parsed {
        Ok(args) => args,
        Err(e) => {
            for e in e {
                diag.push_darling(e.with_span(&Span::call_site()));
            }
            CatalogArgs {
                unreadable: true,
                ..CatalogArgs::default()
            }
        }
    }
}

/// Which way of writing a catalog the tokens came from, for messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `declare_events! { .. }`.
    Macro,
    /// `#[audit_core::events] enum ..`, whose syntax errors rustc reports too.
    Attribute,
}

/// Reads the tokens of a catalog enum: its header with syn, then its body
/// split by hand at top-level commas, each variant parsed on its own.
///
/// A variant that does not parse is reported (in `diag`) and kept as a
/// broken variant when its name can be found; only a header that does not
/// parse is an `Err`. In the attribute form rustc has already reported the
/// syntax error (an attribute's item must be valid Rust), so the report
/// only says what became of the event.
pub fn parse_enum_tokens(
    tokens: TokenStream,
    form: Form,
    diag: &mut Diagnostics,
) -> syn::Result<CatalogInput> {
    if form == Form::Attribute
        && let Ok(item) = syn::parse2::<ItemEnum>(tokens.clone())
    {
        return Ok(item.into());
    }
    let (attrs, vis, ident, generics, body) = enum_header.parse2(tokens)?;
    let mut variants = Vec::new();
    for chunk in split_at_commas(body) {
        parse_variants(chunk, form, diag, &mut variants);
    }
    Ok(CatalogInput {
        attrs,
        vis,
        ident,
        generics,
        variants,
    })
}

type Header = (Vec<Attribute>, Visibility, Ident, Generics, TokenStream);

/// `#[attrs] vis enum Name<generics> where .. { body }`, nothing after.
fn enum_header(input: ParseStream) -> syn::Result<Header> {
    let attrs = input.call(Attribute::parse_outer)?;
    let vis: Visibility = input.parse()?;
    input.parse::<Token![enum]>()?;
    let ident: Ident = input.parse()?;
    let mut generics: Generics = input.parse()?;
    generics.where_clause = input.parse()?;
    let content;
    syn::braced!(content in input);
    let body: TokenStream = content.parse()?;
    if !input.is_empty() {
        return Err(input.error("unexpected tokens after the catalog enum: write one enum only"));
    }
    Ok((attrs, vis, ident, generics, body))
}

/// The enum body's top-level comma-separated pieces (groups are single
/// token trees, so commas inside a variant's fields or attributes stay put).
fn split_at_commas(body: TokenStream) -> Vec<TokenStream> {
    let mut chunks = Vec::new();
    let mut current = Vec::new();
    for tree in body {
        match &tree {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                chunks.push(current.drain(..).collect::<TokenStream>());
            }
            _ => current.push(tree),
        }
    }
    chunks.push(current.into_iter().collect());
    chunks.retain(|chunk| !chunk.is_empty());
    chunks
}

/// Parses one piece into variants: normally one; more when commas between
/// variants are missing (each missing one is reported); none or a broken one
/// when it is not a variant.
fn parse_variants(
    chunk: TokenStream,
    form: Form,
    diag: &mut Diagnostics,
    out: &mut Vec<VariantInput>,
) {
    let variant_then_rest = |input: ParseStream| {
        let variant: Variant = input.parse()?;
        let rest: TokenStream = input.parse()?;
        Ok((variant, rest))
    };
    match variant_then_rest.parse2(chunk.clone()) {
        Ok((variant, rest)) => {
            let next = rest.clone().into_iter().next();
            let ident = variant.ident.clone();
            out.push(VariantInput {
                variant,
                broken: false,
            });
            if let Some(next) = next {
                diag.error(
                    next.span(),
                    format!("expected `,` after event `{ident}`: separate events with commas"),
                );
                parse_variants(rest, form, diag, out);
            }
        }
        Err(error) => {
            let variant = broken_variant(chunk);
            // An attribute macro only sees items rustc parsed: tokens syn
            // refuses there are rustc's recovery from a syntax error it has
            // already reported, so a second error would only repeat it.
            if !(form == Form::Attribute && variant.is_some()) {
                diag.push_syn(readable(error));
            }
            out.extend(variant.map(|variant| VariantInput {
                variant,
                broken: true,
            }));
        }
    }
}

/// syn's error, with the two most common ones (a field without its type,
/// whose message lists every token that may start a type, and a missing
/// comma) saying what to write.
fn readable(error: syn::Error) -> syn::Error {
    let message = error.to_string();
    if message.contains("expected one of:") && message.contains("`dyn`") {
        syn::Error::new(
            error.span(),
            "expected a type: write each field as `name: Type`",
        )
    } else if message == "expected `,`" {
        syn::Error::new(error.span(), "expected `,`: separate fields with commas")
    } else {
        error
    }
}

/// What can be kept of a variant that does not parse: its leading
/// attributes and its name (the first identifier after them), without fields.
fn broken_variant(chunk: TokenStream) -> Option<Variant> {
    let mut trees = chunk.into_iter().peekable();
    let mut attr_tokens = TokenStream::new();
    while let Some(TokenTree::Punct(pound)) = trees.peek() {
        if pound.as_char() != '#' {
            break;
        }
        let pound = trees.next();
        match trees.next() {
            Some(TokenTree::Group(group))
                if group.delimiter() == proc_macro2::Delimiter::Bracket =>
            {
                attr_tokens.extend(pound);
                attr_tokens.extend([TokenTree::Group(group)]);
            }
            _ => break,
        }
    }
    let attrs = Attribute::parse_outer
        .parse2(attr_tokens)
        .unwrap_or_default();
    let ident = trees.find_map(|tree| match tree {
        TokenTree::Ident(ident) if ident != "pub" => Some(ident),
        _ => None,
    })?;
    // A keyword cannot name a generated struct.
    let ident: Ident = syn::parse2(quote::ToTokens::into_token_stream(ident)).ok()?;
    Some(Variant {
        attrs,
        ident,
        fields: Fields::Unit,
        discriminant: None,
    })
}

/// Parses the catalog enum of `declare_events!` (used by unit tests of every stage).
#[cfg(test)]
pub fn parse_catalog(item: ItemEnum, diag: &mut Diagnostics) -> Catalog {
    parse_catalog_input(item.into(), Entry::Macro, diag)
}

/// Reads a catalog, recording problems in `diag` and carrying on past them.
pub fn parse_catalog_input(input: CatalogInput, entry: Entry, diag: &mut Diagnostics) -> Catalog {
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        diag.error(
            input.generics.span(),
            "an event catalog cannot be generic: each event's payload is stored as JSON and \
             decoded by its code, so every field needs a concrete type",
        );
    }
    let mut docs = Vec::new();
    let (mut args, is_macro) = match entry {
        Entry::Macro => (CatalogArgs::default(), true),
        Entry::Attribute(args) => (args, false),
    };
    for attr in input.attrs {
        if attr.path().is_ident("doc") {
            docs.push(attr);
        } else if attr.path().is_ident("events") && is_macro {
            match CatalogArgs::from_meta(&attr.meta) {
                Ok(parsed) => args = parsed,
                Err(e) => {
                    push_spanned(diag, e, &attr);
                    args.unreadable = true;
                }
            }
        } else if attr.path().is_ident("events") {
            diag.error(
                attr.path().span(),
                "the catalog already has its `#[events(...)]` attribute: write all its arguments \
                 in that one (`#[audit_core::events(templates = \"...\", crate = path)]`) and \
                 remove this one",
            );
            // Still used where the first says nothing, so that nothing cascades.
            if let Ok(inner) = CatalogArgs::from_meta(&attr.meta) {
                args.templates = args.templates.or(inner.templates);
                args.krate = args.krate.or(inner.krate);
                args.lock = args.lock.or(inner.lock);
                if !args.classify_personal.is_present() {
                    args.classify_personal = inner.classify_personal;
                }
            }
        } else if is_macro {
            diag.error(
                attr.path().span(),
                "unsupported attribute on an event catalog: expected `#[events(templates = \"...\")]` \
                 or a doc comment",
            );
        } else {
            diag.error(
                attr.path().span(),
                "unsupported attribute on an event catalog: expected a doc comment (the catalog's \
                 arguments go in `#[audit_core::events(...)]`)",
            );
        }
    }
    if input.variants.is_empty() {
        diag.error(
            input.ident.span(),
            format!("event catalog `{}` declares no events", input.ident),
        );
    }
    let templates_dir = match args.templates {
        Some(dir) => Spanned::new(dir.value, dir.span),
        None => Spanned::new(DEFAULT_TEMPLATES_DIR.to_owned(), input.ident.span()),
    };
    Catalog {
        docs,
        vis: input.vis,
        ident: input.ident,
        templates_dir,
        runtime: args.krate.unwrap_or_default(),
        lock: args.lock.map(|lock| Spanned::new(lock.value, lock.span)),
        arguments_unreadable: args.unreadable,
        classify_personal: args
            .classify_personal
            .is_present()
            .then(|| args.classify_personal.span()),
        events: input
            .variants
            .into_iter()
            .map(|v| {
                let mut event = parse_event(v.variant, diag);
                if v.broken || args.unreadable {
                    event.complete = false;
                }
                event
            })
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
    let spanned = |v: StrArg| Spanned::new(v.value, v.span);
    match args {
        Some(args) => Event {
            docs,
            code: spanned(args.code),
            label: spanned(args.label),
            group: spanned(args.group),
            version: args.version.map_or(Spanned::new(1, ident.span()), |v| {
                Spanned::new(v.value, v.span)
            }),
            upgrades: args
                .upgrade
                .into_iter()
                .map(|u| Upgrade {
                    from: Spanned::new(u.from.value, u.from.span),
                    step: u.step,
                    span: u.span,
                })
                .collect(),
            retired: args.retired.is_present().then(|| args.retired.span()),
            template: args.template.map(spanned),
            presenter: args.presenter.map(|p| p.path),
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
            upgrades: Vec::new(),
            retired: None,
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
    let mut classification = Vec::new();
    for attr in field.attrs {
        let name = attr.path().get_ident().map(ToString::to_string);
        let marker = name.as_deref().and_then(Marker::from_name);
        let class = name.as_deref().and_then(Classification::from_name);
        if marker.is_some() || class.is_some() {
            if !matches!(attr.meta, Meta::Path(_)) {
                diag.error(
                    attr.meta.span(),
                    format!(
                        "`#[{}]` takes no arguments",
                        name.as_deref().unwrap_or_default()
                    ),
                );
            }
            let span = attr.path().span();
            markers.extend(marker.map(|m| Spanned::new(m, span)));
            classification.extend(class.map(|c| Spanned::new(c, span)));
        } else if is_forwarded(&attr) {
            forwarded_attrs.push(attr);
        } else {
            diag.error(
                attr.path().span(),
                "unsupported attribute on an event field: expected `#[target]`, `#[parent]`, \
                 `#[subject]`, `#[personal]`, `#[not_personal]`, `#[serde(...)]` or a doc comment",
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
        serde: field_serde(&forwarded_attrs),
        forwarded_attrs,
        ident,
        ty: field.ty,
        markers,
        classification,
    }
}

/// Serde keys on a field that keep serde's own (de)serialization of its type.
const PLAIN_SERDE_KEYS: [&str; 4] = ["rename", "alias", "default", "skip_serializing_if"];

/// Reads the field's `#[serde(...)]` keys (serde itself reports malformed ones).
fn field_serde(attrs: &[Attribute]) -> FieldSerde {
    let mut has_default = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let mut keys = Vec::new();
        let read = attr.parse_nested_meta(|meta| {
            keys.push(meta.path.get_ident().map(ToString::to_string));
            if meta.input.peek(Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            } else if meta.input.peek(syn::token::Paren) {
                let inner;
                syn::parenthesized!(inner in meta.input);
                inner.parse::<TokenStream>()?;
            }
            Ok(())
        });
        if read.is_err() {
            return FieldSerde::Custom;
        }
        for key in keys {
            match key.as_deref() {
                Some("default") => has_default = true,
                Some(key) if PLAIN_SERDE_KEYS.contains(&key) => {}
                _ => return FieldSerde::Custom,
            }
        }
    }
    FieldSerde::Plain { has_default }
}

/// Records a darling error, spanning on `attr` the parts that carry no span
/// (such as "Missing field"). A missing key that an unknown key's "did you
/// mean" already names is left out: it is the same mistake.
fn push_spanned(diag: &mut Diagnostics, error: darling::Error, attr: &Attribute) {
    let errors: Vec<darling::Error> = error.into_iter().collect();
    let suggested: Vec<String> = errors
        .iter()
        .filter_map(|e| {
            let text = e.to_string();
            let (_, after) = text.split_once("Did you mean `")?;
            Some(after.split('`').next()?.to_owned())
        })
        .collect();
    for e in errors {
        let text = e.to_string();
        let repeats_a_suggestion = text
            .strip_prefix("Missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
            .is_some_and(|missing| suggested.iter().any(|s| s == missing));
        if !repeats_a_suggestion {
            diag.push_darling(e.with_span(attr.path()));
        }
    }
}

fn is_forwarded(attr: &Attribute) -> bool {
    attr.path().is_ident("doc") || attr.path().is_ident("serde")
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn input(item: ItemEnum) -> CatalogInput {
        item.into()
    }

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
    fn parses_personal_classification_with_the_reference_markers() {
        let (catalog, errors) = parse(parse_quote! {
            #[events(classify_personal)]
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A {
                    #[subject] #[personal] user: U,
                    #[not_personal] #[target] thing: T,
                    #[personal] #[not_personal] both: String,
                    plain: u32,
                },
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
        assert!(catalog.classify_personal.is_some());
        let fields = &catalog.events[0].fields;
        let classes = |i: usize| -> Vec<Classification> {
            fields[i].classification.iter().map(|c| c.value).collect()
        };
        assert_eq!(classes(0), [Classification::Personal]);
        assert_eq!(classes(1), [Classification::NotPersonal]);
        assert_eq!(
            classes(2),
            [Classification::Personal, Classification::NotPersonal],
            "validation reports the second"
        );
        assert!(classes(3).is_empty());
        let markers =
            |i: usize| -> Vec<Marker> { fields[i].markers.iter().map(|m| m.value).collect() };
        assert_eq!(markers(0), [Marker::Subject]);
        assert_eq!(markers(1), [Marker::Target]);
        assert!(fields[0].forwarded_attrs.is_empty() && fields[1].forwarded_attrs.is_empty());
        assert!(fields[0].is_personal() && fields[2].is_personal());
        assert!(!fields[1].is_personal() && !fields[3].is_personal());
    }

    #[test]
    fn classify_personal_is_off_by_default_and_a_word() {
        let (catalog, _) = parse(parse_quote! {
            enum E { #[event(code = "a", label = "A", group = "G")] A }
        });
        assert!(catalog.classify_personal.is_none());
        let (_, errors) = parse(parse_quote! {
            #[events(classify_personal = true)]
            enum E { #[event(code = "a", label = "A", group = "G")] A }
        });
        assert_eq!(
            errors,
            ["`classify_personal` takes no value: write `classify_personal` alone"]
        );
        let mut diag = Diagnostics::default();
        let args = parse_attribute_args(quote::quote!(classify_personal), &mut diag);
        assert!(diag.is_empty() && args.classify_personal.is_present());
    }

    #[test]
    fn an_unknown_catalog_argument_lists_classify_personal_with_the_others() {
        let (_, errors) = parse(parse_quote! {
            #[events(colour = "red")]
            enum E { #[event(code = "a", label = "A", group = "G")] A }
        });
        assert_eq!(
            errors,
            [
                "Unknown field: `colour`. Available values: `classify_personal`, `crate`, \
                 `lock`, `templates`"
            ]
        );
        let (_, errors) = parse(parse_quote! {
            #[events(classify_personal_data)]
            enum E { #[event(code = "a", label = "A", group = "G")] A }
        });
        assert_eq!(
            errors,
            ["Unknown field: `classify_personal_data`. Did you mean `classify_personal`?"]
        );
    }

    #[test]
    fn a_second_events_attribute_still_gives_classify_personal() {
        let mut diag = Diagnostics::default();
        let input = input(parse_quote!(
            #[events(classify_personal)]
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A,
            }
        ));
        let catalog =
            parse_catalog_input(input, Entry::Attribute(CatalogArgs::default()), &mut diag);
        assert!(catalog.classify_personal.is_some());
        assert_eq!(diag.len(), 1);
    }

    #[test]
    fn classification_markers_take_no_arguments() {
        let (catalog, errors) = parse(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { #[personal(yes)] a: String, #[not_personal = true] b: u32, #[private] c: u32 },
            }
        });
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(errors[0], "`#[personal]` takes no arguments");
        assert_eq!(errors[1], "`#[not_personal]` takes no arguments");
        assert!(
            errors[2].contains("`#[personal]`, `#[not_personal]`"),
            "the unsupported-attribute error lists them: {}",
            errors[2]
        );
        assert!(
            catalog.events[0].fields[0].is_personal(),
            "still read, so nothing cascades"
        );
    }

    #[test]
    fn the_stored_name_follows_a_forwarded_rename() {
        let (catalog, errors) = parse(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A {
                    plain: u32,
                    r#type: u32,
                    #[serde(default, rename = "who")] user: U,
                    #[serde(rename(serialize = "out", deserialize = "in"))] both: u32,
                    #[serde(rename(deserialize = "in"))] read_only: u32,
                    /// Docs.
                    #[serde(alias = "x")] aliased: u32,
                },
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = catalog.events[0]
            .fields
            .iter()
            .map(Field::stored_name)
            .collect();
        assert_eq!(
            names,
            ["plain", "type", "who", "out", "read_only", "aliased"]
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

    fn parse_tokens(tokens: TokenStream, form: Form) -> (Catalog, Vec<String>) {
        let mut diag = Diagnostics::default();
        let input = parse_enum_tokens(tokens, form, &mut diag).expect("the header parses");
        let entry = match form {
            Form::Macro => Entry::Macro,
            Form::Attribute => Entry::Attribute(CatalogArgs::default()),
        };
        let catalog = parse_catalog_input(input, entry, &mut diag);
        (catalog, diag.messages())
    }

    fn names(catalog: &Catalog) -> Vec<String> {
        catalog.events.iter().map(|e| e.ident.to_string()).collect()
    }

    #[test]
    fn a_broken_variant_is_one_error_and_the_rest_is_kept() {
        let (catalog, errors) = parse_tokens(
            quote::quote! {
                pub enum E {
                    #[event(code = "a", label = "A", group = "G")]
                    A { name: String },
                    /// Broken.
                    #[event(code = "b", label = "B", group = "G")]
                    B { name: },
                    #[event(code = "c", label = "C", group = "G")]
                    C { map: Map<K, V>, #[serde(rename = "x", default)] x: u32 },
                }
            },
            Form::Macro,
        );
        assert_eq!(
            errors,
            ["expected a type: write each field as `name: Type`"]
        );
        assert_eq!(names(&catalog), ["A", "B", "C"]);
        let b = &catalog.events[1];
        assert!(!b.complete && b.fields.is_empty());
        assert_eq!(
            b.code.value, "b",
            "the attribute of a broken event is still read"
        );
        assert_eq!(b.docs.len(), 1);
        assert!(catalog.events[0].complete && catalog.events[2].complete);
        assert_eq!(
            catalog.events[2].fields.len(),
            2,
            "commas inside groups do not split"
        );
    }

    #[test]
    fn missing_commas_are_reported_where_they_are_missing() {
        let (catalog, errors) = parse_tokens(
            quote::quote! {
                enum E {
                    #[event(code = "a", label = "A", group = "G")]
                    A { x: u32 y: u32 },
                    #[event(code = "b", label = "B", group = "G")]
                    B
                    #[event(code = "c", label = "C", group = "G")]
                    C { z: u32 }
                }
            },
            Form::Macro,
        );
        assert_eq!(
            errors,
            [
                "expected `,`: separate fields with commas",
                "expected `,` after event `B`: separate events with commas"
            ]
        );
        assert_eq!(names(&catalog), ["A", "B", "C"]);
        assert!(!catalog.events[0].complete && catalog.events[2].complete);
    }

    #[test]
    fn a_piece_without_a_name_is_dropped_after_its_error() {
        let (catalog, errors) = parse_tokens(
            quote::quote! {
                enum E { #[event(code = "a", label = "A", group = "G")] A, 42, fn }
            },
            Form::Macro,
        );
        assert_eq!(names(&catalog), ["A"]);
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn the_attribute_form_leaves_a_broken_event_to_rustc_s_error() {
        let (catalog, errors) = parse_tokens(
            quote::quote! {
                enum E { #[event(code = "a", label = "A", group = "G")] A { x: } }
            },
            Form::Attribute,
        );
        assert_eq!(names(&catalog), ["A"]);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_bad_header_is_an_error() {
        let mut diag = Diagnostics::default();
        assert!(
            parse_enum_tokens(
                quote::quote!(
                    struct S;
                ),
                Form::Macro,
                &mut diag
            )
            .is_err()
        );
        assert!(
            parse_enum_tokens(
                quote::quote!(
                    enum E {
                        A,
                    }
                    enum F {
                        B,
                    }
                ),
                Form::Macro,
                &mut diag
            )
            .is_err()
        );
    }

    #[test]
    fn attribute_arguments_are_read_and_checked() {
        let mut diag = Diagnostics::default();
        let args = parse_attribute_args(quote::quote!(templates = "t", crate = ::audit), &mut diag);
        assert!(diag.is_empty());
        let (catalog, _) = {
            let input = input(parse_quote!(
                enum E {
                    #[event(code = "a", label = "A", group = "G")]
                    A,
                }
            ));
            let catalog = parse_catalog_input(input, Entry::Attribute(args), &mut diag);
            (catalog, ())
        };
        assert_eq!(catalog.templates_dir.value, "t");
        assert_eq!(
            catalog.runtime.private().to_string(),
            ":: audit :: __private"
        );

        let args = parse_attribute_args(quote::quote!(templats = "t"), &mut diag);
        assert!(args.unreadable);
        assert_eq!(
            diag.messages(),
            ["Unknown field: `templats`. Did you mean `templates`?"]
        );
    }

    #[test]
    fn unreadable_catalog_arguments_stop_template_lookups() {
        let (catalog, errors) = parse(parse_quote! {
            #[events(templats = "t")]
            enum E { #[event(code = "a", label = "A", group = "G")] A }
        });
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(!catalog.events[0].complete);
    }

    #[test]
    fn a_second_events_attribute_is_an_error_whose_arguments_still_count() {
        let mut diag = Diagnostics::default();
        let input = input(parse_quote!(
            #[events(templates = "t")]
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A,
            }
        ));
        let catalog =
            parse_catalog_input(input, Entry::Attribute(CatalogArgs::default()), &mut diag);
        assert_eq!(catalog.templates_dir.value, "t");
        let errors = diag.messages();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("the catalog already has its `#[events(...)]` attribute"));
    }

    #[test]
    fn values_must_have_their_one_form() {
        let (_, errors) = parse(parse_quote! {
            #[events(templates = templates, crate = "::audit")]
            enum E {
                #[event(code = a, label = "A", group = "G", version = "2", presenter = "show")]
                A,
            }
        });
        assert_eq!(
            errors,
            [
                "`templates` is a string: write `templates = \"templates\"`",
                "`crate` is a path, not a string: write `crate = ::audit` without quotes",
                "`code` is a string: write `code = \"a\"`",
                "`version` is a number: write `version = 2`",
                "`presenter` is a path, not a string: write `presenter = show` without quotes",
            ]
        );
    }

    #[test]
    fn fields_with_plain_serde_keys_are_routed_through_the_macro() {
        let (catalog, errors) = parse(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A {
                    a: u32,
                    #[serde(rename = "bee", alias = "b2")] b: u32,
                    #[serde(default, skip_serializing_if = "Option::is_none")] c: Option<u32>,
                    #[serde(rename(serialize = "d"))] d: u32,
                    #[serde(with = "my::module")] e: Time,
                    #[serde(skip)] f: u32,
                    #[serde(flatten)] g: Extra,
                },
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
        let kinds: Vec<FieldSerde> = catalog.events[0].fields.iter().map(|f| f.serde).collect();
        let plain = |has_default| FieldSerde::Plain { has_default };
        assert_eq!(
            kinds,
            [
                plain(false),
                plain(false),
                plain(true),
                plain(false),
                FieldSerde::Custom,
                FieldSerde::Custom,
                FieldSerde::Custom,
            ]
        );
    }

    #[test]
    fn a_misspelt_required_key_is_one_error() {
        let (_, errors) = parse(parse_quote! {
            enum E { #[event(code = "a", label = "A", gruop = "G")] A }
        });
        assert_eq!(errors, ["Unknown field: `gruop`. Did you mean `group`?"]);
        let (_, errors) = parse(parse_quote! {
            enum E { #[event(code = "a", label = "A", colour = "G")] A }
        });
        assert_eq!(
            errors.len(),
            2,
            "an unrelated unknown key does not hide a missing one"
        );
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
