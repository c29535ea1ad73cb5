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
//! use audit_core::Auditor;
//! use audit_core::seals::{SealKey, VerifyOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let auditor = Auditor::connect("sqlite::memory:").await?;
//! auditor.migrate().await?;
//!
//! let key = SealKey::generate()?;
//! auditor.seal(Some(&key)).await?;
//! let head = auditor.head().await?.expect("sealed once");
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
