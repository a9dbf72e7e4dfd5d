"""Turn ``make bench`` results (JSON lines from loadgen.py) into the README
table, with the ratio ours/stock of each figure; ``--check`` (the smoke run
of ``make test``) fails unless every figure was produced and no notification
was missing. Times are reported, never asserted."""

import argparse
import json
import sys

COLUMNS = [
    ("N", 6),
    ("socket", 10),
    ("held", 6),
    ("dropped", 8),
    ("missing", 8),
    ("p50 ms", 8),
    ("p99 ms", 8),
    ("max ms", 8),
    ("1st p50", 8),
    ("1st p99", 8),
    ("MB/1k", 7),
    ("fd/sock", 7),
    ("CPU s", 7),
]


def load(path):
    with open(path, encoding="utf-8") as results:
        return [json.loads(line) for line in results if line.strip()]


def figures(result):
    latency = result["latency_ms"] or {}
    first = result["connect_first_ms"] or {}
    return {
        "held": result["connected"] - result["dropped"],
        "dropped": result["dropped"] + result["failed_connect"],
        "missing": result["missing"],
        "p50 ms": latency.get("p50"),
        "p99 ms": latency.get("p99"),
        "max ms": latency.get("max"),
        "1st p50": first.get("p50"),
        "1st p99": first.get("p99"),
        "MB/1k": result["rss_mb_per_1000"],
        "fd/sock": result["fds_per_socket"],
        "CPU s": result.get("server_cpu_ticks_s", result["server_cpu_s"]),
    }


def cell(value):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def ratio(ours, stock):
    if ours is None or stock is None or not isinstance(ours, int | float) or not stock:
        return None
    return round(ours / stock, 2)


def table(results):
    """An RST simple table: for each N, stock, mobile and mobile/stock."""
    rule = "  ".join("=" * width for _name, width in COLUMNS)
    lines = [rule, "  ".join(name.ljust(width) for name, width in COLUMNS), rule]
    by_n = {}
    for result in results:
        by_n.setdefault(result["n"], {})[result["kind"]] = result
    for n in sorted(by_n):
        kinds = by_n[n]
        rows = []
        for kind in ("stock", "mobile"):
            if kind in kinds:
                rows.append((kind, figures(kinds[kind])))
        if len(rows) == 2:
            stock, ours = rows[0][1], rows[1][1]
            ratios = {name: ratio(ours[name], stock[name]) for name in stock}
            for count in ("held", "dropped", "missing"):
                ratios[count] = None
            rows.append(("ratio", ratios))
        for kind, values in rows:
            row = [str(n), kind] + [cell(values.get(name)) for name, _w in COLUMNS[2:]]
            if kind == "ratio":
                # A blank first cell would continue the row above in RST.
                row = [str(n), "ours/stock"] + ["" if v == "n/a" else v for v in row[2:]]
            cells = zip(row, COLUMNS, strict=True)
            lines.append("  ".join(value.ljust(width) for value, (_name, width) in cells))
    lines.append(rule)
    return "\n".join(lines)


def check(results, expected_kinds):
    problems = []
    seen = {result["kind"] for result in results}
    problems += [f"no result for {kind}" for kind in expected_kinds - seen]
    for result in results:
        name = f"{result['kind']} N={result['n']}"
        values = figures(result)
        problems += [f"{name}: no {key}" for key, value in values.items() if value is None]
        if result["connected"] != result["n"]:
            problems.append(f"{name}: {result['connected']}/{result['n']} clients connected")
        if result["missing"] or result["dropped"] or result["duplicates"]:
            problems.append(
                f"{name}: {result['missing']} missing, {result['dropped']} dropped,"
                f" {result['duplicates']} duplicate notifications"
            )
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    results = load(args.results)
    print(table(results))
    if args.check:
        problems = check(results, {"stock", "mobile"})
        for problem in problems:
            print(f"bench check: {problem}", file=sys.stderr)
        if problems:
            sys.exit(1)
        print("bench check: every figure produced, no notification missing")


if __name__ == "__main__":
    main()
