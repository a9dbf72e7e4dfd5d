"""The mobile dispatcher's bookkeeping, without HTTP: a MobileDispatcher of
its own whose batches the test runs in its own thread, on the test
transaction (Odoo's registry test mode, as HttpCase uses it), with real
bus rows and real sessions. Only the sockets are stand-ins."""

import json
import sys
import threading
from unittest.mock import patch

import psycopg2

from odoo.http import get_default_session, root
from odoo.service import security
from odoo.tests import BaseCase, TransactionCase, tagged

from odoo.addons.bus.models.bus import ImDispatch, channel_with_db, hashable, json_dump
from odoo.addons.bus.websocket import CloseCode

from ..mobile_socket import feed as feed_module
from ..mobile_socket.dispatcher import MobileDispatcher, start_once
from ..mobile_socket.stock_dispatch import _one_at_a_time
from .common import TEST_TYPE, last_bus_id, make_test_user, wait_until


class SocketStandIn:
    """What the dispatcher reads of a mobile socket (its database and
    session, whether it listens) and what it hands it, kept in memory."""

    bearer = None

    def __init__(self, db, session):
        self._db = db
        self._session = session
        self.frames = []
        self.close_request = None
        self.subscribed = 0
        self.closed = False

    def is_listening(self):
        return not (self.closed or self.close_request)

    def is_closed(self):
        return self.closed

    def deliver(self, frame):
        self.frames.append(frame)

    def request_close(self, code, reason=None):
        self.close_request = (code, reason)

    def on_subscribed(self):
        self.subscribed += 1

    def received(self):
        """The test payloads of the frames handed over since the last call,
        one list per frame (final text frames, unmasked, as RFC 6455 has a
        server send them)."""
        frames, self.frames = self.frames, []
        received = []
        for frame in frames:
            length = frame[1]  # no mask bit
            offset = 2 if length < 126 else 4 if length == 126 else 10
            notifications = json.loads(frame[offset:])
            received.append(
                [
                    n["message"]["payload"]
                    for n in notifications
                    if n["message"]["type"] == TEST_TYPE
                ]
            )
        return received


@tagged("post_install", "-at_install")
class TestDispatcherBookkeeping(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The dispatcher's cursor (``acquire_cursor``) is then the test
        # transaction, as for the server threads of an HttpCase.
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.alice = make_test_user(cls.env, login="unit_alice")
        cls.bob = make_test_user(cls.env, login="unit_bob")
        cls.db = cls.env.cr.dbname

    def setUp(self):
        super().setUp()
        self.dispatcher = MobileDispatcher()
        # Stopped: its thread, started by the first subscribe, ends at once;
        # the test runs the batches (``_serve``) itself.
        self.dispatcher.stop()
        self.addCleanup(self._join_dispatcher)

    def _join_dispatcher(self):
        if self.dispatcher.ident is not None:
            self.dispatcher.join(5)

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    def channel(self, target):
        """A channel as stock ``dispatch.subscribe`` hands it to a socket."""
        return hashable(channel_with_db(self.db, target))

    def encoded(self, *targets):
        return frozenset(json_dump(self.channel(target)) for target in targets)

    def socket(self, user):
        """A stand-in socket of a new, real session of ``user``."""
        store = root.session_store
        session = store.new()
        session.update(get_default_session(), db=self.db, uid=user.id, login=user.login)
        session.session_token = security.compute_session_token(session, self.env)
        store.save(session)
        self.addCleanup(store.delete, session)
        return SocketStandIn(self.db, session)

    def notify(self, target, payload):
        """A bus row (the precommit hook writes it); its id."""
        self.env["bus.bus"]._sendone(target, TEST_TYPE, payload)
        return last_bus_id(self.env)

    def listening(self, user, *targets):
        """A stand-in socket of ``user`` whose subscription to ``targets``
        was served."""
        ws = self.socket(user)
        self.dispatcher.subscribe(ws, [self.channel(t) for t in targets], last_bus_id(self.env))
        self.dispatcher._serve(self.db)
        self.assertEqual(ws.subscribed, 1)
        ws.received()
        return ws

    def feed(self):
        return self.dispatcher._feeds[self.db]

    def fail_next_recheck(self, during=None):
        """The next batch fails where it rechecks what the users may read,
        the last step before its frames are handed over (as on a database
        error), after ``during()`` if given."""

        def fail_once(env, deliveries):
            del self.dispatcher._filter_deliveries  # the method again
            if during:
                during()
            raise psycopg2.OperationalError("the database went away")

        self.dispatcher._filter_deliveries = fail_once
        self.addCleanup(vars(self.dispatcher).pop, "_filter_deliveries", None)

    # ------------------------------------------------------------------
    # subscribe / unsubscribe (the sockets' threads)
    # ------------------------------------------------------------------

    def test_one_record_per_socket_with_its_latest_subscription(self):
        ws = self.socket(self.alice)
        self.dispatcher.subscribe(ws, [self.channel(self.alice.partner_id)], 5)
        feed = self.feed()
        subscriber = feed.subscribers[ws]
        self.assertIs(subscriber.websocket, ws)
        self.assertEqual((subscriber.sid, subscriber.uid), (ws._session.sid, self.alice.id))
        self.assertEqual(feed.pending, {subscriber: (self.encoded(self.alice.partner_id), 5)})
        # Not listening before a batch served the subscription.
        self.assertEqual(subscriber.channels, frozenset())
        self.assertEqual(feed.subscribers_by_channel, {})
        self.assertFalse(self.dispatcher.is_idle(), "the database is due for a batch")
        # Subscribing again replaces the pending subscription, same record.
        self.dispatcher.subscribe(ws, [self.channel("broadcast")], 7)
        self.assertIs(feed.subscribers[ws], subscriber)
        self.assertEqual(feed.pending, {subscriber: (self.encoded("broadcast"), 7)})
        self.assertEqual(self.dispatcher.subscriber_count(self.db), 1)

    def test_each_database_has_its_own_feed(self):
        ws = self.socket(self.alice)
        elsewhere = SocketStandIn("another_db", ws._session)
        self.dispatcher.subscribe(ws, [self.channel("broadcast")], 0)
        self.dispatcher.subscribe(elsewhere, [self.channel("broadcast")], 0)
        self.assertEqual(set(self.dispatcher._feeds), {self.db, "another_db"})
        self.assertEqual(set(self.dispatcher._dirty), {self.db, "another_db"})
        self.assertEqual(list(self.feed().subscribers), [ws])
        self.dispatcher.unsubscribe(elsewhere)
        self.assertEqual(set(self.dispatcher._feeds), {self.db})
        self.assertEqual(self.dispatcher.subscriber_count(self.db), 1)

    def test_a_bad_last_replays_the_default_window(self):
        ws = self.socket(self.alice)
        for bad in (True, -1, "5", 1.5, None):
            with self.subTest(last=bad):
                self.dispatcher.subscribe(ws, [], bad)
                self.assertEqual(self.feed().pending[self.feed().subscribers[ws]][1], 0)

    def test_unsubscribe_forgets_the_socket_and_then_the_database(self):
        alice_ws = self.listening(self.alice, self.alice.partner_id, "broadcast")
        bob_ws = self.listening(self.bob, "broadcast")
        feed = self.feed()
        alice = feed.subscribers[alice_ws]
        bob = feed.subscribers[bob_ws]
        self.assertEqual(
            feed.subscribers_by_channel,
            {
                json_dump(self.channel(self.alice.partner_id)): {alice},
                json_dump(self.channel("broadcast")): {alice, bob},
            },
        )
        self.dispatcher.unsubscribe(alice_ws)
        self.assertFalse(alice.active)
        self.assertEqual(feed.subscribers, {bob_ws: bob})
        # A channel nobody listens to any more leaves the index.
        self.assertEqual(feed.subscribers_by_channel, {json_dump(self.channel("broadcast")): {bob}})
        self.dispatcher.unsubscribe(alice_ws)  # twice: nothing happens
        self.dispatcher.unsubscribe(self.socket(self.bob))  # never subscribed
        self.assertEqual(feed.subscribers, {bob_ws: bob})
        # The last socket gone, so is the database's read cursor.
        self.dispatcher.unsubscribe(bob_ws)
        self.assertNotIn(self.db, self.dispatcher._feeds)
        self.assertEqual(self.dispatcher.subscriber_count(self.db), 0)

    # ------------------------------------------------------------------
    # batches (the dispatcher's thread)
    # ------------------------------------------------------------------

    def test_a_subscription_is_replayed_then_served_live(self):
        mark = self.notify(self.alice.partner_id, {"n": "before last"})
        self.notify(self.alice.partner_id, {"n": "missed"})
        self.notify(self.bob.partner_id, {"n": "not alice's"})
        ws = self.socket(self.alice)
        self.dispatcher.subscribe(ws, [self.channel(self.alice.partner_id)], mark)
        self.dispatcher._serve(self.db)
        self.assertEqual(ws.received(), [[{"n": "missed"}]])
        self.assertEqual(ws.subscribed, 1)
        feed = self.feed()
        self.assertEqual(feed.pending, {})
        self.assertEqual(feed.subscribers[ws].channels, self.encoded(self.alice.partner_id))
        self.notify(self.alice.partner_id, {"n": "live"})
        self.dispatcher._serve(self.db)
        self.assertEqual(ws.received(), [[{"n": "live"}]])
        self.dispatcher._serve(self.db)
        self.assertEqual(ws.received(), [], "each row once")
        self.assertEqual(ws.subscribed, 1)

    def test_the_cursor_moves_only_after_delivery(self):
        ws = self.listening(self.alice, self.alice.partner_id)
        feed = self.feed()
        before = (feed.last_id, list(feed.history))
        row_id = self.notify(self.alice.partner_id, {"n": 1})
        self.fail_next_recheck()
        with self.assertRaises(psycopg2.OperationalError):
            self.dispatcher._serve(self.db)
        self.assertEqual(ws.received(), [])
        self.assertEqual((feed.last_id, feed.history), before, "the failed batch read nothing")
        self.assertFalse(feed.busy)
        # The next batch serves the same row, once.
        self.dispatcher._serve(self.db)
        self.assertEqual(ws.received(), [[{"n": 1}]])
        self.assertIn(row_id, [notif_id for notif_id, _seen in feed.history])
        self.dispatcher._serve(self.db)
        self.assertEqual(ws.received(), [])

    def test_a_failed_batch_keeps_its_subscriptions_for_the_next(self):
        self.listening(self.alice, self.alice.partner_id)
        ws = self.socket(self.bob)
        mark = self.notify(self.bob.partner_id, {"n": "replayed"}) - 1
        self.dispatcher.subscribe(ws, [self.channel(self.bob.partner_id)], mark)
        self.fail_next_recheck()
        with self.assertRaises(psycopg2.OperationalError):
            self.dispatcher._serve(self.db)
        feed = self.feed()
        self.assertEqual(
            feed.pending, {feed.subscribers[ws]: (self.encoded(self.bob.partner_id), mark)}
        )
        self.dispatcher._serve(self.db)
        self.assertEqual(ws.received(), [[{"n": "replayed"}]])
        self.assertEqual(ws.subscribed, 1)

    def test_a_socket_gone_during_a_failed_batch_is_not_added_back(self):
        ws = self.socket(self.alice)
        self.dispatcher.subscribe(ws, [self.channel(self.alice.partner_id)], 0)
        self.fail_next_recheck(during=lambda: self.dispatcher.unsubscribe(ws))
        with self.assertRaises(psycopg2.OperationalError):
            self.dispatcher._serve(self.db)
        # Not pending again, and its feed, held by the batch when it left,
        # ends with the batch.
        self.assertNotIn(self.db, self.dispatcher._feeds)
        self.assertEqual(ws.subscribed, 0)

    def test_an_ended_session_closes_its_socket_alone(self):
        alice_ws = self.listening(self.alice, "broadcast")
        bob_ws = self.listening(self.bob, "broadcast")
        root.session_store.delete(alice_ws._session)
        self.notify("broadcast", {"n": 1})
        self.dispatcher._serve(self.db)
        self.assertEqual(alice_ws.received(), [])
        self.assertEqual(alice_ws.close_request, (CloseCode.SESSION_EXPIRED, "SESSION_EXPIRED"))
        self.assertNotIn(alice_ws, self.feed().subscribers)
        self.assertEqual(bob_ws.received(), [[{"n": 1}]])

    def test_sockets_with_the_same_rows_share_them(self):
        alice_ws = self.listening(self.alice, "broadcast")
        bob_ws = self.listening(self.bob, "broadcast")
        quiet_ws = self.listening(self.bob, "broadcast")
        closed_ws = self.listening(self.bob, "broadcast")
        feed = self.feed()
        quiet_ws.close_request = (CloseCode.CLEAN, None)  # closing: skipped
        closed_ws.closed = True  # closed without leaving: it leaves now
        rows = [(1, json_dump(self.channel("broadcast")), "{}"), (2, "other", "{}")]
        deliveries = feed.route(rows)
        alice, bob = feed.subscribers[alice_ws], feed.subscribers[bob_ws]
        self.assertEqual(set(deliveries), {alice, bob})
        self.assertEqual(deliveries[alice], (rows[0],))
        self.assertIs(deliveries[alice], deliveries[bob])
        self.assertIn(quiet_ws, feed.subscribers)
        self.assertNotIn(closed_ws, feed.subscribers)

    def test_replays_are_budgeted_per_user(self):
        self.startPatcher(patch.object(feed_module, "REPLAY_MAX_ROWS", 20))
        self.startPatcher(patch.object(feed_module, "REPLAY_THROTTLED_ROWS", 5))
        for n in range(30):
            self.notify(self.alice.partner_id, {"n": n})
        first = self.socket(self.alice)
        again = SocketStandIn(self.db, first._session)  # the same session reconnects
        other_session = self.socket(self.alice)
        other_user = self.socket(self.bob)
        replayed = {}
        for ws in (first, again, other_session, other_user):
            self.dispatcher.subscribe(ws, [self.channel(self.alice.partner_id)], 1)
            self.dispatcher._serve(self.db)
            replayed[ws] = [payload["n"] for frame in ws.received() for payload in frame]
        self.assertTrue(15 <= len(replayed[first]) <= 20, replayed[first])
        self.assertEqual(replayed[first], list(range(30 - len(replayed[first]), 30)))
        self.assertLessEqual(len(replayed[again]), 5)
        # A user's sessions share one budget (a user opens sessions at will).
        self.assertLessEqual(len(replayed[other_session]), 5)
        self.assertGreaterEqual(len(replayed[other_user]), 15)


@tagged("post_install", "-at_install")
class TestStartOnce(BaseCase):
    """Stock's dispatch and ours start from the first subscription, in the
    thread of whichever socket subscribes first; often several at once."""

    def test_sockets_subscribing_at_once_start_the_dispatcher_once(self):
        runs, unraisable = [], []
        self.startPatcher(patch.object(sys, "unraisablehook", unraisable.append))
        for _round in range(50):
            dispatcher = threading.Thread(target=runs.append, args=(1,), daemon=True)
            barrier = threading.Barrier(8)

            def subscribe(dispatcher=dispatcher, barrier=barrier):
                barrier.wait()
                start_once(dispatcher)

            sockets = [threading.Thread(target=subscribe) for _socket in range(8)]
            for socket in sockets:
                socket.start()
            for socket in sockets:
                socket.join()
            dispatcher.join()
        # Without the lock, most rounds start it twice and the second
        # thread dies on threading's KeyError.
        self.assertEqual([u.exc_type for u in unraisable], [])
        self.assertEqual(len(runs), 50)

    def test_a_stopped_dispatcher_is_not_started_again(self):
        dispatcher = threading.Thread(target=lambda: None, daemon=True)
        start_once(dispatcher)
        dispatcher.join()
        start_once(dispatcher)  # no RuntimeError
        self.assertFalse(dispatcher.is_alive())


class TestStockChannelMap(BaseCase):
    """Stock's dispatch maps channels to sockets; every socket's thread
    changes the map, on subscribe and on close (mobile_socket/stock_dispatch)."""

    class Socket:
        """What stock's dispatch reads and calls of a socket."""

        def __init__(self):
            self._channels = set()

        def subscribe(self, channels, last):
            self._channels = channels

    class PausingMap(dict):
        """Stock's channel map, which pauses the close that drops a channel
        (it found the channel without sockets) until the test lets it go."""

        def __init__(self):
            super().__init__()
            self.dropping, self.go = threading.Event(), threading.Event()

        def pop(self, *args):
            self.dropping.set()
            self.go.wait(10)
            return super().pop(*args)

    @staticmethod
    def _waits_in_lock(thread):
        """``thread`` is inside the lock wrapper of mobile_socket/stock_dispatch
        (there, it can only wait: the lock is held by the paused close)."""
        frame = sys._current_frames().get(thread.ident)
        while frame is not None:
            if frame.f_code is _one_at_a_time(lambda: None).__code__:
                return True
            frame = frame.f_back
        return False

    def test_a_socket_joining_a_channel_its_last_socket_leaves_stays_in_it(self):
        stock_dispatch = ImDispatch()  # the patched class; not the server's
        stock_dispatch.start = lambda: None  # no bus thread: only the map
        stock_dispatch._channels_to_ws = channel_map = self.PausingMap()
        leaving, joining = self.Socket(), self.Socket()
        stock_dispatch.subscribe(["room"], 0, "db", leaving)
        leave = threading.Thread(target=stock_dispatch.unsubscribe, args=(leaving,))
        join = threading.Thread(target=stock_dispatch.subscribe, args=(["room"], 0, "db", joining))
        leave.start()
        self.assertTrue(channel_map.dropping.wait(10))
        # The other socket joins while the close is between "no socket
        # left" and dropping the channel; stock lets it in at once.
        join.start()
        # Until it is in (stock) or waits for the channel map's lock (ours).
        wait_until(
            lambda: not join.is_alive() or self._waits_in_lock(join),
            "the other socket's subscribe to end or to wait for the lock",
        )
        channel_map.go.set()
        leave.join()
        join.join()
        # Stock then drops the channel with the newcomer in it: it is no
        # longer woken, and its own close fails with KeyError.
        self.assertEqual(channel_map, {hashable(channel_with_db("db", "room")): {joining}})
        stock_dispatch.unsubscribe(joining)
        self.assertEqual(channel_map, {})
