//! Models: application tables classified as mutable or immutable (G7).
//!
//! `#[derive(audit_core::Model)]` with `#[model(immutable)]` gives a model
//! whose reads are free and whose writes (`insert`, `update`, `delete`) need
//! [`WriteAccess`], which only a running command ([`Command`](crate::commands::Command))
//! has: writing it outside an `#[auditable]` function does not compile. On
//! PostgreSQL, [`Auditor::protect_immutable_table`](crate::Auditor::protect_immutable_table)
//! adds the database's half of the guarantee.

use crate::backend::Db;

/// A table of the application, classified by `#[derive(Model)]`.
///
/// Implementing it by hand grants nothing: write access comes from
/// [`WriteAccess`], and its constants only describe the table (to
/// [`Auditor::unclassified_tables`](crate::Auditor::unclassified_tables), say).
pub trait Model: Sized {
    /// The table's name.
    const TABLE: &'static str;
    /// Whether only commands may write it.
    const IMMUTABLE: bool;
}

/// The right to write model `M`: held by every running command, and by a
/// plain audited transaction only for mutable models.
///
/// Implemented by audit-core for [`Command`](crate::commands::Command), and by
/// `#[derive(Model)]` on [`Audit`](crate::Audit) for mutable models. Do not
/// implement it yourself: an implementation for an immutable model gives
/// write access outside commands, which bypasses the compile-time half of
/// G7 (on PostgreSQL the table's trigger still refuses a transaction that
/// records no event).
#[diagnostic::on_unimplemented(
    message = "`{M}` is an immutable model: only a command can write it",
    label = "this is not a command context",
    note = "write an `#[auditable]` command that makes this change and emits its event, and call that command here"
)]
pub trait WriteAccess<M: Model> {
    /// The transaction's connection.
    fn write_db(&mut self) -> Db<'_>;
}
