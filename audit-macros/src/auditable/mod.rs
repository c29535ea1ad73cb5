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

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(args: TokenStream, item: TokenStream) -> String {
        expand(args, item).to_string()
    }

    #[test]
    fn leaves_one_function_and_nothing_beside_it() {
        let out = expand(
            quote!(emits(Added, Removed?)),
            quote! {
                async fn add(&self, cx: &mut Audit<E>) -> Result<(), Error> {
                    cx.emit(Added {})?;
                    Ok(())
                }
            },
        );
        // One associated function: legal in an `impl`, nothing to collide with.
        let function: syn::ImplItemFn =
            syn::parse2(out.clone()).expect("the expansion is one function");
        assert_eq!(function.sig.ident, "add");
        let out = out.to_string();
        assert!(out.contains("struct add { }"), "{out}");
        assert!(
            out.contains(
                "# [automatically_derived] impl :: audit_core :: __private :: Emits < __AuditEvent0 > for add { }"
            ),
            "{out}"
        );
        assert!(out.contains("type __AuditEvent1 = Removed ;"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn generated_code_names_the_runtime_only_through_crate_path() {
        let out = expanded(
            quote!(crate = ::audit, emits(Added)),
            quote! {
                /// Adds.
                async fn add(cx: &mut Audit<E>) -> CmdResult<()> {
                    cx.emit(Added {})?;
                    Ok(())
                }
            },
        );
        assert!(
            out.contains(":: audit :: __private :: finish_command"),
            "{out}"
        );
        assert!(!out.contains("audit_core"), "{out}");
    }

    #[test]
    fn documents_the_events_of_a_documented_command() {
        let out = expanded(
            quote!(emits(events::Added, Removed?)),
            quote! {
                /// Adds.
                async fn add(cx: &mut Audit<E>) -> Result<(), Error> {
                    cx.emit(Added {})?;
                    Ok(())
                }
            },
        );
        for line in [
            "# [doc = r\" Adds.\"]",
            "# [doc = \"# Audit events\"]",
            "# [doc = \"- [`Added`](events::Added), required: it returns `Ok` only after emitting it\"]",
            "# [doc = \"- [`Removed`](Removed), optional (`?`): it may return `Ok` without it\"]",
        ] {
            assert!(out.contains(line), "{line}\n{out}");
        }
        let out = expanded(
            quote!(),
            quote! {
                /// Replaces.
                async fn replace(cx: &mut Audit<E>) -> Result<(), Error> { Ok(()) }
            },
        );
        assert!(
            out.contains("An `#[audit_core::auditable]` command that emits no event itself"),
            "{out}"
        );
        // An undocumented command stays undocumented, for `missing_docs`.
        let out = expanded(
            quote!(),
            quote!(
                async fn replace(cx: &mut Audit<E>) -> Result<(), Error> {
                    Ok(())
                }
            ),
        );
        assert!(!out.contains("doc"), "{out}");
    }

    #[test]
    fn on_error_keeps_an_async_signature_with_a_body_that_cannot_fail() {
        let out = expanded(
            quote!(emits(Added)),
            quote! {
                /// Adds.
                pub fn add(cx: &mut Audit<E>) -> Result<(), Error> {
                    cx.emit(Added {})?;
                    Ok(())
                }
            },
        );
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("must be an `async fn`"), "{out}");
        assert!(out.contains("# [allow (unused)] pub async fn add"), "{out}");
        assert!(out.contains(":: core :: unimplemented !"), "{out}");
        assert!(!out.contains("cx . emit"), "{out}");
    }

    #[test]
    fn what_is_no_function_is_left_as_it_was() {
        let out = expanded(
            quote!(emits(Added)),
            quote!(
                struct Add;
            ),
        );
        assert!(out.contains("goes on an `async fn` command"), "{out}");
        assert!(out.ends_with("struct Add ;"), "{out}");
    }
}
