import threading
import time
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.bus.websocket import Opcode, TimeoutManager, Websocket

from ..mobile_socket.connection import KEEPALIVE_MIN_WAIT, MobileWebsocket
from .common import MobileWebsocketCase, PresenceAssertions


def bare_socket(ping_after, last_frame_age=None):
    """A MobileWebsocket's keepalive state alone (no socket, no session)."""
    websocket = MobileWebsocket.__new__(MobileWebsocket)
    websocket._timeout_manager = TimeoutManager()
    websocket._ping_after = ping_after
    if last_frame_age is not None:
        websocket._last_frame_at = time.monotonic() - last_frame_age
    return websocket


@tagged("post_install", "-at_install")
class TestKeepaliveWait(PresenceAssertions, MobileWebsocketCase):
    """The stock loop waits ``INACTIVITY_TIMEOUT`` for a frame: a mobile
    socket computes it from its next keepalive step, so that thousands of
    quiet sockets do not each wake up every few seconds for nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("keepalive_alice")

    def test_waits_until_the_ping_is_due(self):
        websocket = bare_socket(ping_after=60, last_frame_age=20)
        self.assertTrue(35 < websocket.INACTIVITY_TIMEOUT <= 40)

    def test_waits_until_the_awaited_pong_is_late(self):
        websocket = bare_socket(ping_after=60, last_frame_age=59)
        manager = websocket._timeout_manager
        manager.TIMEOUT = 30
        manager._awaited_opcode = Opcode.PONG
        manager._waiting_start_time = time.time() - 10  # stock's wall clock
        self.assertTrue(15 < websocket.INACTIVITY_TIMEOUT <= 20)

    def test_a_step_already_due_runs_at_the_next_wake_up(self):
        websocket = bare_socket(ping_after=5, last_frame_age=3600)
        self.assertEqual(websocket.INACTIVITY_TIMEOUT, KEEPALIVE_MIN_WAIT)
        manager = websocket._timeout_manager
        manager._awaited_opcode = Opcode.CLOSE
        manager._waiting_start_time = time.time() - 3600
        self.assertEqual(websocket.INACTIVITY_TIMEOUT, KEEPALIVE_MIN_WAIT)

    def test_never_longer_than_the_ping_period(self):
        # Timers not set up yet: counted from now.
        websocket = bare_socket(ping_after=7)
        self.assertEqual(websocket.INACTIVITY_TIMEOUT, 7)
        # A clock step back (last frame "in the future") waits no longer.
        websocket._last_frame_at = time.monotonic() + 3600
        self.assertEqual(websocket.INACTIVITY_TIMEOUT, 7)

    def test_quiet_device_socket_wakes_once_per_ping(self):
        """A device socket whose app answers pings and sends nothing else:
        the server wakes up about once per ping (it used to wake up every
        10 % of offline_after_s, three times per ping), and still pings."""
        offline_after_s = 2  # a ping after 0.6 s of silence
        with self.db():
            self.env["ir.config_parameter"].set_param(
                "bus_mobile.offline_after_s", str(offline_after_s)
            )
        wake_ups, pings = [], []
        idle = MobileWebsocket._send_ping_frame
        ping = Websocket._send_ping_frame

        def count_wake_up(websocket):
            wake_ups.append(time.monotonic())
            return idle(websocket)

        def count_ping(websocket):
            pings.append(time.monotonic())
            return ping(websocket)

        cookie = self.session_cookie(self.alice.login)
        with (
            patch.object(MobileWebsocket, "_send_ping_frame", count_wake_up),
            patch.object(Websocket, "_send_ping_frame", count_ping),
        ):
            device = self.mobile_connect(cookie=cookie, device_uuid="phone")
            # websocket-client answers pings while it reads.
            reader = threading.Thread(target=self._read_until_closed, args=(device,), daemon=True)
            reader.start()
            time.sleep(3.5)
            device.close()
        self.assertGreaterEqual(len(pings), 2, "the quiet socket is still pinged")
        # A fixed 0.2 s period would be ~17 idle wake-ups; one per ping
        # (0.6 s) is ~6.
        self.assertLessEqual(len(wake_ups), 10, f"{len(wake_ups)} wake-ups, {len(pings)} pings")

    def _read_until_closed(self, ws):
        try:
            while ws.recv():
                pass
        except Exception:  # closed by the test
            return
