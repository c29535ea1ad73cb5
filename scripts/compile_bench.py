"""Compile-time cost of the macros.

Generates a crate with 200 events and 100 commands (`gen-macros`), expands
it with `RUSTC_BOOTSTRAP=1 cargo rustc -- -Zunpretty=expanded` into a second
crate (`gen-expanded`), and times rebuilding each crate alone (its
dependencies built once beforehand), several times, reporting medians. Also
times a clean build of the proc-macro crate itself. Writes the figures to
target/compile-bench/results.json for bench_report.py.

Run from the workspace root: python3 scripts/compile_bench.py
"""
import json
import os
import shutil
import statistics
import subprocess
import time

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "target", "compile-bench")
TARGET = os.path.join(OUT, "target")
EVENTS, COMMANDS, RUNS = 200, 100, 5
ENV = dict(os.environ, CARGO_TARGET_DIR=TARGET, CARGO_INCREMENTAL="0")

MANIFEST = """[package]
name = "{name}"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
audit-core = {{ path = "{root}/audit-core" }}
serde = {{ version = "1", features = ["derive"] }}
"""

HEADER = """#![allow(dead_code, unused)]
//! Generated: {events} events and {commands} commands.

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Thing(pub i64);

impl audit_core::events::Reference for Thing {
    fn entity_ref(&self) -> audit_core::events::EntityRef {
        audit_core::events::EntityRef::new("thing", self.0.to_string())
    }
}

impl audit_core::present::Presentable for Thing {
    fn present(&self, _: &audit_core::present::PresentContext) -> audit_core::present::Shown {
        audit_core::present::Shown::text(format!("thing {}", self.0))
    }
}
"""


def generate(crate):
    src = os.path.join(crate, "src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(crate, "Cargo.toml"), "w") as f:
        f.write(MANIFEST.format(name="gen-macros", root=ROOT))
    code = [HEADER.replace("{events}", str(EVENTS)).replace("{commands}", str(COMMANDS))]
    code.append('audit_core::declare_events! {\n    #[events(templates = "templates")]\n    pub enum GenEvent {')
    for i in range(EVENTS):
        group = f"group{i % 10}"
        code.append(f'''        /// Event {i}.
        #[event(code = "event_{i}", label = "Event {i}", group = "{group}")]
        Event{i} {{
            #[target] #[parent] thing: Thing,
            #[subject] other: Thing,
            note: String,
            count: i64,
        }},''')
        tdir = os.path.join(crate, "templates", group)
        os.makedirs(tdir, exist_ok=True)
        with open(os.path.join(tdir, f"event{i}.html"), "w") as f:
            f.write(f"event {i}: {{{{ thing }}}} and {{{{ other }}}}, {{{{ note }}}} x{{{{ count }}}}\n")
    code.append("    }\n}\n")
    for c in range(COMMANDS):
        a, b = 2 * c % EVENTS, (2 * c + 1) % EVENTS
        code.append(f'''/// Command {c}.
#[audit_core::auditable(emits(Event{a}, Event{b}?))]
pub async fn command_{c}(cx: &mut audit_core::Audit<GenEvent>, n: i64) -> Result<(), audit_core::AuditError> {{
    cx.emit(Event{a} {{ thing: Thing(n), other: Thing(n + 1), note: String::from("a"), count: n }})?;
    if n > 0 {{
        cx.emit(Event{b} {{ thing: Thing(n), other: Thing(n), note: String::from("b"), count: n }})?;
    }}
    Ok(())
}}
''')
    with open(os.path.join(src, "lib.rs"), "w") as f:
        f.write("\n".join(code))


FEATURES = ("prelude_import, fmt_helpers_for_derive, structural_match, core_intrinsics, "
            "trivial_clone, derive_eq_internals, coverage_attribute, hint_must_use, liballoc_internals")


def strip_attribute(code, opening):
    """Removes every `#[name(...)]` attribute (balanced brackets) opened by `opening`."""
    out, i = [], 0
    while True:
        j = code.find(opening, i)
        if j < 0:
            out.append(code[i:])
            return "".join(out)
        out.append(code[i:j])
        depth, k = 0, j + 1
        while True:
            if code[k] == "[":
                depth += 1
            elif code[k] == "]":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        i = k + 1


def buildable(expanded):
    """The expansion, made to build: the library features its derives use
    internally, and the derives' leftover helper attributes removed."""
    code = expanded.replace(
        "#![feature(prelude_import)]",
        f"#![feature({FEATURES})]\n#![allow(internal_features)]", 1)
    code = code.replace("extern crate std;", "extern crate std;\nextern crate alloc;", 1)
    for name in ["serde", "template"]:
        code = strip_attribute(code, f"#[{name}(")
    return code


def cargo(args, cwd, env=ENV, capture=False):
    return subprocess.run(["cargo", *args], cwd=cwd, env=env, check=True,
                          capture_output=capture, text=True)


def timed_rebuilds(crate, env=ENV):
    """Median seconds to rebuild `crate` alone after touching its source."""
    lib = os.path.join(crate, "src", "lib.rs")
    times = []
    for _ in range(RUNS):
        os.utime(lib)
        start = time.monotonic()
        cargo(["build", "--quiet"], crate, env)
        times.append(time.monotonic() - start)
    return statistics.median(times), times


def main():
    if os.path.exists(OUT):
        for name in ["gen-macros", "gen-expanded"]:
            shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
    macros = os.path.join(OUT, "gen-macros")
    expanded = os.path.join(OUT, "gen-expanded")
    generate(macros)
    print("== building gen-macros and its dependencies once")
    cargo(["build", "--quiet"], macros)

    print("== expanding gen-macros")
    boot = dict(ENV, RUSTC_BOOTSTRAP="1")
    out = cargo(["rustc", "--quiet", "--", "-Zunpretty=expanded"], macros, boot, capture=True).stdout
    os.makedirs(os.path.join(expanded, "src"), exist_ok=True)
    shutil.copy(os.path.join(macros, "Cargo.toml"), os.path.join(expanded, "Cargo.toml"))
    with open(os.path.join(expanded, "Cargo.toml")) as f:
        manifest = f.read().replace('name = "gen-macros"', 'name = "gen-expanded"')
    with open(os.path.join(expanded, "Cargo.toml"), "w") as f:
        f.write(manifest)
    with open(os.path.join(expanded, "src", "lib.rs"), "w") as f:
        f.write(buildable(out))
    # The expansion keeps the prelude import and format_args internals,
    # which only build with RUSTC_BOOTSTRAP; both crates use it from here on
    # so that the comparison is like for like.
    print("== timing rebuilds")
    with_macros, runs_macros = timed_rebuilds(macros, boot)
    without, runs_expanded = timed_rebuilds(expanded, boot)

    print("== clean build of audit-macros")
    clean_env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(OUT, "macros-target"))
    cargo(["build", "--quiet", "-p", "audit-macros"], ROOT, clean_env)
    clean = []
    for _ in range(3):
        cargo(["clean", "--quiet", "-p", "audit-macros"], ROOT, clean_env)
        start = time.monotonic()
        cargo(["build", "--quiet", "-p", "audit-macros"], ROOT, clean_env)
        clean.append(time.monotonic() - start)

    results = {
        "events": EVENTS,
        "commands": COMMANDS,
        "expanded_lines": out.count("\n"),
        "with_macros_s": with_macros,
        "expanded_s": without,
        "ratio": with_macros / without,
        "runs_with_macros": runs_macros,
        "runs_expanded": runs_expanded,
        "audit_macros_clean_s": statistics.median(clean),
    }
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
