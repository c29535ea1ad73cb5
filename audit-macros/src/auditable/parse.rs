//! Parsing and checking `#[auditable(emits(A, B?))]` and its function.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, Pat, Path, ReturnType, Token, Type};

use crate::diagnostics::Diagnostics;

/// One event in `emits(...)`.
pub struct Emit {
    pub path: Path,
    /// `?`: the command may return `Ok` without emitting it.
    pub optional: bool,
}

impl Parse for Emit {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let path: Path = input.parse()?;
        let optional = input.parse::<Option<Token![?]>>()?.is_some();
        Ok(Emit { path, optional })
    }
}

/// What the checks found in the function.
pub struct CommandFn {
    /// The name of the session parameter.
    pub cx: Ident,
    /// The declared return type (a `Result`).
    pub output: Type,
}

const USAGE: &str = "expected `#[auditable(emits(EventA, EventB?))]`: the events the command \
                     emits, `?` marking those it may leave out";

/// Parses the attribute arguments.
pub fn parse_args(args: TokenStream, diag: &mut Diagnostics) -> Vec<Emit> {
    let metas = match Punctuated::<syn::Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(e) => {
            diag.error(e.span(), format!("{e}; {USAGE}"));
            return Vec::new();
        }
    };
    let mut emits: Option<Vec<Emit>> = None;
    for meta in metas {
        if !meta.path().is_ident("emits") {
            diag.error(meta.path().span(), format!("unknown argument; {USAGE}"));
            continue;
        }
        let list = match &meta {
            syn::Meta::List(list) => list,
            _ => {
                diag.error(meta.span(), USAGE);
                continue;
            }
        };
        if emits.is_some() {
            diag.error(meta.path().span(), "`emits(...)` is given twice");
            continue;
        }
        match list.parse_args_with(Punctuated::<Emit, Token![,]>::parse_terminated) {
            Ok(parsed) if parsed.is_empty() => {
                diag.error(
                    list.delimiter.span().join(),
                    "`emits()` is empty: a command records at least one event. A function that \
                     emits none does not need `#[auditable]`",
                );
                emits = Some(Vec::new());
            }
            Ok(parsed) => {
                let parsed: Vec<Emit> = parsed.into_iter().collect();
                for (i, emit) in parsed.iter().enumerate() {
                    if parsed[..i].iter().any(|e| e.path == emit.path) {
                        diag.error(
                            emit.path.span(),
                            "this event is listed twice in `emits(...)`",
                        );
                    }
                }
                emits = Some(parsed);
            }
            Err(e) => {
                diag.error(e.span(), format!("{e}; {USAGE}"));
                emits = Some(Vec::new());
            }
        }
    }
    emits.unwrap_or_else(|| {
        diag.error(Span::call_site(), format!("missing `emits(...)`; {USAGE}"));
        Vec::new()
    })
}

/// Checks the function's shape; `None` when it cannot be a command.
pub fn parse_function(function: &ItemFn, diag: &mut Diagnostics) -> Option<CommandFn> {
    let sig = &function.sig;
    let errors_before = diag.len();
    if sig.asyncness.is_none() {
        diag.error(
            sig.fn_token.span,
            "a command must be an `async fn`: it runs inside a database transaction",
        );
    }
    let mut cx = None;
    match sig.inputs.first() {
        Some(FnArg::Receiver(receiver)) => diag.error(
            receiver.self_token.span,
            "commands are free functions: `self` is not supported here. Move the command out of \
             the `impl` and take the audit session as its first parameter",
        ),
        Some(FnArg::Typed(arg)) => match (&*arg.pat, &*arg.ty) {
            (Pat::Ident(pat), Type::Reference(r)) if r.mutability.is_some() => {
                cx = Some(pat.ident.clone())
            }
            _ => diag.error(arg.span(), session_parameter_message()),
        },
        None => diag.error(sig.ident.span(), session_parameter_message()),
    }
    let output = match &sig.output {
        ReturnType::Type(_, ty) if is_result(ty) => Some((**ty).clone()),
        ReturnType::Type(_, ty) => {
            diag.error(ty.span(), result_message());
            None
        }
        ReturnType::Default => {
            diag.error(sig.paren_token.span.join(), result_message());
            None
        }
    };
    if diag.len() > errors_before {
        return None;
    }
    Some(CommandFn {
        cx: cx?,
        output: output?,
    })
}

fn session_parameter_message() -> String {
    "the first parameter of a command is its audit session, `cx: &mut audit_core::Audit<MyEvents>`: \
     the command's events and changes go through it"
        .to_owned()
}

fn result_message() -> String {
    "a command returns `Result<T, E>` with `E: From<audit_core::AuditError>`: it fails, and its \
     transaction does not commit, when a required event was not emitted"
        .to_owned()
}

fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Result"),
        Type::Group(g) => is_result(&g.elem),
        Type::Paren(p) => is_result(&p.elem),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;
    use syn::parse_quote;

    fn args(tokens: TokenStream) -> (Vec<Emit>, Vec<String>) {
        let mut diag = Diagnostics::default();
        let emits = parse_args(tokens, &mut diag);
        (emits, diag.messages())
    }

    #[test]
    fn parses_required_and_optional_events() {
        let (emits, errors) = args(quote!(emits(Added, events::Updated?)));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(emits.len(), 2);
        assert!(!emits[0].optional);
        assert!(emits[1].optional);
        assert!(emits[1].path.segments.len() == 2);
    }

    #[test]
    fn rejects_bad_arguments() {
        for (tokens, expected) in [
            (quote!(), "missing `emits(...)`"),
            (quote!(emits()), "`emits()` is empty"),
            (quote!(emit(A)), "unknown argument"),
            (quote!(emits(A, A)), "listed twice"),
            (quote!(emits(A), emits(B)), "given twice"),
            (quote!(emits = A), "expected `#[auditable(emits("),
        ] {
            let (_, errors) = args(tokens.clone());
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{tokens}: {errors:?}"
            );
        }
    }

    #[test]
    fn checks_the_function_shape() {
        let check = |f: ItemFn| {
            let mut diag = Diagnostics::default();
            let command = parse_function(&f, &mut diag);
            (command.is_some(), diag.messages().join("\n"))
        };
        let (ok, errors) = check(parse_quote! {
            async fn add(cx: &mut Audit<E>, n: u32) -> Result<(), Error> { Ok(()) }
        });
        assert!(ok, "{errors}");
        let (ok, errors) = check(parse_quote! {
            fn add(n: u32) -> u32 { n }
        });
        assert!(!ok);
        for expected in [
            "must be an `async fn`",
            "audit session",
            "returns `Result<T, E>`",
        ] {
            assert!(errors.contains(expected), "{errors}");
        }
        let (ok, errors) = check(parse_quote! {
            async fn add(&mut self) -> Result<(), E> { Ok(()) }
        });
        assert!(
            !ok && errors.contains("`self` is not supported"),
            "{errors}"
        );
    }
}
