"""``make bench``'s metrics on/off table: the same socket count run with
metrics on and off, alternating; medians and spreads (median (min-max)) of the
clients' p99 latency and of the gevent worker's CPU per broadcast, and the
medians' difference (the goal: under 3 %).

Usage: metrics_report.py metrics.jsonl (loadgen results with "metrics")."""

import json
import statistics
import sys


def figures(rows):
    p99 = [r["latency_ms"]["p99"] for r in rows]
    cpu = [r["server_cpu_ms_per_tick"] for r in rows]
    return {
        "runs": len(rows),
        "p99_ms": (statistics.median(p99), min(p99), max(p99)),
        "cpu_ms": (statistics.median(cpu), min(cpu), max(cpu)),
        "missing": sum(r["missing"] for r in rows),
    }


def main(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    by = {s: figures([r for r in rows if r["metrics"] == s]) for s in ("on", "off")}
    n = rows[0]["n"] if rows else 0
    print(
        f"### Metrics on and off: {n} sockets, {rows[0]['ticks'] if rows else 0} broadcasts a run"
    )
    print()
    header = ("metrics", "runs", "p99 ms", "worker CPU ms per broadcast", "missing")
    print("| " + " | ".join(header) + " |")
    print("|---|---|---|---|---|")
    for setting, f in by.items():
        p, c = f["p99_ms"], f["cpu_ms"]
        print(
            f"| {setting} | {f['runs']} | {p[0]:.1f} ({p[1]:.1f}-{p[2]:.1f})"
            f" | {c[0]:.1f} ({c[1]:.1f}-{c[2]:.1f}) | {f['missing']} |"
        )
    for key, label in (("cpu_ms", "worker CPU per broadcast"), ("p99_ms", "p99")):
        on, off = by["on"][key][0], by["off"][key][0]
        if not off:  # a tiny run (the smoke's) may measure nothing at all
            print(f"\nmedian {label}: on {on:.3f}, off {off:.3f}: no ratio")
            continue
        print(f"\nmedian {label}: on/off = {on / off:.3f} ({(on / off - 1) * 100:+.1f} %)")
    return 0 if all(f["missing"] == 0 for f in by.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
