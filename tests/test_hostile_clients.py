"""One client can never stop or delay delivery to the others: every frame is
checked before the shared dispatcher sees it, a failing batch is served
again, a failing socket fails alone, and every read is rechecked."""

import contextlib
import json
import re
import socket
import struct
import threading
import time
from unittest.mock import patch

import psycopg2
import websocket as ws_client

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.bus.websocket import (
    CloseCode,
    ConnectionState,
    ProtocolError,
    _websocket_instances,
)

from ..mobile_socket import MobileWebsocket, dispatcher, feed, mobile_dispatch
from ..mobile_socket.dispatcher import MobileDispatcher
from ..mobile_socket.frames import MAX_CHANNELS
from ..models.ir_websocket import IrWebsocket
from ..tools.channels import PRESENCE_SUBCHANNELS
from .common import ChannelCase, wait_until

BAD_SUBSCRIBE_DATA = [
    ({"channels": [], "last": True}, "last"),
    ({"channels": [], "last": -1}, "last"),
    ({"channels": [], "last": "5"}, "last"),
    ({"channels": [], "last": 1.5}, "last"),
    ({"channels": [], "last": 2**64}, "last"),
    ({"channels": [], "last": None}, "last"),
    ({"channels": "broadcast", "last": 0}, "channels"),
    ({"channels": [5], "last": 0}, "channel"),
    ({"channels": [["bus_mobile.channel_1"]], "last": 0}, "channel"),
    ({"channels": ["x" * 257], "last": 0}, "channel"),
    ({"channels": [""], "last": 0}, "channel"),
    ({"channels": ["c"] * (MAX_CHANNELS + 1), "last": 0}, "channels"),
]
BAD_FRAMES = [
    ("not json", "JSON"),
    ("[1, 2]", "object"),
    ('{"event_name": "subscribe"}', "data"),
    ('{"event_name": "subscribe", "data": [1]}', "data"),
    ('{"event_name": "unsubscribe", "data": {}}', "event_name"),
    ('{"event_name": 5, "data": {}}', "event_name"),
    ('{"data": {"channels": [], "last": 0}}', "event_name"),
]


@tagged("post_install", "-at_install")
class TestHostileClients(ChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.room = cls.make_channel("Room", "private", cls.alice | cls.bob | cls.paul)

    def setUp(self):
        super().setUp()
        # Sessions of their own: HttpCase logs out the previous one on login.
        self.cookies = {
            user: self.session_cookie(user.login) for user in (self.alice, self.bob, self.paul)
        }

    def connect(self, user, channels=(), last=None):
        ws = self.mobile_connect(cookie=self.cookies[user])
        if last is None:
            last = self.env["bus.bus"]._bus_last_id()
        self.subscribe(ws, list(channels), last)
        return ws

    def broadcast(self, payload, target="broadcast"):
        self.env["bus.bus"]._sendone(target, "bus_mobile/test", payload)
        self.trigger_notification_dispatching([target])

    def assert_bystander_served(self, bystander, marker):
        self.broadcast({"marker": marker})
        self.assertEqual(self.next_test_payloads(bystander), [{"marker": marker}])

    # ------------------------------------------------------------------
    # Frames
    # ------------------------------------------------------------------

    def test_the_reported_frame_no_longer_stops_delivery(self):
        """``"last": true`` used to reach the dispatcher's SQL and stop every
        mobile socket of the database: now it closes its own socket only."""
        bystander = self.connect(self.bob)
        attacker = self.mobile_connect(cookie=self.cookies[self.paul])
        attacker.send(
            json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": True}})
        )
        code, reason = self.close_code_and_reason(attacker)
        self.assertEqual(code, CloseCode.INCORRECT_DATA)
        self.assertIn("last must be a non-negative integer", reason)
        self.wait_mobile_sockets_done(1)
        self.assert_bystander_served(bystander, "after")
        # A socket opened after the attack gets its subscription.
        newcomer = self.connect(self.alice)
        self.assert_bystander_served(newcomer, "newcomer")

    def test_bad_frames_close_their_own_socket_with_a_named_reason(self):
        bystander = self.connect(self.bob)
        frames = [
            (json.dumps({"event_name": "subscribe", "data": data}), field)
            for data, field in BAD_SUBSCRIBE_DATA
        ] + BAD_FRAMES
        with self.assertNoLogs("odoo.addons.bus.websocket", "ERROR"):
            for n, (frame, field) in enumerate(frames):
                attacker = self.mobile_connect(cookie=self.cookies[self.paul])
                attacker.send(frame)
                code, reason = self.close_code_and_reason(attacker)
                self.assertEqual(code, CloseCode.INCORRECT_DATA, frame[:80])
                self.assertIn(field, reason, frame[:80])
                self.assertLessEqual(len(reason.encode()), 123)
                self.wait_mobile_sockets_done(n + 1)
                self.assert_bystander_served(bystander, n)

    def test_binary_frame_is_refused(self):
        attacker = self.mobile_connect(cookie=self.cookies[self.paul])
        attacker.send_binary(b'{"event_name": "subscribe", "data": {}}')
        code, reason = self.close_code_and_reason(attacker)
        self.assertEqual(code, CloseCode.INCORRECT_DATA)
        self.assertIn("binary", reason)

    def test_oversized_frame_is_refused(self):
        attacker = self.mobile_connect(cookie=self.cookies[self.paul])
        attacker.send(json.dumps({"event_name": "subscribe", "data": {"pad": "x" * 70_000}}))
        code, _reason = self.close_code_and_reason(attacker)
        self.assertEqual(code, CloseCode.MESSAGE_TOO_BIG)

    def test_unknown_keys_are_ignored(self):
        """Newer clients may send more: the known fields are served."""
        ws = self.mobile_connect(cookie=self.cookies[self.bob])
        last = self.env["bus.bus"]._bus_last_id()
        served = threading.Event()
        on_subscribed = MobileWebsocket.on_subscribed

        def spy(ws_self):
            on_subscribed(ws_self)
            served.set()

        with patch.object(MobileWebsocket, "on_subscribed", spy):
            frame = {
                "event_name": "subscribe",
                "data": {"channels": [], "last": last, "future": {"x": 1}},
                "id": 7,
            }
            ws.send(json.dumps(frame))
            # The server thread shares the test cursor: wait until it is done.
            self.assertTrue(served.wait(10), "the subscription was never served")
            self.wait_mobile_dispatch()
        self.assert_bystander_served(ws, "still served")

    # ------------------------------------------------------------------
    # Bounded work
    # ------------------------------------------------------------------

    def test_replay_after_last_is_bounded(self):
        """``last=1`` replays the newest REPLAY_MAX_ROWS bus rows at most,
        whatever the history: one client cannot make the dispatcher read
        the whole table."""
        for n in range(6):
            self.env["bus.bus"]._sendone(self.alice.partner_id, "bus_mobile/test", {"n": n})
        self.env.cr.precommit.run()
        with patch.object(feed, "REPLAY_MAX_ROWS", 3):
            ws = self.connect(self.alice, last=1)
            payloads = self.next_test_payloads(ws)
        self.assertLessEqual(len(payloads), 3)
        self.assertEqual(payloads[-1], {"n": 5})

    # ------------------------------------------------------------------
    # Nothing lost, nothing twice
    # ------------------------------------------------------------------

    def test_a_failed_batch_is_served_again_exactly_once(self):
        alice_ws = self.connect(self.alice)
        bob_ws = self.connect(self.bob)
        original = MobileDispatcher._filter_deliveries
        calls = []

        def fail_once(dispatcher_self, env, deliveries):
            calls.append(len(deliveries))
            if len(calls) == 1:
                raise RuntimeError("simulated failure in the middle of a batch")
            return original(dispatcher_self, env, deliveries)

        with (
            patch.object(MobileDispatcher, "_filter_deliveries", fail_once),
            patch.object(dispatcher, "ERROR_DELAY", 0.05),
            self.assertLogs("odoo.addons.bus_mobile.mobile_socket.dispatcher", "ERROR"),
        ):
            self.broadcast({"n": 1})
            wait_until(lambda: len(calls) >= 2, "the failed batch to be served again")
            self.wait_mobile_dispatch()
        for ws in (alice_ws, bob_ws):
            self.assertEqual(self.next_test_payloads(ws), [{"n": 1}])
        # Not sent twice: the next frame is the next notification.
        self.broadcast({"n": 2})
        for ws in (alice_ws, bob_ws):
            self.assertEqual(self.next_test_payloads(ws), [{"n": 2}])

    def test_a_failing_socket_fails_alone(self):
        alice_ws = self.connect(self.alice)
        bob_ws = self.connect(self.bob)
        broken = self.server_socket(self.alice.id)
        original = MobileWebsocket.deliver

        def deliver(ws_self, frame):
            if ws_self is broken:
                raise RuntimeError("simulated socket bug")
            return original(ws_self, frame)

        with (
            patch.object(MobileWebsocket, "deliver", deliver),
            self.assertLogs("odoo.addons.bus_mobile.mobile_socket.dispatcher", "ERROR"),
        ):
            self.broadcast({"n": 1})
        self.assertEqual(self.next_test_payloads(bob_ws), [{"n": 1}])
        code, _reason = self.close_code_and_reason(alice_ws)
        self.assertEqual(code, CloseCode.SERVER_ERROR)
        self.wait_mobile_sockets_done(1)

    # ------------------------------------------------------------------
    # Every read is rechecked
    # ------------------------------------------------------------------

    def test_presence_is_rechecked_at_delivery(self):
        """A portal user watches co-members only: once Paul leaves the only
        channel he shared with Alice, her presence stops reaching his open
        socket at once, without a new subscribe: stock's and the apps' own."""
        presences = [(self.alice.partner_id, sub) for sub in PRESENCE_SUBCHANNELS]
        paul_ws = self.connect(self.paul, [f"odoo-presence-res.partner_{self.alice.partner_id.id}"])
        for presence in presences:
            self.broadcast({"n": presence[1]}, target=presence)
            self.assertEqual(self.next_test_payloads(paul_ws), [{"n": presence[1]}])
        self.room.member_ids.filtered(lambda m: m.partner_id == self.paul.partner_id).unlink()
        self.env.flush_all()
        for presence in presences:
            self.broadcast({"n": "private"}, target=presence)
        self.broadcast({"n": "end"}, target=self.paul.partner_id)
        self.assertEqual(self.next_test_payloads(paul_ws), [{"n": "end"}])

    # ------------------------------------------------------------------
    # No leaks
    # ------------------------------------------------------------------

    def test_a_client_gone_before_the_close_frame_is_closed_as_lost(self):
        """A client breaks the protocol and resets its connection before
        the server's close frame goes out: that send fails, and the socket
        is closed as for a lost client (its thread done, out of the
        dispatcher). Stock let the send's error escape the socket's thread:
        a traceback, and the socket never closed."""
        ws = self.connect(self.paul)
        server_ws = self.server_socket(self.paul.id)
        errors, seen = [], threading.Event()
        handle = MobileWebsocket._handle_transport_error

        def spy(ws_self, exc):
            errors.append(exc)
            seen.set()
            return handle(ws_self, exc)

        # The send lock holds the close frame back until the client is gone.
        with patch.object(MobileWebsocket, "_handle_transport_error", spy), server_ws._send_lock:
            ws.sock.sendall(b"\x81\x00")  # an unmasked frame: ProtocolError
            self.assertTrue(seen.wait(10), "the server never read the frame")
            ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ws.sock.close()
        self.wait_mobile_sockets_done(1)
        self.assertIsInstance(errors[0], ProtocolError)
        self.assertIs(server_ws.state, ConnectionState.CLOSED)
        self.assertEqual(mobile_dispatch.subscriber_count(self.env.cr.dbname), 0)

    def test_a_socket_closed_by_two_threads_is_closed_once(self):
        """At a server stop, stock's _kick_all sends its close frame from the
        main thread; a client answering at once makes the socket's own
        thread answer too. The main thread closes the socket, and the own
        thread's answer then fails on the closed socket: its error handling
        closed it again, which raised out of its thread (KeyError: not
        registered). Here the test thread plays the main thread."""
        errors = []
        get_messages = MobileWebsocket.get_messages

        def watch_messages(ws_self):
            try:
                yield from get_messages(ws_self)
            except Exception as exc:
                errors.append(exc)
                raise

        close_presence = IrWebsocket._bus_mobile_close_web_presence
        with (
            patch.object(MobileWebsocket, "get_messages", watch_messages),
            patch.object(
                IrWebsocket,
                "_bus_mobile_close_web_presence",
                autospec=True,
                side_effect=close_presence,
            ) as closes,
        ):
            ws = self.connect(self.paul)
            server_ws = self.server_socket(self.paul.id)
            with server_ws._send_lock:
                ws.send_close(CloseCode.CLEAN)
                wait_until(lambda: server_ws._close_received, "the server to read the close frame")
                server_ws._terminate()  # the main thread, as _send_frame does
            self.wait_mobile_sockets_done(1)
        self.assertEqual(errors, [])
        self.assertEqual(closes.call_count, 1)
        self.assertIs(server_ws.state, ConnectionState.CLOSED)

    def close_failing_midway(self):
        """Paul closes his socket and the server's termination fails before
        stock marks the socket CLOSED (here its selector refuses to let the
        socket go). Returns the server socket and what the addon's socket
        module logged; the failure itself is stock's error, with its
        traceback, as for any failing frame."""
        ws = self.connect(self.paul)
        server_ws = self.server_socket(self.paul.id)
        selector = server_ws._Websocket__selector
        failure = RuntimeError("unregister failed")
        with (
            patch.object(selector, "unregister", side_effect=failure),
            self.assertLogs("odoo.addons.bus.websocket", "ERROR") as stock_logs,
            self.assertLogs("odoo.addons.bus_mobile.mobile_socket.connection", "INFO") as logs,
        ):
            ws.close(CloseCode.CLEAN)
            self.wait_mobile_sockets_done(1)
        self.assertIn("unregister failed", stock_logs.output[0])
        return server_ws, logs.records

    def test_a_termination_failing_midway_still_closes_the_socket(self):
        """The first termination fails before the socket is CLOSED: the
        once-guard makes every later one a no-op, and stock's loop, which
        runs until CLOSED, spun on the dead socket. It is closed all the
        same, and its thread ends."""
        server_ws, _records = self.close_failing_midway()  # its thread ended
        self.assertIs(server_ws.state, ConnectionState.CLOSED)
        self.assertEqual(mobile_dispatch.subscriber_count(self.env.cr.dbname), 0)

    def test_a_close_failing_once_closed_is_logged_without_traceback(self):
        """After the failure above, the close frame stock then sends fails on
        the closed socket: a warning naming the exception, no traceback
        (which the log checks count as an error)."""
        _server_ws, records = self.close_failing_midway()
        self.assertEqual([record for record in records if record.exc_info], [])
        warnings = [record.getMessage() for record in records if record.levelname == "WARNING"]
        # EPIPE or EBADF, as the client's side of the connection goes.
        failed = re.compile(r"close failed once closed \((BrokenPipe|ConnectionReset|OS)Error\)$")
        self.assertTrue(any(failed.search(message) for message in warnings), warnings)

    def test_a_close_without_database_still_closes_the_socket(self):
        """The database fails the close's presence update (no connection
        left, PostgreSQL restarting): the socket is closed all the same and
        says so in one warning; stock let the error escape the socket's
        thread (an ERROR and a traceback)."""
        ws = self.connect(self.paul)
        server_ws = self.server_socket(self.paul.id)
        failing = psycopg2.OperationalError("server closed the connection unexpectedly")
        with (
            patch.object(IrWebsocket, "_bus_mobile_close_web_presence", side_effect=failing),
            self.assertLogs("odoo.addons.bus_mobile.mobile_socket.connection", "WARNING") as logs,
            self.assertNoLogs("odoo.addons.bus.websocket", "ERROR"),
        ):
            ws.close(CloseCode.CLEAN)
            self.wait_mobile_sockets_done(1)
        self.assertIs(server_ws.state, ConnectionState.CLOSED)
        self.assertEqual(mobile_dispatch.subscriber_count(self.env.cr.dbname), 0)
        expected = "closed without its presence update: server closed"
        self.assertTrue(any(expected in line for line in logs.output), logs.output)

    def test_sockets_closed_in_any_state_leave_no_trace(self):
        """Sockets opened and killed in racing patterns (during a subscribe,
        without a close frame, with a reset, with a bad frame) leave the
        dispatcher's indexes, and their threads end."""
        self.connect(self.bob).close()
        self.wait_remaining_websocket_connections()
        # A hundred sockets of one session, on purpose: past the handshake
        # limit (test_handshake_limit.py), which would refuse most of them.
        self.env["ir.config_parameter"].sudo().set_param("bus_mobile.handshake_burst", 1000)
        threads_before = threading.active_count()
        db = self.env.cr.dbname
        subscribe = json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": 0}})
        patterns = ("close_during_subscribe", "drop_without_close", "reset", "bad_frame", "clean")
        opened = []
        for n in range(100):
            pattern = patterns[n % len(patterns)]
            ws = self.mobile_connect(cookie=self.cookies[self.alice])
            opened.append(ws)
            if pattern == "close_during_subscribe":
                ws.send(subscribe)
                ws.close(CloseCode.CLEAN)
            elif pattern == "drop_without_close":
                ws.send(subscribe)
                ws.sock.shutdown(socket.SHUT_RDWR)
                ws.sock.close()
            elif pattern == "reset":
                ws.send(subscribe)
                ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                ws.sock.close()
            elif pattern == "bad_frame":
                ws.send('{"event_name": "subscribe", "data": {"last": -1}}')
            else:
                ws.send(subscribe)
                time.sleep(0.005)
                ws.close(CloseCode.CLEAN)
        for ws in opened:
            if ws.connected:
                with contextlib.suppress(OSError, ws_client.WebSocketException):
                    ws.close(CloseCode.CLEAN)
        self.wait_remaining_websocket_connections()
        self.wait_mobile_dispatch()
        wait_until(
            lambda: not mobile_dispatch.subscriber_count(db)
            and threading.active_count() <= threads_before,
            "the sockets to leave the dispatcher and their threads to end",
            timeout=20,
        )
        self.assertEqual(mobile_dispatch.subscriber_count(db), 0)
        feed = mobile_dispatch._feeds.get(db)
        self.assertFalse(feed is not None and (feed.subscribers_by_channel or feed.pending))
        self.assertLessEqual(threading.active_count(), threads_before)
        mobile = [ws for ws in list(_websocket_instances) if isinstance(ws, MobileWebsocket)]
        self.assertTrue(all(ws.state is ConnectionState.CLOSED for ws in mobile))

    # ------------------------------------------------------------------
    # Origins, bounded errors, unstorable text
    # ------------------------------------------------------------------

    def _handshake_status(self, origin):
        try:
            ws = self.mobile_connect(cookie=self.cookies[self.bob], origin=origin)
        except ws_client.WebSocketBadStatusException as exc:
            return exc.status_code
        ws.close()
        return 101

    def test_origins_are_compared_in_full(self):
        own = self.base_url()  # http://127.0.0.1:<port>
        host_port = own.split("://", 1)[1]
        self.assertEqual(self._handshake_status(own), 101)
        self.assertEqual(self._handshake_status(f"HTTP://{host_port.upper()}"), 101)
        self.assertEqual(self._handshake_status(f"https://{host_port}"), 403)
        self.assertEqual(self._handshake_status(f"http://{host_port}1"), 403)
        self.assertEqual(self._handshake_status("null"), 403)
        self.env["ir.config_parameter"].sudo().set_param(
            "bus_mobile.allowed_origins", "https://app.example.com, http://other.test:8080"
        )
        self.env.flush_all()
        self.assertEqual(self._handshake_status("https://app.example.com:443"), 101)
        self.assertEqual(self._handshake_status("http://app.example.com"), 403)
        self.assertEqual(self._handshake_status("http://other.test:8080"), 101)
        self.assertEqual(self._handshake_status("http://other.test"), 403)

    def test_errors_never_echo_huge_input(self):
        huge = list(range(1, 100_001))
        for route, params in [
            ("/bus_mobile/channel/create", {"name": "x", "channel_type": "private"}),
            ("/bus_mobile/presence", {}),
        ]:
            key = "partner_ids"
            message = self.assert_rpc_error(
                self.alice, route, ValidationError, None, **params, **{key: huge}
            )
            self.assertLess(len(message), 300, route)
        message = self.assert_rpc_error(
            self.alice,
            "/bus_mobile/channel/join",
            ValidationError,
            None,
            channel_id="9" * 100_000,
        )
        self.assertLess(len(message), 300)

    def test_device_text_fields_reject_unstorable_text(self):
        for field, value in [
            ("app_version", "1.0\x00"),
            ("app_version", "\ud800"),
            ("push_token", "tok\x00en"),
            ("push_token", "\udfff"),
        ]:
            params = {"device_uuid": "phone", "platform": "ios", field: value}
            self.assert_rpc_error(
                self.alice, "/bus_mobile/device/register", ValidationError, field, **params
            )
        for value in ["\x00", "\ud800", 5, ["x"], "x" * 200]:
            self.assert_rpc_error(
                self.alice,
                "/bus_mobile/device/register",
                ValidationError,
                "device_uuid",
                device_uuid=value,
                platform="ios",
            )

    def test_params_must_be_a_known_object(self):
        """Odoo's dispatcher fails with a raw TypeError on ``"params": null``
        and silently drops unknown names: the mobile routes say what is
        wrong instead."""
        self.authenticate(self.alice.login, self.alice.login)
        for params in [None, [1, 2], "x", 5]:
            payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
            response = self.url_open(
                "/bus_mobile/channels",
                json.dumps(payload).encode(),
                headers={"Content-Type": "application/json"},
            )
            self.assertEqual(response.status_code, 200)
            error = response.json()["error"]["data"]
            self.assertEqual(error["name"], "odoo.exceptions.ValidationError", params)
            self.assertIn("params must be a JSON object", error["message"])
        message = self.assert_rpc_error(
            self.alice,
            "/bus_mobile/message/post",
            ValidationError,
            "channelId",
            channelId=self.room.id,
            body="hi",
            client_uuid="x",
        )
        self.assertNotIn("client_uuid", message)
        self.authenticate(self.alice.login, self.alice.login)
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"self": 1}}
        response = self.url_open(
            "/bus_mobile/channels",
            json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        error = response.json()["error"]["data"]
        self.assertEqual(error["name"], "odoo.exceptions.ValidationError")
        self.assertIn("self", error["message"])
        self.assertEqual(self.rpc(self.alice, "/bus_mobile/channels")[0]["id"], self.room.id)
