//! audit-core built the way a PostgreSQL-only service builds it
//! (`default-features = false, features = ["postgres", "tls-rustls"]`).
//!
//! CI checks with `cargo tree` that this build holds no SQLite crate, and
//! `tests/tls.rs` connects over TLS to the local server. When this package
//! is built on its own (`cargo test -p audit-postgres-only`), audit-core has
//! exactly these features; in a whole-workspace build the other members'
//! features are added to it.
