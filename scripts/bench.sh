#!/usr/bin/env bash
# Runs the benchmarks and rewrites the table in BENCHMARKS.md from their results.
# PostgreSQL figures need AUDIT_TEST_POSTGRES_URL (defaults to the local server).
set -euo pipefail
cd "$(dirname "$0")/.."
export AUDIT_TEST_POSTGRES_URL="${AUDIT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

cmd="cargo bench -p example-app --bench overhead"
# `--report-only` rewrites BENCHMARKS.md from the last run's results.
if [ "${1:-}" != "--report-only" ]; then
    echo "== $cmd"
    $cmd
fi

python3 - "$cmd" <<'PY'
import json, os, platform, subprocess, sys, datetime
cmd = sys.argv[1]
root = "target/criterion"
rows = []
for backend in ["sqlite-wal-full", "sqlite-wal-normal", "postgres"]:
    for tasks in [1, 8]:
        def median(variant):
            path = f"{root}/add_member_{backend}/{variant}_{tasks}-tasks/new/estimates.json"
            if not os.path.exists(path):
                return None
            with open(path) as f:
                return json.load(f)["median"]["point_estimate"] / 1000.0  # µs
        plain, audited = median("plain"), median("audited")
        if plain is None or audited is None:
            continue
        rows.append((backend, tasks, plain, audited, audited - plain, audited / plain))

cpu = "unknown"
try:
    with open("/proc/cpuinfo") as f:
        cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
except (OSError, StopIteration):
    pass
cores = os.cpu_count()
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()

table = ["| backend | tasks | plain µs/change | audited µs/change | added µs | ratio |",
         "|---|---:|---:|---:|---:|---:|"]
for b, t, p, a, d, r in rows:
    table.append(f"| {b} | {t} | {p:.1f} | {a:.1f} | {d:+.1f} | {r:.2f}x |")

text = f"""# Benchmarks

Figures from one run of `scripts/bench.sh`, which ran:

    {cmd}

Machine: {cpu}, {cores} cores, {platform.system()} {platform.release()}; {rustc};
{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. The machine is shared and
noisy: read the ratios (both variants measured in the same run, interleaved by
backend), not the absolute times. Each figure is criterion's median.

## Per-command overhead: add a membership

The same change, adding a membership with one role, as the audited command
`add_member` (which also writes two events: member added, roles set) and as a
plain transaction that writes no event. Per change; with 8 tasks, the time
per change across all tasks (SQLite serializes writers, so 8 tasks measure
contention, not parallelism). PostgreSQL runs without the memberships
immutability trigger in both variants (the plain variant would be refused by
it), so the figure is the cost of the events alone.

{chr(10).join(table)}

Target: at most 1.15x on PostgreSQL and on SQLite WAL + FULL. **Missed** in
the run above. What we know so far: the plain variant is three statements
(BEGIN, INSERT, COMMIT) and the audited one four (the transaction's events go
in one multi-row INSERT at commit). On PostgreSQL, `EXPLAIN ANALYZE` of that
2-row event INSERT into an 80,000-event table, measured by hand with psql,
takes about 0.07-0.09 ms on the server once its caches are warm (0.66 ms for
the first statement of a new session). The measured extra per change is
several times that, so most of it is spent outside the server's execution:
the extra round trip and the driver (sqlx runs each SQLite connection on a
worker thread; per-statement overhead is known to be high). On SQLite the
indexes matter too: with Python's `sqlite3` (little driver overhead), WAL and
`synchronous = NORMAL`, a transaction holding one 2-row event INSERT took
207 µs with the events table's seven indexes and 75 µs without them (an
empty transaction: 10 µs), because every index adds pages that each commit
writes to the WAL. Next steps: fewer indexes (the command-id index is not
used by any page query yet), a client-side profile of one audited commit,
and folding the event INSERT into a round trip the command already makes.

## Not measured yet

Append throughput, queries at scale (1,000,000 events), rendering with
batched versus per-event lookups, and compile time of the macros are not
benchmarked yet.
"""
with open("BENCHMARKS.md", "w") as f:
    f.write(text)
print("\n".join(table))
PY
