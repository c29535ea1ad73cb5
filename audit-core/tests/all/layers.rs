//! audit-core's modules stack in layers (see ARCHITECTURE.md, "audit-core's
//! layers"): no module imports from a layer above its own, and the files of
//! one module never import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module and its layer, from the bottom.
const LAYERS: &[(&str, u32)] = &[
    ("actor", 1),
    ("backend", 1),
    ("context", 1),
    ("erasable", 1),
    ("error", 1),
    ("reference", 1),
    ("text", 1),
    ("present", 2),
    ("decode", 3),
    ("catalog", 3),
    ("model", 4),
    ("store", 5),
    ("page", 6),
    ("own_records", 6),
    ("__private", 7),
    ("testing", 7),
    // The web integration (feature `axum`), above everything it uses.
    ("axum", 7),
    // The public modules that only re-export the layers' items, by task.
    ("commands", 7),
    ("erasure", 7),
    ("events", 7),
    ("query", 7),
    ("seals", 7),
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("audit-core/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The module path of a source file (`store/query/mod.rs` -> `store::query`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    if parts == ["private"] {
        parts = vec!["__private".to_owned()];
    }
    parts
}

/// The paths a file names through `crate::` and `super::`, as module paths
/// (the last segment dropped when it names an item, not a module).
fn imports(text: &str, module: &[String], is_mod_file: bool) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    // Comments and doc links do not make dependencies, and a file's unit
    // tests (its inline `mod tests`, at the end) import their own module.
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for (start, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        let before = code[..start].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        // `pub(in crate::store)` is a visibility, not an import.
        if code[..start].ends_with("(in ") {
            continue;
        }
        let path: String = code[start..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        // The crate's one exported macro lives at the root, as `#[macro_export]` requires.
        let path = path.replace("crate::on_backend", "crate::backend::on_backend");
        let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let mut base: Vec<String> = Vec::new();
        match segments.first() {
            Some(&"crate") => {
                segments.remove(0);
            }
            _ => {
                base = module.to_vec();
                while segments.first() == Some(&"super") {
                    segments.remove(0);
                    // In `x/mod.rs` the module is `x`, so `super` is x's parent.
                    if !is_mod_file || !base.is_empty() {
                        base.pop();
                    }
                }
            }
        }
        base.extend(segments.iter().map(|s| s.to_string()));
        found.push(base);
    }
    found
}

#[test]
fn no_module_imports_from_a_layer_above_it_and_no_files_import_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let layer: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        if module.is_empty() {
            continue; // lib.rs declares and re-exports everything
        }
        let Some(&own) = layer.get(module[0].as_str()) else {
            problems.push(format!("module `{}` has no layer in LAYERS", module[0]));
            continue;
        };
        let is_mod_file = file.ends_with("mod.rs");
        let text = std::fs::read_to_string(file).expect("a readable source file");
        // A module that declares another depends on it: a child that imports
        // from its parent's file closes a circle.
        for line in text.lines().map(str::trim) {
            let declared = line
                .strip_prefix("pub(crate) mod ")
                .or_else(|| line.strip_prefix("pub mod "))
                .or_else(|| line.strip_prefix("mod "))
                .and_then(|rest| rest.strip_suffix(';'));
            if let Some(name) = declared {
                let mut child = module.clone();
                child.push(name.to_owned());
                edges.entry(module.clone()).or_default().insert(child);
            }
        }
        for mut target in imports(&text, &module, is_mod_file) {
            // Keep the longest prefix that is a module of this crate.
            while !target.is_empty() && !modules.contains(&target) {
                target.pop();
            }
            if target.is_empty() {
                problems.push(format!(
                    "{}: imports through the crate root (`crate::Item`); name the module",
                    file.display()
                ));
                continue;
            }
            if target == module {
                continue;
            }
            let theirs = layer[target[0].as_str()];
            if theirs > own {
                problems.push(format!(
                    "{} (layer {own}) imports `{}` (layer {theirs})",
                    module.join("::"),
                    target.join("::")
                ));
            }
            edges.entry(module.clone()).or_default().insert(target);
        }
    }
    // Depth-first search for a cycle among files.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, bool>,
        stack: &mut Vec<Vec<String>>,
        problems: &mut Vec<String>,
    ) {
        match state.get(node) {
            Some(true) => {
                let from = stack.iter().position(|n| n == node).unwrap_or(0);
                let names: Vec<String> = stack[from..].iter().map(|n| n.join("::")).collect();
                problems.push(format!(
                    "import cycle: {} -> {}",
                    names.join(" -> "),
                    node.join("::")
                ));
                return;
            }
            Some(false) => return,
            None => {}
        }
        state.insert(node.clone(), true);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, state, stack, problems);
        }
        stack.pop();
        state.insert(node.clone(), false);
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        visit(node, &edges, &mut state, &mut Vec::new(), &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
