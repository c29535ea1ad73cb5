//! Attribute values of one exact form, with an error that says what to write.
//!
//! darling's own conversions are lenient: a number may be written as a
//! string (`version = "2"`) and a path as a string (`presenter = "show"`),
//! and a value of the wrong form gets a message such as "Unexpected
//! expression type". These types accept one form each and name the key and
//! the fix in every error.

use darling::FromMeta;
use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, Lit, Meta};

/// The key of `key = value`, for messages.
fn key(meta: &Meta) -> String {
    meta.path().to_token_stream().to_string().replace(' ', "")
}

/// The value of `key = value`, or an error saying that `key` needs one, as in `example`.
fn value<'a>(meta: &'a Meta, example: &str) -> darling::Result<&'a Expr> {
    match meta {
        Meta::NameValue(nv) => Ok(strip_group(&nv.value)),
        _ => Err(darling::Error::custom(format!(
            "`{}` needs a value: write `{example}`",
            key(meta)
        ))
        .with_span(meta)),
    }
}

/// Looks through the invisible groups a `macro_rules!` may wrap values in.
fn strip_group(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => strip_group(&group.expr),
        other => other,
    }
}

/// A string value: `code = "project_created"`.
#[derive(Clone, Debug)]
pub struct StrArg {
    pub value: String,
    pub span: Span,
}

impl FromMeta for StrArg {
    fn from_meta(meta: &Meta) -> darling::Result<Self> {
        let key = key(meta);
        let expr = value(meta, &format!("{key} = \"...\""))?;
        match expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Ok(StrArg {
                value: s.value(),
                span: s.span(),
            }),
            other => {
                // `code = project_created` -> `code = "project_created"`.
                let written = match other {
                    Expr::Lit(syn::ExprLit { lit, .. }) => lit_text(lit),
                    other => other.to_token_stream().to_string().replace(' ', ""),
                };
                Err(darling::Error::custom(format!(
                    "`{key}` is a string: write `{key} = \"{written}\"`"
                ))
                .with_span(other))
            }
        }
    }
}

/// The text of a literal without its quotes or suffix-free form, for suggestions.
fn lit_text(lit: &Lit) -> String {
    match lit {
        Lit::Str(s) => s.value(),
        Lit::Char(c) => c.value().to_string(),
        Lit::Bool(b) => b.value.to_string(),
        Lit::Int(i) => i.base10_digits().to_owned(),
        Lit::Float(f) => f.base10_digits().to_owned(),
        other => other.to_token_stream().to_string(),
    }
}

/// A payload version: `version = 2`, a whole number from 1.
#[derive(Clone, Debug)]
pub struct VersionArg {
    pub value: u32,
    pub span: Span,
}

impl FromMeta for VersionArg {
    fn from_meta(meta: &Meta) -> darling::Result<Self> {
        let key = key(meta);
        let expr = value(meta, &format!("{key} = 2"))?;
        let error = |message: String| Err(darling::Error::custom(message).with_span(expr));
        match expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(int), ..
            }) => match int.base10_parse::<u32>() {
                Ok(value) => Ok(VersionArg {
                    value,
                    span: int.span(),
                }),
                Err(_) => error(format!(
                    "`{key}` is too large: versions are whole numbers from 1 to {}",
                    u32::MAX
                )),
            },
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) if s.value().trim().parse::<u32>().is_ok() => error(format!(
                "`{key}` is a number: write `{key} = {}`",
                s.value().trim()
            )),
            _ => error(format!(
                "`{key}` is a whole number from 1: write it without quotes, as in `{key} = 2`"
            )),
        }
    }
}

/// A path to an item: `presenter = show_renamed`.
#[derive(Clone, Debug)]
pub struct PathArg {
    pub path: syn::Path,
}

impl FromMeta for PathArg {
    fn from_meta(meta: &Meta) -> darling::Result<Self> {
        let key = key(meta);
        let expr = value(meta, &format!("{key} = path::to::item"))?;
        match expr {
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => Ok(PathArg {
                path: p.path.clone(),
            }),
            _ => Err(quoted_path(&key, expr).unwrap_or_else(|| {
                darling::Error::custom(format!(
                    "`{key}` is a path to an item: write `{key} = path::to::item`"
                ))
                .with_span(expr)
            })),
        }
    }
}

/// The error for a path written as a string (`key = "a::b"`), which says to
/// drop the quotes; `None` when `expr` is not such a string.
pub fn quoted_path(key: &str, expr: &Expr) -> Option<darling::Error> {
    match strip_group(expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) if s.parse::<syn::Path>().is_ok() => Some(
            darling::Error::custom(format!(
                "`{key}` is a path, not a string: write `{key} = {}` without quotes",
                s.value().trim()
            ))
            .with_span(expr),
        ),
        _ => None,
    }
}

/// One step of an event's upgrade chain: `upgrade(from = 1, with = path)`,
/// a function from the payload of version `from` to the next version's, or
/// `upgrade(from = 1, json = path)`, a function on the stored JSON.
#[derive(Clone, Debug)]
pub struct UpgradeArg {
    /// The version the step reads.
    pub from: VersionArg,
    /// The function, and what it works on.
    pub step: UpgradeStep,
    /// The whole `upgrade(...)`, for errors about the step.
    pub span: Span,
}

/// The function of an upgrade step.
#[derive(Clone, Debug)]
pub enum UpgradeStep {
    /// `with = path`: `fn(Old) -> Next`, on payload types.
    Typed(syn::Path),
    /// `json = path`: `fn(serde_json::Value) -> Result<serde_json::Value, String>`.
    Json(syn::Path),
}

impl UpgradeStep {
    /// The function's path.
    pub fn path(&self) -> &syn::Path {
        match self {
            UpgradeStep::Typed(path) | UpgradeStep::Json(path) => path,
        }
    }
}

/// The keys inside `upgrade(...)`.
#[derive(FromMeta)]
struct UpgradeKeys {
    from: VersionArg,
    with: Option<PathArg>,
    json: Option<PathArg>,
}

/// How an upgrade is written, for messages.
const UPGRADE_EXAMPLE: &str = "upgrade(from = 1, with = path::to::function)";

impl FromMeta for UpgradeArg {
    fn from_meta(meta: &Meta) -> darling::Result<Self> {
        let span = syn::spanned::Spanned::span(meta);
        let Meta::List(list) = meta else {
            return Err(darling::Error::custom(format!(
                "`upgrade` takes the version it reads and a function: write `{UPGRADE_EXAMPLE}` \
                 (or `json = path` for a function on JSON)"
            ))
            .with_span(meta));
        };
        let items = darling::ast::NestedMeta::parse_meta_list(list.tokens.clone())?;
        let keys = UpgradeKeys::from_list(&items).map_err(|e| e.with_span(&list.path))?;
        let step = match (keys.with, keys.json) {
            (Some(with), None) => UpgradeStep::Typed(with.path),
            (None, Some(json)) => UpgradeStep::Json(json.path),
            (Some(_), Some(json)) => {
                return Err(darling::Error::custom(
                    "an upgrade has one function: `with = path` for a function on payload \
                     types, or `json = path` for one on JSON, not both",
                )
                .with_span(&json.path));
            }
            (None, None) => {
                return Err(darling::Error::custom(format!(
                    "this upgrade has no function: write `{}` (a `fn(Old) -> New` on payload \
                     types) or `json = path` (a `fn(serde_json::Value) -> Result<serde_json::Value, \
                     String>`)",
                    UPGRADE_EXAMPLE.replace("from = 1", &format!("from = {}", keys.from.value))
                ))
                .with_span(&list.path));
            }
        };
        Ok(UpgradeArg {
            from: keys.from,
            step,
            span,
        })
    }
}

/// A word that is present or not: `immutable`, `id`.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlagArg {
    span: Option<Span>,
}

impl FlagArg {
    /// Whether the word was written.
    pub fn is_present(&self) -> bool {
        self.span.is_some()
    }

    /// Where it was written (the call site when it was not).
    pub fn span(&self) -> Span {
        self.span.unwrap_or_else(Span::call_site)
    }
}

impl FromMeta for FlagArg {
    fn from_meta(meta: &Meta) -> darling::Result<Self> {
        match meta {
            Meta::Path(path) => Ok(FlagArg {
                span: Some(syn::spanned::Spanned::span(path)),
            }),
            _ => {
                let key = key(meta);
                Err(
                    darling::Error::custom(format!("`{key}` takes no value: write `{key}` alone"))
                        .with_span(meta),
                )
            }
        }
    }

    fn from_none() -> Option<Self> {
        Some(FlagArg::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn err<T: FromMeta + std::fmt::Debug>(meta: Meta) -> String {
        T::from_meta(&meta).unwrap_err().to_string()
    }

    #[test]
    fn strings_are_string_literals_only() {
        let ok = StrArg::from_meta(&parse_quote!(code = "a_b")).unwrap();
        assert_eq!(ok.value, "a_b");
        assert_eq!(
            err::<StrArg>(parse_quote!(code = project_created)),
            "`code` is a string: write `code = \"project_created\"`"
        );
        assert_eq!(
            err::<StrArg>(parse_quote!(label = 5)),
            "`label` is a string: write `label = \"5\"`"
        );
        assert_eq!(
            err::<StrArg>(parse_quote!(group)),
            "`group` needs a value: write `group = \"...\"`"
        );
        assert_eq!(
            err::<StrArg>(parse_quote!(group("x"))),
            "`group` needs a value: write `group = \"...\"`"
        );
    }

    #[test]
    fn versions_are_integer_literals_only() {
        assert_eq!(
            VersionArg::from_meta(&parse_quote!(version = 3))
                .unwrap()
                .value,
            3
        );
        assert_eq!(
            err::<VersionArg>(parse_quote!(version = "2")),
            "`version` is a number: write `version = 2`"
        );
        assert!(err::<VersionArg>(parse_quote!(version = "two")).contains("without quotes"));
        assert!(err::<VersionArg>(parse_quote!(version = 1.5)).contains("whole number"));
        assert!(err::<VersionArg>(parse_quote!(version = 99999999999)).contains("too large"));
    }

    #[test]
    fn flags_are_words_only() {
        assert!(
            FlagArg::from_meta(&parse_quote!(immutable))
                .unwrap()
                .is_present()
        );
        assert!(!FlagArg::from_none().unwrap().is_present());
        assert_eq!(
            err::<FlagArg>(parse_quote!(immutable = true)),
            "`immutable` takes no value: write `immutable` alone"
        );
    }

    /// The message as the compiler shows it (darling's own `Display` adds
    /// where a nested error is, which the compile error does not).
    fn shown<T: FromMeta + std::fmt::Debug>(meta: Meta) -> String {
        syn::Error::from(T::from_meta(&meta).unwrap_err())
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn upgrades_name_a_version_and_one_function() {
        let typed = UpgradeArg::from_meta(&parse_quote!(upgrade(from = 1, with = v1::up))).unwrap();
        assert_eq!(typed.from.value, 1);
        assert!(matches!(&typed.step, UpgradeStep::Typed(p) if p.segments.len() == 2));
        let json = UpgradeArg::from_meta(&parse_quote!(upgrade(from = 2, json = up))).unwrap();
        assert!(matches!(&json.step, UpgradeStep::Json(p) if p.is_ident("up")));
        assert!(
            shown::<UpgradeArg>(parse_quote!(upgrade(from = 1))).starts_with(
                "this upgrade has no function: write `upgrade(from = 1, with = path::to::function)`"
            )
        );
        assert!(
            shown::<UpgradeArg>(parse_quote!(upgrade(from = 1, with = a, json = b)))
                .starts_with("an upgrade has one function")
        );
        assert!(shown::<UpgradeArg>(parse_quote!(upgrade = 1)).starts_with("`upgrade` takes"));
        assert_eq!(
            shown::<UpgradeArg>(parse_quote!(upgrade(from = "1", with = a))),
            "`from` is a number: write `from = 1`"
        );
        assert_eq!(
            shown::<UpgradeArg>(parse_quote!(upgrade(from = 1, with = "a"))),
            "`with` is a path, not a string: write `with = a` without quotes"
        );
        assert!(
            shown::<UpgradeArg>(parse_quote!(upgrade(form = 1, with = a)))
                .contains("Did you mean `from`?")
        );
    }

    #[test]
    fn paths_are_unquoted_paths_only() {
        let ok = PathArg::from_meta(&parse_quote!(presenter = a::show)).unwrap();
        assert_eq!(ok.path.to_token_stream().to_string(), "a :: show");
        assert_eq!(
            err::<PathArg>(parse_quote!(presenter = "show")),
            "`presenter` is a path, not a string: write `presenter = show` without quotes"
        );
        assert!(err::<PathArg>(parse_quote!(presenter = 1)).contains("is a path to an item"));
    }
}
