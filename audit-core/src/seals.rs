//! Tamper evidence: seals over the log, their signing keys, and
//! verification.
//!
//! [`Auditor::seal`](crate::Auditor::seal) extends a hash chain over every
//! event not yet sealed, in commit order, optionally signed with a
//! [`SealKey`] (Ed25519), and reports the new [`Head`] ([`SealReport`]).
//! [`Auditor::verify`](crate::Auditor::verify) recomputes the chain and
//! reports every [`Divergence`] it finds ([`VerifyReport`]); checked against
//! a head kept outside the database and a public key ([`VerifyOptions`]), it
//! also notices a log rewritten by whoever holds the database.
//!
//! ```
//! use audit_core::seals::{SealKey, VerifyOptions};
//! use audit_core::{Actor, Audit, AuditError, Auditor, auditable};
//!
//! # audit_core::declare_events! {
//! #     #[events(templates = "tests/templates")]
//! #     pub enum DocEvent {
//! #         #[event(code = "project_created", label = "Project created", group = "Projects")]
//! #         ProjectCreated { name: String },
//! #     }
//! # }
//! # #[auditable(emits(ProjectCreated))]
//! # async fn create_project(cx: &mut Audit<DocEvent>, name: &str) -> Result<(), AuditError> {
//! #     cx.emit(ProjectCreated { name: name.into() })
//! # }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let auditor = Auditor::connect("sqlite::memory:").await?;
//! # auditor.migrate().await?;
//! let mut audit = auditor.begin::<DocEvent>(Actor::user(1, "alice")).await?;
//! create_project(&mut audit, "Apollo").await?;
//! audit.commit().await?;
//!
//! // After commit, off the write path (a periodic job, say):
//! let key = SealKey::generate()?;
//! let report = auditor.seal(Some(&key)).await?;
//! let head = report.head.expect("the log has events to seal");
//!
//! // Later, with the head and the public key kept elsewhere:
//! let options = VerifyOptions::new()
//!     .against(head)
//!     .public_key(&key.public_hex())?;
//! assert!(auditor.verify(&options).await?.is_intact());
//! # Ok(()) }
//! ```
//!
//! # Is my log intact?
//!
//! The seal is built after commit, so the write path stays as fast; the
//! key is one the database never sees, and the head is to be kept
//! somewhere else. The example app does it from the command line:
//!
//! ```sh
//! example-app seal-key --out seal.key          # once: prints the public key; keep seal.key safe
//! example-app seal --key-file seal.key --head-out head.json   # as often as you like (or `serve --seal-every-secs 60`)
//! example-app verify --against head.json --public-key <PUBLIC KEY>   # exit code 0: intact
//! ```
//!
//! A [`VerifyReport`]'s `divergences` name each problem: an edited event
//! and which value (`payload`, `actor_name`, ...), a deleted, replaced or
//! inserted event, an altered or missing seal, entries that do not give
//! their seal, a missing or bad signature, a kept head the database no
//! longer reaches.
//!
//! - Each event is hashed value by value in a documented encoding
//!   (`audit-core/src/store/seal/encoding.rs`, version 1, the same on both
//!   backends), so a later, recorded erasure of a personal value could put
//!   its hash in its place and the chain would still verify.
//! - Every committed event is sealed, in position order (commit order;
//!   no running transaction holds sealing back). A transaction that holds
//!   other writers' commits up (PostgreSQL) is named by the
//!   [`SealReport`]'s `held_back` ([`HeldBack`](crate::query::HeldBack)).
//!   Events after the last seal (the unsealed window) are not checked:
//!   seal often.
//! - Events a prune deleted are reported as pruned, not as tampering, once
//!   the prune's record is sealed: a record explains a missing sealed event
//!   only when it comes after it, is itself sealed and intact, its range
//!   (first and last deleted position) and cutoff cover the event, and the
//!   sealed events missing in its range are exactly as many as it says,
//!   with its digest of their hashes. Before the next seal a prune shows as
//!   [`Divergence::PruneRecordNotSealed`]; a record that does not match is
//!   [`Divergence::PruneRecordMismatch`]. So a record forged to hide a
//!   deletion explains nothing until someone seals it (with the key, where
//!   verification asks for signatures), and one forged by the application's
//!   role is refused at INSERT on PostgreSQL.
//! - What it cannot do: whoever holds both the database and the signing
//!   key can rewrite the log and sign new seals; a head kept where they
//!   cannot reach still catches it. Without a key and a kept head, someone
//!   with the database can drop the log and rebuild a consistent one:
//!   verification then only says the log agrees with itself.

pub use crate::store::seal::{
    Divergence, Erasure, Head, SealKey, SealKeyError, SealReport, VerifyOptions, VerifyReport,
};
