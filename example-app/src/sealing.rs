//! Sealing and verifying the log from the command line and the server: the
//! signing key from a file or `AUDIT_SEAL_KEY`, the head kept in a file,
//! and sealing in the background while the staff area serves.

use std::path::{Path, PathBuf};
use std::time::Duration;

use audit_core::seals::{Head, SealKey, SealKeyError, VerifyOptions, VerifyReport};
use audit_core::{AuditError, Auditor};

/// The environment variable that may hold the signing key's secret (64 hex digits).
pub const KEY_VAR: &str = "AUDIT_SEAL_KEY";

/// What can go wrong around seals, outside the database.
#[derive(Debug, thiserror::Error)]
pub enum SealingError {
    /// A key that cannot be used.
    #[error("the signing key: {0}")]
    Key(#[from] SealKeyError),
    /// A head file that cannot be read or written.
    #[error("the head file `{path}`: {message}")]
    HeadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The database failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// The signing key: from `key_file` if given, else from [`KEY_VAR`], else none.
pub fn signing_key(key_file: Option<&Path>) -> Result<Option<SealKey>, SealingError> {
    if let Some(path) = key_file {
        return Ok(Some(SealKey::from_file(path)?));
    }
    match std::env::var(KEY_VAR) {
        Ok(secret) if !secret.trim().is_empty() => Ok(Some(SealKey::from_hex(&secret)?)),
        _ => Ok(None),
    }
}

/// Writes `head` as JSON to `path`, through a file next to it renamed into
/// place, so that the file is never half written.
pub fn write_head(path: &Path, head: &Head) -> Result<(), SealingError> {
    let error = |e: std::io::Error| SealingError::HeadFile {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let json = serde_json::to_string_pretty(head).map_err(|e| SealingError::HeadFile {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, json + "\n").map_err(error)?;
    std::fs::rename(&temporary, path).map_err(error)
}

/// Reads a head written by [`write_head`].
pub fn read_head(path: &Path) -> Result<Head, SealingError> {
    let text = std::fs::read_to_string(path).map_err(|e| SealingError::HeadFile {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| SealingError::HeadFile {
        path: path.to_owned(),
        message: format!("not a head: {e}"),
    })
}

/// Verifies the log against `against` (a head file) and `public_key`, if given.
pub async fn verify(
    auditor: &Auditor,
    against: Option<&Path>,
    public_key: Option<&str>,
) -> Result<VerifyReport, SealingError> {
    let mut options = VerifyOptions::new();
    if let Some(path) = against {
        options = options.against(read_head(path)?);
    }
    if let Some(key) = public_key {
        options = options.public_key(key)?;
    }
    Ok(auditor.verify(&options).await?)
}

/// Seals every `every` until the process ends, logging failures (a
/// database that is briefly away must not stop the server); the head goes
/// to `head_file` after each seal that made something. A transaction that
/// holds events back from two seals in a row is logged as a warning, once.
pub async fn seal_periodically(
    auditor: Auditor,
    key: Option<SealKey>,
    every: Duration,
    head_file: Option<PathBuf>,
) {
    let mut ticks = tokio::time::interval(every);
    // The transaction that held writers up at the last seal, and the last one warned of.
    let mut holding: Option<u64> = None;
    let mut warned: Option<u64> = None;
    loop {
        ticks.tick().await;
        match auditor.seal(key.as_ref()).await {
            Ok(report) => {
                if report.seals > 0 {
                    tracing::info!(seals = report.seals, events = report.events, "sealed");
                    if let (Some(path), Some(head)) = (&head_file, &report.head)
                        && let Err(e) = write_head(path, head)
                    {
                        tracing::error!("cannot keep the head: {e}");
                    }
                }
                let now = report.held_back.as_ref().map(|held| held.transaction);
                if let Some(held) = &report.held_back
                    && holding == now
                    && warned != now
                {
                    tracing::warn!(pid = held.pid, "writers held up: {held}");
                    warned = now;
                }
                holding = now;
            }
            Err(e) => tracing::error!("sealing failed: {e}"),
        }
    }
}
