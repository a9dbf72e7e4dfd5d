"""Two Odoo nodes on one database, as scripts/stages/nodes.sh runs them.

=================================  ===========================================
``BUS_MOBILE_NODES_DB``            the database both nodes serve
``BUS_MOBILE_NODE_A_URL``          node A's HTTP port, e.g. http://127.0.0.1:8069
``BUS_MOBILE_NODE_A_WS``           its socket base, ws://host:port (the gevent
                                   port of a --workers=N node, else its HTTP
                                   port)
``BUS_MOBILE_NODE_B_URL``, ``_WS`` node B, likewise
``BUS_MOBILE_NODE_A_STOP_CMD``     shell commands stopping and starting node A
``BUS_MOBILE_NODE_A_START_CMD``
``BUS_MOBILE_NODE_A_PIDFILE``      node A's PID file (its main process)
``BUS_MOBILE_NODE_A_LOG``, ``_B_`` the nodes' log files (ir.cron at INFO)
``BUS_MOBILE_PG_RESTART_CMD``      restarts their PostgreSQL
``BUS_MOBILE_NODES_LABEL``         names the figures (direct, pgbouncer)
=================================  ===========================================

Sessions live in the nodes' shared data_dir: a session opened on one node
works on the other, as behind a load balancer without sticky sessions.
"""

import shlex
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from bus_mobile_client.client import MOBILE_SOCKET_PATH
from conftest import LiveServer, env, require_env
from faults import CountingClient

PORT_TIMEOUT = 90.0


class Node(LiveServer):
    """One node: its HTTP URL and socket base. Clients are
    :class:`CountingClient` on the node's socket port."""

    def __init__(self, name, url, ws, db, pool):
        self.name, self.ws = name, ws.rstrip("/")
        super().__init__(
            url,
            db,
            env("BUS_MOBILE_ADMIN_LOGIN", "admin"),
            env("BUS_MOBILE_ADMIN_PASSWORD", "admin"),
        )
        # One pool of users and sessions for both nodes.
        self._pool = pool

    def client(self, user, connect=True, cls=CountingClient, **kw):
        kw.setdefault("ws_url", self.ws + MOBILE_SOCKET_PATH)
        return super().client(user, connect=connect, cls=cls, **kw)

    def address(self, which="ws"):
        parts = urlsplit(self.ws if which == "ws" else self.url)
        return parts.hostname, parts.port

    def wait_ready(self, timeout=PORT_TIMEOUT):
        """Wait until the node's socket port accepts connections (a
        --workers=N node starts its gevent worker after its HTTP port)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(self.address(), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, f"node {self.name}: {self.ws} never answered"
                time.sleep(0.2)


class Cluster:
    """Node A and node B, and what the tests may do to them."""

    def __init__(self):
        (db,) = require_env("BUS_MOBILE_NODES_DB")
        a_url, a_ws, b_url, b_ws = require_env(
            "BUS_MOBILE_NODE_A_URL",
            "BUS_MOBILE_NODE_A_WS",
            "BUS_MOBILE_NODE_B_URL",
            "BUS_MOBILE_NODE_B_WS",
        )
        self.db = db
        self.label = env("BUS_MOBILE_NODES_LABEL", "nodes")
        pool = {}
        self.a = Node("A", a_url, a_ws, db, pool)
        self.b = Node("B", b_url, b_ws, db, pool)
        for node in (self.a, self.b):
            node.wait_ready()

    def close_clients(self):
        for node in (self.a, self.b):
            node.close_clients()

    def set_param(self, param, value):
        """Set a system parameter through node A, and return once each node's
        cache serves it (:meth:`LiveServer.set_param`)."""
        for node in (self.a, self.b):
            node.set_param(param, value)

    # -- node A's process ------------------------------------------------

    def stop_a(self):
        _run(require_env("BUS_MOBILE_NODE_A_STOP_CMD")[0])

    def start_a(self):
        _run(require_env("BUS_MOBILE_NODE_A_START_CMD")[0])
        self.a.wait_ready()

    def pid_a(self):
        (pidfile,) = require_env("BUS_MOBILE_NODE_A_PIDFILE")
        return int(Path(pidfile).read_text().strip())

    def restart_postgresql(self):
        _run(require_env("BUS_MOBILE_PG_RESTART_CMD")[0])

    @staticmethod
    def logs():
        """``{node: log path}`` of both nodes."""
        paths = require_env("BUS_MOBILE_NODE_A_LOG", "BUS_MOBILE_NODE_B_LOG")
        return dict(zip("AB", (Path(p) for p in paths), strict=True))


def _run(command):
    subprocess.run(shlex.split(command), check=True, timeout=180)


def children(pid):
    """``{child pid: command line}`` of process ``pid`` (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # The command name (field 2) may hold spaces: fields after its ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found[int(entry.name)] = [part.decode(errors="replace") for part in cmdline if part]
    return found


def gevent_worker(master_pid):
    """The PID of the gevent worker of the prefork server ``master_pid``
    (Odoo starts it as ``odoo-bin gevent ...``), or None."""
    for pid, cmdline in children(master_pid).items():
        if len(cmdline) > 2 and cmdline[2] == "gevent":
            return pid
    return None


def log_size(path):
    return path.stat().st_size if path.exists() else 0


def read_log(path, offset):
    with open(path, encoding="utf-8", errors="replace") as log:
        log.seek(offset)
        return log.read()


def wait_until(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
