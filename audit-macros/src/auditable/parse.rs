//! Parsing and checking `#[auditable(emits(A, B?), crate = path)]` and its
//! function.
//!
//! Only the function's attributes and signature are parsed; the body stays
//! an opaque token stream, so a syntax error in it is rustc's to report (once,
//! where it is), never this macro's.

use darling::FromMeta;
use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, Pat, Path, PathArguments, ReturnType, Signature,
    Token, Type, Visibility,
};

use crate::diagnostics::Diagnostics;
use crate::runtime::RuntimePath;

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

impl Emit {
    /// The event type's own name: the last segment of its path.
    pub fn name(&self) -> Option<&Ident> {
        self.path.segments.last().map(|segment| &segment.ident)
    }
}

/// The attribute's arguments.
#[derive(Default)]
pub struct Args {
    /// The events the command itself may emit; empty for a command that only
    /// calls other commands.
    pub emits: Vec<Emit>,
    /// `crate = path`: where the runtime crate is.
    pub runtime: RuntimePath,
}

/// The arguments as darling reads them (which also reports unknown,
/// misspelled and repeated ones).
#[derive(FromMeta)]
struct RawArgs {
    #[darling(default)]
    emits: EmitList,
    /// Read as an expression, so that a wrong one is reported with the
    /// other errors instead of ending the parse.
    #[darling(rename = "crate", default)]
    runtime: Option<WrittenExpr>,
}

/// The value of `key = value` exactly as written (darling would read a
/// string literal as the expression inside it).
struct WrittenExpr(syn::Expr);

impl FromMeta for WrittenExpr {
    fn from_meta(meta: &syn::Meta) -> darling::Result<Self> {
        match meta {
            syn::Meta::NameValue(pair) => Ok(WrittenExpr(pair.value.clone())),
            other => Err(darling::Error::custom(CRATE_USAGE).with_span(other)),
        }
    }
}

/// The list in `emits(A, B?)`.
#[derive(Default)]
struct EmitList(Vec<Emit>);

impl FromMeta for EmitList {
    fn from_list(_: &[darling::ast::NestedMeta]) -> darling::Result<Self> {
        unreachable!("invariant: `from_meta` below reads the list itself, `?` included")
    }

    fn from_meta(item: &syn::Meta) -> darling::Result<Self> {
        let syn::Meta::List(list) = item else {
            return Err(darling::Error::custom(USAGE).with_span(item));
        };
        let emits = list
            .parse_args_with(Punctuated::<Emit, Token![,]>::parse_terminated)
            .map_err(|e| darling::Error::custom(format!("{e}; {USAGE}")).with_span(&e.span()))?;
        Ok(EmitList(emits.into_iter().collect()))
    }
}

/// The annotated function, its body unparsed.
pub struct CommandItem {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    /// `#![...]` at the start of the body.
    pub inner_attrs: Vec<Attribute>,
    /// The rest of the body, as written.
    pub body: TokenStream,
}

impl Parse for CommandItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), NOT_A_FUNCTION))?;
        if input.peek(Token![;]) {
            return Err(input.error(
                "a command needs a body: `#[auditable]` goes on an `async fn` with one, not on a \
                 declaration",
            ));
        }
        let content;
        syn::braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body: TokenStream = content.parse()?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the function"));
        }
        Ok(CommandItem {
            attrs,
            vis,
            sig,
            inner_attrs,
            body,
        })
    }
}

/// What `#[auditable]` goes on, said when it is on something else.
const NOT_A_FUNCTION: &str = "`#[auditable]` goes on an `async fn` command: \
                              `async fn name(cx: &mut audit_core::Audit<Events>, ..) -> \
                              Result<T, E> { .. }`";

/// Parses the annotated item as a function, its body left unparsed.
pub fn parse_item(item: TokenStream) -> syn::Result<CommandItem> {
    syn::parse2(item)
}

/// What the checks found in the signature.
pub struct CommandFn {
    /// The name the command is recorded under (the function's name).
    pub name: Ident,
    /// The session parameter's name: inside the body, the command context.
    pub cx: Ident,
    /// The session parameter's type behind `&mut`.
    pub session: Type,
    /// The declared return type.
    pub output: Type,
    /// `E` when the return type is written `Result<T, E>`, to point an error
    /// about it at `E` rather than the whole type.
    pub error: Option<Type>,
}

const USAGE: &str = "expected `#[auditable]`, `#[auditable(emits(EventA, EventB?))]` (the events \
                     the command emits, `?` marking those it may leave out) and optionally \
                     `crate = path` (where a renamed `audit-core` is)";

const CRATE_USAGE: &str = "expected `crate = path`: the path of the renamed `audit-core` \
                           dependency, such as `crate = ::audit`";

/// Parses the attribute arguments.
pub fn parse_args(args: TokenStream, diag: &mut Diagnostics) -> Args {
    let raw = darling::ast::NestedMeta::parse_meta_list(args)
        .map_err(darling::Error::from)
        .and_then(|metas| RawArgs::from_list(&metas));
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            diag.push_darling(add_usage(e));
            return Args::default();
        }
    };
    let emits = raw.emits.0;
    for (i, emit) in emits.iter().enumerate() {
        if emits[..i].iter().any(|e| e.path == emit.path) {
            diag.error_spanned(&emit.path, "this event is listed twice in `emits(...)`");
        }
    }
    let runtime = match raw.runtime.map(|written| written.0) {
        None => RuntimePath::default(),
        Some(syn::Expr::Path(path)) if path.qself.is_none() && path.attrs.is_empty() => {
            RuntimePath::new(path.path)
        }
        Some(expr) => {
            // A quoted path gets the catalog's and the models' message.
            match crate::args::quoted_path("crate", &expr) {
                Some(error) => diag.push_darling(error),
                None => diag.error_spanned(&expr, CRATE_USAGE),
            }
            RuntimePath::default()
        }
    };
    Args { emits, runtime }
}

/// Each of darling's errors, with what the attribute expects where it does
/// not say so already.
fn add_usage(errors: darling::Error) -> darling::Error {
    darling::Error::multiple(
        errors
            .into_iter()
            .map(|e| {
                let message = e.to_string();
                if message.contains("expected `") || message.starts_with("Duplicate field") {
                    e
                } else if message.ends_with(" at crate") {
                    darling::Error::custom(CRATE_USAGE).with_span(&e.span())
                } else {
                    darling::Error::custom(format!("{message}; {USAGE}")).with_span(&e.span())
                }
            })
            .collect(),
    )
}

/// Checks the signature's shape; `None` when it cannot be a command.
///
/// The session is the parameter whose type is written `&mut Audit<..>`, or
/// `&mut` an alias whose name ends in `Audit` (`&mut StaffAudit`; the first
/// if several are); when none is, the one `&mut` parameter, and an error
/// when there are several.
/// `self` never is. The compiler then checks that the session's type is an
/// `Audit` (`AuditSession`).
pub fn parse_signature(sig: &Signature, diag: &mut Diagnostics) -> Option<CommandFn> {
    let errors_before = diag.len();
    if sig.asyncness.is_none() {
        diag.error(
            sig.fn_token.span,
            "a command must be an `async fn`: it runs inside a database transaction",
        );
    }
    let session = find_session(sig, diag);
    let output = match &sig.output {
        ReturnType::Type(_, ty) if matches!(**ty, Type::ImplTrait(_)) => {
            diag.error_spanned(
                ty,
                "a command's return type must be named: write `Result<T, E>` (or an alias of \
                 such a `Result`) with `E: From<audit_core::AuditError>`",
            );
            None
        }
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => {
            diag.error(
                sig.paren_token.span.close(),
                "a command returns `Result<T, E>` with `E: From<audit_core::AuditError>`: it \
                 fails, and its transaction does not commit, when a required event was not \
                 emitted. Add `-> Result<(), YourError>`",
            );
            None
        }
    };
    if diag.len() > errors_before {
        return None;
    }
    let (cx, session) = session?;
    let output = output?;
    Some(CommandFn {
        name: sig.ident.unraw(),
        cx,
        session,
        error: result_error_type(&output),
        output,
    })
}

/// The session parameter's name and the type behind its `&mut`.
fn find_session(sig: &Signature, diag: &mut Diagnostics) -> Option<(Ident, Type)> {
    let mutable_refs: Vec<(&syn::PatType, Type)> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(arg) => match &*arg.ty {
                Type::Reference(r) if r.mutability.is_some() => Some((arg, (*r.elem).clone())),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    let written_audit = mutable_refs.iter().find(|(_, ty)| names_an_audit(ty));
    if written_audit.is_none() && mutable_refs.len() > 1 {
        let names: Vec<String> = mutable_refs
            .iter()
            .map(|(arg, _)| format!("`{}`", arg.pat.to_token_stream()))
            .collect();
        diag.error_spanned(
            &sig.inputs,
            format!(
                "cannot tell which parameter is the audit session: {} are all `&mut` and no \
                 type is written `Audit<..>` or an alias named `..Audit`. Write the session's \
                 type out (`cx: &mut audit_core::Audit<YourEvents>`), or name its alias \
                 `..Audit`",
                names.join(", ")
            ),
        );
        return None;
    }
    let Some((arg, session)) = written_audit.or(mutable_refs.first()) else {
        let message = "a command takes its audit session as a parameter, \
                       `cx: &mut audit_core::Audit<YourEvents>`: the command's events and \
                       changes go through it (in a method, after `self`)";
        let first = sig.inputs.iter().find(|arg| matches!(arg, FnArg::Typed(_)));
        match first {
            Some(arg) => diag.error_spanned(arg, message),
            None => diag.error(sig.paren_token.span.join(), message),
        }
        return None;
    };
    match &*arg.pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
            Some((pat.ident.clone(), session.clone()))
        }
        pat => {
            diag.error_spanned(
                pat,
                "name the audit session with a plain identifier (`cx: &mut Audit<..>`): inside \
                 the body that name is the command context, through which events are emitted",
            );
            None
        }
    }
}

/// Whether `ty` is a path whose last segment ends in `Audit`: `Audit<E>`,
/// or an alias named like one (`StaffAudit`).
fn names_an_audit(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident.to_string().ends_with("Audit")),
        Type::Group(g) => names_an_audit(&g.elem),
        Type::Paren(p) => names_an_audit(&p.elem),
        _ => false,
    }
}

/// `E` of a return type written `Result<T, E>`; `None` for anything else
/// (an alias, `io::Result<T>`), which the compiler checks as a whole.
fn result_error_type(ty: &Type) -> Option<Type> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Result" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            let types: Vec<&Type> = args
                .args
                .iter()
                .filter_map(|arg| match arg {
                    GenericArgument::Type(ty) => Some(ty),
                    _ => None,
                })
                .collect();
            match types[..] {
                [_, error] => Some(error.clone()),
                _ => None,
            }
        }
        Type::Group(g) => result_error_type(&g.elem),
        Type::Paren(p) => result_error_type(&p.elem),
        _ => None,
    }
}

/// Reports each required event (listed without `?`) whose type name appears
/// nowhere in the body's tokens, macro invocations included: such a command
/// can never return `Ok`.
pub fn check_required_named(emits: &[Emit], body: &TokenStream, diag: &mut Diagnostics) {
    for emit in emits.iter().filter(|e| !e.optional) {
        let Some(name) = emit.name() else { continue };
        let name = name.unraw();
        if names(body, &name) {
            continue;
        }
        diag.error_spanned(
            &emit.path,
            format!(
                "`{name}` is required (listed without `?`) but the body never names it, so the \
                 command could never return `Ok`. Emit it (`cx.emit({name} {{ .. }})?`); or mark \
                 it optional, `{path}?`, if the command may leave it out; or, if a helper builds \
                 it, name the type where it is emitted: `cx.emit::<{name}>(build())?`",
                path = emit.path.to_token_stream().to_string().replace(' ', ""),
            ),
        );
    }
}

/// Whether `tokens` hold the identifier `name`, at any depth.
fn names(tokens: &TokenStream, name: &Ident) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident.unraw() == *name,
        TokenTree::Group(group) => names(&group.stream(), name),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;
    use syn::parse_quote;

    fn parsed(tokens: TokenStream) -> (Args, Vec<String>) {
        let mut diag = Diagnostics::default();
        let args = parse_args(tokens, &mut diag);
        (args, diag.messages())
    }

    fn signature(sig: Signature) -> (Option<CommandFn>, String) {
        let mut diag = Diagnostics::default();
        let command = parse_signature(&sig, &mut diag);
        (command, diag.messages().join("\n"))
    }

    #[test]
    fn parses_required_and_optional_events() {
        let (args, errors) = parsed(quote!(emits(Added, events::Updated?)));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(args.emits.len(), 2);
        assert!(!args.emits[0].optional);
        assert!(args.emits[1].optional);
        assert_eq!(args.emits[1].path.segments.len(), 2);
        assert_eq!(args.emits[1].name().unwrap(), "Updated");
        assert_eq!(
            args.runtime.root().to_token_stream().to_string(),
            ":: audit_core"
        );
    }

    #[test]
    fn no_events_is_a_command_that_only_calls_others() {
        for tokens in [quote!(), quote!(emits())] {
            let (args, errors) = parsed(tokens.clone());
            assert!(errors.is_empty(), "{tokens}: {errors:?}");
            assert!(args.emits.is_empty(), "{tokens}");
        }
    }

    #[test]
    fn reads_the_runtime_path() {
        let (args, errors) = parsed(quote!(emits(A), crate = ::audit));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(args.runtime.private().to_string(), ":: audit :: __private");
        let (_, errors) = parsed(quote!(crate = "audit"));
        assert_eq!(
            errors,
            ["`crate` is a path, not a string: write `crate = audit` without quotes"]
        );
    }

    #[test]
    fn rejects_bad_arguments() {
        for (tokens, expected) in [
            (
                quote!(emit(A)),
                "Unknown field: `emit`. Did you mean `emits`?; expected",
            ),
            (quote!(emits(A, A)), "listed twice"),
            (quote!(emits(A), emits(B)), "Duplicate field `emits`"),
            (quote!(emits = A), "expected `#[auditable]`"),
            (quote!(emits), "expected `#[auditable]`"),
            (quote!(emits(A B)), "expected `,`; expected `#[auditable]`"),
            (quote!(crate), "expected `crate = path`"),
            (quote!(crate = 1), "expected `crate = path`"),
            (quote!(crate = a, crate = b), "Duplicate field `crate`"),
        ] {
            let (_, errors) = parsed(tokens.clone());
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{tokens}: {errors:?}"
            );
        }
    }

    #[test]
    fn parses_only_the_signature_and_keeps_the_body() {
        let item = parse_item(quote! {
            /// Docs.
            pub async fn add(cx: &mut Audit<E>) -> Result<(), Error> {
                #![allow(unused)]
                let x = ;
                Ok(())
            }
        })
        .expect("a body with a syntax error still parses as tokens");
        assert_eq!(item.attrs.len(), 1);
        assert_eq!(item.inner_attrs.len(), 1);
        assert_eq!(item.sig.ident, "add");
        assert_eq!(item.body.to_string(), "let x = ; Ok (())");
    }

    #[test]
    fn refuses_what_is_not_a_function_with_a_body() {
        let error = parse_item(quote!(
            struct Add;
        ))
        .err()
        .expect("a struct is no command");
        assert!(
            error.to_string().contains("goes on an `async fn`"),
            "{error}"
        );
        let error = parse_item(quote!(
            async fn add(cx: &mut Audit<E>) -> Result<(), E>;
        ))
        .err()
        .expect("a declaration is no command");
        assert!(error.to_string().contains("needs a body"), "{error}");
    }

    #[test]
    fn accepts_functions_methods_and_any_named_return_type() {
        for sig in [
            parse_quote!(async fn add(cx: &mut Audit<E>, n: u32) -> Result<(), Error>),
            parse_quote!(async fn add(&self, cx: &mut Audit<E>) -> CmdResult<()>),
            parse_quote!(async fn add(&mut self, n: u32, mut cx: &mut Audit<E>) -> Option<u32>),
            parse_quote!(async fn add<'a, T>(cx: &'a mut Audit<E>, t: &'a T) -> io::Result<&'a T>),
        ] {
            let (command, errors) = signature(sig);
            let command = command.unwrap_or_else(|| panic!("{errors}"));
            assert_eq!(command.cx, "cx");
            assert_eq!(command.name, "add");
        }
    }

    #[test]
    fn finds_the_session() {
        // An `Audit` wins over an earlier `&mut` parameter.
        let (command, errors) = signature(parse_quote! {
            async fn add(buf: &mut Vec<u8>, session: &mut audit_core::Audit<E>) -> Result<(), E>
        });
        assert_eq!(command.expect(&errors).cx, "session");
        // Through an alias named like an `Audit`, even after another `&mut`.
        let (command, errors) = signature(parse_quote! {
            async fn add(&mut self, n: &mut u32, cx: &mut StaffAudit) -> Result<(), E>
        });
        let command = command.expect(&errors);
        assert_eq!(command.cx, "cx");
        // Through another alias, the one `&mut` parameter (`self` is not one).
        let (command, errors) = signature(parse_quote! {
            async fn add(&mut self, n: &u32, cx: &mut Session) -> Result<(), E>
        });
        let command = command.expect(&errors);
        assert_eq!(command.cx, "cx");
        assert_eq!(command.session.to_token_stream().to_string(), "Session");
        // Several `&mut` parameters and no `Audit` written out: ask, never guess.
        let (command, errors) = signature(parse_quote! {
            async fn add(buf: &mut Vec<u8>, cx: &mut Session) -> Result<(), E>
        });
        assert!(command.is_none());
        assert!(
            errors.starts_with("cannot tell which parameter is the audit session: `buf`, `cx`")
                && !errors.contains('\n'),
            "{errors}"
        );
    }

    #[test]
    fn finds_the_error_type_of_a_written_result() {
        let error = |sig: Signature| {
            let (command, errors) = signature(sig);
            command
                .expect(&errors)
                .error
                .map(|ty| ty.to_token_stream().to_string())
        };
        assert_eq!(
            error(parse_quote!(async fn a(cx: &mut Audit<E>) -> Result<(), AppError>)),
            Some("AppError".to_owned())
        );
        assert_eq!(
            error(parse_quote!(async fn a(cx: &mut Audit<E>) -> std::result::Result<u8, e::E>)),
            Some("e :: E".to_owned())
        );
        assert_eq!(
            error(parse_quote!(async fn a(cx: &mut Audit<E>) -> CmdResult<()>)),
            None
        );
        assert_eq!(
            error(parse_quote!(async fn a(cx: &mut Audit<E>) -> io::Result<()>)),
            None
        );
    }

    #[test]
    fn checks_the_signature_shape() {
        let (command, errors) = signature(parse_quote!(fn add(n: u32)));
        assert!(command.is_none());
        for expected in [
            "must be an `async fn`",
            "takes its audit session as a parameter",
            "returns `Result<T, E>`",
        ] {
            assert!(errors.contains(expected), "{expected}: {errors}");
        }
        let (command, errors) =
            signature(parse_quote!(async fn add(&self) -> impl Future<Output = ()>));
        assert!(command.is_none());
        assert!(errors.contains("audit session"), "{errors}");
        assert!(errors.contains("return type must be named"), "{errors}");
        let (command, errors) =
            signature(parse_quote!(async fn add((a, b): &mut (u8, u8)) -> Result<(), E>));
        assert!(command.is_none());
        assert!(errors.contains("plain identifier"), "{errors}");
    }

    #[test]
    fn a_required_event_must_be_named_in_the_body() {
        let check = |emits: TokenStream, body: TokenStream| {
            let (args, errors) = parsed(emits);
            assert!(errors.is_empty(), "{errors:?}");
            let mut diag = Diagnostics::default();
            check_required_named(&args.emits, &body, &mut diag);
            diag.messages()
        };
        assert!(check(quote!(emits(e::Added)), quote!(cx.emit(Added { a: 1 })?;)).is_empty());
        // Inside a macro invocation and a turbofish.
        assert!(check(quote!(emits(Added)), quote!(m!(x, [Added]);)).is_empty());
        assert!(check(quote!(emits(Added)), quote!(cx.emit::<Added>(b())?;)).is_empty());
        // Optional events need not be named.
        assert!(check(quote!(emits(Added?)), quote!(Ok(()))).is_empty());
        let errors = check(
            quote!(emits(Added, e::Removed)),
            quote!(cx.emit(Added {})?;),
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("`Removed` is required"), "{errors:?}");
        assert!(errors[0].contains("`e::Removed?`"), "{errors:?}");
        assert!(
            errors[0].contains("`cx.emit::<Removed>(build())?`"),
            "{errors:?}"
        );
    }
}
