"""Writes BENCHMARKS.md from the benches' results: criterion's in target/criterion, the
overhead bench's in target/audit-bench, the peers' in target/peer-bench."""
import argparse
import datetime
import json
import os
import platform
import subprocess

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", default="BENCHMARKS.md", help="where to write the report")
args = parser.parse_args()
PEERS_DIR = os.environ.get("PEERS_DIR", "../shared/peers/django")

ROOT = "target/criterion"


def median(group, bench):
    """Criterion's median for one benchmark, in microseconds, or None."""
    path = f"{ROOT}/{group.replace('/', '_')}/{bench.replace('/', '_')}/new/estimates.json"
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"] / 1000.0


def elements(group, bench):
    """The number of elements criterion's throughput counts for one benchmark, or None."""
    path = f"{ROOT}/{group.replace('/', '_')}/{bench.replace('/', '_')}/new/benchmark.json"
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return (json.load(f).get("throughput") or {}).get("Elements")


def table(header, rows, left=1):
    """A Markdown table; the first `left` columns are text, the rest right-aligned."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def run_finished():
    """When the run's last result was written (so that `--report-only` keeps the run's time)."""
    paths = [os.path.join(folder, name) for top in [ROOT, "target/audit-bench", "target/peer-bench"]
             for folder, _, files in os.walk(top) for name in files]
    paths.append("target/compile-bench/results.json")
    newest = max((os.path.getmtime(p) for p in paths if os.path.exists(p)), default=0.0)
    when = datetime.datetime.fromtimestamp(newest, datetime.timezone.utc) if newest else \
        datetime.datetime.now(datetime.timezone.utc)
    return when.strftime('%Y-%m-%d %H:%M UTC')


def verdict(ok):
    return "met" if ok else "**missed**"


def cmd(bench):
    return f"cargo bench -p example-app --bench {bench}"


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; {rustc}"


sections = []

# 1. Overhead, and the peers in the same run
OVERHEAD = "target/audit-bench/overhead.jsonl"
PEERS = "target/peer-bench"
LABELS = {"sqlite-wal-full": "SQLite WAL + FULL", "sqlite-wal-normal": "SQLite WAL + NORMAL",
          "postgres": "PostgreSQL", "sqlite-wal": "SQLite WAL + FULL", "sqlite": "SQLite rollback journal"}


def ratio_text(r):
    return f"{r['median']:.2f}× [{r['min']:.2f}–{r['max']:.2f}]"


ours = []
if os.path.exists(OVERHEAD):
    with open(OVERHEAD) as f:
        ours = [json.loads(l) for l in f if l.strip()]
rows = []
for o in ours:
    base = o["variant"] == "plain"
    rows.append([LABELS.get(o["backend"], o["backend"]), o["case"], str(o["tasks"]), o["variant"],
                 f"{o['median_us']:.0f}", "1 (baseline)" if base else ratio_text(o["ratio"]),
                 "—" if base else f"{o['added_us']:+.0f}"])
if ours:
    o = ours[0]
    overhead_cmd = (f"AUDIT_BENCH_ROUNDS={o['rounds']} AUDIT_BENCH_N={o['n']} AUDIT_BENCH_WARMUP={o['warmup']} "
                    f"AUDIT_BENCH_PREWARM={o['prewarm']} {cmd('overhead')}")
    conditions = sorted({(LABELS.get(o["backend"], o["backend"]), o["conditions"]) for o in ours})
else:
    overhead_cmd, conditions = cmd("overhead"), []

# Goals of issue 18, on both cases: audited/plain at most 1.3x on PostgreSQL
# (1 and 8 tasks) and 1.15x on SQLite WAL + FULL.
limits = {"postgres": 1.3, "sqlite-wal-full": 1.15}
goal_rows = [o for o in ours if o["variant"] == "audited" and o["backend"] in limits]
missed = [f"{o['backend']} {o['case']} {o['tasks']} task(s) {o['ratio']['median']:.2f}×"
          for o in goal_rows if o["ratio"]["median"] > limits[o["backend"]]]

# The peers' results (bench.py --out), and the like-for-like rows of ours.
peer_rows, peer_cmds = [], []
for b in ["postgres", "sqlite-wal"]:
    path = f"{PEERS}/{b}.json"
    if not os.path.exists(path):
        continue
    with open(path) as f:
        d = json.load(f)
    if os.path.exists(f"{PEERS}/{b}.cmd"):
        with open(f"{PEERS}/{b}.cmd") as f:
            peer_cmds.append(f.read().strip())
    v = d.get("versions", {})
    if b == "postgres":
        cond = (f"synchronous_commit={v.get('pg.synchronous_commit', '?')}, "
                f"TLS {'on' if v.get('pg.connection_ssl') else 'off'}")
    else:
        cond = f"journal_mode={v.get('sqlite.journal_mode', '?')}, synchronous={v.get('sqlite.synchronous', '?')}"
    plain = d["summary"]["plain"]["median_us"]
    for name, s in d["summary"].items():
        if name == "plain":
            continue
        peer_rows.append((b, [LABELS[b], f"django-{name}", "1", f"{plain:.0f}", f"{s['median_us']:.0f}",
                              f"{s['median_us'] - plain:+.0f}", ratio_text(s["ratio_median"]), cond]))
side = []
for backend in ["postgres", "sqlite-wal-full"]:
    for o in ours:
        if o["backend"] == backend and o["case"] == "insert-then-update" and o["variant"] == "audited":
            plain = o["median_us"] - o["added_us"]
            side.append([LABELS[backend], "ours", str(o["tasks"]), f"{plain:.0f}", f"{o['median_us']:.0f}",
                         f"{o['added_us']:+.0f}", ratio_text(o["ratio"]), o["conditions"]])
    side += [r for b, r in peer_rows if LABELS[b] == LABELS[backend]]

overhead_table = table(["backend", "case", "tasks", "variant", "median µs", "ratio to plain, median [min–max]",
                        "added µs"], rows, left=4) if rows else "(no results: run the overhead bench)"
side_table = table(["backend", "library", "tasks", "plain µs", "audited µs", "added µs",
                    "audited/plain, median [min–max]", "conditions"], side, left=2) if side else \
    "(no results: run `scripts/bench.sh`)"
peer_cmd_text = "\n".join(f"- `{c}`" for c in peer_cmds) if peer_cmds else \
    "(the peers' benchmark did not run: see `scripts/bench.sh`'s notice)"
sections.append(f"""## 1. Per-command overhead

`{overhead_cmd}`

Two cases. `add-member`: adding a membership with one role, three ways:
`plain`, a transaction running the SQL the command `add_member` runs (its
check that the user is not a member yet, then the INSERT) and writing no
event; `hand`, the same transaction
plus the two event rows `add_member` writes (member added, roles set), as
one hand-written multi-row INSERT with no library code; `audited`, the
command `add_member` through the library. `insert-then-update`: the peers'
workload, a membership inserted and then its roles updated in one
transaction (the model's INSERT and UPDATE; two events when audited),
`plain` against `audited`.

Protocol: one untimed prewarm pass per variant, then rounds; each round
runs every variant once, the order rotated by one each round, and each
variant's block is untimed warm-up changes followed by the timed ones. A
round's figure for a variant is, with 1 task, the median of its changes'
times (each transaction timed on its own, as the peers' bench does) and,
with 8 tasks, the block's wall time divided by its changes (the time per
change across all tasks; SQLite serializes writers, so 8 tasks measure
contention, not parallelism). `median µs` is the pooled median of every
timed change (1 task) or the median of the rounds' figures (8 tasks); the
ratio to `plain` is computed in each round from that round's figures and
given as median [min–max] over the rounds; `added µs` is the variant's
median minus `plain`'s. PostgreSQL runs without the memberships
immutability trigger in every variant (the plain variant would be refused
by it), so the figure is the events' cost alone. Per-round figures are in
`{OVERHEAD}`.

{overhead_table}

Conditions: {"; ".join(f"{label}: {c}" for label, c in conditions) or "(none recorded)"}.

Goals (issue 18): audited/plain at most 1.3× on PostgreSQL (1 and 8 tasks)
and 1.15× on SQLite WAL + FULL: {verdict(bool(goal_rows) and not missed)}{"" if not missed else " (" + ", ".join(missed) + ")"}.

### Side by side with the peers, same run

`{overhead_cmd}`, then right after it:

{peer_cmd_text}

The same transaction everywhere: insert a membership, then update its
roles, two audited records. Ours is the `insert-then-update` case above;
the peers' rows are django-auditlog (audit rows written by the ORM) and
django-pghistory (triggers, PostgreSQL only) from `{PEERS_DIR}/bench.py`,
one connection, same protocol (rotating rounds, warm-up per block, median
of each transaction's time, per-round ratio). What differs: the peers'
PostgreSQL connection uses TLS on loopback (libpq's `sslmode=prefer`; a
round trip about 20 µs slower than without), ours does not (sqlx is built
without TLS); Django's tables have only their primary key and a
`created_at` column, ours has the unique (project, user) constraint and
foreign keys; durability is the same (PostgreSQL's defaults with
`synchronous_commit=on`; SQLite WAL with `synchronous` FULL), as each row's
conditions show. The peers' 8-task figures do not exist (their bench is
single-threaded).

{side_table}""")

# 1b. Before and after a change (scripts/before_after.sh)
BEFORE_AFTER = "target/audit-bench/before-after.md"
if os.path.exists(BEFORE_AFTER):
    with open(BEFORE_AFTER) as f:
        # Its own title dropped, its sections one level below this one.
        report = "\n".join(
            "####" + line[2:] if line.startswith("## ") else line
            for line in f.read().strip().splitlines()
            if not line.startswith("# ")
        ).strip()
    sections.append(f"""### 1b. Commit order on PostgreSQL: the release before and this one, same run

`AUDIT_TEST_POSTGRES_URL=... scripts/before_after.sh 71dd48a`

Positions in commit order (schema version 7) serialize commits of events:
each transaction takes the commit clock when its events' INSERT ends and
holds it through COMMIT (its WAL flush included), so such commits no
longer share a flush; reads in position order join each transaction's
place (ARCHITECTURE, "Commit order on PostgreSQL: why a clock"). With 1
task the difference is the trigger and the place's row; with 8 it is
mostly the flushes taken one at a time, the ceiling the clock sets. The library at 71dd48a (the release before,
positions by transaction id below a horizon) and this checkout, both built
in one run, run the same bench files alternately: the overhead bench of
section 1 on PostgreSQL (TLS off), and the follower's throughput
(`example-app/benches/follow.rs`): a log of 200,000 events written as
100-event commands by 4 tasks, read whole from the start with
`read_after(position, 1000)` (*catch-up*), and a follower tailing a log
that one task writes to without pause (*live*: its rate is bounded by the
writer's; the lag is from a commit's return to the follower's read of its
last event). Each pass runs each bench on one build, then the other; the
build that goes first alternates. Medians [min–max] over the pooled
rounds; after/before is the ratio of the builds' medians (and each pass's
in brackets).

{report}""")

# 1c. Who and from where (schema version 8): the release before and this one
BEFORE_AFTER_CONTEXT = "target/audit-bench/before-after-context.md"
if os.path.exists(BEFORE_AFTER_CONTEXT):
    with open(BEFORE_AFTER_CONTEXT) as f:
        report = "\n".join(
            "####" + line[2:] if line.startswith("## ") else line
            for line in f.read().strip().splitlines()
            if not line.startswith("# ")
        ).strip()
    sections.append(f"""### 1c. Who and from where: the release before and this one, same run

`BEFORE_AFTER_NAME=before-after-context AUDIT_BENCH_BACKENDS=postgres,sqlite-wal-full BEFORE_AFTER_ALL_BACKENDS=1 AUDIT_TEST_POSTGRES_URL=... scripts/before_after.sh 5050aa7`

Schema version 8 adds five columns to every event (the person acted for,
the request id, the client address and the rest of the context) and
writes them with each event; `audited+context` (this build only: the
release before has no context) is the command with a web request's
context set, about 300 bytes of text stored with each of its events (the
context is stored per event: ARCHITECTURE, "Who and from where"). The
release before (5050aa7) and this checkout, built in one run, run the
overhead bench of section 1 alternately on PostgreSQL (TLS off) and
SQLite (WAL, `synchronous` FULL), and the follower's throughput as in
1b. Medians [min–max] over the pooled rounds.

{report}""")

# 2. Append
rows, worst = [], None
for backend in ["sqlite-wal-full", "postgres"]:
    for n in [1, 100]:
        t = median(f"append/{backend}", f"{n}-per-command")
        if t is None:
            continue
        rate = n / (t / 1e6)
        if n == 100:
            worst = rate if worst is None else min(worst, rate)
        rows.append([backend, str(n), f"{t:.0f}", f"{rate:,.0f}"])
sections.append(f"""## 2. Append throughput

`{cmd("append")}`

One command per transaction, emitting 1 or 100 events (the command does
nothing else, so this is the log's write path alone), one task.

{table(["backend", "events per command", "µs per command", "events/s"], rows)}

Target: at least 50,000 events/s batched (100 per command) on both backends:
{verdict(worst is not None and worst >= 50000)}.""")

# 2b. The database's share of an append: the events table's indexes
INDEX_COST = "target/audit-bench/index-cost.json"
if os.path.exists(INDEX_COST):
    with open(INDEX_COST) as f:
        cost = json.load(f)
    n = cost["rows_per_command"]
    rows = []
    for backend, workloads in cost["backends"].items():
        first = next(iter(workloads.values()))
        for variant in first:
            cells = [LABELS.get(backend, backend) if backend != "sqlite" else "SQLite WAL + FULL", variant]
            for workload in workloads.values():
                us = workload[variant]
                cells += [f"{us:.0f}", f"{n / us * 1e6:,.0f}", f"{us / workload['all']:.2f}"]
            rows.append(cells)
    names = list(next(iter(cost["backends"].values())).keys()) if cost["backends"] else []
    header = ["backend", "events table"]
    for name in names:
        header += [f"{name}: µs", f"{name}: events/s", f"{name}: / all"]
    sections.append(f"""### 2b. Where an append's time goes: the events table's indexes

`python3 scripts/index_cost.py`

The statement the library sends for one command of {n} events (SQLite: one
multi-row VALUES with positional parameters; PostgreSQL: the rows as one
JSON array expanded by `jsonb_array_elements`), committed, with no library
and no sqlx: SQLite through Python's `sqlite3` (WAL, `synchronous` FULL),
PostgreSQL through `pgbench` (one connection, the statement prepared and
its JSON bound, the INSERT then COMMIT; a CHECKPOINT first). Against copies of the events table with each
secondary index left out in turn, and with none but the primary key; each
starts empty. `one key`: every row about one project by one actor (as in
section 2); `random keys`: random projects, users and actors (as the scale
loader writes). Medians of {cost["rounds"]} rotating rounds, µs per command.

{table(header, rows, left=2)}""")

# 2c. The trigger that refuses forged `audit:` records
OWN_RECORDS_COST = "target/audit-bench/own-records-cost.json"
if os.path.exists(OWN_RECORDS_COST):
    with open(OWN_RECORDS_COST) as f:
        cost = json.load(f)
    rows = [[workload, f"{w['trigger enabled']:.0f}", f"{w['trigger disabled']:.0f}",
             f"{w['trigger enabled'] / w['trigger disabled']:.3f}"]
            for workload, w in cost["workloads"].items()]
    sections.append(f"""### 2c. What refusing forged `audit:` records costs an append (PostgreSQL)

`python3 scripts/own_records_cost.py`

Schema version 6's statement trigger `audit_events_own_records` (`AFTER
INSERT ... REFERENCING NEW TABLE`, one PL/pgSQL call per INSERT statement,
reading that statement's rows) refuses codes starting with `audit:` from any
role but the owner. The statement of 2b for one command of
{cost["rows_per_command"]} events, committed, through `pgbench` on the table
`migrate` makes, with the trigger enabled and disabled in rotating rounds;
medians of {cost["rounds"]} rounds, µs per command.

{table(["workload", "trigger enabled: µs", "trigger disabled: µs", "enabled / disabled"], rows)}

A row trigger with `WHEN (substr(NEW.event_type, 1, 6) = 'audit:')` would
call PL/pgSQL for the log's own records only, but the start could then only
check its condition by comparing PostgreSQL's printed form of it, which is
not promised to stay the same across major versions; the statement
trigger's definition is checked field by field.""")

# 3. Scale
def scale_rows(group_prefix, ratios_path, backends):
    """Section 3's rows for one size: per backend and page, the library's and the hand's
    criterion medians, the side-by-side rounds, the deep page; and the append rate."""
    rows, appends = [], []
    deep_ok, p50_ok, hand_missed, hand_seen = True, True, [], False
    side = {}
    if os.path.exists(ratios_path):
        with open(ratios_path) as f:
            for l in f:
                if l.strip():
                    r = json.loads(l)
                    side[(r["backend"], r["page"])] = r
    for backend in backends:
        g = f"{group_prefix}/{backend}"
        for name in ["project", "user", "type", "global"]:
            first = median(g, f"{name}-page-1")
            if first is None:
                continue
            hand = median(g, f"{name}-page-1-hand")
            deep = median(g, f"{name}-page-1000")
            p50_ok &= first <= limits[backend]
            ratio = ""
            if deep is not None:
                p50_ok &= deep <= limits[backend]
                deep_ok &= deep <= 2 * first
                ratio = f"{deep / first:.2f}x"
            vs_hand = "" if hand is None else f"{first / hand:.2f}x"
            rounds = side.get((backend, name))
            if rounds is not None:
                hand_seen = True
                if rounds["ratio"]["median"] > 1.25:
                    hand_missed.append(f"{backend} {name} {ratio_text(rounds['ratio'])}")
            rows.append([backend, name, f"{first:.0f}", "" if hand is None else f"{hand:.0f}", vs_hand,
                         "" if rounds is None else ratio_text(rounds["ratio"]),
                         "" if deep is None else f"{deep:.0f}", ratio])
        t = median(g, "append-100")
        if t is not None:
            appends.append([backend, f"{t:.0f}", f"{100 / (t / 1e6):,.0f}"])
    some = next(iter(side.values()), {})
    return rows, appends, deep_ok, p50_ok, hand_missed, hand_seen, some


SCALE_HEADER = ["backend", "query", "page 1 µs", "by hand µs", "library / hand", "library / hand, rounds",
                "page 1,000 µs", "page 1,000 / page 1"]
limits = {"sqlite": 100.0, "postgres": 500.0}
# Library against hand in alternating rounds (the scale bench writes it after criterion's groups).
SCALE_RATIOS = "target/audit-bench/scale-ratios.jsonl"
rows, appends, deep_ok, p50_ok, hand_missed, hand_seen, some = scale_rows(
    "scale", SCALE_RATIOS, ["sqlite", "postgres"])
sections.append(f"""## 3. Queries at scale

`{cmd("scale")}` (the first run loads the log through the library, with a
progress bar, and keeps it for later runs: `target/audit-scale/` and the
PostgreSQL database `audit_scale_1000000`)

1,000,000 events over 1,000 projects and 10,000 users (mixed member,
role, project and user events, each command acting as a random user).
Newest page of 25, in-process through `Auditor::query` (decoding
included, connection set-up excluded), criterion medians in µs. `user` is
the user page's OR query (what the user did, or what was done to them);
page 1,000 is reached through the cursor. `by hand` runs the same SQL
text with the same binds through sqlx directly (`fetch_all`, every column
read by index into owned values, the payload left as text: what a user
would write to show the page without the library; `example-app/benches/pages/mod.rs`,
which checks the text against the library's). `library / hand` divides
the two criterion medians, measured one after the other, so it moves with
whatever else the machine runs; `library / hand, rounds` is measured side
by side after criterion's groups: {some.get("rounds", "?")} rounds of
{some.get("runs", "?")} pages through the library and as many by hand (which goes
first alternates), the per-round ratio as median [min–max] (in
`{SCALE_RATIOS}`); the goal is judged on it.

{table(SCALE_HEADER, rows, left=2)}

Appending on the loaded log, one command of 100 events per transaction
(criterion median; SQLite here runs with `synchronous` NORMAL, as the scale
databases are opened, not FULL as in section 2):

{table(["backend", "µs per command", "events/s"], appends)}

Targets: page 1,000 within 2x of page 1: {verdict(deep_ok)}; the library within 1.25x of the
same SQL by hand (issue 18, median of the rounds): {verdict(hand_seen and not hand_missed)}{"" if not hand_missed else " (" + ", ".join(hand_missed) + ")"};
p50 under 0.1 ms on SQLite and 0.5 ms on PostgreSQL: {verdict(p50_ok)}.""")

# 3b. Ten million events, PostgreSQL
BIG = 10_000_000
big_ratios = f"target/audit-bench/scale-ratios-{BIG}.jsonl"
rows, appends, deep_ok, p50_ok, hand_missed, hand_seen, some = scale_rows(
    f"scale-{BIG}", big_ratios, ["postgres"])
if rows:
    sections.append(f"""### 3b. 10,000,000 events on PostgreSQL

`AUDIT_SCALE_EVENTS={BIG} AUDIT_SCALE_BACKENDS=postgres {cmd("scale")}` (the
PostgreSQL database `audit_scale_{BIG}`, loaded through the library like the
1,000,000-event one, and kept). The same pages and the same measurements as
above, on a log ten times larger: the path for users who outgrow SQLite. The
server runs with its defaults (`shared_buffers` 128 MB), so the log and its
indexes do not fit in its cache.

{table(SCALE_HEADER, rows, left=2)}

Appending at that size, one command of 100 events per transaction:

{table(["backend", "µs per command", "events/s"], appends)}

At 10,000,000 events: page 1,000 within 2x of page 1: {verdict(deep_ok)}; the library within 1.25x
of the same SQL by hand: {verdict(hand_seen and not hand_missed)}{"" if not hand_missed else " (" + ", ".join(hand_missed) + ")"};
p50 under 0.5 ms: {verdict(p50_ok)}.""")

# 4. Render
rows = []
queries = {}
if os.path.exists(f"{ROOT}/render-queries.json"):
    with open(f"{ROOT}/render-queries.json") as f:
        queries = json.load(f)
for backend in ["sqlite", "postgres"]:
    b, e = median(f"render/{backend}", "batched"), median(f"render/{backend}", "per-event")
    if None in (b, e):
        continue
    q = queries.get(backend, {})
    rows.append([backend, str(q.get("batched", "?")), str(q.get("per-event", "?")),
                 f"{b:.0f}", f"{e:.0f}", f"{e / b:.1f}x"])
sections.append(f"""## 4. Rendering a page of 25 events

`{cmd("render")}`

The same page (25 members added, each a different user, on 5 projects),
presented with the batched presenter (`PresentContext::for_page`: one
lookup per kind of reference for the whole page) and with a per-event
presenter (each event looks up its own references, as the reference system
does). Both render identical HTML (checked by the bench).

{table(["backend", "lookups, batched", "lookups, per event", "batched µs", "per-event µs", "per-event / batched"], rows)}""")

# 5. Compile time
compile_path = "target/compile-bench/results.json"
if os.path.exists(compile_path):
    with open(compile_path) as f:
        cr = json.load(f)
    rows = [[f"{cr['events']} events, {cr['commands']} commands",
             f"{cr['with_macros_s']:.2f}", f"{cr['expanded_s']:.2f}", f"{cr['ratio']:.2f}x",
             f"{cr['expanded_lines']:,}"]]
    sections.append(f"""## 5. Compile time

`python3 scripts/compile_bench.py`

A generated crate with {cr['events']} events (one `declare_events!`, a template
each) and {cr['commands']} `#[auditable]` commands, rebuilt alone (dependencies
already built, `CARGO_INCREMENTAL=0`, debug profile) with the macros, and the
same crate after `RUSTC_BOOTSTRAP=1 cargo rustc -- -Zunpretty=expanded` (the
expansion, made buildable by enabling the library-internal features its
derives use and removing the derives' leftover helper attributes; both
crates are built with `RUSTC_BOOTSTRAP=1`). Medians of 5 rebuilds, seconds.

{table(["crate", "with macros s", "expanded s", "ratio", "expanded lines"], rows)}

Target: at most 1.3x: {verdict(cr['ratio'] <= 1.3)}. A clean build of the
proc-macro crate `audit-macros` itself (its dependencies already built):
{cr['audit_macros_clean_s']:.2f} s (median of 3).""")

# 6. Seals
rows, rates, overheads = [], [], []
for backend in ["sqlite-wal-full", "postgres"]:
    g = f"seal/{backend}"
    for bench in ["seal", "verify"]:
        t, n = median(g, bench), elements(g, bench)
        if None in (t, n):
            continue
        rate = n / (t / 1e6)
        rates.append(rate)
        rows.append([backend, bench, f"{n:,}", f"{t / 1000:.0f}", f"{rate:,.0f}"])
    w = f"seal-write/{backend}"
    plain, sealing = median(w, "without-sealing"), median(w, "with-background-sealing")
    if None not in (plain, sealing):
        overheads.append([backend, f"{plain:.0f}", f"{sealing:.0f}", f"{sealing / plain:.2f}x"])
if rows:
    sections.append(f"""## 6. Seals: sealing, verifying, and the write path

`{cmd("seal")}`

`seal`: each iteration writes 10,000 new events (not timed), then seals them
(timed): read in position order, hashed value by value, chained, and their
entries and the seal written. `verify`: the whole log as the seal runs left
it (every seal, entry and event). Milliseconds per run (criterion medians)
and events per second.

{table(["backend", "what", "events", "ms", "events/s"], rows)}

Target: at least 50,000 events/s each on both backends:
{verdict(bool(rates) and min(rates) >= 50000)}.

The write path, one `add_project` per transaction, without sealing and with
a task sealing every second in the background (µs per command, criterion
medians):

{table(["backend", "without µs", "with background sealing µs", "ratio"], overheads)}""")

text = f"""# Benchmarks

Every figure below comes from one run of `scripts/bench.sh`, which runs the
commands named in each section and then `python3 scripts/bench_report.py`
to write this file (`scripts/bench.sh --report-only` rewrites it from the
last results).

Machine: {machine()}. Run finished
{run_finished()}. The machine is
shared and noisy: read the ratios (variants measured side by side in the
same run), not the absolute times. Section 1's figures come from rotating
rounds (its method says how); the others are criterion's medians.

{chr(10).join(s + chr(10) for s in sections)}"""
notes = "scripts/bench_notes.md"
if os.path.exists(notes):
    with open(notes) as f:
        text += "\n" + f.read()
with open(args.out, "w") as f:
    f.write(text)
print(text)
