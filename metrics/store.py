"""The metrics of a node, counted where the work happens and shared between
its processes with prometheus_client's multiprocess mode.

A node is one Odoo server: its one threaded process, or its prefork
master's HTTP and cron workers and its gevent worker (which holds the
sockets). Each process writes its values into memory-mapped files of the
node's directory; a scrape, a health probe or the live view's publisher, in
any process of the node, reads them all (``MultiProcessCollector``).
Counting a value is a lock of this process and a write into memory: no
lock shared with delivery, no I/O, no transaction. Hot paths count once
per batch, not once per socket.

The directory: ``PROMETHEUS_MULTIPROC_DIR`` when the administrator sets it
(prometheus_client's own variable), else ``bus_mobile_metrics_dir`` of the
Odoo configuration file, else ``<data_dir>/bus_mobile_metrics/<host>-<http
port>``: one per node, also when nodes share a data_dir. With
``bus_mobile_metrics = False`` in the configuration file nothing is counted.

Process lifetimes:

- a node that starts (no process named by the files alive any more) wipes
  its previous run's files: its counters start from zero, as any restarted
  exporter's do;
- a process that ends (a recycled or killed worker) keeps its counters (a
  node's counters never go down while it runs); its gauges stop counting:
  the next reader removes the files of its "live" gauges (``collect.py``).

A directory that is missing or not writable, or the library missing, is
logged once; counting then does nothing in that process, and delivery goes
on as before.
"""

import fcntl
import glob
import logging
import os
import re
import socket
import time
from contextlib import suppress

from odoo.tools import config, str2bool

from ..tools.processes import process_alive

try:
    from prometheus_client import Counter, Gauge, Histogram
    from prometheus_client import values as prometheus_values
    from prometheus_client.multiprocess import mark_process_dead
except ImportError:  # the manifest requires it; an upgrade may lose it
    prometheus_values = None

_logger = logging.getLogger(__name__)

DIR_OPTION = "bus_mobile_metrics_dir"
SWITCH_OPTION = "bus_mobile_metrics"
ENV_DIR = "PROMETHEUS_MULTIPROC_DIR"
# What tells this node from the others in the live view and node_info.
NODE = f"{socket.gethostname()}:{config.get('http_port')}"
# A file of the directory: <type>_<mode>_<pid>.db (gauges) or <type>_<pid>.db.
FILE_PID = re.compile(r"_(\d+)\.db$")
LIVE_GAUGE_MODES = ("liveall", "livesum", "livemax", "livemin", "livemostrecent")

# Seconds. Deliveries: a commit to the frame handed to the socket.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
PROVIDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _State:
    enabled = False
    directory = None
    # Why counting is off in this process (logged once).
    off_reason = None
    metrics = None


state = _State()


def default_directory():
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname())
    return os.path.join(
        config["data_dir"], "bus_mobile_metrics", f"{host}-{config.get('http_port')}"
    )


def configured_directory():
    return os.environ.get(ENV_DIR) or config.get(DIR_OPTION) or default_directory()


def _turn_off(reason):
    if state.off_reason is None:
        _logger.warning("Mobile bus metrics are off in this process: %s", reason)
    state.off_reason = reason
    state.enabled = False


def setup():
    """Start counting in this process (at import: before any value is
    made). Never raises."""
    if not str2bool(str(config.get(SWITCH_OPTION, True)), True):
        state.off_reason = f"{SWITCH_OPTION} is off in the configuration file"
        return
    if prometheus_values is None:
        _turn_off("the Python package prometheus-client is not installed")
        return
    directory = configured_directory()
    try:
        os.makedirs(directory, exist_ok=True)
        if not os.access(directory, os.W_OK | os.X_OK):
            raise PermissionError(f"{directory} is not writable")
        state.directory = directory
        # prometheus_client reads the variable when it opens its files; the
        # gevent worker, spawned by the prefork master, inherits it.
        os.environ.setdefault(ENV_DIR, directory)
        if not getattr(prometheus_values.ValueClass, "_multiprocess", False):
            prometheus_values.ValueClass = prometheus_values.MultiProcessValue()
        _start_node_run(directory)
        state.metrics = _Metrics()
    except Exception as exc:  # any failure turns metrics off
        _turn_off(f"metrics directory {directory}: {exc}")
        return
    state.enabled = True


def _start_node_run(directory):
    """Wipe the previous run's files when no process that wrote them still
    runs (the node restarted); else drop the live gauges of dead ones."""
    with open(os.path.join(directory, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        files = glob.glob(os.path.join(directory, "*.db"))
        pids = {int(m.group(1)) for m in map(FILE_PID.search, files) if m}
        pids.discard(os.getpid())
        if not any(process_alive(pid) for pid in pids):
            for path in files:
                with suppress(FileNotFoundError):
                    os.unlink(path)
            return
        drop_dead_processes(directory, pids)


def drop_dead_processes(directory, pids=None):
    """Remove the live gauges of the node's processes that ended."""
    if pids is None:
        files = glob.glob(os.path.join(directory, "gauge_live*.db"))
        pids = {int(m.group(1)) for m in map(FILE_PID.search, files) if m}
    for pid in pids:
        if pid != os.getpid() and not process_alive(pid):
            mark_process_dead(pid, directory)


class _Metrics:
    """The prometheus_client objects (their values live in the files)."""

    def __init__(self):
        db = ("db",)
        self.sockets = Gauge(
            "bus_mobile_sockets",
            "Mobile sockets open on this node, by platform of their device.",
            (
                *db,
                "platform",
            ),
            multiprocess_mode="livesum",
            registry=None,
        )
        self.subscriptions = Gauge(
            "bus_mobile_subscriptions",
            "Channels the mobile sockets of this node listen to (each socket's count).",
            db,
            multiprocess_mode="livesum",
            registry=None,
        )
        self.handshakes = Counter(
            "bus_mobile_handshakes",
            "Mobile socket handshakes, by outcome and the reason of a refusal.",
            (*db, "outcome", "reason"),
            registry=None,
        )
        self.closes = Counter(
            "bus_mobile_closes",
            "Mobile sockets closed, by close code (lost: no closing handshake;"
            " client: closed by the app).",
            (
                *db,
                "code",
            ),
            registry=None,
        )
        self.frames = Counter(
            "bus_mobile_frames_sent",
            "Notification frames handed to mobile sockets.",
            db,
            registry=None,
        )
        self.sent_bytes = Counter(
            "bus_mobile_sent_bytes",
            "Bytes of the notification frames handed to mobile sockets.",
            db,
            registry=None,
        )
        self.notifications = Counter(
            "bus_mobile_notifications_delivered",
            "Bus notifications delivered live to at least one mobile socket.",
            db,
            registry=None,
        )
        self.latency = Histogram(
            "bus_mobile_delivery_latency_seconds",
            "From a bus notification's commit to its frame handed to the sockets.",
            db,
            buckets=LATENCY_BUCKETS,
            registry=None,
        )
        self.batch = Histogram(
            "bus_mobile_dispatch_batch_seconds",
            "Time of one batch of the mobile dispatcher (read, check, write).",
            db,
            buckets=BATCH_BUCKETS,
            registry=None,
        )
        self.backlog = Gauge(
            "bus_mobile_dispatch_backlog",
            "Bus notifications found waiting by the dispatcher's latest read.",
            db,
            multiprocess_mode="livesum",
            registry=None,
        )
        self.backlog_age = Gauge(
            "bus_mobile_dispatch_backlog_age_seconds",
            "Age of the oldest notification found by the dispatcher's latest read.",
            db,
            multiprocess_mode="livemax",
            registry=None,
        )
        self.position = Gauge(
            "bus_mobile_dispatch_position",
            "Newest bus.bus id the dispatcher read.",
            db,
            multiprocess_mode="livemax",
            registry=None,
        )
        self.heartbeat = Gauge(
            "bus_mobile_dispatcher_heartbeat_timestamp_seconds",
            "Last time the mobile dispatcher of this node looked for work (Unix time).",
            multiprocess_mode="livemax",
            registry=None,
        )
        self.push_outcomes = Counter(
            "bus_mobile_push",
            "Push notifications tried, by provider and the provider's answer"
            " (sent, retry, failed, dead: the token is gone, defer: not tried in time).",
            (*db, "provider", "outcome"),
            registry=None,
        )
        self.push_receipts = Counter(
            "bus_mobile_push_receipts",
            "Expo push receipts read, by outcome (ok, failed, dead).",
            (
                *db,
                "outcome",
            ),
            registry=None,
        )
        self.push_seconds = Histogram(
            "bus_mobile_push_provider_seconds",
            "Time a push provider took to answer one request.",
            (
                *db,
                "provider",
            ),
            buckets=PROVIDER_BUCKETS,
            registry=None,
        )
        self.device_tokens = Counter(
            "bus_mobile_device_tokens",
            "Device token events: sign_in, sign_in_failed, sign_out, revoked.",
            (
                *db,
                "event",
            ),
            registry=None,
        )
        # db -> subscriptions last set (a feed that ended is set to 0).
        self.reported_dbs = set()


def _count(func, *args):
    """Run one counting function; a failure turns metrics off (once)."""
    if not state.enabled:
        return
    try:
        func(state.metrics, *args)
    except Exception as exc:  # counting never breaks the caller
        _turn_off(f"counting failed: {exc!r}")


# ----------------------------------------------------------------------
# What the code counts (one call per event or per batch)
# ----------------------------------------------------------------------


def socket_opened(db, platform):
    _count(lambda m: m.sockets.labels(db, platform).inc())


def socket_closed(db, platform, code):
    def count(m):
        m.sockets.labels(db, platform).dec()
        m.closes.labels(db, code).inc()

    _count(count)


def handshake(db, outcome, reason=""):
    _count(lambda m: m.handshakes.labels(db or "", outcome, reason).inc())


def delivered(db, frames, sent_bytes, created):
    """One live batch: ``frames`` frames of ``sent_bytes`` bytes handed to
    sockets, for the notifications created at ``created`` (Unix times)."""

    def count(m):
        m.frames.labels(db).inc(frames)
        m.sent_bytes.labels(db).inc(sent_bytes)
        m.notifications.labels(db).inc(len(created))
        latency = m.latency.labels(db)
        now = time.time()
        for at in created:
            # Clocks of two nodes may differ a little: never negative.
            latency.observe(max(now - at, 0.0))

    if frames:
        _count(count)


def batch_done(db, seconds, backlog, backlog_age, position):
    def count(m):
        m.batch.labels(db).observe(seconds)
        m.backlog.labels(db).set(backlog)
        m.backlog_age.labels(db).set(backlog_age)
        if position:
            m.position.labels(db).set(position)

    _count(count)


def dispatcher_beat(subscriptions):
    """The dispatcher looked for work; ``subscriptions``: {db: channels}."""

    def count(m):
        m.heartbeat.set(time.time())
        for db in m.reported_dbs - subscriptions.keys():
            m.subscriptions.labels(db).set(0)
        for db, channels in subscriptions.items():
            m.subscriptions.labels(db).set(channels)
        m.reported_dbs = set(subscriptions)

    _count(count)


def push_answered(db, provider, seconds):
    _count(lambda m: m.push_seconds.labels(db, provider).observe(seconds))


def push_outcomes(db, counts):
    """``counts``: {(provider, outcome): pushes}."""

    def count(m):
        for (provider, outcome), pushes in counts.items():
            m.push_outcomes.labels(db, provider, outcome).inc(pushes)

    if counts:
        _count(count)


def push_receipts(db, counts):
    """``counts``: {outcome: receipts}."""

    def count(m):
        for outcome, receipts in counts.items():
            m.push_receipts.labels(db, outcome).inc(receipts)

    if counts:
        _count(count)


def device_token(db, event, count=1):
    if count:
        _count(lambda m: m.device_tokens.labels(db, event).inc(count))


def after_commit(cr, func, *args):
    """Count ``func(*args)`` once ``cr``'s transaction commits (a rolled
    back sign-in did not happen)."""
    cr.postcommit.add(lambda: func(*args))
