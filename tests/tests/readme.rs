//! README.md shows compiler output and code; these tests keep both true.
//!
//! - Each excerpt in "Mistakes and what the compiler says" is marked
//!   `<!-- stderr: CASE -->` and must be made of lines of the snapshot
//!   `ui/fail/CASE.stderr`, which the `ui` suite checks against rustc.
//! - Each `rust` block must appear, line for line, in a source file that is
//!   compiled (and run) by a test: `ui/pass/*.rs`, the example app or its
//!   tests.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("invariant: the tests crate lives inside the workspace")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A fenced block of README.md: its info string, its lines, and the comment
/// line just before it (if any).
struct Block {
    info: String,
    marker: Option<String>,
    lines: Vec<String>,
    line_no: usize,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    let mut previous: Option<&str> = None;
    while let Some((i, line)) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            let marker = previous
                .and_then(|p| p.trim().strip_prefix("<!--"))
                .and_then(|p| p.strip_suffix("-->"))
                .map(|p| p.trim().to_owned());
            let body: Vec<String> = lines
                .by_ref()
                .map(|(_, l)| l)
                .take_while(|l| !l.starts_with("```"))
                .map(str::to_owned)
                .collect();
            blocks.push(Block {
                info: info.trim().to_owned(),
                marker,
                lines: body,
                line_no: i + 1,
            });
            previous = None;
        } else if !line.trim().is_empty() {
            previous = Some(line);
        }
    }
    blocks
}

fn readme_blocks() -> Vec<Block> {
    blocks(&read(&workspace().join("README.md")))
}

#[test]
fn compiler_output_in_the_readme_is_in_the_snapshots() {
    let fail_dir = workspace().join("tests/ui/fail");
    let mut checked = 0;
    for block in readme_blocks() {
        let Some(case) = block
            .marker
            .as_deref()
            .and_then(|m| m.strip_prefix("stderr:"))
        else {
            continue;
        };
        let case = case.trim();
        let snapshot = read(&fail_dir.join(format!("{case}.stderr")));
        let snapshot_lines: Vec<&str> = snapshot.lines().map(str::trim_end).collect();
        for line in block.lines.iter().filter(|l| !l.trim().is_empty()) {
            assert!(
                snapshot_lines.contains(&line.trim_end()),
                "README.md line {} quotes `{line}`, which is not a line of ui/fail/{case}.stderr",
                block.line_no
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 10,
        "README.md quotes {checked} snapshots; its \"Mistakes\" section is missing"
    );
}

/// Lines of `text` with surrounding whitespace dropped and blank lines left out.
fn normalized(text: &[String]) -> Vec<String> {
    text.iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entries are readable").path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn rust_code_in_the_readme_is_compiled_by_a_test() {
    let root = workspace();
    let mut sources = Vec::new();
    for dir in ["tests/ui/pass", "example-app/src", "example-app/tests"] {
        rust_sources(&root.join(dir), &mut sources);
    }
    let compiled: Vec<(PathBuf, Vec<String>)> = sources
        .into_iter()
        .map(|path| {
            let lines: Vec<String> = read(&path).lines().map(str::to_owned).collect();
            (path, normalized(&lines))
        })
        .collect();
    let mut checked = 0;
    for block in readme_blocks().iter().filter(|b| b.info == "rust") {
        let wanted = normalized(&block.lines);
        let found = compiled.iter().any(|(_, lines)| {
            lines
                .windows(wanted.len().max(1))
                .any(|window| window == wanted.as_slice())
        });
        assert!(
            found,
            "the rust block at README.md line {} is not in any compiled source \
             (tests/ui/pass/*.rs, example-app/src, example-app/tests); copy it into \
             tests/ui/pass/readme.rs",
            block.line_no
        );
        checked += 1;
    }
    assert!(checked > 0, "README.md has no rust blocks to check");
}
