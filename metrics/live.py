"""The live view's figures: a node's snapshot (what its processes counted,
from the shared directory), and the sum of every node's snapshots of the
last hour. Pure functions: the model stores the snapshots, the publisher
takes them."""

import itertools
import math
from collections import defaultdict

from . import collect

# A node whose latest snapshot is older is gone (stopped, or no socket).
NODE_STALE_S = 20
# Rates and quantiles of the "now" figures cover this much.
RATE_WINDOW_S = 60
HISTORY_S = 3600
HISTORY_STEP_S = 60
FAILED_OUTCOMES = ("failed", "dead")


def node_figures(families):
    """What one node counted for one database (cumulative counters: the
    view takes differences)."""
    sockets = {
        dict(labels).get("platform", ""): value
        for labels, value in collect.sample_values(families, "bus_mobile_sockets").items()
    }
    closes = {
        dict(labels)["code"]: value
        for labels, value in collect.sample_values(families, "bus_mobile_closes_total").items()
    }
    push = defaultdict(float)
    for labels, value in collect.sample_values(families, "bus_mobile_push_total").items():
        push[dict(labels)["outcome"]] += value
    buckets = collect.sample_values(families, "bus_mobile_delivery_latency_seconds_bucket")
    latency = sorted((float(dict(labels)["le"]), value) for labels, value in buckets.items())
    return {
        "sockets": {k: int(v) for k, v in sockets.items() if v},
        "subscriptions": int(collect.total(families, "bus_mobile_subscriptions")),
        "notifications": collect.total(families, "bus_mobile_notifications_delivered_total"),
        "frames": collect.total(families, "bus_mobile_frames_sent_total"),
        "sent_bytes": collect.total(families, "bus_mobile_sent_bytes_total"),
        "refused": collect.total(families, "bus_mobile_handshakes_total", outcome="refused"),
        "closes": closes,
        "push": dict(push),
        "latency": [[le if math.isfinite(le) else "+Inf", count] for le, count in latency],
        "backlog": collect.total(families, "bus_mobile_dispatch_backlog"),
    }


def quantile(q, buckets):
    """Prometheus's ``histogram_quantile`` over ``[(le, cumulative count)]``
    (le ascending, +Inf last); None without observations."""
    if not buckets or not buckets[-1][1]:
        return None
    rank = q * buckets[-1][1]
    lower_le, lower_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == "+Inf":
                return lower_le
            if count == lower_count:
                return le
            return lower_le + (le - lower_le) * (rank - lower_count) / (count - lower_count)
        lower_le, lower_count = le, count
    return lower_le


def _delta(new, old):
    """A counter's increase; a smaller value is a restarted node's."""
    return new - old if new >= old else new


def _bucket_delta(new, old):
    old_counts = dict(old)
    return [[le, _delta(count, old_counts.get(le, 0.0))] for le, count in new]


def _add_buckets(total, buckets):
    for le, count in buckets:
        total[le] = total.get(le, 0.0) + count


def _sorted_buckets(total):
    finite = sorted((le, c) for le, c in total.items() if le != "+Inf")
    return finite + ([("+Inf", total["+Inf"])] if "+Inf" in total else [])


def aggregate(snapshots, now, database):
    """The view's figures from ``snapshots`` ``[(node, taken at (Unix
    time), figures)]`` of the last hour, and ``database`` (see
    ``collect.database_figures``): every node added up, the database's
    series once."""
    by_node = defaultdict(list)
    for node, taken_at, figures in sorted(snapshots, key=lambda s: s[1]):
        by_node[node].append((taken_at, figures))
    sockets = defaultdict(int)
    nodes = []
    subscriptions = 0
    per_minute = 0.0
    window = {}
    steps = HISTORY_S // HISTORY_STEP_S
    history = [{"sockets": 0, "notifications": 0.0, "latency": {}, "at": 0} for _ in range(steps)]
    push_failed = 0.0
    for node, series in by_node.items():
        latest_at, latest = series[-1]
        if now - latest_at <= NODE_STALE_S:
            nodes.append(node)
            subscriptions += latest.get("subscriptions", 0)
            for platform, count in latest.get("sockets", {}).items():
                sockets[platform] += count
            start_at, start = next(
                ((t, f) for t, f in series if t >= latest_at - RATE_WINDOW_S), series[-1]
            )
            if latest_at > start_at:
                span = latest_at - start_at
                per_minute += _delta(latest["notifications"], start["notifications"]) * 60.0 / span
                _add_buckets(window, _bucket_delta(latest["latency"], start["latency"]))
        last_in_step = {}
        for (_old_at, old), (at, new) in itertools.pairwise(series):
            step = int((now - at) // HISTORY_STEP_S)
            if not 0 <= step < steps:
                continue
            point = history[steps - 1 - step]
            point["notifications"] += _delta(new["notifications"], old["notifications"])
            _add_buckets(point["latency"], _bucket_delta(new["latency"], old["latency"]))
            last_in_step[step] = new
            for outcome in FAILED_OUTCOMES:
                push_failed += _delta(new["push"].get(outcome, 0), old["push"].get(outcome, 0))
        for step, figures in last_in_step.items():
            history[steps - 1 - step]["sockets"] += sum(figures.get("sockets", {}).values())
    window = _sorted_buckets(window)
    for index, point in enumerate(history):
        buckets = _sorted_buckets(point.pop("latency"))
        point["p99_ms"] = _ms(quantile(0.99, buckets))
        point["at"] = now - (steps - 1 - index) * HISTORY_STEP_S
    devices = defaultdict(int)
    for status, _platform, count in database["devices"]:
        devices[status] += count
    return {
        "now": now,
        "nodes": sorted(nodes),
        "sockets": sum(sockets.values()),
        "sockets_by_platform": dict(sockets),
        "subscriptions": subscriptions,
        "notifications_per_minute": round(per_minute, 1),
        "latency_p50_ms": _ms(quantile(0.5, window)),
        "latency_p99_ms": _ms(quantile(0.99, window)),
        "devices": {s: devices.get(s, 0) for s in ("online", "away", "offline")},
        "push_queue": sum(count for _provider, count, _age in database["push_queue"]),
        "push_oldest_s": round(max((age for *_x, age in database["push_queue"]), default=0), 1),
        "push_failed_hour": int(push_failed),
        "history": history,
    }


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)
