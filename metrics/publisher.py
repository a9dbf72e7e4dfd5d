"""Every few seconds, the process holding a node's sockets (its gevent
worker, or its one threaded process) stores a snapshot of what the node
counted for each of its databases and tells the administrators' live views
over the bus (``bus_mobile.metrics.snapshot``): the views add up the nodes.

It starts with the first socket subscribing in the process (stock's or a
mobile one): a node without sockets has nothing to show. Databases in
Odoo's test mode are left out (their tests publish by themselves).
"""

import logging
import threading
import time
from contextlib import closing

import psycopg2
from psycopg2.pool import PoolError

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.service.server import CommonServer

from . import collect, live, store

_logger = logging.getLogger(__name__)

SNAPSHOT_MODEL = "bus_mobile.metrics.snapshot"
SNAPSHOT_SECONDS = 5.0
ERROR_LOG_INTERVAL = 60.0


def take_snapshot(env):
    """Store this node's snapshot for ``env``'s database and tell the live
    views (in ``env``'s transaction)."""
    figures = live.node_figures(collect.node_families(env.cr.dbname))
    env[SNAPSHOT_MODEL]._bus_mobile_store(store.NODE, figures)


class SnapshotPublisher(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True, name=f"{__name__}.SnapshotPublisher")
        self._stop_event = threading.Event()
        self._failures = {}

    def stop(self):
        self._stop_event.set()

    def run(self):
        while not self._stop_event.wait(SNAPSHOT_SECONDS):
            for db in self._databases():
                self._publish(db)

    def _databases(self):
        for db in list(Registry.registries):
            registry = Registry.registries.get(db)
            if (
                registry is not None
                and registry.ready
                and SNAPSHOT_MODEL in registry
                and not registry.in_test_mode()
            ):
                yield db

    def _publish(self, db):
        try:
            with closing(Registry(db).cursor()) as cr:
                take_snapshot(api.Environment(cr, SUPERUSER_ID, {}))
                cr.commit()  # pylint: disable=invalid-commit
            self._failures.pop(db, None)
        except Exception as exc:  # the next snapshot tries again
            now = time.monotonic()
            if now - self._failures.get(db, -ERROR_LOG_INTERVAL) < ERROR_LOG_INTERVAL:
                return
            self._failures[db] = now
            if isinstance(exc, psycopg2.Error | PoolError):
                _logger.warning("Mobile bus metrics snapshot of %s failed: %s", db, str(exc)[:200])
            else:
                _logger.exception("Mobile bus metrics snapshot of %s failed", db)


snapshot_publisher = SnapshotPublisher()
CommonServer.on_stop(snapshot_publisher.stop)
