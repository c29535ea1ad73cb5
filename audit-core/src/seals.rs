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

pub use crate::store::seal::{
    Divergence, Head, SealKey, SealKeyError, SealReport, VerifyOptions, VerifyReport,
};
