import math
import time
from unittest.mock import patch

import websocket as ws_client

from odoo.tests import BaseCase, tagged

from odoo.addons.bus.websocket import CloseCode

from ..mobile_socket import REFUSAL_HEADER, MobileWebsocketConnectionHandler
from ..tools.rate_limit import Deadlines, TokenBuckets
from .auth_common import AuthCallsMixin
from .common import MobileWebsocketCase


@tagged("post_install", "-at_install")
class TestTokenBuckets(BaseCase):
    """The buckets alone, on a clock of the test's."""

    def test_a_burst_then_one_per_refill(self):
        buckets = TokenBuckets()
        self.assertEqual([buckets.take("s", 3, 2.0, now=0.0) for _ in range(3)], [0.0] * 3)
        self.assertEqual(buckets.take("s", 3, 2.0, now=0.0), 2.0)
        self.assertEqual(buckets.take("s", 3, 2.0, now=1.5), 0.5)  # refused: nothing taken
        self.assertEqual(buckets.take("s", 3, 2.0, now=2.0), 0.0)
        self.assertEqual(buckets.take("s", 3, 2.0, now=2.0), 2.0)
        # Never more than the burst, however long the pause.
        self.assertEqual([buckets.take("s", 3, 2.0, now=1e6) for _ in range(4)], [0.0] * 3 + [2.0])

    def test_keys_are_independent(self):
        buckets = TokenBuckets()
        self.assertEqual(buckets.take("a", 1, 60, now=0.0), 0.0)
        self.assertEqual(buckets.take("a", 1, 60, now=0.0), 60.0)
        self.assertEqual(buckets.take("b", 1, 60, now=0.0), 0.0)

    def test_a_clock_going_back_gives_nothing(self):
        buckets = TokenBuckets()
        buckets.take("s", 1, 10, now=100.0)
        self.assertEqual(buckets.take("s", 1, 10, now=50.0), 10.0)

    def test_memory_is_bounded(self):
        buckets = TokenBuckets(max_keys=100)
        for n in range(100):
            buckets.take(n, 5, 1.0, now=0.0)
        # Much later: the old buckets are full again, forgetting them is free.
        buckets.take("late", 5, 1.0, now=10.0)
        self.assertEqual(len(buckets), 1)
        # All active at once: still bounded (fails open).
        for n in range(1000):
            buckets.take(n, 5, 1.0, now=20.0)
        self.assertLessEqual(len(buckets), 100)


@tagged("post_install", "-at_install")
class TestDeadlines(BaseCase):
    def test_a_key_is_held_until_its_deadline(self):
        deadlines = Deadlines()
        self.assertEqual(deadlines.remaining("s", now=0.0), 0.0)
        deadlines.hold("s", 3.0, now=10.0)
        self.assertEqual(deadlines.remaining("s", now=11.0), 2.0)
        self.assertEqual(deadlines.remaining("other", now=11.0), 0.0)
        self.assertEqual(deadlines.remaining("s", now=13.0), 0.0)
        self.assertEqual(len(deadlines), 0, "a passed deadline is forgotten")

    def test_memory_is_bounded(self):
        deadlines = Deadlines(max_keys=100)
        for n in range(100):
            deadlines.hold(n, 1.0, now=0.0)
        deadlines.hold("late", 1.0, now=5.0)  # the others have passed
        self.assertEqual(len(deadlines), 1)
        for n in range(1000):
            deadlines.hold(n, 60.0, now=10.0)
        self.assertLessEqual(len(deadlines), 100)


@tagged("post_install", "-at_install")
class TestHandshakeLimit(AuthCallsMixin, MobileWebsocketCase):
    """A session (or bearer key) reconnecting in a loop is refused with 429
    before the upgrade; other sessions are not."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("limit_alice")
        cls.make_user("limit_bob")

    def setUp(self):
        super().setUp()
        self.set_limit(burst=2, refill_s=3600)

    def set_limit(self, burst, refill_s):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("bus_mobile.handshake_burst", burst)
        params.set_param("bus_mobile.handshake_refill_s", refill_s)

    def open_and_close(self, cookie="", header=()):
        """A socket opened and closed, and the server done with it (its
        closing shares the test cursor)."""
        done = self.mobile_sockets_done()
        ws = self.mobile_connect(cookie=cookie, header=list(header))
        ws.close(CloseCode.CLEAN)
        self.wait_mobile_sockets_done(done + 1)

    def refusal(self, cookie="", header=()):
        """The headers of the refused handshake. (Not assertRaises: its
        savepoint on the test cursor would race the server's requests.)"""
        try:
            ws = self.mobile_connect(cookie=cookie, header=list(header))
        except ws_client.WebSocketBadStatusException as refused:
            self.assertEqual(refused.status_code, 429)
            self.assertFalse(refused.resp_body, "refusals have an empty body")
            return refused.resp_headers
        ws.close(CloseCode.CLEAN)
        self.fail("the handshake was not refused")

    def test_a_session_reconnecting_in_a_loop_is_refused(self):
        alice = self.session_cookie("limit_alice")
        started = time.monotonic()
        for _ in range(2):
            self.open_and_close(alice)
        headers = self.refusal(alice)
        elapsed = time.monotonic() - started
        self.assertTrue(headers[REFUSAL_HEADER.lower()].startswith("TOO_MANY_CONNECTIONS:"))
        self.assertIn("bus_mobile.handshake_burst", headers[REFUSAL_HEADER.lower()])
        # The bucket refilled while the handshakes went on (3599 on a slow
        # machine): the wait is the rest of the hour since the first one.
        retry_after = int(headers["retry-after"])
        self.assertLessEqual(retry_after, 3600)
        self.assertGreaterEqual(retry_after, math.ceil(3600 - elapsed))
        # Another session of the same user, and another user, are served.
        self.open_and_close(self.session_cookie("limit_alice"))
        self.open_and_close(self.session_cookie("limit_bob"))

    def test_a_refused_session_is_refused_again_before_dispatch(self):
        """Until its Retry-After, a refused session's handshakes are refused
        from ``ir.http._match``: the handshake code is not reached."""
        alice = self.session_cookie("limit_alice")
        for _ in range(2):
            self.open_and_close(alice)
        self.refusal(alice)
        handler = MobileWebsocketConnectionHandler
        with patch.object(
            handler, "open_mobile_connection", wraps=handler.open_mobile_connection
        ) as opened:
            for _ in range(3):
                headers = self.refusal(alice)
            self.assertEqual(opened.call_count, 0)
            self.assertTrue(headers[REFUSAL_HEADER.lower()].startswith("TOO_MANY_CONNECTIONS:"))
            self.assertIn(int(headers["retry-after"]), (3599, 3600))
            # Another session is served as before.
            self.open_and_close(self.session_cookie("limit_alice"))
            self.assertEqual(opened.call_count, 1)

    def test_a_refused_token_is_refused_again_before_dispatch(self):
        refused = [f"Authorization: Bearer {self.device_token('limit_alice')}"]
        other = [f"Authorization: Bearer {self.device_token('limit_alice', 'phone-2')}"]
        for _ in range(2):
            self.open_and_close(header=refused)
        self.refusal(header=refused)
        handler = MobileWebsocketConnectionHandler
        with patch.object(
            handler, "open_mobile_connection", wraps=handler.open_mobile_connection
        ) as opened:
            self.refusal(header=refused)
            self.assertEqual(opened.call_count, 0)
            self.open_and_close(header=other)
            self.assertEqual(opened.call_count, 1)

    def test_a_bearer_key_is_counted_across_sessions(self):
        header = [f"Authorization: Bearer {self.device_token('limit_alice')}"]
        for _ in range(2):
            self.open_and_close(header=header)
        self.refusal(header=header)

    def test_a_refill_lets_the_session_in_again(self):
        self.set_limit(burst=1, refill_s=1)
        alice = self.session_cookie("limit_alice")
        self.open_and_close(alice)
        self.assertEqual(int(self.refusal(alice)["retry-after"]), 1)
        time.sleep(1.2)
        self.open_and_close(alice)

    def test_anonymous_sockets_are_closed_not_counted(self):
        for _ in range(4):
            ws = self.mobile_connect()  # a fresh anonymous session each time
            self.assertEqual(self.close_code_and_reason(ws)[0], CloseCode.SESSION_EXPIRED)
        self.wait_mobile_sockets_done(4)

    def test_bad_settings_fall_back_to_the_defaults(self):
        for burst, refill_s in (("many", "soon"), (-1, 0), ("", "1e9")):
            self.set_limit(burst, refill_s)
            settings = self.env["ir.config_parameter"]._bus_mobile_settings()
            self.assertEqual((settings["handshake_burst"], settings["handshake_refill_s"]), (20, 3))
            self.open_and_close(self.session_cookie("limit_alice"))
