//! The path generated code uses to reach the runtime crate.
//!
//! Defaults to `::audit_core`; `crate = path` on the catalog, a command or a
//! model overrides it for users who renamed the dependency
//! (`audit = { package = "audit-core", .. }` then `crate = ::audit`).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

/// Where the runtime crate is, as the user's crate names it.
#[derive(Clone)]
pub struct RuntimePath {
    root: syn::Path,
}

impl Default for RuntimePath {
    fn default() -> Self {
        RuntimePath {
            root: syn::parse_quote!(::audit_core),
        }
    }
}

impl RuntimePath {
    /// The runtime at `root`, as given by `crate = root`.
    pub fn new(root: syn::Path) -> Self {
        RuntimePath { root }
    }

    /// The crate root (`::audit_core`), for public items named in docs.
    pub fn root(&self) -> &syn::Path {
        &self.root
    }

    /// `<root>::__private`, through which generated code names every runtime item.
    pub fn private(&self) -> TokenStream {
        let root = &self.root;
        quote!(#root::__private)
    }

    /// `<root>::__private::serde` as the string serde's `#[serde(crate = "...")]` wants.
    pub fn serde_crate(&self) -> String {
        self.private()
            .into_token_stream()
            .to_string()
            .replace(' ', "")
            + "::serde"
    }
}

impl darling::FromMeta for RuntimePath {
    fn from_value(value: &syn::Lit) -> darling::Result<Self> {
        syn::Path::from_value(value).map(RuntimePath::new)
    }

    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        syn::Path::from_expr(expr).map(RuntimePath::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_audit_core_and_follows_an_override() {
        assert_eq!(
            RuntimePath::default().private().to_string(),
            ":: audit_core :: __private"
        );
        assert_eq!(
            RuntimePath::default().serde_crate(),
            "::audit_core::__private::serde"
        );
        let renamed = RuntimePath::new(syn::parse_quote!(::audit));
        assert_eq!(renamed.serde_crate(), "::audit::__private::serde");
    }
}
