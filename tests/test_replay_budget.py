from unittest.mock import patch

from odoo.tests import BaseCase, tagged

from ..mobile_socket import feed as feed_module
from ..mobile_socket import mobile_dispatch
from ..mobile_socket.feed import REPLAY_WINDOW, Feed, ReplayBudget
from .auth_common import AuthCallsMixin
from .common import MobileWebsocketCase, wait_until


@tagged("post_install", "-at_install")
class TestReplayBudgetAlone(BaseCase):
    """A user's replay budget, without sockets."""

    def setUp(self):
        super().setUp()
        self.budget = ReplayBudget()
        self.feed = Feed()
        self.feed.last_id = 100_000
        self.startPatcher(patch.object(feed_module, "REPLAY_MAX_ROWS", 1000))
        self.startPatcher(patch.object(feed_module, "REPLAY_THROTTLED_ROWS", 10))

    def floor(self, key, now):
        return self.feed.replay_floor(self.budget, key, now)

    def test_full_replay_until_the_budget_is_used(self):
        self.assertEqual(self.floor("a", 0.0), 99_000)
        self.budget.charge("a", 600, 0.0)
        self.assertEqual(self.floor("a", 1.0), 99_000)
        self.budget.charge("a", 400, 1.0)
        self.assertEqual(self.floor("a", 2.0), 99_990)
        # Another user keeps their own budget.
        self.assertEqual(self.floor("b", 2.0), 99_000)

    def test_budget_comes_back_when_the_window_ends(self):
        self.budget.charge("a", 5000, 0.0)
        self.assertEqual(self.floor("a", REPLAY_WINDOW - 1), 99_990)
        self.assertEqual(self.floor("a", REPLAY_WINDOW), 99_000)
        # Ended windows are forgotten (no growth with users come and gone).
        self.budget.charge("b", 1, REPLAY_WINDOW + 1)
        self.assertEqual(len(self.budget), 1)

    def test_floor_is_never_negative(self):
        self.feed.last_id = 3
        self.assertEqual(self.floor("a", 0.0), 0)
        self.budget.charge("a", 10**9, 0.0)
        self.assertEqual(self.floor("a", 0.0), 0)


@tagged("post_install", "-at_install")
class TestReplayBudget(AuthCallsMixin, MobileWebsocketCase):
    """A client reconnecting in a loop with ``last=1`` gets the long replay
    once per window, then short ones, whatever session, cookie or bearer
    token its sockets use; other users are not affected."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("budget_alice")
        cls.bob = cls.make_user("budget_bob")

    def setUp(self):
        super().setUp()
        self.startPatcher(patch.object(feed_module, "REPLAY_MAX_ROWS", 40))
        self.startPatcher(patch.object(feed_module, "REPLAY_THROTTLED_ROWS", 5))
        # The worker's dispatcher keeps budgets for a minute: each test its own.
        self.startPatcher(patch.object(mobile_dispatch, "_replay_budget", ReplayBudget()))
        # To both users: every internal user's socket listens to the group.
        # (Sockets opening and closing add rows of their own: a margin.)
        for n in range(50):
            self.notify(self.env.ref("base.group_user"), {"n": n})
        self.env.cr.precommit.run()
        self.closed = 0

    def _replayed(self, ws):
        """The test payloads replayed to ``ws``: those before a broadcast
        sent once the subscription is live."""
        self.notify("broadcast", {"end": True})
        self.dispatch("broadcast")
        payloads = []
        while True:
            for payload in self.next_test_payloads(ws):
                if payload == {"end": True}:
                    return payloads
                payloads.append(payload["n"])

    def replay_of(self, token=None, cookie=""):
        """How many rows a new socket subscribing with ``last=1`` gets."""
        header = [f"Authorization: Bearer {token}"] if token else []
        db = self.env.cr.dbname
        before = mobile_dispatch.subscriber_count(db)
        ws = self.mobile_connect(cookie=cookie, header=header, ping_after_connect=True)
        if token:
            # A bearer socket subscribes to its key's channel as it opens:
            # wait until that is served (it shares the test cursor).
            wait_until(
                lambda: mobile_dispatch.subscriber_count(db) > before,
                "the bearer socket's key channel to be served",
            )
            self.wait_mobile_dispatch()
        self.subscribe(ws, [], 1)
        replayed = self._replayed(ws)
        ws.close()
        # Its close uses the test cursor: wait for it.
        self.closed += 1
        self.wait_mobile_sockets_done(self.closed)
        return replayed

    def test_reconnect_loop_gets_short_replays(self):
        cookie = self.session_cookie("budget_alice")
        first = self.replay_of(cookie=cookie)
        self.assertTrue(25 <= len(first) <= 40, first)
        self.assertEqual(first, list(range(50 - len(first), 50)))
        # The same session again, at once: the newest rows only.
        self.assertLessEqual(len(self.replay_of(cookie=cookie)), 5)
        # Another user has their own.
        self.assertGreaterEqual(len(self.replay_of(cookie=self.session_cookie("budget_bob"))), 25)
        # Another session of the same user shares the budget: a user can
        # open as many sessions as they like.
        self.assertLessEqual(len(self.replay_of(cookie=self.session_cookie("budget_alice"))), 5)

    def test_bearer_sockets_count_towards_their_users_budget(self):
        """Each bearer socket gets a session of its own at its handshake:
        keyed by session, a client reconnecting with one device token got
        the long replay on every reconnect."""
        token = self.device_token("budget_alice")
        bob_token = self.device_token("budget_bob")
        self.assertGreaterEqual(len(self.replay_of(token)), 25)
        # Another user has their own budget (asked first: each socket adds
        # bus rows of its own, which push the test's rows out of the window).
        self.assertGreaterEqual(len(self.replay_of(bob_token)), 25)
        for _reconnect in range(3):
            self.assertLessEqual(len(self.replay_of(token)), 5)
        # The user's other keys and sessions share it too.
        self.assertLessEqual(len(self.replay_of(self.api_key(self.alice))), 5)
        self.assertLessEqual(len(self.replay_of(cookie=self.session_cookie("budget_alice"))), 5)
