import json
import logging
import socket
import subprocess
import sys
import threading
import time
import uuid
from unittest.mock import patch

import websocket as ws_client

from odoo import Command
from odoo.tests import tagged
from odoo.tests.common import HOST

from odoo.addons.bus.websocket import CloseCode, TimeoutManager

from ..mobile_socket import device_presence
from ..tools.channels import PRESENCE_SUBCHANNELS
from .common import MobileWebsocketCase, PresenceAssertions, wait_until

_logger = logging.getLogger(__name__)


class BlackholeProxy:
    """A TCP proxy for one connection that can stop forwarding both ways
    without closing anything: the server sees a client that went silent
    without FIN, like a phone out of coverage or a paused app."""

    def __init__(self, port):
        self._upstream_port = port
        self._listener = socket.create_server((HOST, 0))
        self.port = self._listener.getsockname()[1]
        self.blackholed = threading.Event()
        self._sockets = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        client, _address = self._listener.accept()
        upstream = socket.create_connection((HOST, self._upstream_port))
        self._sockets += [client, upstream]
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source, target):
        try:
            while not self.blackholed.is_set():
                data = source.recv(65536)
                if not data or self.blackholed.is_set():
                    return
                target.sendall(data)
        except OSError:
            return

    def close(self):
        for sock in self._sockets:
            sock.close()


@tagged("post_install", "-at_install")
class TestPresenceSocket(PresenceAssertions, MobileWebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("sock_alice")
        cls.watcher = cls.make_user("sock_watcher")
        cls.stranger = cls.make_user("sock_stranger", groups="base.group_portal")
        cls.mallory = cls.make_user("sock_mallory")
        cls.users = {user.login: user for user in (cls.alice, cls.stranger, cls.mallory)}

    def setUp(self):
        super().setUp()
        self.app_watchers = set()  # the watch() sockets on the mobile socket

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    def set_offline_after(self, seconds):
        with self.db():
            self.env["ir.config_parameter"].set_param("bus_mobile.offline_after_s", str(seconds))

    def connect_device(self, login="sock_alice", device_uuid="phone", cookie=None, **kw):
        ws = self.mobile_connect(
            cookie=cookie or self.session_cookie(login),
            device_uuid=device_uuid,
            user_agent="okhttp/4.9.2",
            **kw,
        )
        user = self.users[login]
        if device_uuid:
            # The OPEN callback runs in the server thread after the 101.
            wait_until(lambda: self.tokens(user, device_uuid) >= 1, "device socket registered")
        return ws

    def tokens(self, user, device_uuid):
        row = self.device_row(user, device_uuid)
        return len(row[1] or []) if row else 0

    def status(self, user, device_uuid="phone"):
        row = self.device_row(user, device_uuid)
        return row[0] if row else None

    def watch(self, login="sock_watcher", partner=None, mobile=False):
        """A socket subscribed to ``partner``'s presence channel (stock
        /websocket, as Odoo's web client, or the mobile socket)."""
        partner = partner or self.alice.partner_id
        if mobile:
            ws = self.mobile_connect(cookie=self.session_cookie(login))
            self.app_watchers.add(ws)
        else:
            ws = self.websocket_connect(cookie=self.session_cookie(login))
        self.subscribe(ws, [f"odoo-presence-res.partner_{partner.id}"], self.last_bus_id())
        return ws

    def recv_presence_frame(self, ws, partner=None):
        """The next frame of ``ws`` (its notifications' messages), after
        waking the sockets of ``partner``'s presence channels."""
        partner = partner or self.alice.partner_id
        with self.db():
            self.env.cr.precommit.run()
        self.trigger_notification_dispatching([(partner, sub) for sub in PRESENCE_SUBCHANNELS])
        return [notification["message"] for notification in json.loads(ws.recv())]

    def recv_presence(self, ws, partner=None):
        """The next presence payload for ``partner`` on ``ws``: an app's
        ``bus_mobile/presence``; on a web client's socket stock's
        ``bus.bus/im_status_updated``, and never ours."""
        partner = partner or self.alice.partner_id
        wanted = "bus_mobile/presence" if ws in self.app_watchers else "bus.bus/im_status_updated"
        while True:
            for message in self.recv_presence_frame(ws, partner):
                if ws not in self.app_watchers:
                    self.assertNotEqual(message["type"], "bus_mobile/presence", message)
                if message["type"] == wanted:
                    self.assertEqual(message["payload"]["partner_id"], partner.id)
                    return message["payload"]

    def abrupt_close(self, ws):
        """Close the TCP connection (FIN) without a WebSocket close frame."""
        ws.sock.shutdown(socket.SHUT_RDWR)
        ws.sock.close()

    def wait_closed(self):
        self.wait_remaining_websocket_connections()

    # ------------------------------------------------------------------
    # tests
    # ------------------------------------------------------------------

    def test_connect_then_close(self):
        app, web = self.watch(mobile=True), self.watch()
        start = time.monotonic()
        device = self.connect_device()
        payload = self.recv_presence(app)
        connect_s = time.monotonic() - start
        self.assertEqual(payload["im_status"], "online")
        self.assertIsNotNone(payload["last_seen"])
        self.assertEqual(self.recv_presence(web)["im_status"], "online")
        self.assertEqual(self.status(self.alice), "online")
        self.assertEqual(self.im_status(self.alice), "online")
        start = time.monotonic()
        device.close(CloseCode.CLEAN)
        wait_until(lambda: self.status(self.alice) == "offline", "offline")
        self.assertEqual(self.recv_presence(app)["im_status"], "offline")
        self.assertEqual(self.recv_presence(web)["im_status"], "offline")
        _logger.info(
            "presence timings: connect -> watcher notified %.3f s, close -> offline %.3f s",
            connect_s,
            time.monotonic() - start,
        )
        self.assertEqual(self.im_status(self.alice), "offline")

    def test_mobile_watcher_receives_presence(self):
        """An app gets both: ours, then stock's, in one frame."""
        watcher = self.watch(mobile=True)
        self.connect_device()
        self.assertEqual(
            [message["type"] for message in self.recv_presence_frame(watcher)],
            ["bus_mobile/presence", "bus.bus/im_status_updated"],
        )

    def test_web_client_gets_stock_presence_only(self):
        """Odoo's web client, and stock's own tests (bus's
        test_notify_on_status_change, mail's test_receive_presences_*), read
        the next frame of a stock socket: it holds stock's notification, as
        stock sends it, and nothing only apps need."""
        web = self.watch()
        self.connect_device()
        partner_id = self.alice.partner_id.id
        self.assertEqual(
            self.recv_presence_frame(web),
            [
                {
                    "type": "bus.bus/im_status_updated",
                    "payload": {"im_status": "online", "partner_id": partner_id},
                }
            ],
        )

    def test_two_devices_stay_online_until_the_last_closes(self):
        mark = self.last_bus_id()
        phone = self.connect_device(device_uuid="phone")
        tablet = self.connect_device(device_uuid="tablet")
        phone.close(CloseCode.CLEAN)
        wait_until(lambda: self.status(self.alice, "phone") == "offline", "phone offline")
        self.assertEqual(self.status(self.alice, "tablet"), "online")
        self.assertEqual(self.im_status(self.alice), "online")
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["online"])
        tablet.close(CloseCode.CLEAN)
        wait_until(lambda: self.status(self.alice, "tablet") == "offline", "tablet offline")
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["online", "offline"])

    def test_two_sockets_of_one_device(self):
        mark = self.last_bus_id()
        first = self.connect_device()
        second = self.connect_device()
        wait_until(lambda: self.tokens(self.alice, "phone") == 2, "two sockets")
        first.close(CloseCode.CLEAN)
        wait_until(lambda: self.tokens(self.alice, "phone") == 1, "one socket left")
        self.assertEqual(self.status(self.alice), "online")
        second.close(CloseCode.CLEAN)
        wait_until(lambda: self.status(self.alice) == "offline", "offline")
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["online", "offline"])

    def test_a_socket_of_a_killed_worker_does_not_keep_its_device_online(self):
        """A worker killed with SIGKILL (the prefork server stops its gevent
        worker that way) never closes its sockets: their tokens stay. The
        device's next socket drops them on open, so that closing it takes the
        device offline at once, not after the sweep."""
        killed = subprocess.Popen([sys.executable, "-c", ""])
        killed.wait()
        left = f"{uuid.uuid4().hex}.{killed.pid}.{device_presence.HOST_KEY}"
        with self.db():
            self.env["bus_mobile.device"].with_user(self.alice)._bus_mobile_socket_opened(
                "phone", left
            )
        mark = self.last_bus_id()
        device = self.connect_device()
        wait_until(
            lambda: left not in self.device_row(self.alice, "phone")[1], "dead token dropped"
        )
        self.assertEqual(self.tokens(self.alice, "phone"), 1)
        device.close(CloseCode.CLEAN)
        wait_until(lambda: self.status(self.alice) == "offline", "offline on close")
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["offline"])

    def test_abrupt_drop_goes_offline(self):
        watcher = self.watch()
        device = self.connect_device()
        self.assertEqual(self.recv_presence(watcher)["im_status"], "online")
        start = time.monotonic()
        self.abrupt_close(device)
        wait_until(lambda: self.status(self.alice) == "offline", "offline after FIN")
        _logger.info("presence timings: FIN drop -> offline %.3f s", time.monotonic() - start)
        self.assertEqual(self.recv_presence(watcher)["im_status"], "offline")

    def test_silent_drop_goes_offline_within_offline_after(self):
        offline_after_s = 8
        self.set_offline_after(offline_after_s)
        watcher = self.watch()
        proxy = BlackholeProxy(self.http_port())
        self.addCleanup(proxy.close)
        device = ws_client.create_connection(
            f"ws://{HOST}:{proxy.port}/bus_mobile/websocket?device_uuid=phone",
            cookie=self.session_cookie("sock_alice"),
            suppress_origin=True,
            timeout=30,
        )
        self.addCleanup(device.sock.close)
        wait_until(lambda: self.status(self.alice) == "online", "online")
        self.assertEqual(self.recv_presence(watcher)["im_status"], "online")
        # Answer the server's pings (websocket-client does so while reading):
        # a live quiet socket stays online through two of them.
        pings = []
        reader = threading.Thread(target=self._read_until_closed, args=(device, pings), daemon=True)
        reader.start()
        wait_until(lambda: len(pings) >= 2, "two pings answered", timeout=30)
        self.assertEqual(self.status(self.alice), "online")
        start = time.monotonic()
        proxy.blackholed.set()
        wait_until(
            lambda: self.status(self.alice) == "offline", "offline after silent drop", timeout=60
        )
        drop_s = time.monotonic() - start
        payload = self.recv_presence(watcher)
        notified_s = time.monotonic() - start
        self.assertEqual(payload["im_status"], "offline")
        _logger.info(
            "presence timings: silent drop -> offline %.3f s, -> watcher notified %.3f s "
            "(offline_after_s=%s)",
            drop_s,
            notified_s,
            offline_after_s,
        )
        # By design within ~70 % of offline_after_s (5.6 s here); stock Odoo
        # takes ~90 s. A bound with room for a loaded machine still tells
        # them apart.
        self.assertLess(drop_s, 2 * offline_after_s)

    def test_client_pings_keep_a_device_fresh(self):
        """An app whose WebSocket library pings the server (OkHttp's
        pingInterval) and sends no heartbeat is alive too: the sweep must
        not take its device offline."""
        offline_after_s = 5
        self.set_offline_after(offline_after_s)
        device = self.connect_device()
        reader = threading.Thread(target=self._read_until_closed, args=(device,), daemon=True)
        reader.start()
        stop = threading.Event()

        def ping():
            while not stop.wait(0.5):
                device.ping()

        pinger = threading.Thread(target=ping, daemon=True)
        pinger.start()
        self.addCleanup(stop.set)
        self._assert_kept_fresh_past(offline_after_s)

    def _assert_kept_fresh_past(self, offline_after_s):
        """The device lives longer than ``offline_after_s``, its last_seen
        refreshed by pings or pongs alone: the sweep, run right after a
        refresh (an event, not a timer), keeps it online."""
        connected_at = time.monotonic()
        first_seen = self.device_row(self.alice, "phone")[2]
        wait_until(
            lambda: time.monotonic() - connected_at > offline_after_s * 1.2,
            "the device outlives offline_after_s",
            timeout=offline_after_s * 2,
        )
        seen = self.device_row(self.alice, "phone")[2]
        wait_until(lambda: self.device_row(self.alice, "phone")[2] > seen, "a refresh", timeout=30)
        self.assertGreater(self.device_row(self.alice, "phone")[2], first_seen)
        with self.db():
            self.env["bus_mobile.device"]._cron_sweep_offline()
        self.assertEqual(self.status(self.alice), "online")

    def _read_until_closed(self, ws, pings=None):
        """Read (answering pings) until the socket dies; count the pings in
        ``pings``."""
        try:
            while True:
                opcode, _data = ws.recv_data(control_frame=True)
                if opcode == ws_client.ABNF.OPCODE_PING and pings is not None:
                    pings.append(time.monotonic())
                elif opcode == ws_client.ABNF.OPCODE_CLOSE:
                    return
        except Exception:  # the socket dies in the test on purpose
            return

    def test_pongs_keep_a_quiet_socket_fresh(self):
        """A socket whose app sends no heartbeat but answers pings refreshes
        last_seen, so the sweep never takes it offline."""
        offline_after_s = 5
        self.set_offline_after(offline_after_s)
        device = self.connect_device()
        pings = []
        reader = threading.Thread(target=self._read_until_closed, args=(device, pings), daemon=True)
        reader.start()
        self._assert_kept_fresh_past(offline_after_s)
        self.assertTrue(pings, "the server pinged the quiet socket")
        self.assertTrue(device.connected)

    def test_bad_update_presence_closes_only_that_socket(self):
        """update_presence frames with bad data close their own socket with
        1003 and a reason naming the field, never a traceback; the device's
        other socket keeps working."""
        # One session for all: each login would end the previous session.
        cookie = self.session_cookie("sock_alice")
        healthy = self.connect_device(device_uuid="tablet", cookie=cookie)
        bad_frames = [
            (
                '{"event_name": "update_presence", "data": {"inactivity_period": 1e400}}',
                "inactivity_period",
            ),
            (
                '{"event_name": "update_presence", "data": {"inactivity_period": -1}}',
                "inactivity_period",
            ),
            (
                '{"event_name": "update_presence", "data": {"inactivity_period": "x"}}',
                "inactivity_period",
            ),
            (
                '{"event_name": "update_presence", "data": {"inactivity_period": true}}',
                "inactivity_period",
            ),
            (
                '{"event_name": "update_presence", "data": {"inactivity_period": 0, '
                '"app_state": ["background"]}}',
                "app_state",
            ),
            ('{"event_name": "update_presence", "data": {"app_state": "inactive"}}', "app_state"),
        ]
        with self.assertNoLogs("odoo.addons.bus.websocket", "ERROR"):
            for frame, field in bad_frames:
                device = self.connect_device(cookie=cookie)
                device.send(frame)
                code, reason = self.close_code_and_reason(device)
                self.assertEqual(code, CloseCode.INCORRECT_DATA, frame)
                self.assertIn(field, reason)
            healthy.send(
                json.dumps(
                    {
                        "event_name": "update_presence",
                        "data": {"inactivity_period": 0, "app_state": "background"},
                    }
                )
            )
            wait_until(lambda: self.status(self.alice, "tablet") == "away", "tablet away")

    def test_unanswered_ping_closes_the_socket(self):
        offline_after_s = 6
        self.set_offline_after(offline_after_s)
        device = self.connect_device()
        start = time.monotonic()
        # This client never reads, so never answers a ping.
        wait_until(lambda: self.status(self.alice) == "offline", "offline", timeout=60)
        # ~50 % of offline_after_s by design (stock: ~90 s); room for a
        # loaded machine.
        self.assertLess(time.monotonic() - start, 2 * offline_after_s)
        # The server closed the TCP connection (after its unanswered ping).
        device.sock.settimeout(5)
        received = b""
        while chunk := device.sock.recv(4096):
            received += chunk
        self.assertEqual(received[:2], b"\x89\x00", "a ping came first")

    def test_background_over_socket_is_away(self):
        watcher = self.watch()
        device = self.connect_device()
        self.assertEqual(self.recv_presence(watcher)["im_status"], "online")
        device.send(
            json.dumps(
                {
                    "event_name": "update_presence",
                    "data": {"inactivity_period": 0, "app_state": "background"},
                }
            )
        )
        wait_until(lambda: self.status(self.alice) == "away", "away")
        self.assertEqual(self.recv_presence(watcher)["im_status"], "away")
        device.send(
            json.dumps({"event_name": "update_presence", "data": {"inactivity_period": 10}})
        )
        wait_until(lambda: self.status(self.alice) == "online", "online again")
        self.assertEqual(self.recv_presence(watcher)["im_status"], "online")
        # Web client presence (bus.presence) is not touched by the device.
        with self.db():
            self.assertFalse(self.env["bus.presence"].search([("user_id", "=", self.alice.id)]))

    def test_portal_co_member_watches_on_the_mobile_socket(self):
        with self.db():
            self.env["bus_mobile.channel"].create(
                {
                    "name": "Field team",
                    "channel_type": "private",
                    "member_ids": [
                        Command.create({"partner_id": partner.id})
                        for partner in (self.alice.partner_id, self.stranger.partner_id)
                    ],
                }
            )
        co_member = self.watch(login="sock_stranger", mobile=True)
        self.connect_device()
        self.assertEqual(self.recv_presence(co_member)["im_status"], "online")

    def test_stranger_receives_nothing(self):
        stranger = self.watch(login="sock_stranger", mobile=True)
        self.connect_device()
        self.trigger_notification_dispatching(
            [(self.alice.partner_id, sub) for sub in PRESENCE_SUBCHANNELS]
        )
        with self.db():
            self.env["bus.bus"]._sendone(self.stranger.partner_id, "bus_mobile/test", {"marker": 1})
            self.env.cr.precommit.run()
        self.trigger_notification_dispatching([self.stranger.partner_id])
        notifications = json.loads(stranger.recv())
        self.assertEqual(
            [n["message"]["type"] for n in notifications], ["bus_mobile/test"], notifications
        )

    def test_foreign_device_uuid_is_never_attached(self):
        with self.db():
            self.env["bus_mobile.device"].with_user(self.alice)._bus_mobile_register("phone", "ios")
        mark = self.last_bus_id()
        self.connect_device(login="sock_mallory", device_uuid="phone")
        self.assertEqual(self.status(self.alice), "offline")
        self.assertEqual(self.tokens(self.alice, "phone"), 0)
        self.assertEqual(self.status(self.mallory), "online")
        self.assertEqual(self.presence_notifications(self.alice.partner_id, mark), [])

    def test_unknown_device_is_registered_and_invalid_one_ignored(self):
        self.connect_device(device_uuid="new-tablet")
        Device = self.env["bus_mobile.device"]
        with self.db():
            device = Device.search([("device_uuid", "=", "new-tablet")])
            self.assertEqual((device.user_id, device.platform), (self.alice, "other"))
        ws = self.connect_device(device_uuid=None)
        ws.close(CloseCode.CLEAN)
        bad = self.mobile_connect(cookie=self.session_cookie("sock_alice"), device_uuid="a%20b")
        self.subscribe(bad, [], 0)  # the socket works, without a device
        with self.db():
            self.assertEqual(Device.search_count([("user_id", "=", self.alice.id)]), 1)

    def test_device_socket_close_leaves_web_presence_alone(self):
        """Stock closes set bus.presence offline; a device socket's close
        does not touch the user's web client presence."""
        with self.db():
            presence = self.env["bus.presence"].create(
                {"user_id": self.alice.id, "status": "online"}
            )
        device = self.connect_device()
        device.close(CloseCode.CLEAN)
        wait_until(lambda: self.status(self.alice) == "offline", "device offline")
        self.wait_closed()
        with self.db():
            presence.invalidate_recordset()
            self.assertEqual(presence.status, "online")
        # A stock socket's close still does (stock behaviour), and watchers
        # hear the combined status.
        mark = self.last_bus_id()
        stock = self.websocket_connect(cookie=self.session_cookie("sock_alice"))
        stock.close(CloseCode.CLEAN)
        self.wait_closed()
        with self.db():
            presence.invalidate_recordset()
            self.assertEqual(presence.status, "offline")
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["offline"])

    def test_connection_rotation_does_not_flap(self):
        """The server closes a socket at its keep-alive lifetime (4002) and
        the app reconnects: watchers hear nothing."""
        self.set_offline_after(3)
        mark = self.last_bus_id()
        with patch.object(TimeoutManager, "KEEP_ALIVE_TIMEOUT", 1):
            device = self.connect_device()
        wait_until(lambda: self.tokens(self.alice, "phone") == 1, "socket registered")
        self.assert_close_with_code(device, CloseCode.KEEP_ALIVE_TIMEOUT)
        wait_until(lambda: self.tokens(self.alice, "phone") == 0, "socket gone")
        self.assertEqual(self.status(self.alice), "online")
        # From here offline can only come from the close (no sweep in time).
        self.set_offline_after(600)
        again = self.connect_device()
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["online"])
        again.close(CloseCode.CLEAN)
        wait_until(lambda: self.status(self.alice) == "offline", "offline")
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["online", "offline"])
