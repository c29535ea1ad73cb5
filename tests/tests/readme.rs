//! README.md shows compiler output and code; these tests keep both true.
//!
//! - Each excerpt in "Mistakes and what the compiler says" is marked
//!   `<!-- stderr: CASE -->` and must be made of lines of the snapshot
//!   `ui/fail/CASE.stderr`, which the `ui` suite checks against rustc.
//! - Each `rust` block must appear, line for line, in a source file that is
//!   compiled (and run) by a test: `ui/pass/*.rs`, the example app or its
//!   tests, or the quickstart crate.
//! - Each block marked `<!-- file: PATH -->` is lines of that file of the
//!   workspace, exactly (blank lines aside), and the blocks of one file,
//!   in order, make up the whole file (a `Cargo.toml`: its end, from
//!   `[dependencies]` on). The quickstart's files must all be shown, so
//!   the README's quickstart is the crate `tests/quickstart`, which CI
//!   builds, runs and tests. Its dependency on audit-core is
//!   `../../audit-core` there and `../audit/audit-core` in the README (a
//!   checkout next to the user's crate); that is the one difference allowed.

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
    for dir in [
        "tests/ui/pass",
        "example-app/src",
        "example-app/tests",
        "tests/quickstart/src",
        "tests/quickstart/tests",
    ] {
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
             (tests/ui/pass/*.rs, example-app/src, example-app/tests, tests/quickstart); \
             copy it into tests/ui/pass/readme.rs",
            block.line_no
        );
        checked += 1;
    }
    assert!(checked > 0, "README.md has no rust blocks to check");
}

/// The files of the quickstart crate, each of which the README must show.
const QUICKSTART_FILES: [&str; 5] = [
    "tests/quickstart/Cargo.toml",
    "tests/quickstart/src/lib.rs",
    "tests/quickstart/src/main.rs",
    "tests/quickstart/templates/audit/projects/project_created.html",
    "tests/quickstart/tests/commands.rs",
];

/// The path dependency on audit-core: in the quickstart crate of this
/// workspace, and in the README, where the user's crate sits next to a
/// checkout of this repository named `audit`.
const AUDIT_CORE_PATH: (&str, &str) = ("\"../../audit-core\"", "\"../audit/audit-core\"");

/// Lines with trailing whitespace dropped, blank lines left out.
fn exact_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    lines
        .into_iter()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Where `part` starts as a run of lines of `whole`, at or after `from`.
fn find_run(whole: &[String], part: &[String], from: usize) -> Option<usize> {
    (from..=whole.len().saturating_sub(part.len())).find(|&start| whole[start..].starts_with(part))
}

/// A README block showing part of a file: its line in README.md, and its
/// lines as [`exact_lines`] gives them.
type Shown = (usize, Vec<String>);

#[test]
fn files_shown_in_the_readme_are_the_files() {
    let root = workspace();
    let mut shown: Vec<(String, Vec<Shown>)> = Vec::new();
    for block in readme_blocks() {
        let Some(path) = block
            .marker
            .as_deref()
            .and_then(|m| m.strip_prefix("file:"))
        else {
            continue;
        };
        let path = path.trim().to_owned();
        let lines = exact_lines(block.lines.iter().map(String::as_str));
        match shown.iter_mut().find(|(p, _)| *p == path) {
            Some((_, blocks)) => blocks.push((block.line_no, lines)),
            None => shown.push((path, vec![(block.line_no, lines)])),
        }
    }
    for (path, blocks) in &shown {
        let text = read(&root.join(path)).replace(AUDIT_CORE_PATH.0, AUDIT_CORE_PATH.1);
        let file = exact_lines(text.lines());
        // Each block is a run of the file's lines, after the previous block's.
        let mut next = 0;
        let mut first = None;
        for (line_no, lines) in blocks {
            assert!(
                !lines.is_empty(),
                "README.md line {line_no}: an empty block of {path}"
            );
            let Some(start) = find_run(&file, lines, next) else {
                let anywhere = find_run(&file, lines, 0).is_some();
                panic!(
                    "the block at README.md line {line_no} is not {}lines of {path}: copy the \
                     file's lines into it, or the block into the file",
                    if anywhere { "the next " } else { "" }
                );
            };
            assert!(
                start == next || first.is_none(),
                "README.md line {line_no}: the blocks of {path} leave out its lines {}..{} \
                 (\"{}\"): show them, or the copied file differs",
                next + 1,
                start,
                file[next]
            );
            first.get_or_insert(start);
            next = start + lines.len();
        }
        let first = first.expect("invariant: every path has a block");
        let whole = path.ends_with("Cargo.toml") || first == 0;
        assert!(
            whole,
            "the README's blocks of {path} start at its line {} (\"{}\"), not its first",
            first + 1,
            file[first]
        );
        assert!(
            next == file.len(),
            "the README's blocks of {path} end before its line {} (\"{}\"): show the rest",
            next + 1,
            file[next]
        );
        if path.ends_with("Cargo.toml") {
            assert!(
                file[first] == "[dependencies]",
                "the README's blocks of {path} start at \"{}\", not at [dependencies]",
                file[first]
            );
        }
    }
    for path in QUICKSTART_FILES {
        assert!(
            shown.iter().any(|(p, _)| p == path),
            "README.md shows no block marked `<!-- file: {path} -->`: a crate copied from the \
             quickstart would lack it"
        );
    }
}
