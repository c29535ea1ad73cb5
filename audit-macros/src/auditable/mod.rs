//! `#[auditable(emits(...))]`: parse the attribute and the function's
//! signature (never its body), check them, and wrap the body in a command
//! context.

mod codegen;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::Diagnostics;

/// Expands one `#[auditable]` attribute.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match parse::parse_item(item.clone()) {
        Ok(function) => function,
        Err(e) => {
            // Not a function: leave the item as it was.
            let error = e.to_compile_error();
            return quote!(#error #item);
        }
    };
    let mut diag = Diagnostics::default();
    let args = parse::parse_args(args, &mut diag);
    let command = parse::parse_signature(&function.sig, &mut diag);
    parse::check_required_named(&args.emits, &function.body, &mut diag);
    match command {
        Some(command) if diag.is_empty() => codegen::generate(&function, &command, &args),
        _ => {
            let errors = diag.to_compile_errors();
            let fallback = codegen::fallback(&function);
            quote!(#errors #fallback)
        }
    }
}
