//! Personal data: erasing a person from the log while it still verifies.
//!
//! A catalog marks the payload fields that are personal (`#[personal]`;
//! with `#[events(classify_personal)]` every field must say, one way or
//! the other); the names of the people who act and are acted for, and the
//! client's address and user agent, are personal by the library's rule.
//! Each personal value is stored with a salt of its own (16 random bytes),
//! and the seal hashes it with that salt, each payload field on its own
//! (`store/seal/encoding.rs`, version 2).
//!
//! [`Auditor::erase`](crate::Auditor::erase), given the catalog, replaces every personal value
//! about a [`Subject`] with its commitment (the salted hash the seal holds
//! for it), destroys the salts, and records an [`ERASED_EVENT_CODE`]
//! event that names the subject only by a random id and lists each value
//! it erased, so that copies of the log can apply it.
//! [`Auditor::verify`](crate::Auditor::verify) stays green and reports
//! each erasure (`VerifyReport::erasures`); pages show [`ERASED_NAME`]
//! where the name was, and an erased field reads as its
//! [`Erasable::erased`](crate::events::Erasable::erased) value.
//!
//! # What is left, where
//!
//! - The commitments cannot be reversed by guessing: without the salt, a
//!   candidate name hashes to something else. Values written before schema
//!   version 9 have no salt; [`ErasureReport::unsalted`] counts them, and
//!   a guess can confirm those. Their personal payload fields are known
//!   from the catalog `erase` is called with; in an event sealed with the
//!   seal's first encoding, which hashed the payload whole, the whole
//!   payload goes ([`ErasureReport::whole_payloads`]).
//! - SQLite: every connection runs with `secure_delete`, which zeroes
//!   deleted and overwritten content in the database file (freed pages
//!   included), and the erasure ends with `wal_checkpoint(TRUNCATE)`,
//!   which copies the write-ahead log into the file and empties it. After
//!   it the file and its `-wal` hold none of the erased bytes (a test
//!   reads them). Copies made before (backups, a file system's snapshots)
//!   are not reached.
//! - PostgreSQL: only the schema's owner may erase (the permit table only
//!   it may write, the trigger that lets nothing else change). The live
//!   rows and their indexes hold the commitments at once; the old row
//!   versions stay in the table's and the indexes' pages until `VACUUM`
//!   removes them, which it can only once no transaction older than the
//!   erasure is running; and the write-ahead log keeps them until its
//!   segments are recycled (and archives and replicas' base backups as
//!   long as they are kept). Run `VACUUM audit_events` after an erasure
//!   (autovacuum will, later), and keep WAL archives no longer than the
//!   erasure deadline you answer to.

pub use crate::store::personal::ERASED_NAME;
pub use crate::store::{ERASED_EVENT_CODE, ErasureReport, Subject};
