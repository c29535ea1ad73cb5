//! The Ed25519 key that signs seals: held by whoever seals, never stored in
//! the database. Its secret is 32 bytes, written as 64 hex digits (in a key
//! file, or an environment variable); its public half verifies.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// What can be wrong with a key or a signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealKeyError {
    /// Not 32 bytes written as 64 hex digits.
    #[error("a key is 32 bytes written as 64 hex digits")]
    Malformed,
    /// Not a valid Ed25519 public key.
    #[error("not an Ed25519 public key")]
    NotAPublicKey,
    /// The system's random source failed.
    #[error("cannot make a random key: {0}")]
    Random(String),
    /// The key file could not be read.
    #[error("cannot read the key file `{path}`: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A signing key for seals.
#[derive(Clone)]
pub struct SealKey(SigningKey);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("SealKey")
            .field("public", &self.public_hex())
            .finish_non_exhaustive()
    }
}

impl SealKey {
    /// A new random key.
    pub fn generate() -> Result<SealKey, SealKeyError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| SealKeyError::Random(e.to_string()))?;
        Ok(SealKey(SigningKey::from_bytes(&secret)))
    }

    /// The key whose secret is `hex` (64 hex digits; surrounding
    /// whitespace is ignored).
    pub fn from_hex(hex: &str) -> Result<SealKey, SealKeyError> {
        let mut secret = [0u8; 32];
        hex::decode_to_slice(hex.trim(), &mut secret).map_err(|_| SealKeyError::Malformed)?;
        Ok(SealKey(SigningKey::from_bytes(&secret)))
    }

    /// The key in the file at `path` (its secret as 64 hex digits).
    pub fn from_file(path: &std::path::Path) -> Result<SealKey, SealKeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| SealKeyError::File {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_hex(&text)
    }

    /// The secret as 64 hex digits, to store where the key is kept.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// The public key as 64 hex digits, to give `verify`.
    pub fn public_hex(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    /// The key's id stored with each seal it signs: the public key's first
    /// 8 bytes, in hex.
    pub fn key_id(&self) -> String {
        key_id(&self.0.verifying_key())
    }

    /// Signs a seal's hash; the signature in hex.
    pub(crate) fn sign(&self, hash: &[u8; 32]) -> String {
        hex::encode(self.0.sign(hash).to_bytes())
    }
}

/// A public key that checks seal signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicKey(VerifyingKey);

impl PublicKey {
    /// The public key written as 64 hex digits.
    pub(crate) fn from_hex(hex: &str) -> Result<PublicKey, SealKeyError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex.trim(), &mut bytes).map_err(|_| SealKeyError::Malformed)?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| SealKeyError::NotAPublicKey)
    }

    /// Whether `signature` (hex) signs `hash` with this key.
    pub(crate) fn verifies(&self, hash: &[u8; 32], signature: &str) -> bool {
        let mut bytes = [0u8; 64];
        if hex::decode_to_slice(signature, &mut bytes).is_err() {
            return false;
        }
        self.0.verify(hash, &Signature::from_bytes(&bytes)).is_ok()
    }

    /// The key's id (see [`SealKey::key_id`]).
    pub(crate) fn key_id(&self) -> String {
        key_id(&self.0)
    }
}

fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&key.to_bytes()[..8])
}
