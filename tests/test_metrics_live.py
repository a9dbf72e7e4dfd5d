"""The live view's figures: snapshots of several nodes added up, the
database's series once, administrators only."""

import time

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..metrics import live
from ..metrics.publisher import take_snapshot


def figures(sockets, notifications=0.0, latency=(), push=None):
    return {
        "sockets": sockets,
        "subscriptions": sum(sockets.values()) * 3,
        "notifications": notifications,
        "frames": notifications,
        "sent_bytes": 100 * notifications,
        "refused": 0,
        "closes": {},
        "push": push or {},
        "latency": [list(b) for b in latency],
        "backlog": 0,
    }


BUCKETS_10 = [[0.01, 5.0], [0.1, 9.0], [1.0, 10.0], ["+Inf", 10.0]]


@tagged("post_install", "-at_install")
class TestLiveView(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Snapshot = cls.env["bus_mobile.metrics.snapshot"]
        cls.admin = new_test_user(cls.env, "live_admin", groups="base.group_system")
        cls.plain = new_test_user(cls.env, "live_plain", groups="base.group_user")

    def test_nodes_add_up_and_the_database_counts_once(self):
        # The test server's own node may have published a snapshot already
        # (any socket of an earlier test starts its publisher): what is
        # checked is what these two nodes add to it.
        before = self.Snapshot.with_user(self.admin).bus_mobile_live_data()
        self.Snapshot._bus_mobile_store("node-a:8069", figures({"ios": 2, "android": 1}))
        self.Snapshot._bus_mobile_store("node-b:8069", figures({"ios": 4}))
        self.env["bus_mobile.device"].with_user(self.plain)._bus_mobile_register(
            "live-phone-1", "ios"
        )
        data = self.Snapshot.with_user(self.admin).bus_mobile_live_data()
        self.assertEqual(data["nodes"], sorted([*before["nodes"], "node-a:8069", "node-b:8069"]))
        self.assertEqual(data["sockets"], before["sockets"] + 7)
        platforms = dict(before["sockets_by_platform"])
        platforms["ios"] = platforms.get("ios", 0) + 6
        platforms["android"] = platforms.get("android", 0) + 1
        self.assertEqual(data["sockets_by_platform"], platforms)
        self.assertEqual(data["subscriptions"], before["subscriptions"] + 21)
        self.assertEqual(
            data["devices"]["offline"],
            self.env["bus_mobile.device"].search_count([("status", "=", "offline")]),
        )
        self.assertEqual(len(data["history"]), live.HISTORY_S // live.HISTORY_STEP_S)

    def test_each_snapshot_tells_the_administrators(self):
        self.env.cr.execute("SELECT COALESCE(max(id), 0) FROM bus_bus")
        mark = self.env.cr.fetchone()[0]
        take_snapshot(self.env)
        self.env.cr.precommit.run()
        rows = self.env["bus.bus"].sudo().search([("id", ">", mark)])
        group = self.env.ref("base.group_system")
        self.assertIn(f'["{self.env.cr.dbname}","res.groups",{group.id}]', rows.mapped("channel"))
        self.assertIn("bus_mobile/metrics", rows[-1].message)

    def test_only_administrators_read_it(self):
        with self.assertRaises(AccessError):
            self.Snapshot.with_user(self.plain).bus_mobile_live_data()
        with self.assertRaises(AccessError):
            self.Snapshot.with_user(self.plain).search([])

    def test_snapshots_older_than_the_hour_are_deleted(self):
        old = self.Snapshot.sudo().create(
            {"node": "gone", "taken_at": "2000-01-01 00:00:00", "figures": figures({})}
        )
        self.Snapshot._bus_mobile_store("node-a:8069", figures({}))
        self.assertFalse(old.exists())


class TestAggregate(TransactionCase):
    """live.aggregate and live.quantile on their own."""

    database = {"devices": [("online", "ios", 3), ("away", "android", 1)], "push_queue": []}

    def test_rates_and_quantiles_over_the_last_minute(self):
        now = time.time()
        snapshots = [
            ("a", now - 60, figures({"ios": 1}, 100, [[0.01, 0], [0.1, 0], [1.0, 0], ["+Inf", 0]])),
            ("a", now, figures({"ios": 1}, 130, BUCKETS_10)),
            ("b", now - 30, figures({}, 10)),
            ("b", now, figures({}, 20)),
        ]
        data = live.aggregate(snapshots, now, self.database)
        # a: 30 per minute, b: 10 in 30 s = 20 per minute.
        self.assertEqual(data["notifications_per_minute"], 50.0)
        self.assertEqual(data["latency_p50_ms"], 10.0)
        self.assertEqual(data["latency_p99_ms"], 910.0)
        self.assertEqual(data["devices"], {"online": 3, "away": 1, "offline": 0})

    def test_a_restarted_node_is_not_a_negative_rate(self):
        now = time.time()
        snapshots = [("a", now - 10, figures({}, 500)), ("a", now, figures({}, 6))]
        data = live.aggregate(snapshots, now, self.database)
        self.assertEqual(data["notifications_per_minute"], 36.0)

    def test_a_silent_node_is_gone(self):
        now = time.time()
        snapshots = [("a", now - live.NODE_STALE_S - 5, figures({"ios": 9}))]
        data = live.aggregate(snapshots, now, self.database)
        self.assertEqual((data["sockets"], data["nodes"]), (0, []))

    def test_quantile_like_prometheus(self):
        self.assertIsNone(live.quantile(0.5, []))
        self.assertIsNone(live.quantile(0.5, [[1.0, 0], ["+Inf", 0]]))
        self.assertEqual(live.quantile(0.5, [[1.0, 4], ["+Inf", 4]]), 0.5)
        # Past the last finite bucket: its upper bound, as Prometheus says.
        self.assertEqual(live.quantile(0.99, [[1.0, 1], ["+Inf", 10]]), 1.0)
