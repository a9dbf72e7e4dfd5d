"""Fixtures of the client's tests. Live tests read the server from env vars:

=============================  ===============================================
``BUS_MOBILE_URL``             server with bus_mobile, e.g. http://127.0.0.1:8069
``BUS_MOBILE_DB``              its database
``BUS_MOBILE_ADMIN_LOGIN``     an administrator, to create the test users
``BUS_MOBILE_ADMIN_PASSWORD``  (default admin / admin)
``BUS_MOBILE_STOP_CMD``        shell command stopping that server, and
``BUS_MOBILE_START_CMD``       starting it again (the restart test)
``BUS_MOBILE_BARE_URL``        a server whose database lacks bus_mobile,
``BUS_MOBILE_BARE_DB``         and that database
``BUS_MOBILE_PREFORK_URL``     a --workers=N server with the addon behind
``BUS_MOBILE_PREFORK_WS``      nginx (the README's configuration): its URL,
                               and the same as ws://host:port
``BUS_MOBILE_PREFORK_HTTP``    that server's own HTTP port, http://host:port,
``BUS_MOBILE_PREFORK_GEVENT``  and its gevent port, ws://host:port
``BUS_MOBILE_NGINX_PROXY``     scripts/nginx_proxy.py: tests start nginx with
                               the README's configuration (or a broken one)
``BUS_MOBILE_LIVE_LOG``        the log files of the ``BUS_MOBILE_URL`` and
``BUS_MOBILE_PREFORK_LOG``     ``BUS_MOBILE_PREFORK_URL`` servers (the fuzz
                               tests check they log no traceback)
``BUS_MOBILE_USER_POOL``       users made in one batch, with open sessions
                               (scripts/user_pool.py): new users come from
                               there, without hashing a password
=============================  ===============================================

A test whose server is not given is skipped with the variable to set
(``make test`` sets them all and fails on any skip).

When the servers' log files are readable (``make test``)::

    BUS_MOBILE_SERVER_LOGS     their paths, separated by ":"
    BUS_MOBILE_LOG_CHECKER     scripts/server_logs.py of the checkout

every test fails when a server logs an ERROR or a traceback during it that
the test does not name with ``@pytest.mark.server_log(regex, ...)``, or
with ``noise=[name]``: the exact records stock Odoo logs when its server
stops ("odoo-stop") or its PostgreSQL restarts ("pg-restart"), defined in
scripts/server_logs.py (``NOISE``). What a server logs after a test ended
is judged on that test's names and reported on the next test; after the
last test, on the session.
"""

import importlib.util
import json
import os
import shlex
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from bus_mobile_client.backoff import Backoff
from bus_mobile_client.client import MobileBusClient
from bus_mobile_client.notifications import ChannelNotification
from helpers import channel_event

# Fast reconnects keep the live tests short; the logic is the same.
TEST_BACKOFF = Backoff(initial=0.2, factor=2.0, cap=2.0, jitter=0.5, try_later_min=1.0)


# Written, then removed, to clear a server's parameter cache (set_param);
# each with a key of its own, so that two test runs never write one row.
CACHE_POKE = "bus_mobile_tests.cache_poke."


def env(name, default=None):
    return os.environ.get(name) or default


def require_env(*names):
    missing = [name for name in names if not env(name)]
    if missing:
        pytest.skip(f"set {', '.join(missing)} to run this test against a live server")
    return [env(name) for name in names]


class UserPool:
    """Users made in one batch by scripts/user_pool.py, each with sessions
    already open. A user is claimed by creating ``claims/INDEX``
    exclusively: no two test processes ever get the same one."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.users = json.loads((self.directory / "users.json").read_text(encoding="utf-8"))

    @classmethod
    def from_env(cls):
        directory = env("BUS_MOBILE_USER_POOL")
        return cls(directory) if directory else None

    def claim(self):
        """A user nobody claimed (its ``sessions`` a list of its own), or None."""
        for index, user in enumerate(self.users):
            try:
                os.close(os.open(self.directory / "claims" / str(index), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue
            return dict(user, sessions=list(user["sessions"]))
        return None


class LiveServer:
    """A running Odoo with bus_mobile, and what tests need from it."""

    def __init__(self, url, db, admin_login, admin_password):
        self.url, self.db = url.rstrip("/"), db
        self.admin = MobileBusClient(url, db, admin_login, admin_password)
        self.admin.authenticate()
        self._clients = []
        self._group_user_id = None
        self._pool = {}
        self._user_pool = UserPool.from_env()

    def call_kw(self, model, method, *args, **kwargs):
        return self.admin.rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            model=model,
            method=method,
            args=list(args),
            kwargs=kwargs,
        )

    def set_param(self, param, value):
        """Set a system parameter (``None`` removes it) and return once the
        server's own cache serves it. Odoo clears that cache before the
        write commits: a thread of the same process reading the parameter
        in between caches the old value again (a clean-clone run met this,
        a config still telling offline_after_s 65 after the test set 8), so
        the cache is cleared once more after the commit until it agrees."""
        value = None if value is None else str(value)
        self.call_kw("ir.config_parameter", "set_param", param, value)
        for attempt in range(20):
            if self.call_kw("ir.config_parameter", "get_param", param) == (value or False):
                return
            # Any parameter's write clears the cache; a reader racing this
            # one reads the committed value of ``param``.
            poke = CACHE_POKE + uuid.uuid4().hex
            self.call_kw("ir.config_parameter", "set_param", poke, str(attempt))
            self.call_kw("ir.config_parameter", "set_param", poke, None)
        raise AssertionError(f"{self.url} still serves an old {param} after 20 cache clears")

    def new_user(self, name):
        """A new internal user ``{"login", "password", "id", "partner_id",
        "sessions"}``: from the user pool (renamed ``name``), else created
        (its password hashed, then hashed again at its first sign-in).
        ``sessions``: sessions already open, one for each of its clients
        (:meth:`client` takes them) as a sign-in would give."""
        pooled = self._user_pool and self._user_pool.claim()
        if pooled:
            self.call_kw("res.users", "write", [pooled["id"]], {"name": name.capitalize()})
            return pooled
        login = f"{name}_{uuid.uuid4().hex[:8]}"
        if self._group_user_id is None:
            rows = self.call_kw(
                "ir.model.data",
                "search_read",
                [("module", "=", "base"), ("name", "=", "group_user")],
                ["res_id"],
            )
            self._group_user_id = rows[0]["res_id"]
        user_id = self.call_kw(
            "res.users",
            "create",
            {
                "name": name.capitalize(),
                "login": login,
                "password": login,
                "groups_id": [(6, 0, [self._group_user_id])],
            },
        )
        partner = self.call_kw("res.users", "read", [user_id], ["partner_id"])[0]["partner_id"]
        return {
            "login": login,
            "password": login,
            "id": user_id,
            "partner_id": partner[0],
            "sessions": [],
        }

    def user(self, name):
        """A user shared by the tests of the session, with one session for
        all its clients: Odoo's password hashing costs about a second per
        login. Tests that end sessions use :meth:`new_user`."""
        if name not in self._pool:
            user = self.new_user(name)
            if user["sessions"]:
                user["session_id"] = user["sessions"][0]
            else:
                login = MobileBusClient(self.url, self.db, user["login"], user["password"])
                login.authenticate()
                user["session_id"] = login.session_id
            self._pool[name] = user
        return self._pool[name]

    def client(self, user, connect=True, url=None, cls=MobileBusClient, **kw):
        """A logged-in :class:`MobileBusClient` (or ``cls``) of ``user``: with
        its shared session if it has one (:meth:`user`), else with a session
        of its own (one of those the pool opened, else a new sign-in);
        closed after the test. ``url``: another server on the same database
        (the --workers one)."""
        kw.setdefault("backoff", TEST_BACKOFF)
        if "session_id" not in kw:
            sessions = user.get("sessions") or []
            kw["session_id"] = user.get("session_id") or (sessions.pop(0) if sessions else None)
        client = cls(url or self.url, self.db, user["login"], user["password"], **kw)
        self._clients.append(client)
        if not client.session_id:
            client.authenticate()
        client.config()
        if connect:
            client.connect()
        return client

    def close_clients(self):
        for client in self._clients:
            client.close()
        self._clients = []


@pytest.fixture(scope="session")
def live_server():
    url, db = require_env("BUS_MOBILE_URL", "BUS_MOBILE_DB")
    server = LiveServer(
        url,
        db,
        env("BUS_MOBILE_ADMIN_LOGIN", "admin"),
        env("BUS_MOBILE_ADMIN_PASSWORD", "admin"),
    )
    # The tests share pooled sessions (alice, bob...) and reconnect them far
    # more often than an app does (the fuzz tests, 120 sockets a session):
    # test_live_handshake_limit.py lowers the limit for itself.
    server.set_param("bus_mobile.handshake_burst", 100000)
    return server


@pytest.fixture
def live(live_server):
    yield live_server
    live_server.close_clients()


def make_pair(live, alice_user, bob_user, channel_type):
    alice, bob = live.client(alice_user), live.client(bob_user)
    name = f"pair {uuid.uuid4().hex[:8]}"
    channel = alice.create_channel(name, channel_type, [bob_user["partner_id"]])
    for client in (alice, bob):
        # Each socket learns of the new channel and subscribes to it.
        event = client.wait_for(channel_event(channel["id"]))[-1]
        assert isinstance(event, ChannelNotification)
        assert event.event == "created"
    return alice, bob, channel


@pytest.fixture
def pair(live):
    """Alice and Bob (shared users), connected, in a new private channel:
    ``(alice, bob, channel)``."""
    return make_pair(live, live.user("alice"), live.user("bob"), "private")


@pytest.fixture
def fresh_pair(live):
    """New users Alice and Bob, connected, in their direct channel."""
    return make_pair(live, live.new_user("alice"), live.new_user("bob"), "direct")


@pytest.fixture
def server_settings(live):
    """``set(key, value)``: change a ``bus_mobile.<key>`` system parameter of
    the live server for this test; the old values come back after it."""
    saved = {}

    def set_setting(key, value):
        param = f"bus_mobile.{key}"
        if param not in saved:
            saved[param] = live.call_kw("ir.config_parameter", "get_param", param) or None
        live.set_param(param, value)

    yield set_setting
    for param, value in saved.items():
        live.set_param(param, value)


@pytest.fixture
def server_control():
    """``(stop, start)``: callables that stop and start the live server."""
    stop_cmd, start_cmd = require_env("BUS_MOBILE_STOP_CMD", "BUS_MOBILE_START_CMD")

    def run(command):
        subprocess.run(shlex.split(command), check=True, timeout=120)

    return (lambda: run(stop_cmd)), (lambda: run(start_cmd))


# ----------------------------------------------------------------------
# Errors in the servers' logs
# ----------------------------------------------------------------------


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "server_log(*patterns, noise=()): errors (regexes) this test makes a live server log"
        " on purpose; noise names sets of stock Odoo's records (scripts/server_logs.py NOISE)",
    )


class _ServerLogs:
    """The live servers' logs, read test after test."""

    def __init__(self, checker, paths):
        self.checker = checker
        # From where the stage's last check stopped, and on from there.
        self.watch = checker.LogWatch(paths, ledger=checker.Ledger.from_env())
        # Names of the previous test and the patterns it named.
        self.previous, self.allowed = "the session's start", []

    def fail_on(self, allowed, when):
        found = self.watch.problems(allowed)
        if found:
            self.checker.add_to_digest(found)
            pytest.fail(
                "\n".join(self.checker.describe(records, path) for path, records in found)
                + f"\n(logged {when}; a test that causes an error on purpose names it with"
                " @pytest.mark.server_log(regex))",
                pytrace=False,
            )


def _load_checker(path):
    spec = importlib.util.spec_from_file_location("bus_mobile_server_logs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def _server_logs():
    paths = [path for path in (env("BUS_MOBILE_SERVER_LOGS") or "").split(os.pathsep) if path]
    if not paths:
        yield None
        return
    checker_path = env("BUS_MOBILE_LOG_CHECKER")
    assert checker_path, "BUS_MOBILE_SERVER_LOGS needs BUS_MOBILE_LOG_CHECKER"
    logs = _ServerLogs(_load_checker(checker_path), paths)
    yield logs
    time.sleep(1.0)  # what the last test's servers still had to say
    logs.fail_on(logs.allowed, f"after the last test, {logs.previous}")


@pytest.fixture(autouse=True)
def _server_log_check(request, _server_logs):
    logs = _server_logs
    if logs is None:
        yield
        return
    logs.fail_on(logs.allowed, f"after {logs.previous} ended, before {request.node.name}")
    yield
    allowed = []
    for marker in request.node.iter_markers("server_log"):
        allowed.extend(marker.args)
        for name in marker.kwargs.get("noise", ()):
            allowed.extend(logs.checker.NOISE[name])
    logs.previous, logs.allowed = request.node.name, allowed
    logs.fail_on(allowed, f"during {request.node.name}")
