//! Procedural macros behind [`audit-core`](https://docs.rs/audit-core).
//!
//! Depend on `audit-core` and use the macros through it
//! (`audit_core::declare_events!`): the code they generate refers to
//! `::audit_core::__private`, so this crate is of no use on its own.
//!
//! Each macro runs in three stages that are tested separately: parsing the
//! user's tokens into a model, validating the model (collecting every error,
//! each spanned on the token at fault), and generating code from it.

mod diagnostics;
mod events;
mod naming;

use proc_macro::TokenStream;

/// Declares an audit event catalog. See `audit_core::declare_events!` for the
/// full documentation.
#[proc_macro]
pub fn declare_events(input: TokenStream) -> TokenStream {
    events::expand(input.into()).into()
}
