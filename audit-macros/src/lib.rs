//! Procedural macros behind [`audit-core`](https://docs.rs/audit-core).
//!
//! Depend on `audit-core` and use the macros through it
//! (`#[audit_core::events]`, `audit_core::declare_events!`,
//! `#[audit_core::auditable]`, `#[derive(audit_core::Model)]`): the code they
//! generate refers to `::audit_core::__private` (or `<crate>::__private`
//! with `crate = path`), so this crate is of no use on its own.
//!
//! Each macro runs in three stages that are tested separately: parsing the
//! user's tokens into a model, validating the model (collecting every error,
//! each spanned on the token at fault), and generating code from it.

#![forbid(unsafe_code)]

mod args;
mod auditable;
mod diagnostics;
mod events;
mod model;
mod naming;
mod runtime;

use proc_macro::TokenStream;

// The summary and the pointer to the example are on this crate's own pages
// only (`cfg(doc)`). audit-core's re-export of the macro, whose page shows
// these docs, has a doc comment of its own with the summary and the example,
// which rustdoc runs there: a proc-macro crate cannot run its examples.
#[cfg_attr(
    doc,
    doc = "Declares an audit event catalog: every event of an application, once.\n\n\
           Its example, compiled and run, heads the documentation of audit-core's\n\
           re-export of this macro, `audit_core::events`."
)]
///
/// The catalog is a plain `enum`, so rustfmt formats it and rust-analyzer
/// sees what it generates. [`declare_events!`](macro@declare_events) is the
/// same catalog written inside a macro call; both accept the same catalogs,
/// generate the same code and report the same errors.
///
/// # Arguments
///
/// - `templates = "..."`: the directory of the event templates, relative to
///   the crate root (default `templates/audit`).
/// - `crate = path`: where the runtime crate is, when the dependency is
///   renamed (`audit = { package = "audit-core", .. }`, then `crate = ::audit`).
///   Default `::audit_core`.
/// - `lock = "..."`: the catalog's schema lock file, relative to the crate
///   root (see "The schema lock" below). Default `audit-events.lock`.
/// - `classify_personal` (a word): every payload field of every event must
///   say whether it holds data about a person, `#[personal]` or
///   `#[not_personal]` (see "Fields"); a field with neither is an error on
///   its name.
///
/// # What it generates
///
/// For a catalog `StaffEvent` and each event `Variant`:
///
/// - `struct Variant { .. }`, the payload (serde, `Debug`, `Clone`,
///   `PartialEq`), with `From<Variant> for StaffEvent` and an
///   `audit_core::events::Event` impl;
/// - `enum StaffEvent { Variant(Variant), .. }`, implementing
///   `audit_core::events::EventCatalog` (`event_type`, `references`,
///   `render`, `payload_json`, `decode`, which upgrades older versions);
/// - `enum StaffEventType { Variant, .. }`, `Copy`, with `ALL` (every
///   event), `ACTIVE` (those not retired: the ones to offer in filters),
///   `code()`, `label()`, `group()`, `version()`, `is_retired()`,
///   `personal_fields()`, `FromStr`,
///   `Display`, serde as the code string and sqlx `Type`/`Encode`/`Decode`
///   as text;
/// - `struct VariantView<'a>`, what the event's template sees: `payload` (the
///   raw payload) and every field as an `audit_core::present::Shown`. Its
///   template is compiled with askama: naming a value the view lacks is a
///   compile error, and output is HTML-escaped. `VariantView::new` is the
///   default presenter.
///
/// Every generated item is documented (with the user's doc comments, or a
/// default one) and every generated trait impl is `#[automatically_derived]`.
///
/// # `#[event(...)]`
///
/// - `code = "..."` (required): stable and unique, stored with each event.
///   Lowercase snake case: a letter, then `a-z`, `0-9` and single underscores,
///   at most 64 characters. Renaming the Rust variant does not change it.
/// - `label = "..."`, `group = "..."` (required): shown to people; `group`
///   also names the template directory.
/// - `version = N` (a number, default 1): the current payload version,
///   stored with each event. A newer stored version decodes as unknown; an
///   older one is read through the event's upgrades.
/// - `upgrade(from = N, with = path)`, repeated for each older version the
///   program still reads: `path` names a function `fn(Old) -> Next` from
///   the payload of version `N` (a serde struct the application keeps, such
///   as `v1::ProjectCreated`) to the payload of version `N + 1`; the step
///   from `version - 1` produces the event's own payload.
///   `upgrade(from = N, json = path)` names a
///   `fn(serde_json::Value) -> Result<serde_json::Value, String>` instead,
///   for a change made on the JSON (a renamed key) without keeping the old
///   struct; its `Err` makes the row unknown. See "Payloads that change".
/// - `retired` (a word): the event is kept so that stored rows of it still
///   decode and render, but it can no longer be emitted (its payload does
///   not implement `audit_core::events::Event`, so `cx.emit(..)` and
///   `#[auditable(emits(..))]` refuse it), and it is not in `ACTIVE`.
/// - `template = "..."`: the template file, relative to the catalog's
///   templates directory. Default: `<group>/<variant>.html`, both snake case
///   (`Project members`, `ProjectMemberAdded` ->
///   `project_members/project_member_added.html`). One trailing newline is
///   dropped, as in Jinja.
/// - `presenter = path` (a path, unquoted): a function
///   `fn(&'a Variant, &PresentContext) -> VariantView<'a>` replacing the
///   default presenter (which needs every field type to implement
///   `audit_core::present::Presentable`).
///
/// Each value has one form: strings are quoted, `version` and `from` are
/// numbers and paths are not quoted; another form is an error saying what
/// to write.
///
/// Templates are found relative to a template root: `$AUDIT_TEMPLATE_ROOT`
/// if that is set and has the file, else the crate root
/// (`CARGO_MANIFEST_DIR`). The variable is for builds that run away from the
/// crate's directory, such as trybuild tests, whose `CARGO_MANIFEST_DIR`
/// points at a generated copy: set it to the directory that holds the
/// templates directory. It is read when the macro expands, at build time (not
/// when the program runs), and changing it rebuilds the crate. A missing
/// template is a compile error on the event; editing one rebuilds the crate.
/// Each template is parsed when the macro expands: a syntax error, a name
/// the view lacks (the error lists the ones it has) or a field of a shown
/// value (`{{ project.name }}`, where `{{ payload.project.name }}` reaches the
/// raw one) is one error on the event, naming the file and line. Paths in
/// `{% include %}`, `{% import %}` and `{% extends %}` are relative to the
/// template that contains them.
///
/// # Fields
///
/// Variants have named fields, or none. On a field, `#[target]` (the object
/// changed), `#[parent]` (what the target belongs to) and `#[subject]` (the
/// person the event is about) mark references that fill indexed columns; each
/// appears at most once per event, and the field type implements
/// `audit_core::events::Reference`. Doc comments and `#[serde(...)]` are
/// kept. The name `payload` is reserved for the view.
///
/// `#[personal]` marks a field that holds data about a person, erased with
/// the person the event is about; `#[not_personal]` says a field does not
/// (both go with the reference markers, and a field takes at most one of
/// the two). A personal field's type implements
/// `audit_core::events::Erasable`, what the field reads back as once erased
/// (`String`, `Option<T>` and `Vec<T>` do; a type that does not is one error
/// on the type): erasing stores `null` in its place, which decodes as
/// `Erasable::erased()`. `StaffEventType::personal_fields()` lists the
/// stored names of an event's personal fields (after a `#[serde(rename)]`),
/// and the payload's docs say which fields are personal. A personal field
/// cannot have its own `#[serde(with | skip | flatten ..)]`.
///
/// Payloads are stored as JSON, so every field type implements serde's
/// `Serialize` and `Deserialize` (`audit_core::events::PayloadField`); a type
/// that does not is one error on that type. A field written `Option<..>` may be
/// absent from a stored payload (it reads as `None`); any other field is
/// required unless it has `#[serde(default)]` (an alias of `Option` needs it). A field with its own `#[serde(with | serialize_with |
/// deserialize_with | skip | flatten ..)]` is left to serde as written.
///
/// # Payloads that change
///
/// Stored rows keep the payload they were written with. To change an
/// event's fields, raise its `version` and say how the previous version is
/// read. When version 2 of `project_created` adds `creator`, the application
/// keeps version 1's payload as a serde struct, `v1::ProjectCreated`, and a
/// function `fn project_created_v1(old: v1::ProjectCreated) -> ProjectCreated`,
/// and names it on the event (the whole example, compiled and run, is the
/// second one heading the documentation of audit-core's re-export of this
/// macro, `audit_core::events`):
///
/// ```text
/// #[event(code = "project_created", label = "Project created", group = "Projects",
///         version = 2, upgrade(from = 1, with = project_created_v1))]
/// ProjectCreated { #[target] #[parent] project: ProjectRef, creator: Option<UserRef> },
/// ```
///
/// Decoding a row of version 1 reads it as `v1::ProjectCreated` and runs
/// each step up to the current version. The upgrades of an event form one
/// chain: every version from the oldest `from` to `version - 1` has exactly
/// one step (a gap, a duplicate or a `from` that is not older than
/// `version` is an error on the attribute), and the last step produces the
/// event's payload (otherwise a type error on its `with = path`). Versions
/// older than the oldest step are no longer read.
///
/// `Decoded::Unknown` says why a row is not read: `UnknownCode` (a code the
/// catalog does not declare), `NewerVersion` (written by a newer program),
/// `OlderVersion` (older than the oldest upgrade), `InvalidVersion`, or
/// `MalformedPayload` (the payload does not match its version, or an upgrade
/// failed; the message says which).
///
/// # The schema lock
///
/// The lock file (`audit-events.lock` in the crate root, or `lock = "..."`)
/// records, for every event code and every payload version that stored rows
/// may hold, the payload's fields: each field's stored name, its type as
/// written (spacing normalized) and its `#[serde(...)]` attributes. It is
/// a small TOML file meant to be committed and reviewed. When the catalog
/// compiles it is compared with the lock, and these are compile errors:
///
/// - a payload whose fields differ from what the lock records for its
///   version (the error, on the field, shows both): raise `version` and add
///   an upgrade;
/// - a code the lock records that the catalog no longer declares (removed
///   or renamed): keep the event and mark it `retired`;
/// - a version lower than the lock's newest, or a recorded older version no
///   upgrade reads;
/// - a new event, a new version, or a change of `retired` that the lock
///   does not record yet (a stale lock, as CI sees it).
///
/// The last kind is accepted, and the file written, only by the explicit
/// step `AUDIT_LOCK=update cargo build`, which records what is new and
/// nothing else. `AUDIT_LOCK=overwrite cargo build` rewrites the lock from
/// the catalog, accepting every difference: for a code that never reached a
/// database, a type written another way with the same JSON, or a renamed
/// catalog enum. Neither writes anything while the catalog has an error,
/// and neither writes the lock of a dependency (only packages cargo builds
/// as primary). CI runs without the variable, so a stale lock fails it.
///
/// A missing lock: a `lock = "..."` that does not exist is an error naming
/// the step that creates it; the default `audit-events.lock` is compared
/// only when it exists (the explicit step creates it, except in an
/// integration test or bench crate, whose catalogs are not the
/// application's). The lock is found like a template: under
/// `$AUDIT_TEMPLATE_ROOT` when that has it, else the crate root. Editing it
/// rebuilds the crate, as does setting or changing `AUDIT_LOCK`.
///
/// The lock records types as written, not the shape of the types they
/// name: a field whose type is written another way is a change, while a
/// change inside a type the payload uses (a field added to `UserRef`) is
/// not seen.
///
/// # Errors
///
/// Every mistake is reported at once, each on the token at fault, and the
/// rest of the catalog is still generated, so code using it reports nothing
/// more.
#[proc_macro_attribute]
pub fn events(args: TokenStream, item: TokenStream) -> TokenStream {
    events::expand_attribute(args.into(), item.into()).into()
}

#[cfg_attr(
    doc,
    doc = "Declares an audit event catalog inside a macro call: the same catalog as\n\
           [`#[events]`](macro@events), written another way.\n\n\
           Its example, compiled and run, heads the documentation of audit-core's\n\
           re-export of this macro, `audit_core::declare_events`."
)]
///
/// The arguments of `#[audit_core::events(...)]` go in an inner
/// `#[events(...)]` on the enum; everything else (the `#[event(...)]` keys,
/// the field markers, what is generated, the errors) is as documented on
/// [`#[events]`](macro@events). One difference: a variant that is not valid
/// Rust is reported by this macro, once, and the rest of the catalog is still
/// generated (the broken event without fields), whereas the attribute form
/// gets rustc's own syntax error first.
#[proc_macro]
pub fn declare_events(input: TokenStream) -> TokenStream {
    events::expand(input.into()).into()
}

#[cfg_attr(
    doc,
    doc = "Makes an `async fn` an audited command: the only place events are emitted.\n\n\
           Its example, compiled and run, heads the documentation of audit-core's\n\
           re-export of this macro, `audit_core::auditable`."
)]
///
/// # Arguments
///
/// - `emits(A, B?)`: the events the command itself may emit; emitting
///   another is a compile error naming the command and the event. Events not
///   marked `?` are required: returning `Ok` without them fails the command
///   with `AuditError::MissingEvent`, and a required event whose type name
///   appears nowhere in the body (macro invocations included) is a compile
///   error on its entry. When a helper builds the event, name the type where
///   it is emitted: `cx.emit::<A>(build())`.
/// - No `emits` (`#[auditable]`, or `emits()`): a command that emits nothing
///   itself and calls other commands; their events are recorded as usual,
///   under this command's id.
/// - `crate = path`: where the runtime crate is, when the dependency is
///   renamed (`audit = { package = "audit-core", .. }` and
///   `crate = ::audit`). Default `::audit_core`.
///
/// # The function
///
/// - A free function, an associated function or a method (`&self`,
///   `&mut self`), with generics and lifetimes if need be.
/// - Its audit session is the parameter typed `&mut Audit<..>`, or `&mut` an
///   alias whose name ends in `Audit` (`&mut StaffAudit`); when none is, its
///   one `&mut` parameter (with several, the macro asks rather than guess).
///   `self` never is. Inside the body the same name is the
///   command context, which emits events, runs SQL in the transaction
///   (`cx.db()`) and calls other commands (`other(cx, ..)`). `emit` on a
///   plain `Audit`, outside a command, is a compile error that says so.
/// - The return type is `Result<T, E>`, or any alias of one
///   (`-> CmdResult<T>`), with `E: From<audit_core::AuditError>`. The
///   compiler checks both (`audit_core::commands::CommandOutput`,
///   `audit_core::commands::FromAuditError`), each an error on the user's
///   type. A command that fails (or is cancelled) leaves its transaction
///   unable to commit, so no half-done change is ever recorded.
/// - Only the signature is parsed: an error in the body is the compiler's,
///   reported once. When the attribute itself is wrong, the function is kept
///   with its signature (made `async`) so that its callers still compile.
///
/// # What it generates
///
/// The same function, its body wrapped between entering and finishing the
/// command; nothing is added next to it, so a command can sit in an `impl`
/// and share its name with a module. The command's marker type and its
/// `audit_core::commands::Emits` impls are items inside the body. A
/// documented command gets an "Audit events" section appended to its docs,
/// each event linked and marked required or optional (an undocumented one
/// stays undocumented, so `missing_docs` still sees it).
///
/// Every event of one outermost command, nested commands included, shares
/// one command id and one timestamp, and records the name of the function
/// that emitted it.
#[proc_macro_attribute]
pub fn auditable(args: TokenStream, item: TokenStream) -> TokenStream {
    auditable::expand(args.into(), item.into()).into()
}

#[cfg_attr(
    doc,
    doc = "Classifies an application table and generates its guarded writes.\n\n\
           Its example, compiled and run, heads the documentation of audit-core's\n\
           re-export of this macro, `audit_core::Model`."
)]
///
/// - Every model says `mutable` or `immutable`; leaving it out is an error.
/// - `insert`, `update` and `delete` take `&mut impl WriteAccess<Self>`:
///   for an immutable model only a running command has it, so writing
///   outside an `#[auditable]` function does not compile; a mutable model
///   may also be written through a plain `Audit` transaction.
/// - `find(db, id)` reads freely.
/// - Columns are the field names; `#[model(id)]` marks the `i64` primary key
///   assigned by the database. Field types must be sqlx-encodable on both
///   SQLite and PostgreSQL (integers, `String`, `bool`, `Option` of those).
/// - `crate = path`: where the runtime crate is, when the dependency is
///   renamed (`#[model(table = "..", mutable, crate = ::audit)]`).
///
/// After an error (say, a model that is not classified) the methods are
/// still generated, so the code calling them reports nothing more than that
/// error. The generated trait impls are `#[automatically_derived]`.
#[proc_macro_derive(Model, attributes(model))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    model::expand(input.into()).into()
}
