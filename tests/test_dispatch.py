import contextlib
import json
import os
import struct
import time
from collections import Counter
from unittest.mock import patch

from odoo.fields import Command
from odoo.http import root
from odoo.tests import BaseCase, tagged

from odoo.addons.bus.models.bus import ImBus, channel_with_db, json_dump
from odoo.addons.bus.websocket import (
    CloseCode,
    ConnectionState,
    Websocket,
)

from ..mobile_socket import MobileWebsocket, connection, mobile_dispatch
from ..mobile_socket import dispatcher as dispatch_module
from ..mobile_socket.feed import HISTORY_SECONDS, Feed
from .common import MobileWebsocketCase, wait_until


def _descriptors():
    """{(fd, what it points to)} of this process."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            found.add((fd, os.readlink(f"/proc/self/fd/{fd}")))
    return found


def _socket_inodes(*tables):
    inodes = set()
    for table in tables:
        with contextlib.suppress(OSError), open(f"/proc/net/{table}") as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                inodes.add(fields[9] if table.startswith("tcp") else fields[6])
    return inodes


def _descriptor_kind(descriptor):
    target = descriptor[1]
    if target.startswith("socket:["):
        inode = target[len("socket:[") : -1]
        if inode in _socket_inodes("tcp", "tcp6"):
            return "tcp"
        if inode in _socket_inodes("unix"):
            return "unix"
        return "socket"
    return "epoll" if "eventpoll" in target else "other"


@tagged("post_install", "-at_install")
class TestDispatchHistory(BaseCase):
    """The read cursor of a database, without sockets."""

    def test_cursor_waits_for_the_oldest_id(self):
        feed = Feed()
        feed.last_id = 10
        feed.remember([12, 14], now=100.0)
        feed.remember([11], now=100.0 + HISTORY_SECONDS)
        # 12 and 14 are old, but 11 is young: 12 may not be dropped before 11
        # (11 would be read again), nor can the cursor pass 11.
        feed.remember([], now=100.0 + HISTORY_SECONDS + 1)
        self.assertEqual(feed.last_id, 10)
        self.assertEqual([notif_id for notif_id, _ in feed.history], [11, 12, 14])
        feed.remember([], now=100.0 + 2 * HISTORY_SECONDS + 1)
        self.assertEqual(feed.last_id, 14)
        self.assertEqual(feed.history, [])


@tagged("post_install", "-at_install")
class TestDispatch(MobileWebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("dispatch_alice")
        cls.bob = cls.make_user("dispatch_bob")

    def _connect(self, login, channels=None, last=None):
        if last is None:
            last = self.env["bus.bus"]._bus_last_id()
        ws = self.mobile_connect(cookie=self.session_cookie(login), ping_after_connect=True)
        self.subscribe(ws, channels or [], last)
        return ws

    def _assert_next_payloads(self, ws, expected):
        self.assertEqual(self.next_test_payloads(ws), expected)

    def _assert_nothing_pending(self, *sockets):
        """Nothing arrives before a broadcast sent now."""
        self.notify("broadcast", {"end": True})
        self.dispatch("broadcast")
        for ws in sockets:
            self._assert_next_payloads(ws, [{"end": True}])

    def test_one_read_for_all_sockets(self):
        """N subscribed sockets cost one bus read per batch, not N."""
        sockets = [self._connect("dispatch_alice") for _ in range(3)]
        sockets += [self._connect("dispatch_bob") for _ in range(3)]
        self.notify("broadcast", {"warm": 1})  # caches the session tokens
        self.dispatch("broadcast")
        for ws in sockets:
            self._assert_next_payloads(ws, [{"warm": 1}])
        # 1 INSERT of the notification + 1 SELECT of the dispatcher.
        with self.assertQueryCount(2):
            self.notify("broadcast", {"n": 1})
            self.dispatch("broadcast")
            for ws in sockets:
                self._assert_next_payloads(ws, [{"n": 1}])

    def test_session_tokens_checked_once(self):
        """A socket's token is recomputed only when Odoo's cache was cleared
        (password changes clear it): one canary per batch otherwise."""
        sockets = [self._connect("dispatch_alice") for _ in range(2)]
        sockets += [self._connect("dispatch_bob") for _ in range(2)]
        self.notify("broadcast", {"warm": 1})
        self.dispatch("broadcast")
        for ws in sockets:
            self._assert_next_payloads(ws, [{"warm": 1}])
        Users = type(self.env["res.users"])
        with patch.object(
            Users, "_compute_session_token", autospec=True, side_effect=Users._compute_session_token
        ) as compute:
            self.notify("broadcast", {"n": 1})
            self.dispatch("broadcast")
            for ws in sockets:
                self._assert_next_payloads(ws, [{"n": 1}])
            self.assertEqual(compute.call_count, 1)
            self.env.registry.clear_cache()
            self.notify("broadcast", {"n": 2})
            self.dispatch("broadcast")
            for ws in sockets:
                self._assert_next_payloads(ws, [{"n": 2}])
            self.assertEqual(compute.call_count, 1 + 1 + len(sockets))

    def test_each_frame_encoded_once(self):
        sockets = [self._connect("dispatch_alice") for _ in range(4)]
        with patch.object(
            dispatch_module, "text_frame", wraps=dispatch_module.text_frame
        ) as text_frame:
            self.notify("broadcast", {"n": 1})
            self.notify("broadcast", {"n": 2})
            self.dispatch("broadcast")
            for ws in sockets:
                self._assert_next_payloads(ws, [{"n": 1}, {"n": 2}])
        self.assertEqual(text_frame.call_count, 1)

    def test_stock_poll_is_not_used(self):
        ws = self._connect("dispatch_alice")
        with patch.object(
            type(self.env["bus.bus"]), "_poll", side_effect=AssertionError("per-socket read")
        ):
            self.notify(self.alice.partner_id, {"n": 1})
            self.dispatch(self.alice.partner_id)
            self._assert_next_payloads(ws, [{"n": 1}])

    def test_only_authorized_channels(self):
        """Alice asks for Bob's private channel by name: its rows, read in
        the same batch as hers, never reach her socket; Bob gets them."""
        bobs = (
            self.env["bus_mobile.channel"]
            .sudo()
            .create(
                {
                    "name": "bob's",
                    "channel_type": "private",
                    "member_ids": [Command.create({"partner_id": self.bob.partner_id.id})],
                }
            )
        )
        alice_ws = self._connect("dispatch_alice", channels=[f"bus_mobile.channel_{bobs.id}"])
        bob_ws = self._connect("dispatch_bob")
        self.notify(bobs, {"to": "bob's channel"})
        self.notify(self.bob.partner_id, {"to": "bob"})
        self.notify(self.alice.partner_id, {"to": "alice"})
        self.dispatch(bobs, self.bob.partner_id, self.alice.partner_id)
        self._assert_next_payloads(bob_ws, [{"to": "bob's channel"}, {"to": "bob"}])
        self._assert_next_payloads(alice_ws, [{"to": "alice"}])
        self._assert_nothing_pending(alice_ws, bob_ws)

    def test_logged_out_socket_is_closed_at_once(self):
        """A session logged out elsewhere: the next notification for that
        socket is not sent, the socket is closed with 4001; the other sockets
        of the same batch receive theirs."""
        bob_ws = self._connect("dispatch_bob")
        alice_ws = self._connect("dispatch_alice")  # the test's HTTP session
        self.url_open("/web/session/logout")
        self.notify("broadcast", {"secret": 1})
        self.dispatch("broadcast")
        self.assert_close_with_code(alice_ws, CloseCode.SESSION_EXPIRED, "SESSION_EXPIRED")
        self._assert_next_payloads(bob_ws, [{"secret": 1}])

    def test_password_change_closes_the_socket(self):
        ws = self._connect("dispatch_alice")
        bob_ws = self._connect("dispatch_bob")
        self.notify("broadcast", {"n": 1})
        self.dispatch("broadcast")
        self._assert_next_payloads(ws, [{"n": 1}])
        self._assert_next_payloads(bob_ws, [{"n": 1}])
        self.alice.password = "changed"
        self.env.flush_all()
        self.notify("broadcast", {"n": 2})
        self.dispatch("broadcast")
        self.assert_close_with_code(ws, CloseCode.SESSION_EXPIRED, "SESSION_EXPIRED")
        self._assert_next_payloads(bob_ws, [{"n": 2}])

    def test_deleted_session_file_closes_the_socket(self):
        ws = self._connect("dispatch_alice")
        server_ws = self.server_socket(self.alice.id)
        os.unlink(self._session_path(server_ws._session.sid))
        self.notify(self.alice.partner_id, {"n": 1})
        self.dispatch(self.alice.partner_id)
        self.assert_close_with_code(ws, CloseCode.SESSION_EXPIRED, "SESSION_EXPIRED")

    def _session_path(self, sid):
        return root.session_store.get_session_filename(sid)

    def test_a_missed_wake_up_is_caught_up_by_polling(self):
        """A NOTIFY never heard (stock's listener, cut by a PostgreSQL
        restart, listens again only after 50 s): with no wake-up for
        POLL_SECONDS, the dispatcher reads the bus by itself."""
        ws = self._connect("dispatch_alice")
        self.notify(self.alice.partner_id, {"n": "never announced"})
        self.env.cr.precommit.run()  # the row is there; nobody is woken
        dispatcher = type(mobile_dispatch)
        # In test mode the dispatcher never polls by itself (the tests share
        # its cursor): here it may, and sooner.
        self.assertFalse(mobile_dispatch._may_poll(self.env.cr.dbname))
        with (
            patch.object(dispatcher, "_poll_interval", return_value=0.2),
            patch.object(dispatcher, "_may_poll", return_value=True),
        ):
            mobile_dispatch._wakeup.set()  # waits again, with the interval above
            self._assert_next_payloads(ws, [{"n": "never announced"}])
        time.sleep(0.3)  # a poll decided under the patches has started...
        self.wait_mobile_dispatch()  # ...and is over: the cursor is ours again
        self._assert_nothing_pending(ws)

    def test_out_of_order_commit_is_not_missed(self):
        """A transaction that got its id first but commits last."""
        ws = self._connect("dispatch_alice")
        self.env.cr.execute("SELECT nextval('bus_bus_id_seq')")
        early_id = self.env.cr.fetchone()[0]
        self.notify(self.alice.partner_id, {"n": "late committer's neighbour"})
        self.dispatch(self.alice.partner_id)
        self._assert_next_payloads(ws, [{"n": "late committer's neighbour"}])
        channel = json_dump(channel_with_db(self.env.cr.dbname, self.alice.partner_id))
        message = json_dump({"type": "bus_mobile/test", "payload": {"n": "late"}})
        self.env.cr.execute(
            "INSERT INTO bus_bus (id, channel, message, create_date)"
            " VALUES (%s, %s, %s, now() at time zone 'UTC')",
            (early_id, channel, message),
        )
        self.dispatch(self.alice.partner_id)
        notifications = self.recv_notifications(ws)
        self.assertEqual([n["id"] for n in notifications], [early_id])
        self.assertEqual(notifications[0]["message"]["payload"], {"n": "late"})
        # Read once: not sent again by the next batches.
        self.dispatch(self.alice.partner_id)
        self._assert_nothing_pending(ws)

    def test_last_replays_what_was_missed(self):
        self.notify(self.alice.partner_id, {"n": 1})
        self.env.cr.precommit.run()
        last = self.env["bus.bus"]._bus_last_id()
        self.notify(self.alice.partner_id, {"n": 2})
        self.notify(self.bob.partner_id, {"n": "bob's"})
        self.notify(self.alice.partner_id, {"n": 3})
        self.env.cr.precommit.run()
        ws = self.mobile_connect(
            cookie=self.session_cookie("dispatch_alice"), ping_after_connect=True
        )
        self.subscribe(ws, [], last)
        notifications = self.recv_notifications(ws)
        self.assertEqual([n["message"]["payload"] for n in notifications], [{"n": 2}, {"n": 3}])
        self.assertTrue(all(n["id"] > last for n in notifications))
        self._assert_nothing_pending(ws)

    def test_last_zero_replays_the_recent_rows(self):
        self.notify(self.alice.partner_id, {"n": 1})
        self.env.cr.precommit.run()
        # The test transaction may be older than the replay window.
        self.env.cr.execute("UPDATE bus_bus SET create_date = now() at time zone 'UTC'")
        self.env.cr.execute(
            "UPDATE bus_bus SET create_date = %s WHERE id = %s",
            ("2000-01-01", self.env["bus.bus"]._bus_last_id()),
        )
        self.notify(self.alice.partner_id, {"n": 2})
        self.env.cr.precommit.run()
        self.env.cr.execute(
            "UPDATE bus_bus SET create_date = now() at time zone 'UTC' WHERE id = %s",
            (self.env["bus.bus"]._bus_last_id(),),
        )
        ws = self.mobile_connect(
            cookie=self.session_cookie("dispatch_alice"), ping_after_connect=True
        )
        self.subscribe(ws, [], 0)
        self._assert_next_payloads(ws, [{"n": 2}])

    def test_resubscribe_replays_new_channels_only(self):
        ws = self._connect("dispatch_alice")
        last = self.env["bus.bus"]._bus_last_id()
        self.notify(self.alice.partner_id, {"n": "live"})
        self.dispatch(self.alice.partner_id)
        self._assert_next_payloads(ws, [{"n": "live"}])
        # Sent before the socket listens to Bob's presence, replayed when it
        # does; Alice's own notification is not sent again.
        bob_presence = (self.bob.partner_id, "presence")
        self.notify(bob_presence, {"n": "presence"})
        self.env.cr.precommit.run()
        self.subscribe(ws, [f"odoo-presence-res.partner_{self.bob.partner_id.id}"], last)
        self._assert_next_payloads(ws, [{"n": "presence"}])
        self.notify(bob_presence, {"n": "presence live"})
        self.dispatch(bob_presence)
        self._assert_next_payloads(ws, [{"n": "presence live"}])
        self._assert_nothing_pending(ws)

    def test_removed_member_stops_receiving(self):
        """The membership filter of mobile channels applies to the
        dispatcher as it does to stock sockets' poll."""
        channel = (
            self.env["bus_mobile.channel"]
            .sudo()
            .create(
                {
                    "name": "dispatch room",
                    "channel_type": "private",
                    "member_ids": [
                        Command.create({"partner_id": self.alice.partner_id.id}),
                        Command.create({"partner_id": self.bob.partner_id.id}),
                    ],
                }
            )
        )
        alice_ws = self._connect("dispatch_alice")
        bob_ws = self._connect("dispatch_bob")
        self.notify(channel, {"n": 1})
        self.dispatch(channel)
        self._assert_next_payloads(alice_ws, [{"n": 1}])
        self._assert_next_payloads(bob_ws, [{"n": 1}])
        channel.member_ids.filtered(lambda m: m.partner_id == self.alice.partner_id).unlink()
        self.env.flush_all()
        self.notify(channel, {"n": 2})
        self.dispatch(channel)
        self._assert_next_payloads(bob_ws, [{"n": 2}])
        self._assert_nothing_pending(alice_ws)

    def test_the_tests_never_use_the_cursor_while_a_web_client_reads_the_bus(self):
        """The test helpers' writes wait for a web client socket's bus read,
        which runs in the socket's thread on the same test cursor (a CI run
        failed with "no results to fetch"). A slow read makes them meet:
        without the lock and the wait in ``trigger_notification_dispatching``
        this test fails so."""
        stock_ws = self.websocket_connect(cookie=self.session_cookie("dispatch_alice"))
        self.subscribe(stock_ws, [], self.env["bus.bus"]._bus_last_id())
        stock_poll = ImBus._poll

        def slow_poll(bus, *args, **kwargs):
            for _ in range(300):
                bus.env.cr.execute("SELECT 1")
                bus.env.cr.fetchall()
            return stock_poll(bus, *args, **kwargs)

        with patch.object(ImBus, "_poll", slow_poll):
            for n in range(10):
                self.notify(self.alice.partner_id, {"n": n})
                self.dispatch(self.alice.partner_id)
                self.env["res.partner"].search([], limit=5).mapped("name")
        received = []
        while len(received) < 10:
            received += self.next_test_payloads(stock_ws)
        self.assertEqual(received, [{"n": n} for n in range(10)])

    def test_stock_websocket_is_unchanged(self):
        mobile_ws = self._connect("dispatch_alice")
        stock_ws = self.websocket_connect(cookie=self.session_cookie("dispatch_alice"))
        self.subscribe(stock_ws, [], self.env["bus.bus"]._bus_last_id())
        stock_dispatch = Websocket._dispatch_bus_notifications
        readers = []

        def spy(websocket):
            readers.append(type(websocket))
            return stock_dispatch(websocket)

        with patch.object(Websocket, "_dispatch_bus_notifications", spy):
            self.notify(self.alice.partner_id, {"n": 1})
            self.dispatch(self.alice.partner_id)
            self._assert_next_payloads(stock_ws, [{"n": 1}])
            self._assert_next_payloads(mobile_ws, [{"n": 1}])
        self.assertEqual(readers, [Websocket])

    def test_one_descriptor_per_socket(self):
        self._connect("dispatch_alice")
        server_ws = self.server_socket(self.alice.id)
        self.assertIsNone(server_ws._Websocket__notif_sock_r)
        self.assertIsNone(server_ws._Websocket__notif_sock_w)
        selector = server_ws._Websocket__selector
        self.assertEqual(list(selector.get_map()), [server_ws._client_sock.fileno()])
        self.assertEqual(type(selector).__mro__[1].__name__, "PollSelector")
        # In this process the client end is open too: 2 TCP descriptors per
        # connection and nothing else (stock: client, server, a socketpair
        # and an epoll). Only the descriptors that appear are counted:
        # others may close meanwhile (earlier tests' connections).
        cookie = self.session_cookie("dispatch_alice")
        before = _descriptors()
        for _ in range(3):
            self.mobile_connect(cookie=cookie, ping_after_connect=True)
        new = Counter(_descriptor_kind(target) for target in _descriptors() - before)
        self.assertEqual(new, Counter({"tcp": 6}))

    def test_slow_reader_gets_everything_in_order(self):
        """Frames the kernel does not take at once wait in the socket's
        outbox; the dispatcher goes on, the client gets them all, in order."""
        ws = self._connect("dispatch_alice")
        bob_ws = self._connect("dispatch_bob")
        big = "x" * 4_000_000
        with (
            patch.object(connection, "OUTBOX_MAX_BYTES", 64_000_000),
            patch.object(
                MobileWebsocket,
                "_queue",
                autospec=True,
                side_effect=MobileWebsocket._queue,
            ) as queue,
        ):
            for n in range(3):
                self.notify(self.alice.partner_id, {"n": n, "big": big})
                self.dispatch(self.alice.partner_id)
            self.notify("broadcast", {"n": "after"})
            self.dispatch("broadcast")
            # Bob is not held up by Alice's backlog.
            self._assert_next_payloads(bob_ws, [{"n": "after"}])
            received = []
            while len(received) < 4:
                received.extend(payload["n"] for payload in self.next_test_payloads(ws))
        self.assertEqual(received, [0, 1, 2, "after"])
        self.assertTrue(queue.called)

    def test_client_that_reads_too_slowly_is_closed(self):
        """The outbox is bounded in bytes: a client that leaves too much
        unread is closed with 1013 SLOW_READER (the close frame waits behind
        what the kernel holds) instead of growing the server's memory; the
        others are served meanwhile."""
        ws = self._connect("dispatch_alice")
        bob_ws = self._connect("dispatch_bob")
        server_ws = self.server_socket(self.alice.id)
        big = "x" * 1_000_000
        with patch.object(connection, "OUTBOX_MAX_BYTES", 2_000_000):
            for n in range(40):
                self.notify(self.alice.partner_id, {"n": n, "big": big})
                self.dispatch(self.alice.partner_id)
                if server_ws._close_request:
                    break
            self.assertEqual(server_ws._close_request, (CloseCode.TRY_LATER, "SLOW_READER"))
            self.notify("broadcast", {"n": "bob"})
            self.dispatch("broadcast")
            self._assert_next_payloads(bob_ws, [{"n": "bob"}])
            # The client reads again: what the kernel held, then the close.
            while True:
                opcode, payload = ws.recv_data(control_frame=True)
                if opcode == 8:
                    break
            self.assertEqual(struct.unpack("!H", payload[:2])[0], CloseCode.TRY_LATER)
            self.assertEqual(payload[2:].decode(), "SLOW_READER")
            self.wait_remaining_websocket_connections()
        self.assertEqual(server_ws.state, ConnectionState.CLOSED)
        # Alice's socket left the dispatcher; Bob's is still served.
        self.assertEqual(mobile_dispatch.subscriber_count(self.env.cr.dbname), 1)

    def test_stalled_client_is_closed_after_the_send_timeout(self):
        """A client that reads nothing at all: the writes to it wait at most
        the socket's send timeout, then the socket is closed, its thread and
        memory freed; another client is served throughout."""
        self._connect("dispatch_alice")
        bob_ws = self._connect("dispatch_bob")
        server_ws = self.server_socket(self.alice.id)
        server_ws._client_sock.settimeout(1.0)
        big = "x" * 1_000_000
        with patch.object(connection, "OUTBOX_MAX_BYTES", 64_000_000):
            for n in range(20):
                self.notify(self.alice.partner_id, {"n": n, "big": big})
                self.dispatch(self.alice.partner_id)
            self.notify("broadcast", {"n": "bob"})
            self.dispatch("broadcast")
            self._assert_next_payloads(bob_ws, [{"n": "bob"}])
            wait_until(
                lambda: server_ws.state is ConnectionState.CLOSED,
                "the stalled socket to be closed",
                timeout=30,
            )
            self.wait_remaining_websocket_connections()
        self.assertEqual(server_ws.state, ConnectionState.CLOSED)
        self.assertEqual(server_ws._close_request, (CloseCode.ABNORMAL_CLOSURE, None))
        self.assertFalse(server_ws._outbox)

    def test_closed_sockets_leave_the_dispatcher(self):
        db = self.env.cr.dbname
        ws = self._connect("dispatch_alice")
        server_ws = self.server_socket(self.alice.id)
        feed = mobile_dispatch._feeds[db]
        subscriber = feed.subscribers[server_ws]
        self.assertTrue(subscriber.channels)
        for channel in subscriber.channels:
            self.assertIn(subscriber, feed.subscribers_by_channel[channel])
        self.assertEqual(mobile_dispatch.subscriber_count(db), 1)
        ws.close(CloseCode.CLEAN)
        self.wait_remaining_websocket_connections()
        self.assertIs(server_ws.state, ConnectionState.CLOSED)
        self.assertFalse(subscriber.active)
        self.assertEqual(mobile_dispatch.subscriber_count(db), 0)
        # Out of every index of its feed (gone itself once nobody is left).
        feed = mobile_dispatch._feeds.get(db) or feed
        self.assertNotIn(server_ws, feed.subscribers)
        self.assertNotIn(subscriber, feed.pending)
        self.assertFalse(
            [c for c, subs in feed.subscribers_by_channel.items() if subscriber in subs]
        )

    def test_frames_are_json_lists_of_notifications(self):
        ws = self._connect("dispatch_alice")
        self.notify(self.alice.partner_id, {"text": 'quote " and \u00e9'})
        self.dispatch(self.alice.partner_id)
        raw = ws.recv()
        notifications = json.loads(raw)
        self.assertEqual(notifications[0]["message"]["type"], "bus_mobile/test")
        self.assertEqual(notifications[0]["message"]["payload"], {"text": 'quote " and \u00e9'})
        self.assertIsInstance(notifications[0]["id"], int)
