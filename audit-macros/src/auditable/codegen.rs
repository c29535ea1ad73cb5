//! Code generation for `#[auditable]`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

use super::parse::{CommandFn, Emit};

/// Wraps the function body in a command context.
///
/// A braced struct named like the function (types and functions live in
/// different namespaces) marks the command; each declared event implements
/// `EmittedBy<marker>`, which `Command::emit` requires. The body runs in an
/// `async move` block so that `return` and `?` still leave the command
/// through `finish_command`, which checks the required events.
pub fn generate(function: &ItemFn, command: &CommandFn, emits: &[Emit]) -> TokenStream {
    let p = quote!(::audit_core::__private);
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let marker = &sig.ident;
    let name = marker.to_string();
    let cx = &command.cx;
    let output = &command.output;
    let impls = emits.iter().map(|emit| {
        let path = &emit.path;
        quote_spanned! {path.span()=>
            impl #p::EmittedBy<#marker> for #path {}
        }
    });
    let required = emits.iter().filter(|e| !e.optional).map(|emit| {
        let path = &emit.path;
        quote_spanned! {path.span()=>
            #p::EventType::code(<#path as #p::Event>::TYPE)
        }
    });
    let marker_doc = format!("Marks the events command `{name}` may emit.");
    quote! {
        #[doc = #marker_doc]
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        struct #marker {}
        #(#impls)*

        #(#attrs)*
        #vis #sig {
            let mut __audit_command = #p::enter_command::<_, #marker>(#cx, #name);
            let __audit_result: #output = {
                let #cx = &mut __audit_command;
                async move #block.await
            };
            #p::finish_command(__audit_command, __audit_result, &[#(#required),*])
        }
    }
}
