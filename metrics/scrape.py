"""``/bus_mobile/metrics`` and ``/bus_mobile/health``: what they answer,
for the database of the request.

Which database: the request's (a ``dbfilter`` or a single database), or,
when the addon is loaded server-wide (``--load=base,web,bus_mobile``) on a
server with several databases, the one named by ``?db=`` (a single ``-d``
database when none is named). Server-wide, both routes also answer while
PostgreSQL is down: Odoo then serves them without a database, and they say
what the node knows.

Scrapes authenticate with ``Authorization: Bearer``: the token of the
system parameter ``bus_mobile.metrics_token``, or an API key of a user of
the group "Mobile Bus: Metrics Reader" (or an administrator). A credential
checked once is trusted by this process for CREDENTIAL_CACHE_S, so that a
scrape during a database restart still gets the node's own figures.
"""

import hashlib
import logging
import time
from contextlib import closing, contextmanager

import psycopg2
from psycopg2.pool import PoolError

from odoo import SUPERUSER_ID, api, http
from odoo.modules.registry import Registry
from odoo.tools import config
from odoo.tools.misc import consteq

from ..tools.bearer import BearerTokenError, bearer_token
from . import collect

try:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
except ImportError:
    generate_latest = None

_logger = logging.getLogger(__name__)

TOKEN_PARAM = "bus_mobile.metrics_token"
READER_GROUP = "bus_mobile.group_metrics_reader"
SNAPSHOT_MODEL = "bus_mobile.metrics.snapshot"
CREDENTIAL_CACHE_S = 300
# The dispatcher looks for work at least every 2 s; past this it is stuck.
HEARTBEAT_STALE_S = 30
# Health fails when the oldest notification not read yet is older.
BACKLOG_MAX_AGE_S = 30
DB_ERRORS = (psycopg2.Error, PoolError)

# (db, sha256 of the credential) -> monotonic time it was last accepted
_accepted = {}


class Refused(Exception):
    def __init__(self, status, text, headers=None):
        super().__init__(text)
        self.status = status
        self.headers = headers or {}


def request_database(request, db_param):
    """The database a request is for (see the module docstring)."""
    if request.db:
        if db_param and db_param != request.db:
            raise Refused(404, f"This address serves the database {request.db} only.\n")
        return request.db
    db = db_param
    if not db:
        configured = [name for name in (config["db_name"] or "").split(",") if name]
        if len(configured) != 1:
            raise Refused(404, "Name the database: ?db=<name>.\n")
        db = configured[0]
    if not isinstance(db, str) or not http.db_filter([db], host=request.httprequest.host):
        raise Refused(404, "No such database here.\n")
    return db


@contextmanager
def database_env(request, db):
    """A superuser environment on ``db``: the request's own cursor when it
    has one (one transaction for the whole answer), else a new one."""
    if request.db == db and request.env is not None:
        yield request.env(user=SUPERUSER_ID)
        return
    registry = Registry(db)
    with closing(registry.cursor(readonly=True)) as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


def _credential_key(db, token):
    return (db, hashlib.sha256(token.encode()).digest())


def _is_reader(env, token):
    """The token is the metrics token, or an API key of a metrics reader."""
    expected = env["ir.config_parameter"].get_param(TOKEN_PARAM) or ""
    if expected and consteq(expected, token):
        return True
    uid = env["res.users.apikeys"]._check_credentials(scope="rpc", key=token)
    if not uid:
        return False
    user = env["res.users"].browse(uid)
    return user.active and (user.has_group(READER_GROUP) or user.has_group("base.group_system"))


def authorize(env, db, token):
    """Raise Refused unless ``token`` may read ``db``'s metrics."""
    if not _is_reader(env, token):
        raise Refused(403, "This token may not read the metrics.\n")
    _accepted[_credential_key(db, token)] = time.monotonic()


def _accepted_lately(db, token):
    at = _accepted.get(_credential_key(db, token))
    return at is not None and time.monotonic() - at < CREDENTIAL_CACHE_S


def scrape_token(request):
    try:
        token = bearer_token(request.httprequest.headers)
    except BearerTokenError:
        token = None
    if not token:
        raise Refused(
            401,
            "Scrapes authenticate with Authorization: Bearer <token>.\n",
            {"WWW-Authenticate": 'Bearer realm="bus_mobile metrics"'},
        )
    return token


def exposition(request, db_param):
    """(status, headers, body) of a scrape."""
    if generate_latest is None:
        raise Refused(503, "The Python package prometheus-client is not installed.\n")
    db = request_database(request, db_param)
    token = scrape_token(request)
    figures = None
    try:
        with database_env(request, db) as env:
            if SNAPSHOT_MODEL not in env:
                raise Refused(404, "bus_mobile is not installed in this database.\n")
            authorize(env, db, token)
            figures = collect.database_figures(env.cr)
    except DB_ERRORS as exc:
        if not _accepted_lately(db, token):
            raise Refused(
                503, "The database is unavailable: the token cannot be checked.\n"
            ) from None
        _logger.info("Metrics of %s scraped without the database: %s", db, str(exc)[:200])
    families = collect.node_families(db)
    found = list(families or [])
    if figures is not None:
        found.extend(collect.database_families(db, figures))
    found.extend(collect.status_families(db, figures is not None, families is not None))
    body = generate_latest(_Families(found))
    return 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}, body


class _Families:
    """What ``generate_latest`` reads: a collector of ready families."""

    def __init__(self, families):
        self._families = families

    def collect(self):
        return iter(self._families)


# ----------------------------------------------------------------------
# Health
# ----------------------------------------------------------------------


def health(request, db_param):
    """(status, facts) for a load balancer: the database reachable, the
    dispatcher running, the notifications it has not read yet. No
    authentication: nothing else is said."""
    try:
        db = request_database(request, db_param)
    except Refused:
        db = None  # server-wide without a database: the node's facts
    families = collect.node_families(db)
    sockets = collect.total(families, "bus_mobile_sockets")
    # Every process holds the gauge at 0 until its dispatcher beats.
    beats = [
        beat
        for beat in collect.sample_values(
            families, "bus_mobile_dispatcher_heartbeat_timestamp_seconds"
        ).values()
        if beat > 0
    ]
    positions = collect.sample_values(families, "bus_mobile_dispatch_position")
    position = max(positions.values(), default=0) or None
    facts = {"status": "pass", "database": "pass"}
    if not beats:
        facts["dispatcher"] = "idle"  # no socket ever subscribed on this node
    elif time.time() - max(beats) > HEARTBEAT_STALE_S:
        facts["dispatcher"] = "stalled"
    else:
        facts["dispatcher"] = "running"
    try:
        backlog, age = _backlog(db, position if sockets else None)
        facts["backlog"] = backlog
        facts["backlog_age_s"] = round(age, 3)
    except DB_ERRORS:
        facts["database"] = "fail"
    if (
        facts["database"] == "fail"
        or facts["dispatcher"] == "stalled"
        or facts.get("backlog_age_s", 0) > BACKLOG_MAX_AGE_S
    ):
        facts["status"] = "fail"
    return (200 if facts["status"] == "pass" else 503), facts


def _backlog(db, position):
    """(notifications not read by this node's dispatcher, age of the oldest
    in seconds); (0, 0) with no socket to deliver to."""
    from odoo.sql_db import db_connect

    # A failure is the health's answer (database: fail), not Odoo's "bad
    # query" ERROR in the log.
    with closing(db_connect(db or "postgres").cursor()) as cr:
        if not db or position is None:
            cr.execute("SELECT 1", log_exceptions=False)
            return 0, 0.0
        cr.execute(
            """SELECT count(*),
                      COALESCE(EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - min(create_date)), 0)
                 FROM bus_bus WHERE id > %s""",
            [int(position)],
            log_exceptions=False,
        )
        count, age = cr.fetchone()
        return count, float(age)
