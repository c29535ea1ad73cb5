//! Compile-pass and compile-fail suites for audit-core's macros, run by
//! `cargo test -p audit-tests` (see `tests/ui.rs`).
