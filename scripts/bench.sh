#!/usr/bin/env bash
# Runs every benchmark and rewrites BENCHMARKS.md from their results.
# PostgreSQL figures need AUDIT_TEST_POSTGRES_URL (defaults to the local server).
# `--report-only` rewrites BENCHMARKS.md from the last run's results.
set -euo pipefail
cd "$(dirname "$0")/.."
export AUDIT_TEST_POSTGRES_URL="${AUDIT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

benches=(overhead append render scale seal)
if [ "${1:-}" != "--report-only" ]; then
    for bench in "${benches[@]}"; do
        echo "== cargo bench -p example-app --bench $bench"
        cargo bench -p example-app --bench "$bench"
    done
    echo "== python3 scripts/compile_bench.py"
    python3 scripts/compile_bench.py
fi

python3 scripts/bench_report.py
