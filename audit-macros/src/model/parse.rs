//! Parsing and checking `#[model(...)]`.

use darling::{FromDeriveInput, FromField, ast};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use crate::args::{FlagArg, StrArg};
use crate::diagnostics::Diagnostics;
use crate::naming::snake_case;
use crate::runtime::RuntimePath;

#[derive(FromDeriveInput)]
#[darling(attributes(model), supports(struct_named))]
struct ModelArgs {
    ident: Ident,
    generics: syn::Generics,
    data: ast::Data<(), FieldArgs>,
    table: Option<StrArg>,
    mutable: FlagArg,
    immutable: FlagArg,
    /// Where generated code finds the runtime, for a renamed dependency.
    #[darling(rename = "crate")]
    krate: Option<RuntimePath>,
}

#[derive(FromField)]
#[darling(attributes(model))]
struct FieldArgs {
    ident: Option<Ident>,
    ty: Type,
    id: FlagArg,
}

/// A model as the generator needs it. After an error, placeholders stand in
/// for what is wrong (the build fails with that error) so that the impls
/// are still generated and nothing else cascades from it.
pub struct Model {
    pub ident: Ident,
    pub generics: syn::Generics,
    pub runtime: RuntimePath,
    pub table: String,
    /// `false` as well when unclassified: the fallback that lets every
    /// write the user wrote type-check, so only the classification error shows.
    pub immutable: bool,
    /// The `#[model(id)]` field; `None` when it, or the struct's shape,
    /// could not be read: the methods then keep their signatures but get
    /// bodies that are never compiled into a working program.
    pub id: Option<Ident>,
    /// Every other field, in declaration order.
    pub columns: Vec<(Ident, Type)>,
}

impl Model {
    /// Whether the methods get stand-in bodies (see [`Model::id`]).
    pub fn is_stub(&self) -> bool {
        self.id.is_none() || !self.generics.params.is_empty()
    }
}

const CLASSIFY: &str = "say `mutable` when any code may write it, or `immutable` when only \
                        audited commands may: `#[model(table = \"...\", immutable)]`";

/// Parses the derive input, recording errors in `diag`; always returns a
/// model to generate (with placeholders after an error).
pub fn parse_model(input: &syn::DeriveInput, diag: &mut Diagnostics) -> Model {
    let args = match ModelArgs::from_derive_input(input) {
        Ok(args) => args,
        Err(e) => {
            for e in e {
                diag.push_darling(e.with_span(&input.ident));
            }
            return Model {
                ident: input.ident.clone(),
                generics: input.generics.clone(),
                runtime: raw_runtime(&input.attrs),
                table: snake_case(&input.ident.to_string()),
                immutable: false,
                id: None,
                columns: Vec::new(),
            };
        }
    };
    if !args.generics.params.is_empty() {
        diag.error(
            args.generics.span(),
            "a model cannot be generic: it is one table",
        );
    }
    let immutable = match (args.mutable.is_present(), args.immutable.is_present()) {
        (true, false) => false,
        (false, true) => true,
        (true, true) => {
            diag.error(
                args.immutable.span(),
                "a model is either `mutable` or `immutable`, not both",
            );
            false
        }
        (false, false) => {
            diag.error(
                args.ident.span(),
                format!("model `{}` is not classified: {CLASSIFY}", args.ident),
            );
            false
        }
    };
    let table = match args.table {
        Some(table) if is_identifier(&table.value) => table.value,
        Some(table) => {
            diag.error(
                table.span,
                "the table name must be a plain lowercase SQL identifier (`a-z`, `0-9`, `_`, at most 63 characters)",
            );
            table.value
        }
        None => {
            diag.error(
                args.ident.span(),
                format!("model `{}` needs `#[model(table = \"...\")]`", args.ident),
            );
            snake_case(&args.ident.to_string())
        }
    };
    let fields = args
        .data
        .take_struct()
        .expect("invariant: darling accepted only named structs");
    let mut id = None;
    let mut columns = Vec::new();
    for field in fields.fields {
        let ident = field
            .ident
            .expect("invariant: named fields have identifiers");
        if field.id.is_present() {
            if id.is_some() {
                diag.error(
                    field.id.span(),
                    "a model has exactly one `#[model(id)]` field",
                );
            }
            id = Some(ident);
        } else {
            columns.push((ident, field.ty));
        }
    }
    if id.is_none() {
        diag.error(
            args.ident.span(),
            "mark the primary key with `#[model(id)]` (an `i64` assigned by the database)",
        );
    }
    Model {
        ident: args.ident,
        generics: args.generics,
        runtime: args.krate.unwrap_or_default(),
        table,
        immutable,
        id,
        columns,
    }
}

/// `crate = path` read from the raw `#[model(...)]` attributes, for the
/// fallback when darling could not read them as a whole (so that a renamed
/// runtime is still found and no path error cascades).
fn raw_runtime(attrs: &[syn::Attribute]) -> RuntimePath {
    let mut runtime = RuntimePath::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("model")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                runtime = RuntimePath::new(meta.value()?.parse()?);
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        });
    }
    runtime
}

/// Same rule as audit-core's `protect_immutable_table` (which this crate
/// cannot call): a plain lowercase identifier within PostgreSQL's 63 bytes.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn parse(input: syn::DeriveInput) -> (Model, String) {
        let mut diag = Diagnostics::default();
        let model = parse_model(&input, &mut diag);
        (model, diag.messages().join("\n"))
    }

    #[test]
    fn parses_a_classified_model() {
        let (model, errors) = parse(parse_quote! {
            #[model(table = "memberships", immutable)]
            struct Membership { #[model(id)] id: i64, project_id: i64, roles: String }
        });
        assert!(errors.is_empty() && model.immutable, "{errors}");
        assert_eq!(model.table, "memberships");
        assert_eq!(
            model.id.as_ref().map(ToString::to_string).as_deref(),
            Some("id")
        );
        assert_eq!(model.columns.len(), 2);
        assert!(!model.is_stub());
    }

    #[test]
    fn an_unclassified_model_is_one_error_and_falls_back_to_mutable() {
        let (model, errors) = parse(parse_quote! {
            #[model(table = "invoices")]
            struct Invoice { #[model(id)] id: i64 }
        });
        assert!(
            errors.starts_with("model `Invoice` is not classified") && !errors.contains('\n'),
            "{errors}"
        );
        assert!(!model.immutable && !model.is_stub());
    }

    #[test]
    fn reads_crate_and_keeps_it_in_the_fallback() {
        let (model, errors) = parse(parse_quote! {
            #[model(table = "a", mutable, crate = ::audit)]
            struct A { #[model(id)] id: i64 }
        });
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(model.runtime.private().to_string(), ":: audit :: __private");
        let (model, errors) = parse(parse_quote! {
            #[model(tabel = "a", mutable, crate = ::audit)]
            struct A { #[model(id)] id: i64 }
        });
        assert!(errors.contains("Unknown field: `tabel`"), "{errors}");
        assert!(model.is_stub());
        assert_eq!(model.runtime.private().to_string(), ":: audit :: __private");
    }

    #[test]
    fn table_is_a_string() {
        let (_, errors) = parse(parse_quote! {
            #[model(table = invoices, mutable)]
            struct A { #[model(id)] id: i64 }
        });
        assert_eq!(errors, "`table` is a string: write `table = \"invoices\"`");
    }

    #[test]
    fn rejects_bad_tables_and_ids() {
        for (input, expected) in [
            (
                parse_quote!(
                    #[model(table = "Bad Name", mutable)]
                    struct A {
                        #[model(id)]
                        id: i64,
                    }
                ),
                "plain lowercase SQL identifier",
            ),
            (
                parse_quote!(
                    #[model(mutable)]
                    struct A {
                        #[model(id)]
                        id: i64,
                    }
                ),
                "needs `#[model(table",
            ),
            (
                parse_quote!(
                    #[model(table = "a", mutable)]
                    struct A {
                        id: i64,
                    }
                ),
                "mark the primary key",
            ),
            (
                parse_quote!(
                    #[model(table = "a", mutable, immutable)]
                    struct A {
                        #[model(id)]
                        id: i64,
                    }
                ),
                "not both",
            ),
            (
                parse_quote!(
                    #[model(table = "a", mutable)]
                    struct A(i64);
                ),
                "Unsupported shape",
            ),
        ] {
            let (_, errors) = parse(input);
            assert!(errors.contains(expected), "{expected}: {errors}");
        }
    }
}
