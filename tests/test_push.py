import json
import uuid
from contextlib import closing

from odoo import SUPERUSER_ID, api, fields, sql_db
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import TransactionCase, tagged

from ..push import RETRY, Outcome, expo, fcm
from ..push.payload import ELLIPSIS, MAX_PAYLOAD_BYTES, cut_utf8
from .common import ChannelCase, holding_test_cursor, make_test_user, wait_until
from .fake_push_provider import FakePushProvider

CRON = "bus_mobile.ir_cron_bus_mobile_push_send"


def expo_token(name):
    return f"ExponentPushToken[{name}]"


class PushCase(ChannelCase):
    """A fake Expo/FCM/OAuth server on loopback; the addon's base URLs and
    service account point at it. Alice posts in "Sales" (Alice, Bob,
    Carol) unless said otherwise."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakePushProvider().start()
        cls.addClassCleanup(cls.fake.stop)
        cls.set_params(
            push_expo_base_url=cls.fake.expo_base_url,
            push_fcm_base_url=cls.fake.fcm_base_url,
            push_fcm_service_account=json.dumps(cls.fake.service_account()),
        )
        cls.sales = cls.make_channel("Sales", "private", cls.alice | cls.bob | cls.carol)

    def setUp(self):
        super().setUp()
        self.fake.reset()
        self.fake.expires_in = 3600

    @classmethod
    def set_params(cls, **params):
        for key, value in params.items():
            cls.env["ir.config_parameter"].sudo().set_param(f"bus_mobile.{key}", value)

    # -- devices ---------------------------------------------------------

    def device(self, user, token, state="offline", device_uuid=None, provider=None):
        """A device of ``user`` with ``token``, in ``state``: offline,
        online, background (away, app in the background) or idle (away,
        app in the foreground)."""
        Device = self.env["bus_mobile.device"].with_user(user)
        device_uuid = device_uuid or f"dev-{uuid.uuid4().hex[:12]}"
        device = Device._bus_mobile_register(
            device_uuid, "ios", push_token=token, push_provider=provider
        )
        away_ms = self.env["ir.config_parameter"]._bus_mobile_settings()["away_after_s"] * 1000
        heartbeat = {
            "online": (0, "foreground"),
            "background": (0, "background"),
            "idle": (away_ms, "foreground"),
        }
        if state in heartbeat:
            Device._bus_mobile_heartbeat(device_uuid, *heartbeat[state])
        device.invalidate_recordset()
        return device.sudo()

    # -- posting and sending ----------------------------------------------

    def post(self, body="Hello", user=None, channel=None):
        """Post as ``user`` (Alice) and commit-like: the precommit hooks
        (bus rows, their ids on the pushes) run."""
        channel = channel or self.sales
        message = channel.with_user(user or self.alice)._bus_mobile_post(body, uuid.uuid4().hex)
        self.env.cr.precommit.run()
        self.env.flush_all()
        return message

    def run_cron(self):
        """The send cron's job, as Odoo's cron runner calls it, in a
        cursor of its own (it commits)."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, self.env.uid, {})
            env.ref(CRON).method_direct_trigger()
        self.env.invalidate_all()

    def pushes(self, **domain):
        Push = self.env["bus_mobile.push"].sudo()
        return Push.search([(key, "=", value) for key, value in domain.items()], order="id")

    def sent_messages(self, kind="expo_send"):
        """Every message the fake received, in order."""
        result = []
        for request in self.fake.of_kind(kind):
            body = request["body"]
            result.extend(body if isinstance(body, list) else [body["message"]])
        return result

    def make_past(self, pushes, seconds, field="next_attempt_date"):
        """Move ``field`` of ``pushes`` ``seconds`` back (time passing)."""
        self.env.flush_all()
        self.env.cr.execute(
            f"UPDATE bus_mobile_push SET {field} = {field} - make_interval(secs => %s) "
            "WHERE id = ANY(%s)",
            [seconds, pushes.ids],
        )
        self.env.invalidate_all()


@tagged("post_install", "-at_install")
class TestPushQueue(PushCase):
    def test_who_gets_a_push(self):
        """At posting time: offline and backgrounded devices get one;
        online and idle (away, app open) ones do not, nor the author's own
        devices, nor devices without a token."""
        offline = self.device(self.bob, expo_token("bob-offline"))
        background = self.device(self.bob, expo_token("bob-background"), "background")
        online = self.device(self.carol, expo_token("carol-online"), "online")
        idle = self.device(self.carol, expo_token("carol-idle"), "idle")
        tokenless = self.device(self.carol, None)
        author_offline = self.device(self.alice, expo_token("alice-offline"))
        self.assertEqual((background.status, background.app_state), ("away", "background"))
        self.assertEqual((idle.status, idle.app_state), ("away", "foreground"))

        self.post()

        self.assertEqual(self.pushes().device_id, offline | background)
        for device in (online, idle, tokenless, author_offline):
            self.assertFalse(self.pushes(device_id=device.id), device.device_uuid)

    def test_socket_online_device_gets_none(self):
        """A device whose socket is open (the real mobile socket) gets no
        push; once the socket is closed, the next message is pushed."""
        device = self.device(self.bob, expo_token("bob-phone"), device_uuid="bob-phone")
        ws = self.mobile_connect(self.session_cookie(self.bob.login), device_uuid="bob-phone")
        # Server threads share the test cursor: hold its lock to use it.
        lock = holding_test_cursor(self.registry)

        def has_status(expected):
            with lock:
                self.env.cr.execute(
                    "SELECT status FROM bus_mobile_device WHERE id = %s", [device.id]
                )
                return self.env.cr.fetchone()[0] == expected

        def wait_status(expected):
            wait_until(lambda: has_status(expected), f"the device to be {expected}")

        wait_status("online")
        with lock:
            self.post("while connected")
            self.assertFalse(self.pushes(device_id=device.id))
        ws.close()
        self.wait_remaining_websocket_connections()
        wait_status("offline")
        self.post("after closing")
        self.assertEqual(len(self.pushes(device_id=device.id)), 1)

    def test_muted_member_gets_none(self):
        bob_phone = self.device(self.bob, expo_token("bob"))
        self.device(self.carol, expo_token("carol"))
        self.sales.sudo().member_ids.filtered(
            lambda m: m.partner_id == self.carol.partner_id
        ).write({"muted": True})
        self.post()
        self.assertEqual(self.pushes().device_id, bob_phone)

    def test_archived_user_gets_none(self):
        self.device(self.bob, expo_token("bob"))
        self.bob.sudo().active = False
        self.post()
        self.assertFalse(self.pushes())

    def test_post_queues_then_the_cron_sends_after_commit(self):
        """The post (a real request) only queues a row and triggers the
        cron: nothing reaches the provider until the cron runs."""
        self.device(self.bob, expo_token("bob"))
        cron = self.env.ref(CRON)
        Trigger = self.env["ir.cron.trigger"].sudo()
        triggers_before = Trigger.search_count([("cron_id", "=", cron.id)])
        message = self.rpc(
            self.alice,
            "/bus_mobile/message/post",
            channel_id=self.sales.id,
            body="Quarterly figures are in",
            client_uuid="post-1",
        )
        self.assertFalse(self.fake.requests, "nothing is sent inside the posting request")
        push = self.pushes()
        self.assertEqual((push.state, push.message_id.id), ("pending", message["id"]))
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers_before + 1)
        # The bus id: the notification the app may already have.
        bus_row = (
            self.env["bus.bus"]
            .sudo()
            .search([("message", "like", '"type":"bus_mobile/message"')], order="id desc", limit=1)
        )
        self.assertEqual(json.loads(bus_row.message)["payload"]["id"], message["id"])
        self.assertEqual(push.bus_id, bus_row.id)

        self.run_cron()

        [sent] = self.sent_messages()
        self.assertEqual(sent["to"], expo_token("bob"))
        self.assertEqual(sent["title"], "Sales")
        self.assertEqual(sent["body"], "Alice: Quarterly figures are in")
        self.assertEqual(
            sent["data"],
            {
                "type": "bus_mobile/message",
                "channel_id": self.sales.id,
                "message_id": message["id"],
                "bus_id": bus_row.id,
                "count": 1,
            },
        )
        self.assertTrue(0 < sent["ttl"] <= 3600)
        self.assertEqual((push.state, push.attempt_count), ("sent", 1))
        self.assertTrue(push.provider_message_id)
        self.assertEqual(push.receipt_state, "pending")

    def test_direct_chat_title_is_the_author(self):
        direct = self.make_channel("Alice, Bob", "direct", self.alice | self.bob)
        self.device(self.bob, expo_token("bob"))
        self.post("Lunch?", channel=direct)
        self.run_cron()
        [sent] = self.sent_messages()
        self.assertEqual((sent["title"], sent["body"]), ("Alice", "Lunch?"))

    def test_collapsing(self):
        """One pending push per device and channel; newer messages update
        it. Once sent, the next message starts a new push."""
        bob_phone = self.device(self.bob, expo_token("bob"))
        first = self.post("one")
        self.post("two")
        last = self.post("three")
        push = self.pushes()
        self.assertEqual(len(push), 1)
        self.assertEqual((push.message_count, push.message_id), (3, last))
        self.assertGreater(push.message_id.id, first.id)

        self.run_cron()
        [sent] = self.sent_messages()
        self.assertEqual(sent["body"], "3 new messages in Sales")
        self.assertEqual(sent["data"]["count"], 3)
        self.assertEqual(sent["data"]["message_id"], last.id)

        self.post("four")
        pushes = self.pushes(device_id=bob_phone.id)
        self.assertEqual(pushes.mapped("state"), ["sent", "pending"])
        self.assertEqual(pushes[1].message_count, 1)

    def test_collapsing_in_one_create(self):
        """Several messages created at once (one INSERT ... SELECT) still
        make one push per device and channel."""
        self.device(self.bob, expo_token("bob"))
        self.env["bus_mobile.message"].sudo().create(
            [
                {
                    "channel_id": self.sales.id,
                    "author_id": self.alice.partner_id.id,
                    "body": f"batch {i}",
                    "client_uuid": f"batch-{i}",
                }
                for i in range(3)
            ]
        )
        push = self.pushes()
        self.assertEqual((len(push), push.message_count), (1, 3))

    def test_ttl_expiry(self):
        """A push older than its TTL is dropped, never sent late."""
        self.set_params(push_ttl_s=600)
        self.device(self.bob, expo_token("bob"))
        self.post()
        push = self.pushes()
        self.make_past(push, 601, field="message_date")
        self.run_cron()
        self.assertEqual(push.state, "expired")
        self.assertIn("time to live", push.reason)
        self.assertFalse(self.fake.requests)
        # A younger one goes out with what is left of its TTL.
        self.post()
        young = self.pushes(state="pending")
        self.make_past(young, 100, field="message_date")
        self.run_cron()
        [sent] = self.sent_messages()
        self.assertTrue(450 <= sent["ttl"] <= 500, sent["ttl"])

    def test_data_only_mode(self):
        """Privacy mode: no title, no body, no text anywhere; ids only."""
        self.set_params(push_data_only="1")
        self.device(self.bob, expo_token("bob"))
        self.device(self.carol, "fcm-token-carol")
        self.post("Secret figures")
        self.run_cron()
        [expo_message] = self.sent_messages("expo_send")
        [fcm_message] = self.sent_messages("fcm_send")
        for message in (expo_message, fcm_message):
            self.assertNotIn("Secret", json.dumps(message))
            self.assertNotIn("Sales", json.dumps(message))
        self.assertNotIn("title", expo_message)
        self.assertNotIn("body", expo_message)
        self.assertTrue(expo_message["_contentAvailable"])
        self.assertNotIn("notification", fcm_message)
        self.assertEqual(fcm_message["apns"]["payload"]["aps"]["content-available"], 1)
        self.assertEqual(fcm_message["data"]["channel_id"], str(self.sales.id))
        self.assertEqual(self.pushes().mapped("state"), ["sent", "sent"])

    def test_expo_batches_of_100_over_250_devices(self):
        self.set_params(max_devices_per_user=300)
        devices = [self.device(self.bob, expo_token(f"bob-{i}")) for i in range(260)]
        self.post()
        self.assertEqual(len(self.pushes()), 260)
        self.run_cron()
        sizes = [len(r["body"]) for r in self.fake.of_kind("expo_send")]
        self.assertEqual(sorted(sizes), [60, 100, 100])
        self.assertEqual(
            sorted(m["to"] for m in self.sent_messages()),
            sorted(expo_token(f"bob-{i}") for i in range(260)),
        )
        self.assertEqual(set(self.pushes().mapped("state")), {"sent"})
        self.assertEqual(len(devices), len(self.pushes().device_id))

    def test_the_fake_refuses_more_than_100(self):
        """The fake speaks Expo's limit: the test above could fail."""
        client = expo.ExpoClient(__import__("requests").Session(), self.fake.expo_base_url)
        with self.assertRaises(ValueError):
            client.send([{"to": expo_token("x")}] * 101)
        response = client._post("/push/send", [{"to": expo_token("x")}] * 101)
        self.assertEqual(response.status_code, 400)


@tagged("post_install", "-at_install")
class TestPushDelivery(PushCase):
    def test_retry_with_backoff_on_500_and_429_then_success(self):
        self.set_params(push_retry_base_s=30, push_max_attempts=5)
        self.device(self.bob, expo_token("bob"))
        self.post()
        push = self.pushes()
        self.fake.script(
            "expo_send",
            (500, {"errors": [{"code": "INTERNAL_SERVER_ERROR", "message": "boom"}]}),
            (
                429,
                {"errors": [{"code": "TOO_MANY_REQUESTS", "message": "slow"}]},
                {"Retry-After": "200"},
            ),
        )
        Trigger = self.env["ir.cron.trigger"].sudo()
        cron = self.env.ref(CRON)

        self.run_cron()
        self.assertEqual((push.state, push.attempt_count), ("pending", 1))
        self.assertIn("HTTP 500", push.reason)
        delay = (push.next_attempt_date - fields.Datetime.now()).total_seconds()
        self.assertTrue(20 <= delay <= 31, delay)  # retry base
        self.assertTrue(
            Trigger.search([("cron_id", "=", cron.id), ("call_at", ">", fields.Datetime.now())]),
            "the cron is triggered again at the retry date",
        )
        self.run_cron()  # not due yet: nothing sent
        self.assertEqual(len(self.fake.of_kind("expo_send")), 1)

        self.make_past(push, 31)
        self.run_cron()
        self.assertEqual((push.state, push.attempt_count), ("pending", 2))
        self.assertIn("HTTP 429", push.reason)
        delay = (push.next_attempt_date - fields.Datetime.now()).total_seconds()
        self.assertTrue(180 <= delay <= 201, delay)  # Retry-After beats 2 x 30 s

        self.make_past(push, 201)
        self.run_cron()
        self.assertEqual((push.state, push.attempt_count), ("sent", 3))
        self.assertFalse(push.reason)
        self.assertEqual(len(self.fake.of_kind("expo_send")), 3)

    def test_fcm_retries_on_503_then_success(self):
        self.device(self.bob, "fcm-bob")
        self.post()
        push = self.pushes()
        self.fake.script(
            "fcm_send",
            (503, {"error": {"code": 503, "status": "UNAVAILABLE", "message": "try later"}}),
        )
        self.run_cron()
        self.assertEqual((push.state, push.attempt_count, push.provider), ("pending", 1, "fcm"))
        self.assertIn("UNAVAILABLE", push.reason)
        self.make_past(push, 3600)
        self.run_cron()
        self.assertEqual(push.state, "sent")
        self.assertTrue(push.provider_message_id.startswith("projects/bus-mobile-test/messages/"))

    def test_network_error_is_retried_and_attempts_are_capped(self):
        self.set_params(push_max_attempts=2, push_expo_base_url="http://127.0.0.1:9/nothing")
        self.addCleanup(self.set_params, push_expo_base_url=self.fake.expo_base_url)
        self.device(self.bob, expo_token("bob"))
        self.post()
        push = self.pushes()
        self.run_cron()
        self.assertEqual((push.state, push.attempt_count), ("pending", 1))
        self.assertIn("ConnectionError", push.reason)
        self.make_past(push, 3600)
        self.run_cron()
        self.assertEqual((push.state, push.attempt_count), ("failed", 2))
        self.assertIn("Gave up after 2 attempts", push.reason)

    def test_refusals_are_not_retried(self):
        """A 400 (a bad request) fails at once, with the provider's words."""
        self.device(self.bob, expo_token("bob"))
        self.post()
        self.fake.script(
            "expo_send", (400, {"errors": [{"code": "VALIDATION_ERROR", "message": "bad"}]})
        )
        self.run_cron()
        push = self.pushes()
        self.assertEqual((push.state, push.attempt_count), ("failed", 1))
        self.assertIn("VALIDATION_ERROR: bad", push.reason)

    def assert_dead(self, device, push):
        self.assertEqual(push.state, "dead")
        device.invalidate_recordset()
        self.assertFalse(device.has_push_token)
        self.assertTrue(device.push_token_disabled_date)
        self.assertTrue(device.push_token_disabled_reason)
        # No more pushes go to it.
        self.post("after")
        self.assertFalse(self.pushes(device_id=device.id, state="pending"))

    def test_dead_expo_token_is_disabled(self):
        device = self.device(self.bob, expo_token("gone"))
        other = self.device(self.carol, expo_token("alive"))
        self.fake.dead_tokens.add(expo_token("gone"))
        self.post()
        self.run_cron()
        self.assertIn("DeviceNotRegistered", self.pushes(device_id=device.id).reason)
        self.assertEqual(self.pushes(device_id=other.id).state, "sent")
        self.assert_dead(device, self.pushes(device_id=device.id))
        other.invalidate_recordset()
        self.assertTrue(other.has_push_token)

    def test_dead_fcm_token_is_disabled(self):
        device = self.device(self.bob, "fcm-gone")
        self.fake.dead_tokens.add("fcm-gone")
        self.post()
        self.run_cron()
        push = self.pushes()
        self.assertIn("UNREGISTERED", push.reason)
        self.assert_dead(device, push)

    def test_http_410_is_a_dead_token(self):
        device = self.device(self.bob, "fcm-410")
        self.fake.script("fcm_send", (410, {"error": {"code": 410, "status": "GONE"}}))
        self.post()
        self.run_cron()
        self.assert_dead(device, self.pushes())

    def test_dead_token_from_an_expo_receipt(self):
        """Expo accepts the ticket; the receipt, fetched later, says the
        device is gone. A token re-registered meanwhile is kept."""
        self.set_params(push_receipt_delay_s=900)
        device = self.device(self.bob, expo_token("receipt-gone"))
        kept = self.device(self.carol, expo_token("carol-old"))
        self.fake.receipt_errors[expo_token("receipt-gone")] = "DeviceNotRegistered"
        self.fake.receipt_errors[expo_token("carol-old")] = "DeviceNotRegistered"
        self.post()
        self.run_cron()
        pushes = self.pushes()
        self.assertEqual(pushes.mapped("state"), ["sent", "sent"])
        self.assertFalse(self.fake.of_kind("expo_receipts"), "receipts are not ready yet")
        self.env["bus_mobile.device"].with_user(self.carol)._bus_mobile_register(
            kept.device_uuid, "ios", push_token=expo_token("carol-new")
        )
        self.make_past(pushes, 901, field="sent_date")
        self.run_cron()
        [request] = self.fake.of_kind("expo_receipts")
        self.assertEqual(len(request["body"]["ids"]), 2)
        self.assertEqual(pushes.mapped("state"), ["dead", "dead"])
        self.assertEqual(pushes.mapped("receipt_state"), ["error", "error"])
        device.invalidate_recordset()
        kept.invalidate_recordset()
        self.assertFalse(device.has_push_token)
        self.assertTrue(kept.has_push_token, "a newer token is not disabled")

    def test_ok_receipts(self):
        self.set_params(push_receipt_delay_s=900)
        self.device(self.bob, expo_token("bob"))
        self.post()
        self.run_cron()
        push = self.pushes()
        self.make_past(push, 901, field="sent_date")
        self.run_cron()
        self.assertEqual((push.state, push.receipt_state), ("sent", "ok"))

    def test_retry_folds_into_a_newer_push(self):
        """A push that fails while a newer message queued another push for
        the same device and channel is folded into it: still one pending."""
        self.device(self.bob, expo_token("bob"))
        self.post("one")
        old = self.pushes()
        Push = self.env["bus_mobile.push"].sudo()
        claimed = Push._bus_mobile_claim(10)
        self.assertEqual(claimed, old.ids)
        self.post("two")  # sending rows are not collapsed into
        newer = self.pushes(state="pending")
        self.assertEqual(len(newer), 1)
        Push._bus_mobile_requeue(old.ids)
        old.invalidate_recordset()
        self.assertEqual(old.state, "collapsed")
        self.assertEqual(newer.message_count, 2)
        self.run_cron()
        [sent] = self.sent_messages()
        self.assertEqual(sent["body"], "2 new messages in Sales")

    def test_stale_sending_rows_are_requeued(self):
        """A worker that died after its claim: the row goes back to the queue."""
        self.device(self.bob, expo_token("bob"))
        self.post()
        push = self.pushes()
        self.env["bus_mobile.push"].sudo()._bus_mobile_claim(10)
        self.run_cron()
        self.assertEqual(push.state, "sending", "a recent claim belongs to a live worker")
        self.make_past(push, 601, field="write_date")
        self.run_cron()
        self.assertEqual(push.state, "sent")

    def test_truncation_with_multibyte_text(self):
        """A 4,000-character body of 2-, 3- and 4-byte characters and emoji
        sequences is cut to fit 4 KB by UTF-8 bytes, on a character
        boundary, for both providers; both accept it."""
        self.set_params(max_body_chars=4000)
        unit = 'é漢😀👩‍👩‍👧🇫🇷e\u0301"\n'
        body = (unit * 400)[:4000]
        self.device(self.bob, expo_token("bob"))
        self.device(self.carol, "fcm-carol")
        self.post(body)
        self.run_cron()
        self.assertEqual(self.pushes().mapped("state"), ["sent", "sent"])
        for kind in ("expo_send", "fcm_send"):
            [message] = self.sent_messages(kind)
            text = message["body"] if kind == "expo_send" else message["notification"]["body"]
            size = len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())
            self.assertLessEqual(size, MAX_PAYLOAD_BYTES)
            self.assertGreater(size, MAX_PAYLOAD_BYTES - 40, "the body uses the room it has")
            self.assertTrue(text.endswith(ELLIPSIS))
            kept = text.removeprefix("Alice: ").removesuffix(ELLIPSIS)
            self.assertTrue(body.startswith(kept))
            # The next character of the original starts a new character.
            self.assertIn(body[len(kept)], 'é漢😀👩🇫e"\n')
            if body[len(kept)] == "🇫":
                self.assertFalse(kept.endswith("🇫"), "half a flag")

    def test_cut_utf8(self):
        cases = [
            ("abc", 10, "abc"),
            ("é" * 10, 9, "é" * 3 + ELLIPSIS),  # 6 bytes + 3
            ("😀😀😀", 9, "😀" + ELLIPSIS),
            ("ab\u0301\u0301cd", 7, "a" + ELLIPSIS),  # no orphan accent
            ("a👩‍👩‍👧b", 17, "a" + ELLIPSIS),  # no half family
            ("a🇫🇷🇩🇪", 13, "a🇫🇷" + ELLIPSIS),
            ("a🇫🇷🇩🇪", 15, "a🇫🇷" + ELLIPSIS),  # not half of the German flag
            ("abcdef", 2, ""),
        ]
        for text, limit, expected in cases:
            with self.subTest(text=text, limit=limit):
                cut = cut_utf8(text, limit)
                self.assertEqual(cut, expected)
                self.assertLessEqual(len(cut.encode()), limit)


@tagged("post_install", "-at_install")
class TestPushFcmToken(PushCase):
    def use_new_service_account(self):
        self.set_params(push_fcm_service_account=json.dumps(self.fake.service_account()))

    def test_token_cached_across_sends(self):
        self.use_new_service_account()
        self.device(self.bob, "fcm-bob")
        self.post("one")
        self.run_cron()
        self.post("two")
        self.run_cron()
        self.assertEqual(len(self.fake.of_kind("fcm_send")), 2)
        self.assertEqual(len(self.fake.of_kind("token")), 1, "one token for both sends")
        tokens = {r["headers"]["Authorization"] for r in self.fake.of_kind("fcm_send")}
        self.assertEqual(len(tokens), 1)

    def test_token_renewed_when_about_to_expire(self):
        """A token living less than google-auth's refresh margin is renewed
        at each send: the cache honours the expiry."""
        self.use_new_service_account()
        self.fake.expires_in = 60
        self.device(self.bob, "fcm-bob")
        self.post("one")
        self.run_cron()
        self.post("two")
        self.run_cron()
        self.assertEqual(len(self.fake.of_kind("token")), 2)
        self.assertEqual(self.pushes().mapped("state"), ["sent", "sent"])

    def test_401_drops_the_cached_token(self):
        self.use_new_service_account()
        self.device(self.bob, "fcm-bob")
        self.post("one")
        self.run_cron()
        self.fake.issued_tokens.clear()  # the provider revoked it
        self.post("two")
        self.run_cron()
        push = self.pushes(state="pending")
        self.assertIn("UNAUTHENTICATED", push.reason)
        self.make_past(push, 3600)
        self.run_cron()
        self.assertEqual(push.state, "sent")
        self.assertEqual(len(self.fake.of_kind("token")), 2)

    def test_bad_or_missing_credential(self):
        self.device(self.bob, "fcm-bob")
        for value, expected in [
            ("", "Firebase is not configured"),
            ("{not json", "not JSON"),
            ('{"type": "service_account"}', "lacks client_email, private_key, token_uri"),
        ]:
            with self.subTest(value=value):
                self.set_params(push_fcm_service_account=value)
                self.post()
                self.run_cron()
                push = self.pushes()[-1]
                self.assertEqual(push.state, "failed")
                self.assertIn(expected, push.reason)
                self.assertNotIn("PRIVATE KEY", push.reason)

    def test_service_account_file(self):
        path = f"{self.env['ir.attachment']._filestore()}/push-sa-test.json"
        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.fake.service_account(), file)
        self.addCleanup(__import__("os").remove, path)
        self.set_params(push_fcm_service_account="", push_fcm_service_account_file=path)
        self.addCleanup(self.set_params, push_fcm_service_account_file="")
        self.device(self.bob, "fcm-bob")
        self.post()
        self.run_cron()
        self.assertEqual(self.pushes().state, "sent")

    def test_fcm_message_contract(self):
        self.device(self.bob, "fcm-bob")
        message = self.post("Hi")
        self.run_cron()
        [sent] = self.sent_messages("fcm_send")
        self.assertEqual(sent["token"], "fcm-bob")
        self.assertEqual(sent["notification"], {"title": "Sales", "body": "Alice: Hi"})
        self.assertEqual(sent["data"]["message_id"], str(message.id))
        self.assertEqual(sent["android"]["collapse_key"], f"bus_mobile.channel_{self.sales.id}")
        self.assertRegex(sent["android"]["ttl"], r"^\d+s$")
        self.assertIn("apns-expiration", sent["apns"]["headers"])


@tagged("post_install", "-at_install")
class TestPushDevices(PushCase):
    def register(self, user, **params):
        params = {"device_uuid": "reg-1", "platform": "android", **params}
        return self.rpc(user, "/bus_mobile/device/register", **params)

    def test_push_provider_inferred_or_given(self):
        self.assertEqual(
            self.register(self.bob, push_token=expo_token("a"))["push_provider"], "expo"
        )
        self.assertEqual(self.register(self.bob, push_token="fcm-abc")["push_provider"], "fcm")
        self.assertEqual(
            self.register(self.bob, push_token=expo_token("b"), push_provider="expo")[
                "push_provider"
            ],
            "expo",
        )
        cleared = self.register(self.bob, push_token="")
        self.assertEqual((cleared["has_push_token"], cleared["push_provider"]), (False, None))

    def test_push_provider_checked(self):
        cases = [
            ({"push_provider": "apns", "push_token": "x"}, "Invalid push_provider"),
            ({"push_provider": 3, "push_token": "x"}, "Invalid push_provider"),
            ({"push_provider": "expo", "push_token": "fcm-like"}, "Expo push token"),
            ({"push_provider": "fcm", "push_token": expo_token("x")}, "push_provider expo"),
        ]
        for params, message in cases:
            with self.subTest(**params):
                self.assert_rpc_error(
                    self.bob,
                    "/bus_mobile/device/register",
                    ValidationError,
                    message,
                    device_uuid="reg-2",
                    platform="ios",
                    **params,
                )
        # The stored token is checked against a provider sent alone.
        self.register(self.bob, device_uuid="reg-3", push_token="fcm-abc")
        self.assert_rpc_error(
            self.bob,
            "/bus_mobile/device/register",
            ValidationError,
            "Expo push token",
            device_uuid="reg-3",
            platform="ios",
            push_provider="expo",
        )

    def test_registering_a_token_reenables_a_dead_device(self):
        device = self.device(self.bob, "fcm-gone")
        self.fake.dead_tokens.add("fcm-gone")
        self.post()
        self.run_cron()
        device.invalidate_recordset()
        self.assertFalse(device.has_push_token)
        self.register(self.bob, device_uuid=device.device_uuid, push_token="fcm-new")
        device.invalidate_recordset()
        self.assertTrue(device.has_push_token)
        self.assertFalse(device.push_token_disabled_date)

    def test_send_test_push(self):
        admin = self.env.ref("base.user_admin")
        device = self.device(self.bob, expo_token("bob"))
        action = device.with_user(admin).action_bus_mobile_send_test_push()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("ticket-", action["params"]["message"])
        [sent] = self.sent_messages()
        self.assertEqual(sent["data"]["type"], "bus_mobile/test")
        log = self.pushes(device_id=device.id)
        self.assertEqual((log.is_test, log.state), (True, "sent"))

        self.fake.dead_tokens.add(expo_token("bob"))
        action = device.with_user(admin).action_bus_mobile_send_test_push()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("DeviceNotRegistered", action["params"]["message"])
        device.invalidate_recordset()
        self.assertFalse(device.has_push_token)
        with self.assertRaises(UserError):
            device.with_user(admin).action_bus_mobile_send_test_push()

    def test_send_test_push_fcm_answer(self):
        admin = self.env.ref("base.user_admin")
        device = self.device(self.bob, "fcm-bob")
        self.fake.script(
            "fcm_send",
            (400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "bad token"}}),
        )
        action = device.with_user(admin).action_bus_mobile_send_test_push()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("INVALID_ARGUMENT bad token", action["params"]["message"])

    def test_send_test_push_is_for_administrators(self):
        device = self.device(self.bob, expo_token("bob"))
        with self.assertRaises(AccessError):
            device.with_user(self.bob).sudo(False).action_bus_mobile_send_test_push()
        self.assertFalse(self.fake.requests)

    def test_push_log_access(self):
        """Users read the pushes of their own devices, administrators all;
        nobody writes the log."""
        bob_phone = self.device(self.bob, expo_token("bob"))
        carol_phone = self.device(self.carol, expo_token("carol"))
        self.post()
        Push = self.env["bus_mobile.push"]
        self.assertEqual(Push.with_user(self.bob).search([]).device_id, bob_phone)
        self.assertEqual(Push.with_user(self.carol).search([]).device_id, carol_phone)
        admin = self.env.ref("base.user_admin")
        self.assertEqual(len(Push.with_user(admin).search([])), 2)
        with self.assertRaises(AccessError):
            Push.with_user(self.bob).search([]).write({"state": "sent"})
        with self.assertRaises(AccessError):
            Push.with_user(self.bob).create({"device_id": bob_phone.id})

    def test_gc_keeps_queued_pushes(self):
        self.device(self.bob, expo_token("bob"))
        self.post()
        self.run_cron()
        self.post("two")
        pushes = self.pushes()
        self.make_past(pushes, 31 * 86400, field="write_date")
        self.env["bus_mobile.push"]._gc_push_log()
        self.assertEqual(self.pushes().mapped("state"), ["pending"])

    def test_provider_helpers(self):
        self.assertTrue(expo.is_expo_token(expo_token("abc")))
        self.assertTrue(expo.is_expo_token("ExpoPushToken[abc]"))
        self.assertFalse(expo.is_expo_token("ExponentPushToken[]"))
        self.assertFalse(expo.is_expo_token("fcm-token"))
        with self.assertRaises(ValueError):
            fcm.load_service_account("[]")


@tagged("post_install", "-at_install")
class TestConcurrentPushes(TransactionCase):
    """Real transactions on their own connections, as two Odoo servers (or
    a poster and the cron) sharing the database. The test transaction
    writes nothing, so it holds no lock they could wait for."""

    def setUp(self):
        super().setUp()
        self.dbname = self.env.cr.dbname
        with closing(self.real_cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            user = make_test_user(env, login=f"push_conc_{uuid.uuid4().hex[:8]}")
            Device = env["bus_mobile.device"].with_user(user)
            for i in range(3):
                Device._bus_mobile_register(f"conc-{i}", "ios", push_token=expo_token(f"c{i}"))
            self.user_id = user.id
            self.channel_id = (
                env["bus_mobile.channel"]
                .create(
                    {
                        "name": "Concurrent pushes",
                        "channel_type": "private",
                        "member_ids": [
                            Command.create({"partner_id": env.user.partner_id.id}),
                            Command.create({"partner_id": user.partner_id.id}),
                        ],
                    }
                )
                .id
            )
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self.cleanup)

    def real_cursor(self):
        cr = sql_db.db_connect(self.dbname).cursor()
        cr.execute("SET lock_timeout = '10s'")  # never hang the test run
        return cr

    def cleanup(self):
        with closing(self.real_cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["bus_mobile.channel"].browse(self.channel_id).unlink()
            env["bus_mobile.device"].search([("user_id", "=", self.user_id)]).unlink()
            env["res.users"].browse(self.user_id).active = False
            cr.commit()  # pylint: disable=invalid-commit

    def post(self, cr, body):
        env = api.Environment(cr, SUPERUSER_ID, {})
        channel = env["bus_mobile.channel"].browse(self.channel_id)
        channel._bus_mobile_post(body, uuid.uuid4().hex)

    def push_model(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})["bus_mobile.push"]

    def pushes(self, cr):
        cr.execute(
            """SELECT p.id, p.state, p.message_count FROM bus_mobile_push p
                 JOIN bus_mobile_device d ON d.id = p.device_id
                WHERE d.user_id = %s ORDER BY p.id""",
            [self.user_id],
        )
        return cr.fetchall()

    def test_two_servers_never_claim_the_same_push(self):
        with closing(self.real_cursor()) as cr1:
            self.post(cr1, "hello")
            cr1.commit()  # pylint: disable=invalid-commit
        with closing(self.real_cursor()) as cr_a, closing(self.real_cursor()) as cr_b:
            claim_a = api.Environment(cr_a, SUPERUSER_ID, {})["bus_mobile.push"]._bus_mobile_claim(
                2
            )
            # The first claim is not committed: its rows are locked, skipped.
            claim_b = api.Environment(cr_b, SUPERUSER_ID, {})["bus_mobile.push"]._bus_mobile_claim(
                10
            )
            self.assertEqual(len(claim_a), 2)
            self.assertEqual(len(claim_b), 1)
            self.assertFalse(set(claim_a) & set(claim_b))

    def test_a_post_never_waits_for_a_batch_being_sent(self):
        """The cron's claim is committed before it calls the providers: a
        post collapsing into the same device and channel queues a new push
        at once (no lock to wait for); a retry of the batch then folds into
        it."""
        with closing(self.real_cursor()) as cr:
            self.post(cr, "one")
            cr.commit()  # pylint: disable=invalid-commit
        with closing(self.real_cursor()) as cron_cr, closing(self.real_cursor()) as post_cr:
            Push = self.push_model(cron_cr)
            claimed = Push._bus_mobile_claim(10)
            # As _cron_send does before any request.
            cron_cr.commit()  # pylint: disable=invalid-commit
            post_cr.execute("SET lock_timeout = '200ms'")
            self.post(post_cr, "two")  # LockNotAvailable if it had to wait
            post_cr.commit()  # pylint: disable=invalid-commit
            self.assertEqual(
                [(state, count) for _id, state, count in self.pushes(post_cr)],
                [("sending", 1)] * 3 + [("pending", 1)] * 3,
            )
            settings = Push._bus_mobile_push_settings()
            Push._bus_mobile_record(
                {push_id: Outcome(RETRY, "HTTP 503") for push_id in claimed}, {}, settings
            )
            cron_cr.commit()  # pylint: disable=invalid-commit
            self.assertEqual(
                [(state, count) for _id, state, count in self.pushes(cron_cr)],
                [("collapsed", 1)] * 3 + [("pending", 2)] * 3,
            )
