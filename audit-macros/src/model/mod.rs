//! `#[derive(Model)]`: classify a table as mutable or immutable and generate
//! its guarded write methods.

mod codegen;
mod parse;

use proc_macro2::TokenStream;

use crate::diagnostics::Diagnostics;

/// Expands one `#[derive(Model)]`.
pub fn expand(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut diag = Diagnostics::default();
    let model = parse::parse_model(&input, &mut diag);
    // Generated even after an error (with placeholders), so that code using
    // the model reports nothing more than the error itself.
    let generated = codegen::generate(&model);
    let errors = diag.to_compile_errors();
    quote::quote!(#errors #generated)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::expand;

    fn items(tokens: proc_macro2::TokenStream) -> (String, syn::File) {
        let out = expand(tokens);
        let text = out.to_string();
        (text, syn::parse2(out).expect("the expansion is valid Rust"))
    }

    fn trait_impls(file: &syn::File) -> Vec<&syn::ItemImpl> {
        file.items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Impl(imp) if imp.trait_.is_some() => Some(imp),
                _ => None,
            })
            .collect()
    }

    fn methods(file: &syn::File) -> Vec<String> {
        file.items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Impl(imp) if imp.trait_.is_none() => Some(imp),
                _ => None,
            })
            .flat_map(|imp| &imp.items)
            .filter_map(|item| match item {
                syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
                _ => None,
            })
            .collect()
    }

    const ALL_METHODS: [&str; 5] = ["insert", "update", "delete", "find", "find_for_update"];

    #[test]
    fn generates_through_the_given_runtime_with_derived_impls() {
        let (text, file) = items(quote! {
            #[model(table = "notes", mutable, crate = ::audit)]
            struct Note { #[model(id)] id: i64, text: String }
        });
        assert!(!text.contains("audit_core"), "{text}");
        assert!(text.contains(":: audit :: on_backend !"));
        let impls = trait_impls(&file);
        assert_eq!(impls.len(), 2, "Model and WriteAccess");
        for imp in impls {
            assert!(
                imp.attrs
                    .iter()
                    .any(|a| a.path().is_ident("automatically_derived"))
            );
        }
        assert_eq!(methods(&file), ALL_METHODS);
    }

    #[test]
    fn an_immutable_model_gives_no_write_access_to_transactions() {
        let (_, file) = items(quote! {
            #[model(table = "notes", immutable)]
            struct Note { #[model(id)] id: i64 }
        });
        assert_eq!(trait_impls(&file).len(), 1);
    }

    #[test]
    fn after_an_error_the_impls_are_still_generated() {
        for (input, error) in [
            (
                quote!(
                    #[model(table = "a")]
                    struct A {
                        #[model(id)]
                        id: i64,
                    }
                ),
                "is not classified",
            ),
            (
                quote!(
                    #[model(table = "a", mutable)]
                    struct A {
                        id: i64,
                    }
                ),
                "mark the primary key",
            ),
            (
                quote!(
                    #[model(tabel = "a", mutable)]
                    struct A {
                        #[model(id)]
                        id: i64,
                    }
                ),
                "Unknown field: `tabel`",
            ),
            (
                quote!(
                    #[model(table = "a", mutable)]
                    struct A(i64);
                ),
                "Unsupported shape",
            ),
            (
                quote!(
                    #[model(table = "a", mutable)]
                    struct A<T> {
                        #[model(id)]
                        id: i64,
                        t: T,
                    }
                ),
                "cannot be generic",
            ),
        ] {
            let (text, file) = items(input);
            assert_eq!(text.matches("compile_error").count(), 1, "{text}");
            assert!(text.contains(error), "{error}: {text}");
            assert_eq!(methods(&file), ALL_METHODS, "{error}");
            // Mutable as a fallback: writes outside commands add no error.
            assert_eq!(trait_impls(&file).len(), 2, "{error}");
        }
    }
}
