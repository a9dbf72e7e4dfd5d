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
``BUS_MOBILE_PREFORK_URL``     the HTTP port of a --workers=N server with the
``BUS_MOBILE_PREFORK_WS``      addon, and its gevent port as ws://host:port
``BUS_MOBILE_LIVE_LOG``        the log files of the ``BUS_MOBILE_URL`` and
``BUS_MOBILE_PREFORK_LOG``     ``BUS_MOBILE_PREFORK_URL`` servers (the fuzz
                               tests check they log no traceback)
=============================  ===============================================

A test whose server is not given is skipped with the variable to set
(``make test`` sets them all and fails on any skip).
"""

import os
import shlex
import subprocess
import uuid

import pytest
from bus_mobile_client.backoff import Backoff
from bus_mobile_client.client import MobileBusClient
from bus_mobile_client.notifications import ChannelNotification
from helpers import channel_event

# Fast reconnects keep the live tests short; the logic is the same.
TEST_BACKOFF = Backoff(initial=0.2, factor=2.0, cap=2.0, jitter=0.5, try_later_min=1.0)


def env(name, default=None):
    return os.environ.get(name) or default


def require_env(*names):
    missing = [name for name in names if not env(name)]
    if missing:
        pytest.skip(f"set {', '.join(missing)} to run this test against a live server")
    return [env(name) for name in names]


class LiveServer:
    """A running Odoo with bus_mobile, and what tests need from it."""

    def __init__(self, url, db, admin_login, admin_password):
        self.url, self.db = url.rstrip("/"), db
        self.admin = MobileBusClient(url, db, admin_login, admin_password)
        self.admin.authenticate()
        self._clients = []
        self._group_user_id = None
        self._pool = {}

    def call_kw(self, model, method, *args, **kwargs):
        return self.admin.rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            model=model,
            method=method,
            args=list(args),
            kwargs=kwargs,
        )

    def new_user(self, name):
        """A new internal user ``{"login", "password", "id", "partner_id"}``."""
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
        return {"login": login, "password": login, "id": user_id, "partner_id": partner[0]}

    def user(self, name):
        """A user shared by the tests of the session, created and logged in
        once: Odoo's password hashing costs about a second per login. Tests
        that end sessions use :meth:`new_user`."""
        if name not in self._pool:
            user = self.new_user(name)
            login = MobileBusClient(self.url, self.db, user["login"], user["password"])
            login.authenticate()
            user["session_id"] = login.session_id
            self._pool[name] = user
        return self._pool[name]

    def client(self, user, connect=True, cls=MobileBusClient, **kw):
        """A logged-in :class:`MobileBusClient` (or ``cls``) of ``user`` (with
        its pooled session if it has one), closed after the test."""
        kw.setdefault("backoff", TEST_BACKOFF)
        kw.setdefault("session_id", user.get("session_id"))
        client = cls(self.url, self.db, user["login"], user["password"], **kw)
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
    return LiveServer(
        url,
        db,
        env("BUS_MOBILE_ADMIN_LOGIN", "admin"),
        env("BUS_MOBILE_ADMIN_PASSWORD", "admin"),
    )


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
def server_control():
    """``(stop, start)``: callables that stop and start the live server."""
    stop_cmd, start_cmd = require_env("BUS_MOBILE_STOP_CMD", "BUS_MOBILE_START_CMD")

    def run(command):
        subprocess.run(shlex.split(command), check=True, timeout=120)

    return (lambda: run(stop_cmd)), (lambda: run(start_cmd))
