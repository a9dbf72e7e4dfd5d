from unittest.mock import patch

from odoo.tests import BaseCase, tagged

from ..mobile_socket import dispatcher as dispatch_module
from ..mobile_socket.dispatcher import REPLAY_WINDOW, ReplayBudget, _Feed
from .common import MobileWebsocketCase


@tagged("post_install", "-at_install")
class TestReplayBudgetAlone(BaseCase):
    """A session's replay budget, without sockets."""

    def setUp(self):
        super().setUp()
        self.budget = ReplayBudget()
        self.feed = _Feed()
        self.feed.last_id = 100_000
        self.startPatcher(patch.object(dispatch_module, "REPLAY_MAX_ROWS", 1000))
        self.startPatcher(patch.object(dispatch_module, "REPLAY_THROTTLED_ROWS", 10))

    def floor(self, key, now):
        return self.feed.replay_floor(self.budget, key, now)

    def test_full_replay_until_the_budget_is_used(self):
        self.assertEqual(self.floor("a", 0.0), 99_000)
        self.budget.charge("a", 600, 0.0)
        self.assertEqual(self.floor("a", 1.0), 99_000)
        self.budget.charge("a", 400, 1.0)
        self.assertEqual(self.floor("a", 2.0), 99_990)
        # Another session keeps its own budget.
        self.assertEqual(self.floor("b", 2.0), 99_000)

    def test_budget_comes_back_when_the_window_ends(self):
        self.budget.charge("a", 5000, 0.0)
        self.assertEqual(self.floor("a", REPLAY_WINDOW - 1), 99_990)
        self.assertEqual(self.floor("a", REPLAY_WINDOW), 99_000)
        # Ended windows are forgotten (no growth with sessions come and gone).
        self.budget.charge("b", 1, REPLAY_WINDOW + 1)
        self.assertEqual(len(self.budget), 1)

    def test_floor_is_never_negative(self):
        self.feed.last_id = 3
        self.assertEqual(self.floor("a", 0.0), 0)
        self.budget.charge("a", 10**9, 0.0)
        self.assertEqual(self.floor("a", 0.0), 0)


@tagged("post_install", "-at_install")
class TestReplayBudget(MobileWebsocketCase):
    """A client reconnecting in a loop with ``last=1`` gets the long replay
    once per window, then short ones; other sessions are not affected."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("budget_alice")

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

    def test_reconnect_loop_gets_short_replays(self):
        self.startPatcher(patch.object(dispatch_module, "REPLAY_MAX_ROWS", 20))
        self.startPatcher(patch.object(dispatch_module, "REPLAY_THROTTLED_ROWS", 5))
        for n in range(30):
            self.notify(self.alice.partner_id, {"n": n})
        self.env.cr.precommit.run()
        cookie = self.session_cookie("budget_alice")
        first = self.mobile_connect(cookie=cookie, ping_after_connect=True)
        self.subscribe(first, [], 1)
        replayed = self._replayed(first)
        self.assertTrue(15 <= len(replayed) <= 20, replayed)
        self.assertEqual(replayed, list(range(30 - len(replayed), 30)))
        first.close()
        # The same session again, at once: the newest rows only.
        again = self.mobile_connect(cookie=cookie, ping_after_connect=True)
        self.subscribe(again, [], 1)
        self.assertLessEqual(len(self._replayed(again)), 5)
        # Another session of the same user has its own budget.
        other = self.mobile_connect(
            cookie=self.session_cookie("budget_alice"), ping_after_connect=True
        )
        self.subscribe(other, [], 1)
        self.assertGreaterEqual(len(self._replayed(other)), 15)
