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
    /// `crate = path`, unquoted: a string gets an error saying to drop the quotes.
    fn from_meta(meta: &syn::Meta) -> darling::Result<Self> {
        crate::args::PathArg::from_meta(meta).map(|arg| RuntimePath::new(arg.path))
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

    #[test]
    fn crate_is_an_unquoted_path() {
        use darling::FromMeta;
        let parsed = RuntimePath::from_meta(&syn::parse_quote!(crate = ::audit)).unwrap();
        assert_eq!(parsed.private().to_string(), ":: audit :: __private");
        let quoted = RuntimePath::from_meta(&syn::parse_quote!(crate = "::audit"))
            .err()
            .unwrap();
        assert_eq!(
            quoted.to_string(),
            "`crate` is a path, not a string: write `crate = ::audit` without quotes"
        );
    }
}
