//! audit-core built the way an embedded application builds it
//! (`default-features = false, features = ["sqlite"]`).
//!
//! CI checks with `cargo tree` that this build holds no PostgreSQL driver,
//! and `tests/sqlite_only.rs` migrates a log and refuses a PostgreSQL URL
//! with an error that names the missing feature.
