#!/usr/bin/env python3
"""What refusing forged `audit:` records costs an append, on PostgreSQL.

Schema version 6 puts a statement trigger on the events table
(`audit_events_own_records`, `AFTER INSERT ... REFERENCING NEW TABLE`) that
refuses rows whose code starts with `audit:` from any role but the owner:
one PL/pgSQL call per INSERT statement, reading that statement's rows. This
times the library's INSERT of one command of 100 events (the statement of
`scripts/index_cost.py`), committed, on the events table `migrate` makes,
with the trigger enabled and disabled in rotating rounds; the figure of a
variant is the median of its rounds' pgbench average latencies.

Usage: AUDIT_TEST_POSTGRES_URL=postgres://... python3 scripts/own_records_cost.py
(builds and runs the example app's `migrate` on a database of its own, then
drops it). Writes target/audit-bench/own-records-cost.json, which
`scripts/bench_report.py` reads.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from index_cost import WORKLOADS, psql, postgres_insert, rotated, rows  # noqa: E402

DATABASE = "audit_own_records_cost"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "target/audit-bench/own-records-cost.json")
ROUNDS = int(os.environ.get("OWN_RECORDS_ROUNDS", "9"))
SECONDS = 3
VARIANTS = {"trigger enabled": "ENABLE", "trigger disabled": "DISABLE"}


def main():
    url = os.environ.get("AUDIT_TEST_POSTGRES_URL")
    if not url:
        sys.exit("AUDIT_TEST_POSTGRES_URL is not set")
    base = url.rsplit("/", 1)[0] + "/" + DATABASE
    psql(url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(url, f"CREATE DATABASE {DATABASE}")
    try:
        subprocess.run(["cargo", "run", "-q", "-p", "example-app", "--", "--database-url", base,
                        "migrate"], check=True, capture_output=True)
        script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
        script.write(postgres_insert("audit_events"))
        script.close()
        psql(url, "CHECKPOINT")
        result = {}
        for workload, same_key in WORKLOADS.items():
            figures = {variant: [] for variant in VARIANTS}
            for round_ in range(ROUNDS):
                for variant in rotated(list(VARIANTS), round_):
                    psql(url, f"ALTER TABLE audit_events {VARIANTS[variant]} TRIGGER "
                         "audit_events_own_records", DATABASE)
                    bound = json.dumps(rows(same_key, round_))
                    out = subprocess.run(["pgbench", "-n", "-c1", "-M", "prepared", "-T", str(SECONDS),
                                          "-D", f"rows={bound}", "-f", script.name, base],
                                         check=True, capture_output=True, text=True).stdout
                    latency = re.search(r"latency average = ([0-9.]+) ms", out)
                    figures[variant].append(float(latency.group(1)) * 1000)
            result[workload] = {v: statistics.median(f) for v, f in figures.items()}
        os.unlink(script.name)
    finally:
        psql(url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"rows_per_command": 100, "rounds": ROUNDS, "workloads": result}, f, indent=2)
    print("| workload | trigger enabled: µs | trigger disabled: µs | enabled / disabled |")
    print("|---|---:|---:|---:|")
    for workload, figures in result.items():
        on, off = figures["trigger enabled"], figures["trigger disabled"]
        print(f"| {workload} | {on:.0f} | {off:.0f} | {on / off:.3f} |")


if __name__ == "__main__":
    main()
