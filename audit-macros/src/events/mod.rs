//! Event catalogs (`declare_events!` and `#[events]`): parse, validate,
//! resolve templates, generate.

mod codegen;
mod lock;
pub(crate) mod model;
pub(crate) mod parse;
mod template;
mod template_check;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::Diagnostics;
use lock::{LOCK_VAR, Lock, LockMode, OVERWRITE_COMMAND, UPDATE_COMMAND};
use model::{Catalog, DEFAULT_LOCK_FILE};
use template::TemplateRoots;

/// Expands one `declare_events!` invocation.
pub fn expand(input: TokenStream) -> TokenStream {
    expand_with(input, &Environment::from_env())
}

/// Expands one `#[events(...)]` attribute on `item`.
pub fn expand_attribute(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_attribute_with(args, item, &Environment::from_env())
}

/// What an expansion reads from its environment: where files are, and what
/// it may do with the lock.
pub struct Environment {
    pub roots: TemplateRoots,
    pub lock_mode: LockMode,
    /// Whether the explicit step may create the default lock file: not in
    /// an integration test or a bench (cargo sets `CARGO_TARGET_TMPDIR`
    /// there), whose catalogs are not the application's.
    pub creates_default_lock: bool,
}

impl Environment {
    /// The roots from `AUDIT_TEMPLATE_ROOT` and `CARGO_MANIFEST_DIR`, the
    /// lock mode from `AUDIT_LOCK`.
    pub fn from_env() -> Self {
        Environment {
            roots: TemplateRoots::from_env(),
            lock_mode: LockMode::from_env(),
            creates_default_lock: std::env::var_os("CARGO_TARGET_TMPDIR").is_none(),
        }
    }
}

fn expand_with(input: TokenStream, env: &Environment) -> TokenStream {
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
    expand_catalog(catalog, diag, env)
}

fn expand_attribute_with(args: TokenStream, item: TokenStream, env: &Environment) -> TokenStream {
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
    expand_catalog(catalog, diag, env)
}

/// Validates, resolves templates and generates: the same for both ways of
/// writing a catalog.
fn expand_catalog(catalog: Catalog, mut diag: Diagnostics, env: &Environment) -> TokenStream {
    let roots = &env.roots;
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
    let lock_tracking = check_lock(&catalog, &mut diag, env);
    let generated = if validate::has_duplicate_names(&catalog) {
        // Generating items twice would bury the duplicate error under rustc's own.
        TokenStream::new()
    } else {
        codegen::generate(&catalog, &templates)
    };
    let errors = diag.to_compile_errors();
    quote!(#errors #generated #lock_tracking)
}

/// Compares the catalog with its lock file (G13), writing the file when
/// `AUDIT_LOCK` allows it and the catalog has no error, and returns the
/// items that make cargo rebuild the crate when the file or the variable
/// changes.
///
/// Without `lock = "..."`, the default file is checked when it exists and
/// is made only by the explicit step; a lock named by `lock = "..."` must
/// exist. Either is found like a template: under `AUDIT_TEMPLATE_ROOT`,
/// then the crate root.
fn check_lock(catalog: &Catalog, diag: &mut Diagnostics, env: &Environment) -> TokenStream {
    let mut tracking = quote! {
        const _: ::core::option::Option<&::core::primitive::str> = ::core::option_env!(#LOCK_VAR);
    };
    if catalog.arguments_unreadable {
        return tracking;
    }
    let (relative, span, explicit) = match &catalog.lock {
        Some(lock) => (lock.value.clone(), lock.span, true),
        None => (DEFAULT_LOCK_FILE.to_owned(), catalog.ident.span(), false),
    };
    let mode = &env.lock_mode;
    if let LockMode::Invalid(value) = mode {
        diag.error(
            span,
            format!(
                "`{LOCK_VAR}` is `{value}`: set it to `update` (record new events and versions in \
                 `{relative}`) or `overwrite` (rewrite `{relative}` from the catalog), or unset it"
            ),
        );
        return tracking;
    }
    let located = env.roots.locate(&relative);
    let old = match &located.existing {
        None => None,
        Some(path) => {
            let read = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|text| Lock::parse(&text));
            match read {
                Ok(lock) => Some(lock),
                Err(_) if *mode == LockMode::Overwrite => None,
                Err(e) => {
                    diag.error(
                        span,
                        format!(
                            "cannot read the lock file `{relative}`: {e}. Fix it, or rewrite it \
                             from the catalog with `{OVERWRITE_COMMAND}` (which forgets the \
                             fields of versions older than the current ones)"
                        ),
                    );
                    return tracking;
                }
            }
        }
    };
    let next = match &old {
        Some(old) => {
            let comparison = lock::compare(catalog, old, &relative, mode);
            for error in comparison.errors {
                diag.error(error.span, error.message);
            }
            comparison.next
        }
        None if mode.writes() && (explicit || env.creates_default_lock) => {
            lock::lock_of(catalog, None)
        }
        None => {
            if explicit {
                diag.error(
                    span,
                    format!(
                        "lock file `{relative}` not found; looked for {}. Create it from the \
                         catalog with `{UPDATE_COMMAND}` and commit it",
                        located.searched_text()
                    ),
                );
            }
            return tracking;
        }
    };
    let target = located
        .existing
        .clone()
        .or_else(|| located.searched.first().cloned());
    if mode.writes()
        && diag.is_empty()
        && old.as_ref() != Some(&next)
        && let Some(target) = &target
        && let Err(e) = write_atomically(target, &next.to_text())
    {
        diag.error(
            span,
            format!("cannot write the lock file `{}`: {e}", target.display()),
        );
    }
    if let Some(path) = target.filter(|path| path.is_file()) {
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        let path = path.display().to_string();
        tracking.extend(quote! {
            const _: &[::core::primitive::u8] = ::core::include_bytes!(#path);
        });
    }
    tracking
}

/// Writes `text` to `path` through a temporary file, so that a reader (or
/// another crate's build writing the same file) never sees half of it.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension(format!("lock-{}.tmp", std::process::id()));
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests;
