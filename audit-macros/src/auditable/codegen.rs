//! Code generation for `#[auditable]`.

use proc_macro2::{Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::parse::{Args, CommandFn, CommandItem};

/// The function with its body wrapped in a command context.
///
/// Nothing is added to the user's namespace: the marker type of the command
/// and its `Emits` impls are items of a block inside the body, which the
/// body itself does not see. The marker is named like the function, so that
/// "command `add_member` does not declare event `X`" names the command; the
/// event paths are resolved in an outer block through aliases, where that
/// name does not shadow a module of the same name. The body runs in an
/// `async move` block so that `return` and `?` still leave the command
/// through `finish_command`, which checks the required events.
pub fn generate(item: &CommandItem, command: &CommandFn, args: &Args) -> TokenStream {
    let p = args.runtime.private();
    let CommandItem {
        attrs,
        vis,
        sig,
        inner_attrs,
        body,
    } = item;
    let CommandFn {
        name,
        cx,
        session,
        output,
        error,
    } = command;
    let marker = name;
    let name = name.to_string();
    // Mixed-site: the body cannot name (or collide with) these locals.
    let context = Ident::new("__audit_command", Span::mixed_site());
    let result = Ident::new("__audit_result", Span::mixed_site());
    let into_error = Ident::new("__audit_into_error", Span::mixed_site());
    let aliases: Vec<Ident> = (0..args.emits.len())
        .map(|i| format_ident!("__AuditEvent{i}"))
        .collect();
    let alias_items = args.emits.iter().zip(&aliases).map(|(emit, alias)| {
        let path = &emit.path;
        quote_spanned! {path.span()=>
            #[allow(non_camel_case_types)]
            type #alias = #path;
        }
    });
    let impls = args.emits.iter().zip(&aliases).map(|(emit, alias)| {
        quote_spanned! {emit.path.span()=>
            #[automatically_derived]
            impl #p::Emits<#alias> for #marker {}
        }
    });
    // A declared event must be active (not retired): one error on its entry
    // in `emits(..)`, and none where it is emitted.
    // Through the alias: inside this block the marker, named like the
    // command, could shadow a module in the user's path.
    let active_checks = args.emits.iter().zip(&aliases).map(|(emit, alias)| {
        let (first, last) = first_and_last(&emit.path);
        let check = Ident::new("__declared_by_a_command", last);
        let alias = Ident::new(&alias.to_string(), first);
        quote_spanned! {first=>
            let _: fn() = <#alias as #p::ActiveEvent>::#check;
        }
    });
    let required = args.emits.iter().filter(|e| !e.optional).map(|emit| {
        let path = &emit.path;
        quote_spanned! {path.span()=>
            #p::EventType::code(<#path as #p::Event>::TYPE)
        }
    });
    // Each check is a qualified path `<UserType as Trait>::item`, spanned
    // from the type's first token to its last and coerced to a function
    // pointer: a failed check is one error on the user's whole type, in the
    // trait's words (calling the path, or the function item, would report it
    // a second time on the argument), and what depends on it is left to
    // inference, adding nothing.
    let enter_fn = Ident::new("__audit_enter", Span::mixed_site());
    let into_result_fn = Ident::new("__audit_into_result", Span::mixed_site());
    let from_result_fn = Ident::new("__audit_from_result", Span::mixed_site());
    let span = Ident::new("__audit_span", Span::mixed_site());
    let enter = {
        let (first, last) = first_and_last(session);
        let mut close = Punct::new('>', Spacing::Alone);
        close.set_span(last);
        quote_spanned!(first=> <#session as #p::AuditSession>::enter::<#marker #close)
    };
    let (first, last) = first_and_last(output);
    let into_result = Ident::new("into_result", last);
    let into_result = quote_spanned!(first=> <#output as #p::CommandOutput>::#into_result);
    let from_result = Ident::new("from_result", last);
    let from_result = quote_spanned!(first=> <#output as #p::CommandOutput>::#from_result);
    // `E` of a written `Result<T, E>`, else the return type's `Error`: an
    // error on `E`, or on the whole return type when it is an alias.
    let error_check = match error {
        Some(error) => {
            let (first, last) = first_and_last(error);
            let method = Ident::new("from_audit_error", last);
            quote_spanned!(first=> <#error as #p::FromAuditError>::#method)
        }
        None => {
            let error = Ident::new("Error", last);
            let method = Ident::new("from_audit_error", last);
            quote_spanned! {first=>
                < <#output as #p::CommandOutput>::#error as #p::FromAuditError>::#method
            }
        }
    };
    // Spanned on the function's name: "`Emits<X>` is not implemented for
    // `add_member`" points there.
    let marker_item = quote_spanned! {marker.span()=>
        #[allow(non_camel_case_types, dead_code)]
        struct #marker {}
    };
    let docs = events_doc(attrs, args);
    quote! {
        #(#attrs)*
        #docs
        #vis #sig {
            #(#inner_attrs)*
            let mut #context = {
                #(#alias_items)*
                {
                    #marker_item
                    #(#impls)*
                    #(#active_checks)*
                    let #enter_fn: fn(_, _) -> _ = #enter;
                    #enter_fn(#cx, #name)
                }
            };
            let #result: #output = {
                let #span = #p::CommandSpan::command_span(&#context);
                let #cx = &mut #context;
                #p::in_span(#span, async move { #body }).await
            };
            let #into_result_fn: fn(_) -> _ = #into_result;
            let #from_result_fn: fn(_) -> _ = #from_result;
            let #into_error = #error_check;
            #from_result_fn(#p::finish_command(
                #context,
                #into_result_fn(#result),
                &[#(#required),*],
                #into_error,
            ))
        }
    }
}

/// The spans of the first and the last token of `tokens`: a generated path
/// that starts at the first and ends at the last covers the user's whole
/// type in an error, as a joined span would (which stable Rust cannot make).
fn first_and_last(tokens: &impl ToTokens) -> (Span, Span) {
    let tokens: Vec<TokenTree> = tokens.to_token_stream().into_iter().collect();
    let first = match tokens.first() {
        Some(TokenTree::Group(group)) => group.span_open(),
        Some(tree) => tree.span(),
        None => Span::call_site(),
    };
    let last = match tokens.last() {
        Some(TokenTree::Group(group)) => group.span_close(),
        Some(tree) => tree.span(),
        None => first,
    };
    (first, last)
}

/// A "# Audit events" section appended to the function's own docs: each
/// event, linked, required or optional. An undocumented function gets none,
/// so that `missing_docs` still sees it undocumented.
fn events_doc(attrs: &[syn::Attribute], args: &Args) -> TokenStream {
    if !attrs.iter().any(|attr| attr.path().is_ident("doc")) {
        return TokenStream::new();
    }
    // The attribute as this crate names it: `audit_core::auditable`, or the
    // renamed path of `crate = ...`.
    let root = args
        .runtime
        .root()
        .to_token_stream()
        .to_string()
        .replace(' ', "");
    let command = format!(
        "An `#[{}::auditable]` command",
        root.trim_start_matches("::")
    );
    let mut lines = vec![String::new(), "# Audit events".to_owned(), String::new()];
    if args.emits.is_empty() {
        lines.push(format!(
            "{command} that emits no event itself; the commands it calls record theirs."
        ));
    } else {
        lines.push(format!("{command}; it emits:"));
        lines.push(String::new());
        for emit in &args.emits {
            let path = emit.path.to_token_stream().to_string().replace(' ', "");
            let name = emit
                .name()
                .map_or_else(|| path.clone(), |name| name.to_string());
            let kind = if emit.optional {
                "optional (`?`): it may return `Ok` without it"
            } else {
                "required: it returns `Ok` only after emitting it"
            };
            lines.push(format!("- [`{name}`]({path}), {kind}"));
        }
    }
    quote!(#(#[doc = #lines])*)
}

/// What stands in for the function when the macro reported an error: its
/// signature (made `async`, as its callers expect of a command) with a body
/// that cannot fail to compile, so that neither its callers nor its body
/// add errors to the one reported.
pub fn fallback(item: &CommandItem) -> TokenStream {
    let CommandItem {
        attrs, vis, sig, ..
    } = item;
    let mut sig = sig.clone();
    if sig.asyncness.is_none() {
        sig.asyncness = Some(Default::default());
    }
    quote! {
        #(#attrs)*
        #[allow(unused)]
        #vis #sig {
            ::core::unimplemented!("`#[auditable]` reported an error on this command")
        }
    }
}
