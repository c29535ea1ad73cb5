//! Rules every compile-fail snapshot follows, checked on the files so that a
//! re-blessed snapshot cannot quietly break them:
//!
//! - one error per mistake: a case shows one error unless its source says
//!   `// expect N errors` (a case made of N mistakes);
//! - no internal path (`__private`, `__finish`, `_serde`, `__audit`) in the
//!   main message of an error;
//! - each case says in its first line which mistake it shows.

use std::path::{Path, PathBuf};

const INTERNAL: [&str; 4] = ["__private", "__finish", "_serde", "__audit"];

fn fail_cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/fail");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entries are readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .collect();
    cases.sort();
    assert!(
        !cases.is_empty(),
        "no compile-fail cases in {}",
        dir.display()
    );
    cases
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The errors of a snapshot: lines that start a diagnostic of level error.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("error:") || l.starts_with("error["))
        .collect()
}

/// `N` from a `// expect N errors` line of the case, else 1.
fn expected_errors(source: &str) -> usize {
    source
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("// expect ")?
                .strip_suffix(" errors")?
                .parse()
                .ok()
        })
        .unwrap_or(1)
}

#[test]
fn each_case_shows_one_error_per_mistake_without_internal_paths() {
    let mut problems = Vec::new();
    for case in fail_cases() {
        let name = case.file_stem().unwrap().to_string_lossy().into_owned();
        let source = read(&case);
        if !source.starts_with("//") {
            problems.push(format!(
                "{name}.rs: does not start with a comment naming its mistake"
            ));
        }
        let stderr_path = case.with_extension("stderr");
        if !stderr_path.exists() {
            problems.push(format!("{name}: no .stderr snapshot"));
            continue;
        }
        let stderr = read(&stderr_path);
        let errors = error_lines(&stderr);
        let expected = expected_errors(&source);
        if errors.len() != expected {
            problems.push(format!(
                "{name}: {} errors where {expected} expected:\n    {}",
                errors.len(),
                errors.join("\n    ")
            ));
        }
        for line in errors {
            if let Some(path) = INTERNAL.iter().find(|p| line.contains(*p)) {
                problems.push(format!("{name}: internal `{path}` in `{line}`"));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
