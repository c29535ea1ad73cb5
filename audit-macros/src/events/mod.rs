//! Event catalogs (`declare_events!` and `#[events]`): parse, validate,
//! resolve templates, generate.

mod codegen;
pub(crate) mod model;
pub(crate) mod parse;
mod template;
mod template_check;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::Diagnostics;
use model::Catalog;
use template::TemplateRoots;

/// Expands one `declare_events!` invocation.
pub fn expand(input: TokenStream) -> TokenStream {
    expand_with(input, &TemplateRoots::from_env())
}

/// Expands one `#[events(...)]` attribute on `item`.
pub fn expand_attribute(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_attribute_with(args, item, &TemplateRoots::from_env())
}

fn expand_with(input: TokenStream, roots: &TemplateRoots) -> TokenStream {
    let mut diag = Diagnostics::default();
    let input = match parse::parse_enum_tokens(input, parse::Form::Macro, &mut diag) {
        Ok(input) => input,
        Err(e) => {
            let mut e = e;
            e.combine(syn::Error::new(
                e.span(),
                "`declare_events!` expects one enum: `pub enum MyEvents { #[event(...)] Variant { .. }, .. }`",
            ));
            return e.to_compile_error();
        }
    };
    let catalog = parse::parse_catalog_input(input, parse::Entry::Macro, &mut diag);
    expand_catalog(catalog, diag, roots)
}

fn expand_attribute_with(
    args: TokenStream,
    item: TokenStream,
    roots: &TemplateRoots,
) -> TokenStream {
    let mut diag = Diagnostics::default();
    let input = match parse::parse_enum_tokens(item, parse::Form::Attribute, &mut diag) {
        Ok(input) => input,
        Err(e) => {
            let mut e = e;
            e.combine(syn::Error::new(
                e.span(),
                "`#[events(...)]` goes on one enum: `pub enum MyEvents { #[event(...)] Variant { .. }, .. }`",
            ));
            return e.to_compile_error();
        }
    };
    let args = parse::parse_attribute_args(args, &mut diag);
    let catalog = parse::parse_catalog_input(input, parse::Entry::Attribute(args), &mut diag);
    expand_catalog(catalog, diag, roots)
}

/// Validates, resolves templates and generates: the same for both ways of
/// writing a catalog.
fn expand_catalog(catalog: Catalog, mut diag: Diagnostics, roots: &TemplateRoots) -> TokenStream {
    validate::validate(&catalog, &mut diag);
    let templates: Vec<_> = catalog
        .events
        .iter()
        .map(|event| {
            if !event.complete {
                return None;
            }
            let relative = template::relative_path(&catalog, event);
            roots
                .find(&relative)
                .map_err(|message| {
                    let span = event
                        .template
                        .as_ref()
                        .map_or(event.ident.span(), |t| t.span);
                    diag.error(
                        span,
                        format!(
                            "{message}. Create the template of event `{}`, or point \
                             `#[event(template = \"...\")]` at an existing file (relative to `{}`)",
                            event.ident, catalog.templates_dir.value
                        ),
                    );
                })
                .ok()
                .and_then(|found| template_check::check_event(event, &relative, found, &mut diag))
        })
        .collect();
    let generated = if validate::has_duplicate_names(&catalog) {
        // Generating items twice would bury the duplicate error under rustc's own.
        TokenStream::new()
    } else {
        codegen::generate(&catalog, &templates)
    };
    let errors = diag.to_compile_errors();
    quote!(#errors #generated)
}

#[cfg(test)]
mod tests;
