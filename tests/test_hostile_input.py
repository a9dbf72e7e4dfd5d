"""Absurd values on every route and frame: nesting that Python's JSON
parser cannot follow, integers no float can hold, floats where ids go.
Each is refused with a clear error (an HTTP 400 where Odoo parses, a
JSON-RPC ValidationError, a 1003 close), never a traceback."""

import json

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.bus.websocket import CloseCode

from ..tools.validation import MAX_JSON_DEPTH
from .common import ChannelCase

# 40 KB: under the socket's frame limit and Odoo's body limit.
DEEP = "[" * 20_000 + "]" * 20_000
HUGE = 10**400
# Numbers no id, count or duration can be (Odoo's JSON parser takes NaN).
ABSURD_NUMBERS = (HUGE, -HUGE, 1e308, float("nan"), 1.5, True, "7")


@tagged("post_install", "-at_install")
class TestHostileInput(ChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.room = cls.make_channel("Room", "private", cls.alice | cls.bob)
        cls.message = cls.room.with_user(cls.alice)._bus_mobile_post("hello", "hostile-1")

    def post_raw(self, route, body, user=None):
        """POST ``body`` (text) as JSON to ``route`` as ``user``."""
        self.log_in(user)
        return self.url_open(route, body.encode(), headers={"Content-Type": "application/json"})

    # ------------------------------------------------------------------
    # Nesting
    # ------------------------------------------------------------------

    def test_deep_json_on_http_is_a_400_before_odoo_parses_it(self):
        """20,000 levels reached Odoo's parser (RecursionError: a JSON-RPC
        error with a traceback, and an ERROR logged); refused first now,
        as Odoo refuses JSON it cannot read."""
        body = f'{{"jsonrpc": "2.0", "method": "call", "params": {{"partner_ids": {DEEP}}}}}'
        for route, user in (
            ("/bus_mobile/presence", self.alice),
            ("/bus_mobile/channel/create", self.alice),
            ("/bus_mobile/discuss/message/post", self.alice),
            ("/bus_mobile/device/login", None),  # auth='public'
        ):
            with self.subTest(route=route):
                response = self.post_raw(route, body, user)
                self.assertEqual(response.status_code, 400, response.text[:300])
                self.assertIn("nested deeper than", response.text)
                self.assertNotIn("Traceback", response.text)
        # As deep as the limit is parsed: the route judges the value.
        nested = "[" * (MAX_JSON_DEPTH - 2) + "]" * (MAX_JSON_DEPTH - 2)
        body = f'{{"jsonrpc": "2.0", "method": "call", "params": {{"x": {nested}}}}}'
        response = self.post_raw("/bus_mobile/channels", body, self.alice)
        self.assertEqual(response.status_code, 200)
        self.check_rpc_error(
            response.json()["error"], "odoo.exceptions.ValidationError", "Unknown parameter"
        )

    def test_deep_frame_closes_its_socket_with_1003(self):
        """The same frame on the socket logged a RecursionError traceback
        per frame and kept the socket open."""
        bystander = self.mobile_connect(cookie=self.session_cookie(self.bob.login))
        self.subscribe(bystander, [], self.env["bus.bus"]._bus_last_id())
        for frame in (
            DEEP,
            json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": 0}})[:-1]
            + ', "x": '
            + DEEP
            + "}",
        ):
            attacker = self.mobile_connect(cookie=self.session_cookie(self.alice.login))
            with self.assertNoLogs("odoo.addons.bus_mobile.mobile_socket.handshake", "ERROR"):
                attacker.send(frame)
                code, reason = self.close_code_and_reason(attacker)
            self.assertEqual(code, CloseCode.INCORRECT_DATA)
            expected = f"INVALID_FRAME: the frame nests deeper than {MAX_JSON_DEPTH} levels"
            self.assertEqual(reason, expected)
        self.notify("broadcast", {"n": "still served"})
        self.dispatch("broadcast")
        self.assertEqual(self.next_test_payloads(bystander), [{"n": "still served"}])

    # ------------------------------------------------------------------
    # Huge integers and floats
    # ------------------------------------------------------------------

    def test_huge_inactivity_over_http_is_a_validation_error(self):
        """10**400 as inactivity_ms failed with OverflowError (math.isfinite
        converts to float)."""
        self.env["bus_mobile.device"].with_user(self.alice)._bus_mobile_register("phone", "ios")
        for value in (HUGE, 2**53, 1e300, float("inf")):
            with self.subTest(value=str(value)[:20]):
                message = self.assert_rpc_error(
                    self.alice,
                    "/bus_mobile/presence/update",
                    ValidationError,
                    "inactivity_ms",
                    device_uuid="phone",
                    inactivity_ms=value,
                )
                self.assertLess(len(message), 300)
        # The largest accepted value still works (a phone idle for ages).
        self.rpc(
            self.alice, "/bus_mobile/presence/update", device_uuid="phone", inactivity_ms=2**53 - 1
        )

    def test_huge_inactivity_on_the_socket_closes_it_with_1003(self):
        for value in (HUGE, 2**53, 1e300):
            ws = self.mobile_connect(cookie=self.session_cookie(self.alice.login))
            frame = {"event_name": "update_presence", "data": {"inactivity_period": value}}
            ws.send(json.dumps(frame))
            code, reason = self.close_code_and_reason(ws)
            self.assertEqual(code, CloseCode.INCORRECT_DATA, value)
            self.assertIn("inactivity_period", reason)

    def test_absurd_numbers_on_every_numeric_param(self):
        """Every JSON-RPC parameter that takes a number refuses each absurd
        one with a short ValidationError: nothing converts it first."""
        room, message = self.room.id, self.message.id
        cases = [
            ("/bus_mobile/channel/join", {}, "channel_id"),
            ("/bus_mobile/channel/leave", {}, "channel_id"),
            ("/bus_mobile/channel/add_members", {"partner_ids": []}, "channel_id"),
            ("/bus_mobile/channel/add_members", {"channel_id": room}, "partner_ids"),
            ("/bus_mobile/channel/create", {"name": "x", "channel_type": "private"}, "partner_ids"),
            ("/bus_mobile/message/post", {"body": "x", "client_uuid": "u"}, "channel_id"),
            ("/bus_mobile/messages", {}, "channel_id"),
            ("/bus_mobile/messages", {"channel_id": room}, "before_id"),
            ("/bus_mobile/messages", {"channel_id": room}, "after_id"),
            ("/bus_mobile/messages", {"channel_id": room}, "limit"),
            ("/bus_mobile/sync", {}, "after_id"),
            ("/bus_mobile/sync", {}, "limit"),
            ("/bus_mobile/message/read", {"message_id": message}, "channel_id"),
            ("/bus_mobile/message/read", {"channel_id": room}, "message_id"),
            ("/bus_mobile/typing", {"is_typing": True}, "channel_id"),
        ]
        for route, params, name in cases:
            for number in ABSURD_NUMBERS:
                value = [number] if name == "partner_ids" else number
                with self.subTest(route=route, name=name, value=str(value)[:12]):
                    message = self.assert_rpc_error(
                        self.alice, route, ValidationError, name, **params, **{name: value}
                    )
                    self.assertLess(len(message), 300)

    def test_absurd_numbers_in_frames(self):
        frames = [
            {"event_name": "subscribe", "data": {"channels": [], "last": value}}
            for value in ABSURD_NUMBERS
        ] + [
            {"event_name": "update_presence", "data": {"inactivity_period": value}}
            for value in ABSURD_NUMBERS
            if value != 1.5  # a fractional millisecond is fine
        ]
        cookie = self.session_cookie(self.alice.login)
        for frame in frames:
            ws = self.mobile_connect(cookie=cookie)
            ws.send(json.dumps(frame))
            code, reason = self.close_code_and_reason(ws)
            self.assertEqual(code, CloseCode.INCORRECT_DATA, frame)
            self.assertIn(next(iter(frame["data"].keys() - {"channels"})), reason)

    def test_absurd_settings_fall_back_to_their_defaults(self):
        """An administrator's 10**400 would overflow a float (a timeout, a
        rate) or PostgreSQL's integers (an interval) on every request or
        cron run."""
        params = self.env["ir.config_parameter"].sudo()
        for key in ("handshake_refill_s", "offline_after_s", "push_timeout_s", "push_ttl_s"):
            params.set_param(f"bus_mobile.{key}", str(HUGE))
        settings = params._bus_mobile_settings()
        self.assertEqual((settings["handshake_refill_s"], settings["offline_after_s"]), (3, 65))
        push_settings = self.env["bus_mobile.push"]._bus_mobile_push_settings()
        self.assertEqual((push_settings["push_timeout_s"], push_settings["push_ttl_s"]), (10, 3600))
