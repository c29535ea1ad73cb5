//! trybuild suites: `ui/pass` must compile and run, `ui/fail` must fail with
//! exactly the `.stderr` next to each case.
//!
//! The `.stderr` files hold rustc 1.95's wording; on another compiler the
//! compile-fail suite is skipped with a notice (the compile-pass suite still
//! runs), except under `CI=true`, where another compiler fails the test: CI
//! must check the snapshots, not skip them.
//! Regenerate them with `TRYBUILD=overwrite cargo test -p audit-tests --test ui`,
//! then read every changed file: each is an error message a user will read.

use std::path::Path;
use std::process::Command;

const PINNED_RUSTC: &str = "rustc 1.95.";

#[test]
fn ui() {
    let ui_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    // SAFETY: this test binary has this one test, so no other thread reads the
    // environment while it is written. trybuild builds the cases outside this
    // crate, where `CARGO_MANIFEST_DIR` no longer finds `ui/templates`.
    unsafe { std::env::set_var("AUDIT_TEMPLATE_ROOT", &ui_dir) };
    // The cases' lock files (`ui/locks`) are fixtures, some deliberately
    // stale: the suite never writes them, whatever the environment says.
    // SAFETY: as above.
    unsafe { std::env::remove_var("AUDIT_LOCK") };

    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    if rustc_version().starts_with(PINNED_RUSTC) {
        cases.compile_fail("ui/fail/*.rs");
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "the compile-fail snapshots are written for {PINNED_RUSTC}x, and CI must check them; \
             this is `{}`: run CI with that compiler, or bless the snapshots again with this one \
             (TRYBUILD=overwrite, then read each) and change PINNED_RUSTC",
            rustc_version().trim()
        );
    } else {
        println!(
            "notice: compile-fail snapshots are written for {PINNED_RUSTC}x; this is `{}`, so they are skipped",
            rustc_version().trim()
        );
    }
}

fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(rustc)
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default()
}
