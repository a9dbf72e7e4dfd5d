"""What the addon's Odoo tests share (no test file imports another): base
classes, sessions and JSON-RPC as a test user, waiting with a deadline, and
naming the server errors a test causes on purpose."""

import contextlib
import json
import re
import struct
import time
from collections import Counter
from contextlib import contextmanager
from threading import Condition, Event
from types import SimpleNamespace
from unittest.mock import patch

import websocket as ws_client

from odoo.fields import Command
from odoo.http import Session
from odoo.tests.common import HOST, new_test_user

from odoo.addons.bus.models.bus import channel_with_db, hashable, json_dump
from odoo.addons.bus.models.bus import dispatch as stock_dispatch
from odoo.addons.bus.tests.common import WebsocketCase
from odoo.addons.bus.websocket import (
    ConnectionState,
    Websocket,
    WebsocketRequest,
    _websocket_instances,
)

from ..mobile_socket import MobileWebsocket, MobileWebsocketConnectionHandler, mobile_dispatch
from ..tools.channels import MOBILE_PRESENCE, PRESENCE_SUBCHANNELS

# The notification type of the tests' own notifications.
TEST_TYPE = "bus_mobile/test"
PRESENCE_TYPES = ("bus_mobile/presence", "bus.bus/im_status_updated")
# Where each presence notification goes: stock's where stock sends it.
PRESENCE_SUBCHANNEL_OF = {
    "bus_mobile/presence": MOBILE_PRESENCE,
    "bus.bus/im_status_updated": "presence",
}


# Odoo hashes a password with 600,000 rounds (about 0.4 s): the tests make
# their users with a few passwords, and each is hashed once per test run,
# its hash shared by the users that have it.
_password_hashes = {}


def _set_password_once(users):
    context = users._crypt_context()
    for user in users:
        hashed = _password_hashes.get(user.password)
        if hashed is None:
            hashed = _password_hashes[user.password] = context.hash(user.password)
        users._set_encrypted_password(user.id, hashed)


def make_test_user(env, login="", groups="base.group_user", context=None, **kwargs):
    """``odoo.tests.new_test_user``, its password hashed once per test run
    (changing a user's password later hashes it as usual)."""
    with patch.object(type(env["res.users"]), "_set_password", _set_password_once):
        return new_test_user(env, login=login, groups=groups, context=context, **kwargs)


def expect_server_log(pattern):
    """Name an error the decorated test (or test class) makes the server
    log on purpose: ``pattern`` is a regex searched in ``"<logger>:
    <message and traceback>"``. The Odoo test stage fails on any other
    ERROR or traceback the server logs (scripts/pytest/server_log_check.py);
    Odoo's own test runner ignores this."""

    def name_it(target):
        expected = list(getattr(target, "_bus_mobile_expected_logs", ()))
        target._bus_mobile_expected_logs = [*expected, re.compile(pattern)]
        return target

    return name_it


@contextmanager
def websocket_request(env, user):
    """Run ``ir.websocket`` methods as during a frame of ``user``'s socket:
    stock reads the request's session, mail its guest cookie."""
    with WebsocketRequest(env.cr.dbname, SimpleNamespace(cookies={}), None) as req:
        req.session = Session({"uid": user.id}, "websocket-request-test-sid")
        req.registry = env.registry
        req.env = env(user=user)
        yield req


def wait_until(predicate, what, timeout=10.0):
    """Poll ``predicate`` until it returns something true, and return that;
    fail the test, naming ``what`` it waited for, after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
        time.sleep(0.01)


def holding_test_cursor(registry):
    """Hold the test cursor while using it from the test thread: in an
    HttpCase, server threads (socket callbacks, the mobile dispatcher) use
    the same connection at any time; they take this lock for each of their
    transactions."""
    return getattr(registry, "test_lock", None) or contextlib.nullcontext()


def last_bus_id(env):
    """Id of the last bus.bus row, the notifications still pending in the
    transaction included (bus writes them in a precommit hook)."""
    env.cr.precommit.run()
    # sudo: bus.bus - reading the notifications in tests
    return env["bus.bus"].sudo()._bus_last_id()


def error_name(exception):
    """The ``error.data.name`` of a JSON-RPC answer failing with the
    ``exception`` class."""
    return f"{exception.__module__}.{exception.__qualname__}"


BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


class RpcMixin:
    """For HttpCase subclasses: sessions of the test users (password =
    login) and JSON-RPC as one of them."""

    def session_cookie(self, login):
        """A ``Cookie`` header value for a new session of ``login``, which
        logs no other session out. (``authenticate`` deletes the previous
        session, which would log out the sockets opened with it.)"""
        with holding_test_cursor(self.registry):
            self.session = None
            session = self.authenticate(login, login)
            self.session = None
        return f"session_id={session.sid}"

    def log_in(self, user):
        """Make the test's HTTP calls as ``user`` (None: an anonymous
        session), in a new session."""
        login = None if user is None else user.login
        self.authenticate(login, login)

    def rpc(self, user, route, **params):
        """JSON-RPC ``route`` as ``user`` (None: an anonymous session); its
        result."""
        self.log_in(user)
        return self.make_jsonrpc_request(route, params)

    def assert_rpc_error(self, user, route, exception, message_part=None, **params):
        """JSON-RPC ``route`` as ``user`` (None: an anonymous session) must
        fail cleanly: HTTP 200 and an Odoo error of the ``exception`` class
        (see ``check_rpc_error``). Returns the error's message."""
        self.log_in(user)
        payload = {"id": 0, "jsonrpc": "2.0", "method": "call", "params": params}
        response = self.url_open(
            route, json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertIn("error", body, f"{route} {params} succeeded: {body.get('result')}")
        return self.check_rpc_error(body["error"], error_name(exception), message_part)

    def check_rpc_error(self, error, name, message_part=None):
        """``error`` (a JSON-RPC error object) is Odoo's ``name`` error, its
        message holds ``message_part`` (if given) and no traceback. Returns
        the message."""
        self.assertIsNotNone(error, f"no {name} error")
        message = error["data"]["message"]
        self.assertEqual(error["data"]["name"], name, message)
        self.assertNotIn("Traceback", message)
        if message_part:
            self.assertIn(message_part, message)
        return message


class PresenceAssertions:
    """Presence as the database and the bus tell it (model-level tests and
    socket tests)."""

    def db(self):
        """See ``holding_test_cursor``."""
        return holding_test_cursor(self.registry)

    def presence_notifications(self, partner, after_id=0, types=PRESENCE_TYPES):
        """``[(type, payload)]`` sent to ``partner``'s watchers after bus.bus
        id ``after_id``; each type must be on its own subchannel: stock's on
        ``presence``, which web clients read, ours on ``MOBILE_PRESENCE``."""
        with self.db():
            self.env.cr.precommit.run()
            dbname = self.env.cr.dbname
            subchannels = {
                json_dump(channel_with_db(dbname, (partner, sub))): sub
                for sub in PRESENCE_SUBCHANNELS
            }
            # sudo: bus.bus - reading the notifications in tests
            rows = (
                self.env["bus.bus"]
                .sudo()
                .search([("channel", "in", list(subchannels)), ("id", ">", after_id)], order="id")
            )
            messages = [(subchannels[row.channel], json.loads(row.message)) for row in rows]
        for subchannel, message in messages:
            self.assertEqual(
                subchannel, PRESENCE_SUBCHANNEL_OF.get(message["type"], subchannel), message
            )
        return [(m["type"], m["payload"]) for _sub, m in messages if m["type"] in types]

    def presence_statuses(self, partner, after_id=0):
        """The ``bus_mobile/presence`` statuses told to ``partner``'s watchers."""
        return [
            payload["im_status"]
            for kind, payload in self.presence_notifications(partner, after_id)
            if kind == "bus_mobile/presence"
        ]

    def last_bus_id(self):
        with self.db():
            return last_bus_id(self.env)

    def device_row(self, user, device_uuid):
        """(status, connection tokens, last_seen) of a device, from the database."""
        with self.db():
            self.env.cr.execute(
                "SELECT status, connection_tokens, last_seen FROM bus_mobile_device "
                "WHERE user_id = %s AND device_uuid = %s",
                [user.id, device_uuid],
            )
            return self.env.cr.fetchone()

    def im_status(self, user):
        with self.db():
            self.env.invalidate_all()
            return user.im_status


class MobileWebsocketCase(RpcMixin, WebsocketCase):
    """WebsocketCase for ``/bus_mobile/websocket``, as a native app connects:
    no Origin header unless asked, any User-Agent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._MOBILE_WEBSOCKET_URL = f"ws://{HOST}:{cls.http_port()}/bus_mobile/websocket"

    def setUp(self):
        super().setUp()
        # Stock WebsocketCase tracks the end of ``_serve_forever``; mobile
        # sockets are served by ``_serve_mobile``.
        original_serve_mobile = MobileWebsocketConnectionHandler._serve_mobile

        self._mobile_closed_events = []

        def serve_mobile(*args):
            closed = Event()
            self._websocket_events.add(closed)
            self._mobile_closed_events.append(closed)
            try:
                original_serve_mobile(*args)
            finally:
                closed.set()

        self.startPatcher(
            patch.object(MobileWebsocketConnectionHandler, "_serve_mobile", wraps=serve_mobile)
        )
        self._track_stock_bus_reads()

    def _track_stock_bus_reads(self):
        """Count each stock socket's bus reads, started and finished: such a
        read runs in the socket's thread on the test cursor, which the test
        thread shares (see :meth:`trigger_notification_dispatching`)."""
        self._stock_reads = Condition()
        self._stock_reads_done = Counter()
        self._stock_reads_running = Counter()
        original = Websocket._dispatch_bus_notifications

        def tracked(ws_self, *args):
            with self._stock_reads:
                self._stock_reads_running[ws_self] += 1
            try:
                return original(ws_self, *args)
            finally:
                with self._stock_reads:
                    self._stock_reads_running[ws_self] -= 1
                    self._stock_reads_done[ws_self] += 1
                    self._stock_reads.notify_all()

        self.startPatcher(patch.object(Websocket, "_dispatch_bus_notifications", tracked))

    def mobile_sockets_done(self):
        """How many mobile sockets of this test the server is done with."""
        return sum(event.is_set() for event in self._mobile_closed_events)

    def wait_mobile_sockets_done(self, count, timeout=10):
        """Wait until the server is done with ``count`` mobile sockets of
        this test: a closing socket still uses the test cursor (presence),
        which the test thread shares."""
        wait_until(
            lambda: self.mobile_sockets_done() >= count,
            f"the server to be done with {count} mobile sockets",
            timeout,
        )

    def wait_remaining_websocket_connections(self):
        # A server thread may still be registering its connection: iterate
        # over a copy (the stock loop can fail with "Set changed size").
        for event in list(self._websocket_events):
            event.wait(5)

    def mobile_connect(
        self,
        cookie=None,
        user_agent=None,
        origin=None,
        device_uuid=None,
        ping_after_connect=False,
        **kw,
    ):
        """Open a mobile socket. ``cookie=None`` means a fresh anonymous
        session; the caller usually passes ``session_cookie()``. With
        ``ping_after_connect``, return once the server answered a ping: its
        side of the socket is set up then (the open callbacks share the test
        cursor: wait for them before using it)."""
        if cookie is None:
            cookie = f"session_id={self.authenticate(None, None).sid}"
        url = self._MOBILE_WEBSOCKET_URL
        if device_uuid:
            url += f"?device_uuid={device_uuid}"
        header = list(kw.pop("header", ()))
        if user_agent:
            header.append(f"User-Agent: {user_agent}")
        ws = ws_client.create_connection(
            url,
            cookie=cookie,
            header=header,
            origin=origin,
            suppress_origin=origin is None,
            timeout=kw.pop("timeout", 5),
            **kw,
        )
        self._websockets.add(ws)
        if ping_after_connect:
            ws.ping()
            ws.recv_data_frame(control_frame=True)
        return ws

    def server_socket(self, uid):
        """The server side of ``uid``'s open mobile socket."""
        return next(
            ws
            for ws in list(_websocket_instances)
            if isinstance(ws, MobileWebsocket)
            and ws._session.uid == uid
            and ws.state is ConnectionState.OPEN
        )

    def subscribe(self, websocket, channels=None, last=None, wait_for_dispatch=True, timeout=10):
        """Stock helper, which waits (silently giving up after 5 s) for any
        socket's own bus read. Here: wait until the server served *this*
        socket's subscription (a mobile socket's by the worker's dispatcher:
        replay sent, channels live; a stock socket's first read), and fail
        the test if it did not within ``timeout`` seconds."""
        served = Event()
        client_address = websocket.sock.getsockname()
        originals = {
            Websocket: Websocket._dispatch_bus_notifications,
            MobileWebsocket: MobileWebsocket.on_subscribed,
        }

        def is_this_socket(server_ws):
            if isinstance(server_ws, MobileWebsocket):
                sock = server_ws._client_sock
            else:
                sock = server_ws._Websocket__socket
            try:
                return sock.getpeername() == client_address
            except OSError:
                return False

        def wrap(original):
            def wrapper(ws_self, *args):
                original(ws_self, *args)
                if is_this_socket(ws_self):
                    served.set()

            return wrapper

        with (
            patch.object(Websocket, "_dispatch_bus_notifications", wrap(originals[Websocket])),
            patch.object(MobileWebsocket, "on_subscribed", wrap(originals[MobileWebsocket])),
        ):
            result = super().subscribe(websocket, channels, last, wait_for_dispatch=False)
            if wait_for_dispatch:
                if not served.wait(timeout=timeout):
                    self.fail(f"the server did not serve the subscription within {timeout} s")
                self.wait_mobile_dispatch()
        return result

    def trigger_notification_dispatching(self, channels):
        """Stock helper; then wait until the stock sockets it woke and the
        mobile dispatcher are done: their threads share the test cursor with
        this one. Stock's helper writes the bus rows on that cursor while a
        socket's thread may still be reading the bus there (a run failed
        with "no results to fetch"): it runs under the cursor's lock, which
        the other threads' cursors take."""
        stock_sockets = self._stock_sockets_of(channels)
        with self._stock_reads:
            reads_before = {ws: self._stock_reads_done[ws] for ws in stock_sockets}
        with holding_test_cursor(self.registry):
            result = super().trigger_notification_dispatching(channels)
        self._wait_stock_reads(reads_before)
        self.wait_mobile_dispatch()
        return result

    def _stock_sockets_of(self, channels):
        """The stock (web client) sockets that stock's helper wakes for
        ``channels``."""
        sockets = set()
        for channel in channels:
            key = hashable(channel_with_db(self.registry.db_name, channel))
            sockets.update(stock_dispatch._channels_to_ws.get(key, ()))
        return {ws for ws in sockets if not isinstance(ws, MobileWebsocket)}

    def _wait_stock_reads(self, reads_before, timeout=10):
        """Wait until each socket of ``reads_before`` ({socket: reads done
        then}) finished a bus read since, and runs none (or closed)."""

        def done(ws):
            if ws.state is not ConnectionState.OPEN:
                return True
            return (
                self._stock_reads_done[ws] > reads_before[ws] and not self._stock_reads_running[ws]
            )

        deadline = time.monotonic() + timeout
        with self._stock_reads:
            while not all(done(ws) for ws in reads_before):
                if time.monotonic() > deadline:
                    self.fail(f"a web client socket did not read the bus within {timeout} s")
                # A closing socket does not notify: look again soon.
                self._stock_reads.wait(0.05)

    def wait_mobile_dispatch(self, timeout=10):
        wait_until(mobile_dispatch.is_idle, "the mobile dispatcher to be idle", timeout)

    def bus_mark(self):
        return last_bus_id(self.env)

    def notify(self, target, payload, notification_type=TEST_TYPE):
        self.env["bus.bus"]._sendone(target, notification_type, payload)

    def dispatch(self, *targets):
        self.trigger_notification_dispatching(list(targets))

    def close_code_and_reason(self, ws):
        """Read until the close frame; return its code and reason."""
        while True:
            opcode, payload = ws.recv_data(control_frame=True)
            if opcode == ws_client.ABNF.OPCODE_CLOSE:
                return struct.unpack("!H", payload[:2])[0], payload[2:].decode()

    def recv_notifications(self, ws):
        """Next data frame, decoded as the list of bus notifications."""
        return json.loads(ws.recv())

    def next_test_payloads(self, ws):
        """Payloads of the next frame holding test notifications (other
        addons may notify the same users, e.g. of presence)."""
        while True:
            payloads = [
                n["message"]["payload"]
                for n in self.recv_notifications(ws)
                if n["message"]["type"] == TEST_TYPE
            ]
            if payloads:
                return payloads

    @classmethod
    def make_user(cls, login, groups="base.group_user", **kw):
        return make_test_user(cls.env, login=login, password=login, groups=groups, **kw)


class ChannelCase(MobileWebsocketCase):
    """Users and mobile channels (password = login)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("chan_alice", name="Alice")
        cls.bob = cls.make_user("chan_bob", name="Bob")
        cls.carol = cls.make_user("chan_carol", name="Carol")  # internal outsider
        cls.paul = cls.make_user("chan_paul", name="Paul", groups="base.group_portal")
        cls.pia = cls.make_user("chan_pia", name="Pia", groups="base.group_portal")

    @classmethod
    def make_channel(cls, name, channel_type, users):
        return cls.env["bus_mobile.channel"].create(
            {
                "name": name,
                "channel_type": channel_type,
                "member_ids": [Command.create({"partner_id": u.partner_id.id}) for u in users],
            }
        )

    def bus_since(self, mark, notification_type=None):
        """[(target, type, payload)] of the bus rows after ``mark``; target
        is ``(model, id)`` for records."""
        self.env.cr.precommit.run()
        rows = self.env["bus.bus"].sudo().search([("id", ">", mark)], order="id")
        result = []
        for row in rows:
            channel, message = json.loads(row.channel), json.loads(row.message)
            target = tuple(channel[1:]) if isinstance(channel, list) else channel
            if notification_type in (None, message["type"]):
                result.append((target, message["type"], message["payload"]))
        return result
