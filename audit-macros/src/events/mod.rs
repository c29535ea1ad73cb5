//! `declare_events!`: parse, validate, resolve templates, generate.

mod codegen;
pub(crate) mod model;
pub(crate) mod parse;
mod template;
mod template_check;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::Diagnostics;
use template::TemplateRoots;

/// Expands one `declare_events!` invocation.
pub fn expand(input: TokenStream) -> TokenStream {
    expand_with(input, &TemplateRoots::from_env())
}

fn expand_with(input: TokenStream, roots: &TemplateRoots) -> TokenStream {
    let item: syn::ItemEnum = match syn::parse2(input) {
        Ok(item) => item,
        Err(e) => {
            let mut e = e;
            e.combine(syn::Error::new(
                e.span(),
                "`declare_events!` expects one enum: `pub enum MyEvents { #[event(...)] Variant { .. }, .. }`",
            ));
            return e.to_compile_error();
        }
    };
    let mut diag = Diagnostics::default();
    let catalog = parse::parse_catalog(item, &mut diag);
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
