#!/usr/bin/env python3
"""table.py - turn run.sh's results.txt into the Markdown tables of
docs/BENCHMARKS.md: medians over the runs of each point, pmemnfsd/Ganesha
ratios, and the issue-6 target for each row (met, missed, or no data).

Input lines (one per nfsload run):
  RESULT label=STORAGE/SERVER/RUN workload=W conns=C depth=D ... rc=N
  FAILED label=STORAGE/SERVER/RUN workload=W conns=C depth=D rc=N
  RESULT label=STORAGE/SERVER/mem workload=idle|openhold|layouthold ...
  RESULT label=STORAGE/SERVER/storm workload=recall ... (or FAILED)
"""
import statistics
import sys
from collections import defaultdict

# Issue 6: 3x Ganesha's ops/s for small operations and 4 KiB I/O, 2x the
# MB/s for 1 MiB I/O, at 1x1 and 1x16.
TARGETS = {
    "getattr": 3.0, "lookup": 3.0, "open": 3.0, "create": 3.0,
    "read4k": 3.0, "write4k-sync": 3.0, "write4k-unstable": 3.0,
    "read1m": 2.0, "write1m-sync": 2.0, "write1m-unstable": 2.0,
}
TARGET_POINTS = {(1, 1), (1, 16)}
RC_TEXT = {"1": "errors", "2": "setup failed", "3": "NOTSUPP"}


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0] not in ("RESULT", "FAILED"):
                continue
            kv = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
            kv["kind"] = parts[0]
            st, srv, run = (kv.get("label", "-/-/-").split("/") + ["-"] * 3)[:3]
            kv.update(storage=st, server=srv, run=run)
            rows.append(kv)
    return rows


def med(vals):
    return statistics.median(vals) if vals else None


def fmt(v, nd=0):
    if v is None:
        return "n/a"
    if nd == 0:
        return f"{v:,.0f}"
    return f"{v:,.{nd}f}"


def point_stats(rows):
    """(storage, workload, conns, depth) -> server -> summary."""
    out = defaultdict(dict)
    groups = defaultdict(list)
    for r in rows:
        if r["run"] in ("mem", "storm"):
            continue
        key = (r["storage"], r["workload"], int(r["conns"]),
               int(r.get("depth", 1)), r["server"])
        groups[key].append(r)
    for (st, wl, c, d, srv), rs in groups.items():
        good = [r for r in rs if r["kind"] == "RESULT" and r.get("rc") == "0"]
        bad = [r for r in rs if r not in good]
        s = {"runs": len(rs), "good": len(good)}
        for f in ("ops_s", "mb_s", "p50_us", "p99_us", "srv_cpu_us",
                  "cli_cpu_us"):
            s[f] = med([float(r[f]) for r in good])
        s["errors"] = sum(int(r.get("errors", 0)) for r in rs
                          if r["kind"] == "RESULT")
        s["why"] = ", ".join(sorted({RC_TEXT.get(r.get("rc"), "rc=" +
                                                  str(r.get("rc")))
                                     for r in bad}))
        out[(st, wl, c, d)][srv] = s
    return out


def order_key(k):
    st, wl, c, d = k
    wls = ["sequence", "getattr", "lookup", "open", "create", "read4k",
           "read1m", "write4k-sync", "write4k-unstable", "write1m-sync",
           "write1m-unstable", "layout"]
    return (wls.index(wl) if wl in wls else 99, c, d)


def cell(s, field, nd=0):
    """A median; the reason for a missing one only in the ops/s column."""
    if s is None:
        return "n/a"
    if s[field] is None:
        if field != "ops_s":
            return "n/a"
        return "n/a (" + (s["why"] or "no data") + ")"
    return fmt(s[field], nd)


def main():
    rows = parse(sys.argv[1])
    stats = point_stats(rows)
    for st in ("tmpfs", "disk"):
        keys = sorted((k for k in stats if k[0] == st), key=order_key)
        if not keys and not any(r["storage"] == st for r in rows):
            continue
        print(f"### Storage: {st}\n")
        if keys:
            print("| workload | conns x depth | Ganesha ops/s | pmemnfsd ops/s "
                  "| Ganesha MB/s | pmemnfsd MB/s | ratio | target | "
                  "p50 us G / P | p99 us G / P | server CPU us/op G / P | "
                  "client CPU us/op G / P |")
            print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
            for k in keys:
                _, wl, c, d = k
                g = stats[k].get("ganesha")
                p = stats[k].get("pmemnfsd")
                io_mb = wl.endswith("1m")
                f = "mb_s" if io_mb else "ops_s"
                ratio = None
                if g and p and g[f] and p[f] is not None:
                    ratio = p[f] / g[f]
                want = TARGETS.get(wl) if (c, d) in TARGET_POINTS else None
                if want is None:
                    verdict = "-"
                elif ratio is None:
                    verdict = f">= {want:g}x: no data"
                else:
                    verdict = (f">= {want:g}x: " +
                               ("met" if ratio >= want else "MISSED"))
                mb = wl.startswith("read") or wl.startswith("write")
                print(f"| {wl} | {c}x{d} | {cell(g, 'ops_s')} | "
                      f"{cell(p, 'ops_s')} | "
                      f"{cell(g, 'mb_s', 1) if mb else '-'} | "
                      f"{cell(p, 'mb_s', 1) if mb else '-'} | "
                      f"{fmt(ratio, 2) + 'x' if ratio is not None else 'n/a'} | "
                      f"{verdict} | {cell(g, 'p50_us')} / {cell(p, 'p50_us')} | "
                      f"{cell(g, 'p99_us')} / {cell(p, 'p99_us')} | "
                      f"{cell(g, 'srv_cpu_us', 1)} / {cell(p, 'srv_cpu_us', 1)} | "
                      f"{cell(g, 'cli_cpu_us', 1)} / {cell(p, 'cli_cpu_us', 1)} |")
            errs = [(k, srv, s["errors"]) for k in keys
                    for srv, s in stats[k].items() if s["errors"]]
            if errs:
                print("\nRuns with errors (counted in the measured phase):")
                for (_, wl, c, d), srv, n in errs:
                    print(f"- {srv} {wl} {c}x{d}: {n}")
        mem = [r for r in rows if r["storage"] == st and r["run"] == "mem"]
        if mem:
            print(f"\nServer resident memory ({st}), growth per object on a "
                  "fresh server (4 clients x 2,000 files):\n")
            print("| server | per idle client (200 sessions) | "
                  "per open file | per layout segment |")
            print("|---|---:|---:|---:|")
            for srv in ("ganesha", "pmemnfsd"):
                m = {r["workload"]: r for r in mem if r["server"] == srv}

                def b(wl, f):
                    r = m.get(wl)
                    return fmt(float(r[f])) + " B" if r and f in r else "n/a"
                print(f"| {srv} | {b('idle', 'bytes_per_client')} | "
                      f"{b('openhold', 'bytes_per_open')} | "
                      f"{b('layouthold', 'bytes_per_layout')} |")
        storm = [r for r in rows if r["storage"] == st and
                 r["run"] == "storm"]
        if storm:
            print(f"\nRecall storm ({st}): 4 clients hold a READ layout on "
                  "each of 100 files, another client truncates all 100:\n")
            print("| server | drain time | truncates ok / failed | "
                  "recalls seen / layouts held | returns ok / failed |")
            print("|---|---:|---:|---:|---:|")
            for r in storm:
                if r["kind"] != "RESULT":
                    why = RC_TEXT.get(r.get("rc"), "rc=" + str(r.get("rc")))
                    print(f"| {r['server']} | n/a ({why}) | | | |")
                    continue
                print(f"| {r['server']} | {float(r['drain_ms']):,.1f} ms | "
                      f"{r['truncates_ok']} / {r['truncates_failed']} | "
                      f"{r['recalls']} / {r['expected']} | "
                      f"{r['returns_ok']} / {r['returns_err']} |")
        print()


if __name__ == "__main__":
    main()
