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
