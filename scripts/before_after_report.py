"""Reports a `scripts/before_after.sh` run as Markdown: the overhead bench's
PostgreSQL rows and the follow bench's, before and after side by side.

Reads RESULTS/meta.json and RESULTS/{overhead,follow}-{before,after}-PASS.jsonl
(the benches' JSON lines, one file per bench, build and pass); writes to stdout.

Pooling: each build's rounds are pooled over the passes. Overhead: the
ratio to plain is computed in each round (as the bench does) and given as
median [min–max] over every round of every pass; `added µs` is the median
of the variant's round figures minus the median of plain's (a round's
figure: with 1 task the median of its changes' times, with 8 the block's
wall time per change). Follow: events/s per round, median [min–max] over
every round of every pass; after/before divides the two medians, and with
more than one pass the same ratio computed pass by pass follows (the two
builds of one pass run one after the other).

The overhead table has PostgreSQL's rows only; BEFORE_AFTER_ALL_BACKENDS=1
adds every backend the results hold. Rerun on a results directory to
rewrite the report: python3 scripts/before_after_report.py DIR."""
import glob
import json
import os
import re
import statistics
import sys

if len(sys.argv) != 2:
    sys.exit(f"usage: {sys.argv[0]} RESULTS_DIR")
RESULTS = sys.argv[1]
BUILDS = ["before", "after"]
LABELS = {"sqlite-wal-full": "SQLite WAL + FULL", "sqlite-wal-normal": "SQLite WAL + NORMAL",
          "postgres": "PostgreSQL"}

with open(os.path.join(RESULTS, "meta.json")) as f:
    meta = json.load(f)


def lines(bench):
    """{build: {pass: [line, ...]}} of one bench's results."""
    out = {b: {} for b in BUILDS}
    for path in glob.glob(os.path.join(RESULTS, f"{bench}-*-*.jsonl")):
        m = re.fullmatch(rf"{bench}-(before|after)-(\d+)\.jsonl", os.path.basename(path))
        if not m:
            continue
        with open(path) as f:
            out[m.group(1)][int(m.group(2))] = [json.loads(l) for l in f if l.strip()]
    return out


def table(header, rows, left):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def spread(values, fmt, unit=""):
    if not values:
        return "—"
    return f"{fmt(statistics.median(values))}{unit} [{fmt(min(values))}–{fmt(max(values))}]"


def times(v):
    return f"{v:.2f}"


def rate(v):
    return f"{v:,.0f}"


out = []
before = f"`{meta['before'][:10]}` ({meta['rev']}: {meta['before_subject']})"
after = f"`{meta['after'][:10]}`{' with uncommitted changes' if meta['after_dirty'] else ''} " \
        f"({meta['after_subject']})"
out.append(f"# Before and after\n\nbefore: {before}  \nafter: {after}\n\n"
           f"{meta['passes']} pass(es), the build that runs first alternating; "
           f"the run took {meta['seconds'] // 60} min {meta['seconds'] % 60} s (builds included).")

# Overhead
overhead = lines("overhead")
keys, pooled, conditions = [], {}, {}
for build in BUILDS:
    for p, ls in sorted(overhead[build].items()):
        plains = {(l["backend"], l["case"], l["tasks"]): l for l in ls if l["variant"] == "plain"}
        for l in ls:
            if l["backend"] != "postgres" and os.environ.get("BEFORE_AFTER_ALL_BACKENDS") != "1":
                continue
            key = (l["backend"], l["case"], l["tasks"], l["variant"])
            if key not in keys:
                keys.append(key)
            d = pooled.setdefault((build,) + key, {"ratios": [], "rounds": [], "plain": [], "settings": set()})
            d["ratios"] += l["ratio"]["per_round"]
            d["rounds"] += l["round_us"]
            d["plain"] += plains[key[:3]]["round_us"]
            d["settings"].add((l["rounds"], l["n"], l["warmup"], l["prewarm"]))
            conditions.setdefault(("overhead", LABELS.get(l["backend"], l["backend"]), l["conditions"]), set()).add(build)
rows = []
for key in keys:
    if key[3] == "plain":
        continue
    cells = [LABELS.get(key[0], key[0]), key[1], str(key[2]), key[3]]
    added = {}
    for build in BUILDS:
        d = pooled.get((build,) + key)
        cells.append(spread(d["ratios"], times, "×") if d else "—")
    for build in BUILDS:
        d = pooled.get((build,) + key)
        if d:
            added[build] = statistics.median(d["rounds"]) - statistics.median(d["plain"])
            cells.append(f"{statistics.median(d['plain']):.0f} / {added[build]:+.0f}")
        else:
            cells.append("—")
    cells.append(f"{added['after'] - added['before']:+.0f}" if len(added) == 2 else "—")
    rows.append(cells)
settings = sorted({s for d in pooled.values() for s in d["settings"]})
per_build = {b: max((len(d["ratios"]) for k, d in pooled.items() if k[0] == b), default=0) for b in BUILDS}
protocol = ", ".join(f"{r} rounds of {n} timed changes per block after {w} untimed, {pw} prewarm pass(es)"
                    for r, n, w, pw in settings)
out.append("## Per-command overhead, PostgreSQL (example-app/benches/overhead.rs)\n\n"
           + (f"Per pass: {protocol}; "
              f"rounds pooled per build: {per_build['before']} before, {per_build['after']} after. "
              "`plain µs / added µs`: the median of plain's round figures, and the variant's "
              "median minus it.\n\n" if settings else "")
           + (table(["backend", "case", "tasks", "variant",
                     "before: ratio to plain, median [min–max]", "after: ratio to plain, median [min–max]",
                     "before: plain µs / added µs", "after: plain µs / added µs", "added µs, after − before"],
                    rows, left=4) if rows else "(no results)"))
# Noise: a plain baseline whose rounds differ by more than 2x means the
# machine was busy (or its latency changed) during part of the run.
noisy = []
for key in keys:
    if key[3] != "plain":
        continue
    for build in BUILDS:
        d = pooled.get((build,) + key)
        if d and min(d["rounds"]) > 0 and max(d["rounds"]) / min(d["rounds"]) > 2:
            noisy.append(f"{build} {key[1]} {key[2]} task(s) {min(d['rounds']):.0f}–{max(d['rounds']):.0f} µs")
if noisy:
    out.append("**Noisy**: plain's round figures span more than 2× (" + "; ".join(noisy) + "): the machine "
               "was busy during part of the run; per-round figures are in the bench logs "
               "(overhead-BUILD-PASS.log.err); rerun before quoting.")
if meta.get("before_own_overhead"):
    out.append("Note: the before build ran its own overhead.rs (it did not build with this checkout's).")

# Follow
follow = lines("follow")
fkeys, fpooled = [], {}
for build in BUILDS:
    for p, ls in sorted(follow[build].items()):
        for l in ls:
            key = (l["case"], l["backend"])
            if key not in fkeys:
                fkeys.append(key)
            d = fpooled.setdefault((build,) + key, {"rates": [], "writer": [], "lag": [], "per_pass": {},
                                                      "line": l})
            d["rates"] += l["events_per_s"]["per_round"]
            conditions.setdefault(("follow", LABELS.get(l["backend"], l["backend"]), l["conditions"]), set()).add(build)
            d["per_pass"][p] = statistics.median(l["events_per_s"]["per_round"])
            if l["case"] == "live":
                d["writer"] += l["writer_events_per_s"]["per_round"]
                d["lag"] += l["lag_ms"]["per_round_median"]
rows, live_rows, described, spread_passes = [], [], [], []
for key in fkeys:
    b, a = fpooled.get(("before",) + key), fpooled.get(("after",) + key)
    cells = [key[0], LABELS.get(key[1], key[1])]
    cells += [spread(d["rates"], rate) if d else "—" for d in (b, a)]
    if a and b:
        ratio = statistics.median(a["rates"]) / statistics.median(b["rates"])
        passes = [a["per_pass"][p] / b["per_pass"][p] for p in sorted(set(a["per_pass"]) & set(b["per_pass"]))]
        cells.append(f"{ratio:.2f}×" + (f" (passes: {', '.join(f'{r:.2f}' for r in passes)})"
                                        if len(passes) > 1 else ""))
        if len(passes) > 1 and max(passes) / min(passes) > 1.3:
            spread_passes.append(f"{key[0]} on {LABELS.get(key[1], key[1])}")
    else:
        cells.append("—")
    cells.append(str(len((b or a)["rates"])))
    rows.append(cells)
    if key[0] == "live":
        live_rows.append([LABELS.get(key[1], key[1])]
                         + [spread(d["writer"], rate) if d else "—" for d in (b, a)]
                         + [spread(d["lag"], lambda v: f"{v:.1f}") if d else "—" for d in (b, a)])
    l = (b or a)["line"]
    if key[0] == "catch-up":
        described.append(f"catch-up on {LABELS.get(key[1], key[1])}: {l['events']:,} events "
                         f"({l['written']:,} written in transactions of {l['transaction_events']} "
                         f"by {l.get('fill_tasks', 1)} task(s)), "
                         f"read_after({l['batch']}), {l['rounds']} rounds per pass")
    else:
        described.append(f"live on {LABELS.get(key[1], key[1])}: {l['events']:,} events read per round, "
                         f"{l['rounds']} rounds per pass, {l['poll_ms']} ms pause after an empty read")
out.append("## Follower throughput (example-app/benches/follow.rs)\n\n"
           + ("; ".join(described) + ". events/s: median [min–max] over the rounds of every pass; "
              "after/before: the ratio of the medians (and the same ratio pass by pass).\n\n"
              if described else "")
           + (table(["case", "backend", "before: events/s", "after: events/s", "after/before",
                     "rounds per build"], rows, left=2) if rows else "(no results)"))
if spread_passes:
    out.append("**Noisy**: the pass-by-pass after/before ratios differ by more than 1.3× (" + ", ".join(spread_passes)
               + "): the machine was busy during part of the run; rerun before quoting.")
if live_rows:
    out.append("Live case, the writer beside the follower (1 task committing 100-event transactions) and the "
               "lag from a transaction's commit returning to the follower's read of it (median [min–max] of "
               "the rounds' medians):\n\n"
               + table(["backend", "before: writer events/s", "after: writer events/s", "before: lag ms",
                        "after: lag ms"], live_rows, left=1))
if conditions:
    out.append("Conditions: " + "; ".join(
        f"{bench}, {label}: {c}" + ("" if len(builds) == 2 else f" ({', '.join(sorted(builds))} only)")
        for (bench, label, c), builds in sorted(conditions.items())) + ".")
print("\n\n".join(out))
