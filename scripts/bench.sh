#!/usr/bin/env bash
# Runs every benchmark and rewrites BENCHMARKS.md from their results.
#
# Order: the overhead bench, then the peers' benchmark right after it
# (../shared/peers/django: django-auditlog and django-pghistory doing the same
# work), then the other benches, the indexes' share of an append
# (scripts/index_cost.py) and the compile-time script, then the report.
#
# PostgreSQL figures need AUDIT_TEST_POSTGRES_URL (defaults to the local server).
# Options:
#   --report-only     rewrite BENCHMARKS.md from the last run's results
#   --overhead-only   run only the overhead bench and the peers' bench, then the report
# Environment:
#   AUDIT_BENCH_ROUNDS, AUDIT_BENCH_N, AUDIT_BENCH_WARMUP, AUDIT_BENCH_PREWARM
#                     the overhead bench's protocol (see example-app/benches/overhead.rs)
#   PEERS_DIR         the peers' benchmark (default ../shared/peers/django)
#   PEER_PYTHON       a Python with django, django-auditlog, django-pghistory and
#                     psycopg (default target/peer-venv/bin/python, else python3)
#   PEER_BENCH_ARGS   extra arguments for the peers' bench.py (e.g. "--n 200")
#   BENCH_REPORT_OUT  where the report goes (default BENCHMARKS.md)
#   BEFORE_AFTER_REV  also run scripts/before_after.sh against this revision (section 1b)
#   AUDIT_SCALE_BIG   the size of the PostgreSQL-only scale run after the
#                     1,000,000-event one (default 10000000; 0 skips it; the
#                     first run loads it, which takes minutes, and keeps it)
set -euo pipefail
cd "$(dirname "$0")/.."
export AUDIT_TEST_POSTGRES_URL="${AUDIT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PEERS_DIR="${PEERS_DIR:-../shared/peers/django}"
PEER_OUT=target/peer-bench
BIG="${AUDIT_SCALE_BIG:-10000000}"

# The peers' benchmark, as its README runs it; skipped with a notice when
# Python or its packages are missing.
peers() {
    rm -rf "$PEER_OUT"
    mkdir -p "$PEER_OUT"
    if [ ! -f "$PEERS_DIR/bench.py" ]; then
        echo "notice: $PEERS_DIR/bench.py not found; the peers' benchmark is skipped"
        return 0
    fi
    local py="${PEER_PYTHON:-}"
    if [ -z "$py" ]; then
        if [ -x target/peer-venv/bin/python ]; then py=target/peer-venv/bin/python; else py=python3; fi
    fi
    if ! command -v "$py" >/dev/null 2>&1; then
        echo "notice: no Python ($py); the peers' benchmark is skipped"
        return 0
    fi
    if ! "$py" -c "import django, auditlog, pghistory, psycopg" 2>/dev/null; then
        echo "notice: $py lacks django, django-auditlog, django-pghistory or psycopg; the peers'"
        echo "        benchmark is skipped. To set it up (see $PEERS_DIR/README.md):"
        echo "        python3 -m venv target/peer-venv && target/peer-venv/bin/pip install \\"
        echo "            django django-auditlog django-pghistory 'psycopg[binary]'"
        return 0
    fi
    local backends=(sqlite-wal)
    if command -v psql >/dev/null 2>&1 && psql "$AUDIT_TEST_POSTGRES_URL" -Atc "SELECT 1" >/dev/null 2>&1; then
        # The role and database the peers' README creates, once.
        if [ "$(psql "$AUDIT_TEST_POSTGRES_URL" -Atc "SELECT 1 FROM pg_roles WHERE rolname = 'peer_bench'")" != 1 ]; then
            psql "$AUDIT_TEST_POSTGRES_URL" -qc "CREATE ROLE peer_bench LOGIN PASSWORD 'peer_bench'"
        fi
        if [ "$(psql "$AUDIT_TEST_POSTGRES_URL" -Atc "SELECT 1 FROM pg_database WHERE datname = 'peer_bench'")" != 1 ]; then
            psql "$AUDIT_TEST_POSTGRES_URL" -qc "CREATE DATABASE peer_bench OWNER peer_bench"
        fi
        backends=(postgres sqlite-wal)
    else
        echo "notice: PostgreSQL (psql to \$AUDIT_TEST_POSTGRES_URL) unavailable; the peers' PostgreSQL run is skipped"
    fi
    local b
    for b in "${backends[@]}"; do
        # shellcheck disable=SC2086 # PEER_BENCH_ARGS is a list of arguments
        local cmd=("$py" "$PEERS_DIR/bench.py" --backend "$b" --out "$PEER_OUT/$b.json" ${PEER_BENCH_ARGS:-})
        echo "== ${cmd[*]}"
        echo "${cmd[*]}" > "$PEER_OUT/$b.cmd"
        "${cmd[@]}" 2>&1 | tee "$PEER_OUT/$b.log"
    done
}

overhead() {
    local cmd="cargo bench -p example-app --bench overhead"
    local settings="AUDIT_BENCH_ROUNDS=${AUDIT_BENCH_ROUNDS:-9} AUDIT_BENCH_N=${AUDIT_BENCH_N:-1000}"
    settings+=" AUDIT_BENCH_WARMUP=${AUDIT_BENCH_WARMUP:-100} AUDIT_BENCH_PREWARM=${AUDIT_BENCH_PREWARM:-1}"
    echo "== $settings $cmd"
    env $settings $cmd
}

case "${1:-}" in
    --report-only) ;;
    --overhead-only)
        overhead
        peers
        ;;
    *)
        overhead
        peers
        for bench in append render scale; do
            echo "== cargo bench -p example-app --bench $bench"
            cargo bench -p example-app --bench "$bench"
        done
        if [ "$BIG" != 0 ]; then
            echo "== AUDIT_SCALE_EVENTS=$BIG AUDIT_SCALE_BACKENDS=postgres cargo bench -p example-app --bench scale"
            AUDIT_SCALE_EVENTS=$BIG AUDIT_SCALE_BACKENDS=postgres cargo bench -p example-app --bench scale
        fi
        # The database's share of an append (reads the scale bench's schemas).
        echo "== python3 scripts/index_cost.py"
        python3 scripts/index_cost.py
        echo "== python3 scripts/own_records_cost.py"
        python3 scripts/own_records_cost.py
        # Section 1b: the release before against this checkout, when asked.
        if [ -n "${BEFORE_AFTER_REV:-}" ]; then
            echo "== scripts/before_after.sh $BEFORE_AFTER_REV"
            scripts/before_after.sh "$BEFORE_AFTER_REV"
        fi
        echo "== cargo bench -p example-app --bench seal"
        cargo bench -p example-app --bench seal
        echo "== python3 scripts/compile_bench.py"
        python3 scripts/compile_bench.py
        ;;
esac

python3 scripts/bench_report.py --out "${BENCH_REPORT_OUT:-BENCHMARKS.md}"
