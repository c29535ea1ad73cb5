//! Collects every error of one macro invocation so they are reported together.

use proc_macro2::{Span, TokenStream};
use std::fmt::Display;

/// The errors found so far, each spanned on the user's token at fault.
#[derive(Default)]
pub struct Diagnostics {
    errors: Vec<syn::Error>,
}

impl Diagnostics {
    /// Records an error at `span`.
    pub fn error(&mut self, span: Span, message: impl Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// Records a syn error (a parse error, already spanned).
    pub fn push_syn(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// Records an error covering all of `tokens` (a type, a path, a
    /// parameter), not only their first token.
    pub fn error_spanned(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records a darling error (which may itself hold several).
    pub fn push_darling(&mut self, error: darling::Error) {
        self.errors.push(error.into());
    }

    /// How many errors were reported.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Whether nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The messages, in the order they were reported (for tests).
    #[cfg(test)]
    pub fn messages(&self) -> Vec<String> {
        self.errors
            .iter()
            .flat_map(|e| e.clone().into_iter().map(|e| e.to_string()))
            .collect()
    }

    /// Every error as `compile_error!` invocations.
    pub fn to_compile_errors(&self) -> TokenStream {
        self.errors
            .iter()
            .map(syn::Error::to_compile_error)
            .collect()
    }
}
