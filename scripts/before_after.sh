#!/usr/bin/env bash
# Before and after a change to the library: the per-command overhead on
# PostgreSQL (example-app/benches/overhead.rs) and the follower's
# throughput (example-app/benches/follow.rs), measured on two builds in one
# run, alternating between them, and reported side by side.
#
#   scripts/before_after.sh [REV]
#
# "before" is the library at git revision REV (default 71dd48a, the last
# commit before positions moved to commit order), built in a temporary git
# worktree (removed at the end) with its own target directory (kept: the
# first run builds every dependency there, minutes on 2 cores; later runs
# rebuild only the workspace's crates); "after" is this checkout as it is,
# uncommitted changes included, built in $CARGO_TARGET_DIR. The benches are this checkout's: follow.rs, overhead.rs
# and benches/support/ are copied into the worktree (and `follow`
# registered in its Cargo.toml), so both builds run the same measuring
# code against their own library. If REV does not build with this
# checkout's overhead.rs or support/, REV's own are used (with a notice;
# its overhead bench may then ignore AUDIT_BENCH_BACKENDS and run SQLite as
# well, which costs time and is left out of the report).
#
# Each pass runs the overhead bench on one build, then on the other, then
# the follow bench likewise; the build that goes first alternates from pass
# to pass (before first in odd passes). The report pools the passes' rounds
# per build: scripts/before_after_report.py writes it to stdout and to
# $BEFORE_AFTER_DIR/results/report.md.
#
# PostgreSQL: AUDIT_TEST_POSTGRES_URL (default the local server). Both
# benches make their databases with example-app/benches/support (which
# first drops every database named audit_bench_*: run no other bench
# against the same server meanwhile).
#
# Environment (defaults in brackets):
#   BEFORE_AFTER_PASSES           passes [3]
#   AUDIT_BENCH_ROUNDS            overhead rounds per pass [3: 9 per build, as
#                                 BENCHMARKS.md section 1 runs]
#   AUDIT_BENCH_N, AUDIT_BENCH_WARMUP, AUDIT_BENCH_PREWARM
#                                 the overhead protocol [1000, 100, 1]
#   AUDIT_BENCH_BACKENDS          overhead backends [postgres]
#   AUDIT_BENCH_CASES             overhead cases [add-member,insert-then-update]
#   AUDIT_BENCH_FOLLOW_EVENTS     events in the followed log [200000]
#   AUDIT_BENCH_FOLLOW_FILL_TASKS tasks writing it [4]
#   AUDIT_BENCH_FOLLOW_BATCH      read_after's limit [1000]
#   AUDIT_BENCH_FOLLOW_ROUNDS     catch-up rounds per pass [3]
#   AUDIT_BENCH_FOLLOW_LIVE_EVENTS, AUDIT_BENCH_FOLLOW_LIVE_ROUNDS
#                                 the live case per pass [20000, 2]
#   AUDIT_BENCH_FOLLOW_POLL_MS    the follower's pause after an empty read [1]
#   AUDIT_BENCH_FOLLOW_BACKENDS   follow backends [sqlite-wal-full,postgres]
#   CARGO_TARGET_DIR              the "after" build's target dir [target]
#   BEFORE_AFTER_DIR              worktree, "before" target dir and results
#                                 [$CARGO_TARGET_DIR/before-after]
#   BEFORE_AFTER_TARGET_DIR       the "before" build's target dir
#                                 [$BEFORE_AFTER_DIR/target]
#   PGSSLMODE                     [disable]
#   BEFORE_AFTER_KEEP_WORKTREE=1  keep the worktree afterwards
#   BEFORE_AFTER_NAME             the report's copy, target/audit-bench/NAME.md,
#                                 which scripts/bench_report.py reads
#                                 [before-after: section 1b;
#                                 before-after-context: section 1c]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
REV="${1:-71dd48a}"
export AUDIT_TEST_POSTGRES_URL="${AUDIT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# TLS off, as BENCHMARKS.md's PostgreSQL figures are measured (sqlx reads
# PGSSLMODE, default prefer; over TLS on loopback a statement of more than
# one TLS record, 16 KB, as a 100-event append is, waits about 40 ms for a
# delayed ACK, since sqlx does not set TCP_NODELAY).
export PGSSLMODE="${PGSSLMODE:-disable}"

absolute() { case "$1" in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
AFTER_TARGET="$(absolute "${CARGO_TARGET_DIR:-target}")"
BA_DIR="$(absolute "${BEFORE_AFTER_DIR:-$AFTER_TARGET/before-after}")"
WT="$BA_DIR/worktree"
BEFORE_TARGET="$(absolute "${BEFORE_AFTER_TARGET_DIR:-$BA_DIR/target}")"
OUT="$BA_DIR/results"
PASSES="${BEFORE_AFTER_PASSES:-3}"

BEFORE_SHA="$(git rev-parse --verify "$REV^{commit}")"
AFTER_SHA="$(git rev-parse HEAD)"
DIRTY=0
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then DIRTY=1; fi

started=$(date +%s)
elapsed() { local s=$(($(date +%s) - started)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
say() { echo "== [$(elapsed)] $*" >&2; }

# The worktree of REV, fresh; removed at the end unless asked to keep it.
mkdir -p "$BA_DIR"
if [ -e "$WT" ]; then
    git worktree remove --force "$WT" 2>/dev/null || rm -rf "$WT"
fi
git worktree prune
git worktree add --quiet --force --detach "$WT" "$BEFORE_SHA"
cleanup() {
    if [ "${BEFORE_AFTER_KEEP_WORKTREE:-0}" != 1 ]; then
        git -C "$ROOT" worktree remove --force "$WT" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# This checkout's benches in the worktree.
BENCH_FILES=(example-app/benches/follow.rs example-app/benches/overhead.rs)
while IFS= read -r f; do BENCH_FILES+=("$f"); done < <(cd "$ROOT" && find example-app/benches/support -type f | sort)
for f in "${BENCH_FILES[@]}"; do
    mkdir -p "$(dirname "$WT/$f")"
    cp "$ROOT/$f" "$WT/$f"
done
if ! grep -q '^name = "follow"' "$WT/example-app/Cargo.toml"; then
    printf '\n[[bench]]\nname = "follow"\nharness = false\n' >> "$WT/example-app/Cargo.toml"
fi

# Builds both benches in $1 with target dir $2; prints their executables
# (overhead, then follow).
build() {
    local json
    json="$(cd "$1" && CARGO_TARGET_DIR="$2" cargo bench -p example-app --bench overhead --bench follow \
        --no-run --message-format=json-render-diagnostics)" || return 1
    python3 -c '
import json, sys
exes = {}
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
        exes[m["target"]["name"]] = m["executable"]
print(exes["overhead"]); print(exes["follow"])' <<< "$json"
}

OWN_OVERHEAD=0
say "building before ($REV = ${BEFORE_SHA:0:10}) in $WT, target $BEFORE_TARGET"
if ! BEFORE_EXES="$(build "$WT" "$BEFORE_TARGET")"; then
    echo "notice: $REV does not build with this checkout's overhead.rs and benches/support;" >&2
    echo "        building it with its own (follow.rs stays this checkout's)" >&2
    git -C "$WT" checkout -- example-app/benches/overhead.rs example-app/benches/support
    git -C "$WT" clean -fdq -- example-app/benches/support
    OWN_OVERHEAD=1
    BEFORE_EXES="$(build "$WT" "$BEFORE_TARGET")"
fi
say "building after (this checkout, ${AFTER_SHA:0:10}$([ $DIRTY = 1 ] && echo ' + uncommitted changes')), target $AFTER_TARGET"
AFTER_EXES="$(build "$ROOT" "$AFTER_TARGET")"

declare -A EXE DIR
EXE[before-overhead]="$(sed -n 1p <<< "$BEFORE_EXES")"
EXE[before-follow]="$(sed -n 2p <<< "$BEFORE_EXES")"
EXE[after-overhead]="$(sed -n 1p <<< "$AFTER_EXES")"
EXE[after-follow]="$(sed -n 2p <<< "$AFTER_EXES")"
DIR[before]="$WT/example-app"
DIR[after]="$ROOT/example-app"

rm -rf "$OUT"
mkdir -p "$OUT"

# Runs bench $2 of build $1 for pass $3; its stdout and stderr go to a log
# (and stderr, the rounds' progress, to the terminal too).
run() {
    local build=$1 bench=$2 pass=$3
    local log="$OUT/$bench-$build-$pass.log"
    say "pass $pass/$PASSES: $bench, $build"
    if [ "$bench" = overhead ]; then
        (cd "${DIR[$build]}" && env \
            AUDIT_BENCH_ROUNDS="${AUDIT_BENCH_ROUNDS:-3}" \
            AUDIT_BENCH_N="${AUDIT_BENCH_N:-1000}" \
            AUDIT_BENCH_WARMUP="${AUDIT_BENCH_WARMUP:-100}" \
            AUDIT_BENCH_PREWARM="${AUDIT_BENCH_PREWARM:-1}" \
            AUDIT_BENCH_BACKENDS="${AUDIT_BENCH_BACKENDS:-postgres}" \
            AUDIT_BENCH_CASES="${AUDIT_BENCH_CASES:-}" \
            AUDIT_BENCH_OUT="$OUT/overhead-$build-$pass.jsonl" \
            "${EXE[$build-$bench]}") > "$log" 2> >(tee -a "$log.err" >&2)
    else
        (cd "${DIR[$build]}" && env \
            AUDIT_BENCH_FOLLOW_EVENTS="${AUDIT_BENCH_FOLLOW_EVENTS:-200000}" \
            AUDIT_BENCH_FOLLOW_FILL_TASKS="${AUDIT_BENCH_FOLLOW_FILL_TASKS:-4}" \
            AUDIT_BENCH_FOLLOW_BATCH="${AUDIT_BENCH_FOLLOW_BATCH:-1000}" \
            AUDIT_BENCH_FOLLOW_ROUNDS="${AUDIT_BENCH_FOLLOW_ROUNDS:-3}" \
            AUDIT_BENCH_FOLLOW_LIVE_EVENTS="${AUDIT_BENCH_FOLLOW_LIVE_EVENTS:-20000}" \
            AUDIT_BENCH_FOLLOW_LIVE_ROUNDS="${AUDIT_BENCH_FOLLOW_LIVE_ROUNDS:-2}" \
            AUDIT_BENCH_FOLLOW_POLL_MS="${AUDIT_BENCH_FOLLOW_POLL_MS:-1}" \
            AUDIT_BENCH_FOLLOW_BACKENDS="${AUDIT_BENCH_FOLLOW_BACKENDS:-sqlite-wal-full,postgres}" \
            AUDIT_BENCH_FOLLOW_OUT="$OUT/follow-$build-$pass.jsonl" \
            "${EXE[$build-$bench]}") > "$log" 2> >(tee -a "$log.err" >&2)
    fi
}

for pass in $(seq 1 "$PASSES"); do
    if [ $((pass % 2)) = 1 ]; then order=(before after); else order=(after before); fi
    for bench in overhead follow; do
        for build in "${order[@]}"; do
            run "$build" "$bench" "$pass"
        done
    done
done

BA_REV="$REV" BA_BEFORE="$BEFORE_SHA" BA_AFTER="$AFTER_SHA" BA_DIRTY="$DIRTY" BA_PASSES="$PASSES" \
    BA_OWN_OVERHEAD="$OWN_OVERHEAD" BA_SECONDS="$(($(date +%s) - started))" \
    BA_BEFORE_SUBJECT="$(git log -1 --format=%s "$BEFORE_SHA")" \
    BA_AFTER_SUBJECT="$(git log -1 --format=%s "$AFTER_SHA")" \
    python3 -c '
import json, os, sys
e = os.environ
json.dump({"rev": e["BA_REV"], "before": e["BA_BEFORE"], "after": e["BA_AFTER"],
           "after_dirty": e["BA_DIRTY"] == "1", "before_subject": e["BA_BEFORE_SUBJECT"],
           "after_subject": e["BA_AFTER_SUBJECT"], "passes": int(e["BA_PASSES"]),
           "before_own_overhead": e["BA_OWN_OVERHEAD"] == "1", "seconds": int(e["BA_SECONDS"])},
          open(sys.argv[1], "w"), indent=1)' "$OUT/meta.json"
say "done; report:"
python3 scripts/before_after_report.py "$OUT" | tee "$OUT/report.md"
# Where scripts/bench_report.py takes it from (BENCHMARKS.md section 1b or 1c).
mkdir -p target/audit-bench
cp "$OUT/report.md" "target/audit-bench/${BEFORE_AFTER_NAME:-before-after}.md"
