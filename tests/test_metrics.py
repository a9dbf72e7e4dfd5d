"""Operations: the node's metrics as counted where the work happens, the
scrape route and its access, the health probe, and the live view's
figures (tests/test_metrics_live.py: the snapshots and their sum)."""

import contextlib
import datetime
import json
import os
import uuid
from unittest.mock import patch

import psycopg2

from odoo.sql_db import db_connect
from odoo.tests import tagged

from odoo.addons.bus.websocket import CloseCode

from ..metrics import collect, scrape, store
from ..mobile_socket import mobile_dispatch
from .common import MobileWebsocketCase
from .test_push import PushCase, expo_token

TOKEN = "metrics-" + "x" * 32


def node_value(db, name, **labels):
    """What the node's processes counted for ``db`` (the shared files)."""
    return collect.total(collect.node_families(db), name, **labels)


@tagged("post_install", "-at_install")
class TestScrapeAccess(MobileWebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(scrape.TOKEN_PARAM, TOKEN)
        cls.plain = cls.make_user("metrics_plain")
        cls.reader = cls.make_user("metrics_reader", groups="bus_mobile.group_metrics_reader")

    def scrape(self, token=None, query=""):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.url_open(f"/bus_mobile/metrics{query}", headers=headers)

    def api_key(self, user):
        expiration = datetime.datetime.now() + datetime.timedelta(days=1)
        return self.env["res.users.apikeys"].with_user(user)._generate("rpc", "key", expiration)

    def test_anonymous_scrape_is_refused(self):
        response = self.scrape()
        self.assertEqual(response.status_code, 401)
        self.assertIn("Bearer", response.headers["WWW-Authenticate"])
        self.assertNotIn("bus_mobile_", response.text)

    def test_wrong_token_is_refused(self):
        for token, status in (("wrong", 403), (TOKEN + "x", 403), (TOKEN[:-1], 403), ("\x00", 401)):
            with self.subTest(token=token):
                response = self.scrape(token)
                self.assertEqual(response.status_code, status)
                self.assertNotIn("bus_mobile_", response.text)

    def test_plain_user_session_and_key_are_refused(self):
        self.authenticate("metrics_plain", "metrics_plain")
        self.assertEqual(self.scrape().status_code, 401)
        self.assertEqual(self.scrape(self.api_key(self.plain)).status_code, 403)

    def test_an_empty_token_setting_lets_no_one_in(self):
        self.env["ir.config_parameter"].sudo().set_param(scrape.TOKEN_PARAM, "")
        self.assertEqual(self.scrape("").status_code, 401)
        self.assertEqual(self.scrape("anything").status_code, 403)

    def test_token_scrape(self):
        Device = self.env["bus_mobile.device"].with_user(self.plain)
        Device._bus_mobile_register(f"dev-{uuid.uuid4().hex[:12]}", "android")
        response = self.scrape(TOKEN)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        db = self.env.cr.dbname
        text = response.text
        self.assertIn(f'bus_mobile_database_up{{db="{db}"}} 1.0', text)
        self.assertIn(f'bus_mobile_metrics_up{{db="{db}"}} 1.0', text)
        self.assertIn(
            f'bus_mobile_devices{{db="{db}",platform="android",scope="database",status="offline"}}',
            text,
        )
        self.assertIn(f'bus_mobile_node_info{{db="{db}",node="{store.NODE}"}} 1.0', text)
        # Only this database's series, and the node's own.
        for line in text.splitlines():
            if line and not line.startswith("#") and "db=" in line:
                self.assertIn(f'db="{db}"', line)

    def test_reader_api_key_scrapes(self):
        response = self.scrape(self.api_key(self.reader))
        self.assertEqual(response.status_code, 200)
        self.assertIn("bus_mobile_database_up", response.text)

    def test_another_database_is_not_served_here(self):
        response = self.scrape(TOKEN, "?db=someone_else")
        self.assertEqual(response.status_code, 404)

    def test_health_says_only_its_facts(self):
        response = self.url_open("/bus_mobile/health")
        self.assertEqual(response.status_code, 200)
        facts = response.json()
        self.assertEqual(
            set(facts), {"status", "database", "dispatcher", "backlog", "backlog_age_s"}
        )
        self.assertEqual((facts["status"], facts["database"]), ("pass", "pass"))
        self.assertEqual(response.headers["Cache-Control"], "no-store")

    def test_health_of_a_node_whose_dispatcher_never_ran(self):
        with patch.object(mobile_dispatch, "_beat", lambda: None):
            store.state.metrics.heartbeat.set(0)
            response = self.url_open("/bus_mobile/health")
        store.dispatcher_beat({})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["dispatcher"], "idle")

    def test_health_fails_when_the_dispatcher_stalls(self):
        store.dispatcher_beat({})
        with patch.object(scrape, "HEARTBEAT_STALE_S", -1):
            response = self.url_open("/bus_mobile/health")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["dispatcher"], "stalled")
        self.assertEqual(response.json()["status"], "fail")

    @staticmethod
    def _close_quietly(cr):
        with contextlib.suppress(Exception):
            cr.close()

    def test_database_reads_that_fail_log_no_bad_query(self):
        """A scrape or a probe while the database restarts answers without
        it (database_up 0, database: fail): the failed query is not also
        Odoo's "bad query" ERROR (seen in make test during the restart)."""
        # A cursor of its own (the test's is shared with the server).
        cr = db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(self._close_quietly, cr)
        cr._cnx.close()  # the database went away
        with self.assertNoLogs("odoo.sql_db", "ERROR"), self.assertRaises(psycopg2.Error):
            collect.database_figures(cr)


@tagged("post_install", "-at_install")
class TestCounting(MobileWebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.make_user("metrics_app")

    def setUp(self):
        super().setUp()
        self.db = self.env.cr.dbname
        self.assertTrue(store.state.enabled, store.state.off_reason)

    def value(self, name, **labels):
        return node_value(self.db, name, **labels)

    def test_sockets_by_platform_and_closes_by_code(self):
        device_uuid = f"dev-{uuid.uuid4().hex[:12]}"
        self.env["bus_mobile.device"].with_user(self.user)._bus_mobile_register(
            device_uuid, "android"
        )
        sockets = self.value("bus_mobile_sockets", platform="android")
        closed_by_app = self.value("bus_mobile_closes_total", code="client")
        accepted = self.value("bus_mobile_handshakes_total", outcome="accepted")
        ws = self.mobile_connect(
            cookie=self.session_cookie("metrics_app"),
            device_uuid=device_uuid,
            ping_after_connect=True,
        )
        self.assertEqual(self.value("bus_mobile_sockets", platform="android"), sockets + 1)
        self.assertEqual(
            self.value("bus_mobile_handshakes_total", outcome="accepted"), accepted + 1
        )
        ws.close(CloseCode.CLEAN)
        self.wait_mobile_sockets_done(1)
        self.assertEqual(self.value("bus_mobile_sockets", platform="android"), sockets)
        self.assertEqual(self.value("bus_mobile_closes_total", code="client"), closed_by_app + 1)

    def test_refused_frame_and_anonymous_handshake(self):
        refused = self.value("bus_mobile_closes_total", code="1003")
        anonymous = self.value("bus_mobile_handshakes_total", reason="anonymous")
        expired = self.value("bus_mobile_closes_total", code="4001")
        ws = self.mobile_connect(cookie=self.session_cookie("metrics_app"))
        ws.send(json.dumps({"event_name": "subscribe", "data": {"last": True}}))
        self.assertEqual(self.close_code_and_reason(ws)[0], CloseCode.INCORRECT_DATA)
        self.mobile_connect()  # an anonymous session: closed with 4001
        self.wait_mobile_sockets_done(2)
        self.assertEqual(self.value("bus_mobile_closes_total", code="1003"), refused + 1)
        self.assertEqual(
            self.value("bus_mobile_handshakes_total", reason="anonymous"), anonymous + 1
        )
        self.assertEqual(self.value("bus_mobile_closes_total", code="4001"), expired + 1)

    def test_delivery_frames_bytes_and_latency(self):
        ws = self.mobile_connect(cookie=self.session_cookie("metrics_app"))
        self.subscribe(ws, [], self.bus_mark())
        before = {
            name: self.value(name)
            for name in (
                "bus_mobile_frames_sent_total",
                "bus_mobile_sent_bytes_total",
                "bus_mobile_notifications_delivered_total",
                "bus_mobile_delivery_latency_seconds_count",
            )
        }
        self.notify(self.user.partner_id, {"n": 1})
        self.dispatch(self.user.partner_id)
        self.assertEqual(self.next_test_payloads(ws), [{"n": 1}])
        after = {name: self.value(name) for name in before}
        self.assertEqual(
            after["bus_mobile_frames_sent_total"], before["bus_mobile_frames_sent_total"] + 1
        )
        self.assertGreater(
            after["bus_mobile_sent_bytes_total"], before["bus_mobile_sent_bytes_total"] + 20
        )
        # Other tests' sockets of this database may get rows of the same
        # batch: each delivered notification is observed once.
        self.assertGreaterEqual(after["bus_mobile_notifications_delivered_total"], 1)
        self.assertEqual(
            after["bus_mobile_delivery_latency_seconds_count"],
            after["bus_mobile_notifications_delivered_total"],
        )
        self.assertGreater(self.value("bus_mobile_dispatch_batch_seconds_count"), 0)
        self.assertGreater(self.value("bus_mobile_dispatch_position"), 0)

    def test_a_counting_failure_never_breaks_delivery(self):
        """The metrics directory gone bad (disk full, removed): logged once,
        counting stops in this process, every socket is still served."""
        ws = self.mobile_connect(cookie=self.session_cookie("metrics_app"))
        self.subscribe(ws, [], self.bus_mark())
        broken = patch.object(
            store.state.metrics.frames, "labels", side_effect=OSError("No space left on device")
        )
        try:
            with broken, self.assertLogs(store.__name__, "WARNING") as logs:
                for n in (1, 2):
                    self.notify(self.user.partner_id, {"n": n})
                    self.dispatch(self.user.partner_id)
                    self.assertEqual(self.next_test_payloads(ws), [{"n": n}])
            self.assertEqual(len(logs.records), 1, logs.output)
            self.assertIn("No space left on device", logs.output[0])
            self.assertFalse(store.state.enabled)
        finally:
            store.state.enabled, store.state.off_reason = True, None


@tagged("post_install", "-at_install")
class TestCountingPushAndTokens(PushCase):
    def setUp(self):
        super().setUp()
        self.db = self.env.cr.dbname

    def test_push_outcomes_and_provider_time(self):
        self.device(self.bob, expo_token("bob"))
        self.device(self.carol, expo_token("carol-gone"))
        self.fake.dead_tokens.add(expo_token("carol-gone"))
        sent = node_value(self.db, "bus_mobile_push_total", provider="expo", outcome="sent")
        dead = node_value(self.db, "bus_mobile_push_total", provider="expo", outcome="dead")
        answers = node_value(self.db, "bus_mobile_push_provider_seconds_count", provider="expo")
        self.post()
        self.run_cron()
        self.assertEqual(
            node_value(self.db, "bus_mobile_push_total", provider="expo", outcome="sent"), sent + 1
        )
        self.assertEqual(
            node_value(self.db, "bus_mobile_push_total", provider="expo", outcome="dead"), dead + 1
        )
        # Both pushes went in one Expo request.
        self.assertEqual(
            node_value(self.db, "bus_mobile_push_provider_seconds_count", provider="expo"),
            answers + 1,
        )

    def test_device_token_sign_in_out_and_failures(self):
        def events(event):
            return node_value(self.db, "bus_mobile_device_tokens_total", event=event)

        before = {e: events(e) for e in ("sign_in", "sign_in_failed", "sign_out", "revoked")}
        Token = self.env["bus_mobile.device.token"]
        device_uuid = f"dev-{uuid.uuid4().hex[:12]}"
        with self.assertRaises(Exception):  # noqa: B017 - AccessDenied, logged by Odoo
            Token._bus_mobile_login(None, "chan_bob", "wrong", device_uuid, "ios")
        self.assertEqual(events("sign_in_failed"), before["sign_in_failed"] + 1)
        Token._bus_mobile_login(None, "chan_bob", "chan_bob", device_uuid, "ios")
        # Counted once committed: not yet.
        self.assertEqual(events("sign_in"), before["sign_in"])
        self.env.cr.postcommit.run()
        self.assertEqual(events("sign_in"), before["sign_in"] + 1)
        device = self.env["bus_mobile.device"].with_user(self.bob)._bus_mobile_get(device_uuid)
        device.with_user(self.bob)._bus_mobile_sign_out_caller(None, device_uuid)
        self.env.cr.postcommit.run()
        self.assertEqual(events("sign_out"), before["sign_out"] + 1)
        self.assertEqual(events("revoked"), before["revoked"] + 1)


@tagged("post_install", "-at_install")
class TestMetricsDirectory(MobileWebsocketCase):
    def test_an_unusable_directory_is_logged_once_and_counts_nothing(self):
        saved = (store.state.enabled, store.state.off_reason, store.state.directory)
        try:
            store.state.off_reason = None
            with (
                patch.dict("os.environ", {store.ENV_DIR: "/dev/null/metrics"}),
                self.assertLogs(store.__name__, "WARNING") as logs,
            ):
                store.setup()
                store.socket_opened("x", "ios")
                store.setup()
            self.assertEqual(len(logs.records), 1, logs.output)
            self.assertIn("/dev/null/metrics", logs.output[0])
            self.assertFalse(store.state.enabled)
        finally:
            store.state.enabled, store.state.off_reason, store.state.directory = saved

    def test_a_missing_directory_is_read_as_unknown(self):
        with patch.object(store.state, "directory", "/nonexistent/bus_mobile_metrics"):
            self.assertIsNone(collect.node_families(self.env.cr.dbname))
            response = self.url_open(
                "/bus_mobile/metrics",
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        # No token configured in this class: refused, and no traceback.
        self.assertEqual(response.status_code, 403)

    def test_ended_processes_stop_counting_in_live_gauges(self):
        """A worker killed with its sockets open: its socket gauge is dropped
        by the next reader, its counters stay."""
        directory = store.state.directory
        dead_pid = 2**22 + 12345  # above the kernel's pid_max: never alive
        for name in ("gauge_livesum", "counter"):
            with open(f"{directory}/{name}_{dead_pid}.db", "wb") as file:
                file.write(b"\0" * 8)
        collect.node_families(self.env.cr.dbname)
        self.assertFalse(os.path.exists(f"{directory}/gauge_livesum_{dead_pid}.db"))
        self.assertTrue(os.path.exists(f"{directory}/counter_{dead_pid}.db"))
        os.unlink(f"{directory}/counter_{dead_pid}.db")
