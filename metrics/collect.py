"""Reading a node's metrics: the shared directory (every process of the
node) and the database (the same on every node), for a scrape, a health
probe and the live view. Reading never takes a lock that counting or
delivery uses: the files are read as they are."""

import glob
import logging
import os

from odoo.tools import SQL

from . import store

try:
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.multiprocess import MultiProcessCollector
except ImportError:
    MultiProcessCollector = None

_logger = logging.getLogger(__name__)

# Database series carry this label: the same on every node, query them once
# per database (``max by (db, ...)``), never summed over nodes.
SCOPE_LABEL = ("scope", "database")
PUSH_PROVIDER_SQL = SQL(
    """COALESCE(p.provider, d.push_provider,
                CASE WHEN d.push_token ~ '^Expo(nent)?PushToken\\[' THEN 'expo' ELSE 'fcm' END)"""
)


def node_families(db=None):
    """The metric families of this node's processes (those of ended
    processes' live gauges left out); only ``db``'s series and the
    node-wide ones when ``db`` is given. None when the directory cannot be
    read."""
    directory = store.state.directory
    if MultiProcessCollector is None or not directory or not os.path.isdir(directory):
        return None
    try:
        store.drop_dead_processes(directory)
        families = MultiProcessCollector.merge(glob.glob(os.path.join(directory, "*.db")))
    except Exception as exc:  # a reader never fails its caller
        _logger.warning("Mobile bus metrics: %s unreadable: %s", directory, exc)
        return None
    if db is None:
        return list(families)
    kept = []
    for family in families:
        family.samples = [s for s in family.samples if s.labels.get("db", db) == db]
        if family.samples:
            kept.append(family)
    return kept


def sample_values(families, name):
    """{labels tuple (sorted items, without db): value} of one series name."""
    values = {}
    for family in families or ():
        for sample in family.samples:
            if sample.name == name:
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "db"))
                values[labels] = values.get(labels, 0.0) + sample.value
    return values


def total(families, name, **match):
    """Sum of the samples of ``name`` whose labels match ``match``."""
    return sum(
        value
        for labels, value in sample_values(families, name).items()
        if all(dict(labels).get(k) == v for k, v in match.items())
    )


# ----------------------------------------------------------------------
# Database series (one transaction, three queries, no lock taken)
# ----------------------------------------------------------------------


def database_figures(cr):
    """What the database says, the same on every node: devices by status and
    platform, and the push queue by provider. A failure (the database
    restarting) is the caller's to report: Odoo's "bad query" ERROR is not
    logged for it."""
    cr.execute(
        "SELECT status, platform, count(*) FROM bus_mobile_device GROUP BY 1, 2",
        log_exceptions=False,
    )
    devices = cr.fetchall()
    cr.execute(
        SQL(
            """SELECT %s, count(*),
                      EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - min(p.create_date))
                 FROM bus_mobile_push p JOIN bus_mobile_device d ON d.id = p.device_id
                WHERE p.state IN ('pending', 'sending') GROUP BY 1""",
            PUSH_PROVIDER_SQL,
        ),
        log_exceptions=False,
    )
    queue = [(provider, count, float(age or 0)) for provider, count, age in cr.fetchall()]
    return {"devices": devices, "push_queue": queue}


def database_families(db, figures):
    labels = ["db", "status", "platform", SCOPE_LABEL[0]]
    devices = GaugeMetricFamily(
        "bus_mobile_devices",
        "Devices by status and platform (from the database: the same on every node).",
        labels=labels,
    )
    for status, platform, count in figures["devices"]:
        devices.add_metric([db, status or "", platform or "", SCOPE_LABEL[1]], count)
    queue = GaugeMetricFamily(
        "bus_mobile_push_queue",
        "Push notifications waiting or being sent, by provider (from the database).",
        labels=["db", "provider", SCOPE_LABEL[0]],
    )
    oldest = GaugeMetricFamily(
        "bus_mobile_push_queue_oldest_age_seconds",
        "Age of the oldest push waiting or being sent, by provider (from the database).",
        labels=["db", "provider", SCOPE_LABEL[0]],
    )
    for provider, count, age in figures["push_queue"]:
        queue.add_metric([db, provider, SCOPE_LABEL[1]], count)
        oldest.add_metric([db, provider, SCOPE_LABEL[1]], age)
    return [devices, queue, oldest]


def status_families(db, database_up, metrics_up):
    up = GaugeMetricFamily(
        "bus_mobile_database_up",
        "1 when this scrape could read the database, else 0 (only this node's figures).",
        labels=["db"],
    )
    up.add_metric([db], 1 if database_up else 0)
    files = GaugeMetricFamily(
        "bus_mobile_metrics_up",
        "1 when this node's metrics directory could be read, else 0.",
        labels=["db"],
    )
    files.add_metric([db], 1 if metrics_up else 0)
    info = GaugeMetricFamily(
        "bus_mobile_node_info",
        "The node's name in the live view (host:http port).",
        labels=["db", "node"],
    )
    info.add_metric([db, store.NODE], 1)
    return [up, files, info]
