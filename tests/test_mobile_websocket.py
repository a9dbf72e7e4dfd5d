import json
import threading
from unittest.mock import patch

import websocket as ws_client

from odoo.tests import tagged

from odoo.addons.bus.models.bus import dispatch
from odoo.addons.bus.websocket import CloseCode

from ..mobile_socket import REFUSAL_HEADER, handshake
from ..models import ir_websocket
from .common import BROWSER_UA, MobileWebsocketCase

APP_USER_AGENTS = [
    BROWSER_UA,
    "okhttp/4.9.2",
    "MyApp/1 CFNetwork/1410.0.3 Darwin/22.6.0",
    None,
]


@tagged("post_install", "-at_install")
class TestMobileWebsocket(MobileWebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.make_user("mobile_alice")

    def _assert_receives_own_notification(self, ws):
        self.subscribe(ws, [], self.env["bus.bus"]._bus_last_id())
        self.env["bus.bus"]._sendone(self.user.partner_id, "bus_mobile/test", {"n": 1})
        self.trigger_notification_dispatching([self.user.partner_id])
        notifications = self.recv_notifications(ws)
        self.assertEqual(notifications[0]["message"]["type"], "bus_mobile/test")
        self.assertEqual(notifications[0]["message"]["payload"], {"n": 1})

    def test_stock_websocket_closes_browser_ua_without_version(self):
        """The root cause users hit: stock /websocket closes a browser-like
        client that sends no ?version=, with a clean 1000 OUTDATED_VERSION."""
        ws = ws_client.create_connection(
            self._BASE_WEBSOCKET_URL,
            cookie=self.session_cookie("mobile_alice"),
            header=[f"User-Agent: {BROWSER_UA}"],
            timeout=5,
        )
        self._websockets.add(ws)
        self.assert_close_with_code(ws, CloseCode.CLEAN, "OUTDATED_VERSION")

    def test_mobile_websocket_serves_every_user_agent(self):
        cookie = self.session_cookie("mobile_alice")
        for user_agent in APP_USER_AGENTS:
            with self.subTest(user_agent=user_agent):
                ws = self.mobile_connect(cookie=cookie, user_agent=user_agent)
                self._assert_receives_own_notification(ws)
                ws.close(CloseCode.CLEAN)

    def test_same_origin_is_accepted(self):
        origin = f"http://127.0.0.1:{self.http_port()}"
        ws = self.mobile_connect(cookie=self.session_cookie("mobile_alice"), origin=origin)
        self._assert_receives_own_notification(ws)

    def test_foreign_origin_is_refused(self):
        with self.assertRaises(ws_client.WebSocketBadStatusException) as caught:
            self.mobile_connect(
                cookie=self.session_cookie("mobile_alice"), origin="https://evil.example"
            )
        self.assertEqual(caught.exception.status_code, 403)
        self.assertIn("ORIGIN_NOT_ALLOWED", caught.exception.resp_headers[REFUSAL_HEADER.lower()])

    def test_listed_origin_is_accepted(self):
        self.env["ir.config_parameter"].set_param(
            "bus_mobile.allowed_origins", "https://app.example, https://other.example/"
        )
        ws = self.mobile_connect(
            cookie=self.session_cookie("mobile_alice"), origin="https://other.example"
        )
        self._assert_receives_own_notification(ws)

    def test_anonymous_session_is_closed_with_session_expired(self):
        ws = self.mobile_connect(cookie=None)
        self.assert_close_with_code(ws, CloseCode.SESSION_EXPIRED, "SESSION_EXPIRED")

    def test_no_session_cookie_is_closed_with_session_expired(self):
        ws = self.mobile_connect(cookie="")
        self.assert_close_with_code(ws, CloseCode.SESSION_EXPIRED, "SESSION_EXPIRED")

    def test_logged_out_session_is_closed_on_next_message(self):
        cookie = self.session_cookie("mobile_alice")
        ws = self.mobile_connect(cookie=cookie)
        self.url_open("/web/session/logout")
        self.subscribe(ws, [], 0, wait_for_dispatch=False)
        self.assert_close_with_code(ws, CloseCode.SESSION_EXPIRED)

    def test_stock_dispatch_is_started_before_the_first_frame(self):
        """Stock's dispatch.subscribe starts it unlocked: sockets that
        subscribe together after a restart would start it twice. Each
        mobile socket starts it, one at a time, before reading a frame."""
        started = []
        self.startPatcher(patch.object(handshake, "start_once", side_effect=started.append))
        ws = self.mobile_connect(cookie=self.session_cookie("mobile_alice"))
        self._assert_receives_own_notification(ws)
        self.assertEqual(started, [dispatch])

    def test_stock_sockets_start_the_stock_dispatch_one_at_a_time_too(self):
        subscribed = threading.Event()
        self.startPatcher(
            patch.object(ir_websocket, "start_once", side_effect=lambda thread: subscribed.set())
        )
        ws = self.websocket_connect(cookie=self.session_cookie("mobile_alice"))
        ws.send(json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": 0}}))
        self.assertTrue(
            subscribed.wait(10), "the stock socket's subscription did not start the dispatch"
        )
