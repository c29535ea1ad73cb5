#!/usr/bin/env python3
"""Where an append's time goes in the database: the events table's indexes.

The INSERT the library sends for one command of 100 events (SQLite: one
multi-row VALUES with positional parameters; PostgreSQL: one JSON array
expanded by `jsonb_array_elements`), committed, timed against copies of the
events table with fewer indexes: all of them, each secondary index left out
in turn, and none but the primary key. Two kinds of rows: `one key`, every
row about the same project by the same actor (section 2's append bench),
and `random keys`, rows about random projects and users by random actors
(the scale bench's loader), whose index entries land on different pages.

SQLite runs through Python's `sqlite3` (WAL, `synchronous` FULL, as in
section 2), on the table as the library makes it (its schema is read from
the scale bench's database). PostgreSQL runs through `pgbench` (one
connection, the statement prepared and its JSON bound as the library binds
it, autocommit: the INSERT then COMMIT), in a database of its own holding
copies of the scale bench's table. Each table starts empty; PostgreSQL
checkpoints first, so that writing back what earlier benches left does not
land in the figures. Rounds rotate the variants; a variant's figure is the
median of its rounds' figures (SQLite: the median transaction of the
round; PostgreSQL: pgbench's average latency).

Writes `target/audit-bench/index-cost.json`, which `scripts/bench_report.py`
reads. Needs the scale bench's databases (`cargo bench -p example-app
--bench scale` makes them); PostgreSQL needs `psql`, `pgbench` and
AUDIT_TEST_POSTGRES_URL.
"""

import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SCALE_SQLITE = os.path.join(ROOT, "target/audit-scale/scale-1000000.db")
SCALE_POSTGRES = "audit_scale_1000000"
OUT = os.path.join(ROOT, "target/audit-bench/index-cost.json")
DATABASE = "audit_index_cost"
ROWS = 100
ROUNDS = int(os.environ.get("INDEX_COST_ROUNDS", "7"))
SQLITE_COMMANDS = 40
PGBENCH_SECONDS = 2
COLUMNS = ["occurred_at", "event_type", "payload_version", "actor_kind", "actor_id", "actor_name",
           "target_kind", "target_id", "parent_kind", "parent_id", "subject_kind", "subject_id",
           "command_name", "command_id", "payload"]


def rows(same_key, seed):
    """One command's rows: member-role events, as the scale loader writes them."""
    rng = random.Random(seed)
    command = f"{rng.getrandbits(64):016x}"
    actor = 3 if same_key else rng.randrange(10_000)
    out = []
    for i in range(ROWS):
        project = 7 if same_key else rng.randrange(1_000)
        user = 3 if same_key else rng.randrange(10_000)
        membership = 9 if same_key else rng.randrange(1 << 40)
        payload = json.dumps({"membership": membership,
                              "project": {"id": project, "name": f"project-{project}"},
                              "user": {"id": user, "username": f"user-{user}"},
                              "before": [], "after": ["ProjectDeveloper"]})
        out.append([1_764_800_000_000_000 + i, "project_member_updated_roles", 1, "user", str(actor),
                    f"user-{actor}", "membership", str(membership), "project", str(project), "user",
                    str(user), "load", command, payload])
    return out


WORKLOADS = {"one key": True, "random keys": False}


def secondary_indexes(names):
    return [n for n in names if n.startswith("audit_events_by_")]


def index_variants(indexes):
    """The tables compared: each variant's name and the secondary indexes it leaves out."""
    variants = {"all": set()}
    variants.update({f"without {name}": {name} for name in indexes})
    variants["primary key only"] = set(indexes)
    return variants


def rotated(order, round_):
    """`order` rotated by `round_`, so that each variant goes first in turn."""
    shift = round_ % len(order)
    return order[shift:] + order[:shift]


def sqlite_profile():
    """µs per 100-row transaction for each variant and workload, on SQLite."""
    source = sqlite3.connect(f"file:{SCALE_SQLITE}?mode=ro", uri=True)
    schema = [(name, kind, sql) for name, kind, sql in source.execute(
        "SELECT name, type, sql FROM sqlite_master WHERE tbl_name = 'audit_events' AND sql IS NOT NULL")]
    indexes = secondary_indexes([name for name, kind, _ in schema if kind == "index"])
    variants = index_variants(indexes)
    placeholders = ", ".join(["(" + ", ".join(["?"] * len(COLUMNS)) + ")"] * ROWS)
    insert = f"INSERT INTO audit_events ({', '.join(COLUMNS)}) VALUES {placeholders}"
    work = tempfile.mkdtemp(prefix="audit-index-cost-")
    result = {}
    try:
        for workload, same_key in WORKLOADS.items():
            connections = {}
            for variant, left_out in variants.items():
                path = os.path.join(work, f"{len(connections)}-{same_key}.db")
                conn = sqlite3.connect(path, isolation_level=None)
                conn.execute("PRAGMA journal_mode = wal")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("CREATE TABLE audit_retention_permit (granted INTEGER NOT NULL)")
                for name, _, sql in schema:
                    if name not in left_out:
                        conn.execute(sql)
                connections[variant] = conn
            figures = {variant: [] for variant in variants}
            seed = 0
            for round_ in range(ROUNDS):
                for variant in rotated(list(variants), round_):
                    conn, times = connections[variant], []
                    for _ in range(SQLITE_COMMANDS):
                        seed += 1
                        values = [v for row in rows(same_key, seed) for v in row]
                        start = time.perf_counter()
                        conn.execute("BEGIN IMMEDIATE")
                        conn.execute(insert, values)
                        conn.execute("COMMIT")
                        times.append((time.perf_counter() - start) * 1e6)
                    figures[variant].append(statistics.median(times))
            for conn in connections.values():
                conn.close()
            result[workload] = {v: statistics.median(f) for v, f in figures.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def psql(url, sql, database=None):
    target = url if database is None else url.rsplit("/", 1)[0] + "/" + database
    return subprocess.run(["psql", target, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                          capture_output=True, text=True).stdout


def postgres_insert(table):
    """The library's PostgreSQL INSERT (`store/append.rs`), its JSON array the pgbench
    variable `rows` (bound as a parameter with `-M prepared`)."""
    values = []
    for i, name in enumerate(COLUMNS):
        if name in ("occurred_at", "payload_version"):
            values.append(f"(r ->> {i})::int8")
        elif name == "payload":
            values.append(f"(r ->> {i})::jsonb")
        else:
            values.append(f"r ->> {i}")
    return (f"INSERT INTO {table} ({', '.join(COLUMNS)}) SELECT {', '.join(values)} "
            f"FROM jsonb_array_elements(:rows::jsonb) WITH ORDINALITY AS e(r, n) "
            f"ORDER BY n;\n")


def postgres_profile(url):
    """µs per 100-row INSERT and COMMIT for each variant and workload, on PostgreSQL."""
    indexes = secondary_indexes(psql(url, "SELECT indexrelid::regclass FROM pg_index "
                                     "WHERE indrelid = 'audit_events'::regclass", SCALE_POSTGRES).split())
    definitions = dict(line.split("|", 1) for line in psql(
        url, "SELECT indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = 'audit_events'::regclass", SCALE_POSTGRES).splitlines())
    table = psql(url, "SELECT format('CREATE TABLE %I (%s)', 'audit_events', string_agg(format('%I %s%s%s', "
                 "attname, format_type(atttypid, atttypmod), CASE WHEN attnotnull THEN ' NOT NULL' ELSE '' END, "
                 "CASE WHEN attidentity = 'a' THEN ' GENERATED ALWAYS AS IDENTITY PRIMARY KEY' "
                 "WHEN atthasdef THEN ' DEFAULT ' || pg_get_expr(adbin, adrelid) ELSE '' END), ', ' "
                 "ORDER BY attnum)) FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND "
                 "adnum = attnum WHERE attrelid = 'audit_events'::regclass AND attnum > 0 AND NOT attisdropped",
                 SCALE_POSTGRES).strip()
    for check in psql(url, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                      "WHERE conrelid = 'audit_events'::regclass AND contype = 'c'", SCALE_POSTGRES).splitlines():
        table = table[:-1] + f", {check})"
    psql(url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(url, f"CREATE DATABASE {DATABASE}")
    variants = index_variants(indexes)
    work = tempfile.mkdtemp(prefix="audit-index-cost-")
    base = url.rsplit("/", 1)[0] + "/" + DATABASE
    result = {}
    try:
        tables = {}
        for number, (variant, left_out) in enumerate(variants.items()):
            name = f"events_{number}"
            ddl = [table.replace("CREATE TABLE audit_events", f"CREATE TABLE {name}", 1)]
            for index in indexes:
                if index not in left_out:
                    ddl.append(re.sub(r"INDEX \S+ ON public\.audit_events", f"INDEX ON {name}",
                                      definitions[index]))
            psql(url, "; ".join(ddl), DATABASE)
            tables[variant] = name
        psql(url, "CHECKPOINT")
        for workload, same_key in WORKLOADS.items():
            figures = {variant: [] for variant in variants}
            for round_ in range(ROUNDS):
                for variant in rotated(list(variants), round_):
                    script = os.path.join(work, f"{tables[variant]}.sql")
                    with open(script, "w") as f:
                        f.write(postgres_insert(tables[variant]))
                    bound = json.dumps(rows(same_key, round_))
                    out = subprocess.run(["pgbench", "-n", "-c1", "-M", "prepared", "-T", str(PGBENCH_SECONDS),
                                          "-D", f"rows={bound}", "-f", script, base],
                                         check=True, capture_output=True, text=True).stdout
                    latency = re.search(r"latency average = ([0-9.]+) ms", out)
                    figures[variant].append(float(latency.group(1)) * 1000)
            result[workload] = {v: statistics.median(f) for v, f in figures.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
        psql(url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    return result


def main():
    out = {"rows_per_command": ROWS, "rounds": ROUNDS, "backends": {}}
    url = os.environ.get("AUDIT_TEST_POSTGRES_URL")
    postgres = bool(url and shutil.which("psql") and shutil.which("pgbench"))
    if postgres:
        # What earlier benches left in PostgreSQL's buffers is written back
        # now, not while SQLite syncs to the same disk.
        psql(url, "CHECKPOINT")
    if os.path.exists(SCALE_SQLITE):
        out["backends"]["sqlite"] = sqlite_profile()
    else:
        print(f"notice: {SCALE_SQLITE} not found (run the scale bench first); SQLite skipped")
    if postgres:
        out["backends"]["postgres"] = postgres_profile(url)
    else:
        print("notice: AUDIT_TEST_POSTGRES_URL, psql or pgbench missing; PostgreSQL skipped")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
    for backend, workloads in out["backends"].items():
        for workload, variants in workloads.items():
            for variant, us in variants.items():
                print(f"{backend:8} {workload:11} {variant:40} {us:8.0f} µs  {ROWS / us * 1e6:9,.0f} events/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
