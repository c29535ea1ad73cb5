//! Parsing and checking `#[model(...)]`.

use darling::util::{Flag, SpannedValue};
use darling::{FromDeriveInput, FromField, ast};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use crate::diagnostics::Diagnostics;

#[derive(FromDeriveInput)]
#[darling(attributes(model), supports(struct_named))]
struct ModelArgs {
    ident: Ident,
    generics: syn::Generics,
    data: ast::Data<(), FieldArgs>,
    table: Option<SpannedValue<String>>,
    mutable: Flag,
    immutable: Flag,
}

#[derive(FromField)]
#[darling(attributes(model))]
struct FieldArgs {
    ident: Option<Ident>,
    ty: Type,
    id: Flag,
}

/// A checked model.
pub struct Model {
    pub ident: Ident,
    pub table: String,
    pub immutable: bool,
    /// The `#[model(id)]` field.
    pub id: Ident,
    /// Every other field, in declaration order.
    pub columns: Vec<(Ident, Type)>,
}

const CLASSIFY: &str = "say `mutable` when any code may write it, or `immutable` when only \
                        audited commands may: `#[model(table = \"...\", immutable)]`";

/// Parses the derive input; `None` when it cannot be generated.
pub fn parse_model(input: &syn::DeriveInput, diag: &mut Diagnostics) -> Option<Model> {
    let args = match ModelArgs::from_derive_input(input) {
        Ok(args) => args,
        Err(e) => {
            for e in e {
                diag.push_darling(e.with_span(&input.ident));
            }
            return None;
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
            true
        }
        (false, false) => {
            diag.error(
                args.ident.span(),
                format!("model `{}` is not classified: {CLASSIFY}", args.ident),
            );
            true
        }
    };
    let table = match args.table {
        Some(table) if is_identifier(&table) => table.as_ref().clone(),
        Some(table) => {
            diag.error(
                table.span(),
                "the table name must be a plain lowercase SQL identifier (`a-z`, `0-9`, `_`, at most 63 characters)",
            );
            return None;
        }
        None => {
            diag.error(
                args.ident.span(),
                format!("model `{}` needs `#[model(table = \"...\")]`", args.ident),
            );
            return None;
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
    let Some(id) = id else {
        diag.error(
            args.ident.span(),
            "mark the primary key with `#[model(id)]` (an `i64` assigned by the database)",
        );
        return None;
    };
    Some(Model {
        ident: args.ident,
        table,
        immutable,
        id,
        columns,
    })
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

    fn parse(input: syn::DeriveInput) -> (Option<Model>, String) {
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
        let model = model.expect(&errors);
        assert!(errors.is_empty() && model.immutable);
        assert_eq!(model.table, "memberships");
        assert_eq!(model.id, "id");
        assert_eq!(model.columns.len(), 2);
    }

    #[test]
    fn an_unclassified_model_is_an_error() {
        let (_, errors) = parse(parse_quote! {
            #[model(table = "invoices")]
            struct Invoice { #[model(id)] id: i64 }
        });
        assert!(
            errors.contains("model `Invoice` is not classified"),
            "{errors}"
        );
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
