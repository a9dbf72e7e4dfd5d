import json
import re
import struct
import time
from contextlib import contextmanager
from threading import Event
from types import SimpleNamespace
from unittest.mock import patch

import websocket as ws_client

from odoo.http import Session
from odoo.tests.common import HOST, new_test_user

from odoo.addons.bus.tests.common import WebsocketCase
from odoo.addons.bus.websocket import Websocket, WebsocketRequest

from ..mobile_socket import MobileWebsocket, MobileWebsocketConnectionHandler, mobile_dispatch


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


BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


class MobileWebsocketCase(WebsocketCase):
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

    def mobile_sockets_done(self):
        """How many mobile sockets of this test the server is done with."""
        return sum(event.is_set() for event in self._mobile_closed_events)

    def wait_mobile_sockets_done(self, count, timeout=10):
        """Wait until the server is done with ``count`` mobile sockets of
        this test: a closing socket still uses the test cursor (presence),
        which the test thread shares."""
        deadline = time.monotonic() + timeout
        while self.mobile_sockets_done() < count and time.monotonic() < deadline:
            time.sleep(0.005)
        self.assertGreaterEqual(self.mobile_sockets_done(), count, "sockets still closing")

    def wait_remaining_websocket_connections(self):
        # A server thread may still be registering its connection: iterate
        # over a copy (the stock loop can fail with "Set changed size").
        for event in list(self._websocket_events):
            event.wait(5)

    def login_session(self, login):
        """A session cookie for ``login`` (password = login)."""
        session = self.authenticate(login, login)
        return f"session_id={session.sid}"

    def mobile_connect(self, cookie=None, user_agent=None, origin=None, device_uuid=None, **kw):
        """Open a mobile socket. ``cookie=None`` means a fresh anonymous
        session; the caller usually passes ``login_session()``."""
        if cookie is None:
            cookie = f"session_id={self.authenticate(None, None).sid}"
        url = self._MOBILE_WEBSOCKET_URL
        if device_uuid:
            url += f"?device_uuid={device_uuid}"
        header = []
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
        return ws

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
        """Stock helper; then wait until the mobile dispatcher is done: its
        thread shares the test cursor with this one."""
        result = super().trigger_notification_dispatching(channels)
        self.wait_mobile_dispatch()
        return result

    def wait_mobile_dispatch(self, timeout=10):
        deadline = time.monotonic() + timeout
        while not mobile_dispatch.is_idle():
            if time.monotonic() > deadline:
                self.fail(f"the mobile dispatcher was still busy after {timeout} s")
            time.sleep(0.002)

    def close_code_and_reason(self, ws):
        """Read until the close frame; return its code and reason."""
        while True:
            opcode, payload = ws.recv_data(control_frame=True)
            if opcode == ws_client.ABNF.OPCODE_CLOSE:
                return struct.unpack("!H", payload[:2])[0], payload[2:].decode()

    def recv_notifications(self, ws):
        """Next data frame, decoded as the list of bus notifications."""
        return json.loads(ws.recv())

    @classmethod
    def make_user(cls, login, groups="base.group_user", **kw):
        return new_test_user(cls.env, login=login, password=login, groups=groups, **kw)
