//! `#[auditable(emits(...))]`: parse the attribute and the function, check
//! them, and wrap the body in a command context.

mod codegen;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::Diagnostics;

/// Expands one `#[auditable]` attribute.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(e) => {
            let error = syn::Error::new(e.span(), "`#[auditable]` goes on an `async fn` command")
                .to_compile_error();
            return quote!(#error #item);
        }
    };
    let mut diag = Diagnostics::default();
    let emits = parse::parse_args(args, &mut diag);
    let command = parse::parse_function(&function, &mut diag);
    match (diag.is_empty(), command) {
        (true, Some(command)) => codegen::generate(&function, &command, &emits),
        _ => {
            // Keep the function so the rest of the crate still resolves it.
            let errors = diag.to_compile_errors();
            quote!(#errors #function)
        }
    }
}
