"""Devices per user are bounded (``bus_mobile.max_devices_per_user``): a
new device replaces the least recently seen one without an open socket,
and is refused (TOO_MANY_DEVICES) only when every device is in use, at
register, at sign-in and at the socket's handshake."""

import uuid
from unittest.mock import patch

import websocket as ws_client

from odoo.tests import tagged

from odoo.addons.bus.websocket import CloseCode

from ..mobile_socket import REFUSAL_HEADER, MobileWebsocketConnectionHandler
from .auth_common import AuthCallsMixin
from .common import ChannelCase, holding_test_cursor, wait_until

TOO_MANY = "odoo.addons.bus_mobile.tools.devices.TooManyDevicesError"


@tagged("post_install", "-at_install")
class TestDeviceCap(AuthCallsMixin, ChannelCase):
    def setUp(self):
        super().setUp()
        self.set_limit(3)
        self.cookie = self.session_cookie(self.bob.login)
        self.sockets_done = 0

    def set_limit(self, limit):
        self.env["ir.config_parameter"].sudo().set_param(
            "bus_mobile.max_devices_per_user", str(limit)
        )

    def device_uuids(self, user):
        with holding_test_cursor(self.registry):
            self.env.flush_all()
            self.env.cr.execute(
                "SELECT device_uuid FROM bus_mobile_device WHERE user_id = %s ORDER BY id",
                [user.id],
            )
            return [row[0] for row in self.env.cr.fetchall()]

    def register(self, device_uuid, **params):
        return self.call(
            "/bus_mobile/device/register",
            {"device_uuid": device_uuid, "platform": "ios", **params},
            cookie=self.cookie,
        )

    def open_device_socket(self, device_uuid):
        ws = self.mobile_connect(cookie=self.cookie, device_uuid=device_uuid)
        wait_until(
            lambda: (self.device_row(self.bob, device_uuid) or ("",))[0] == "online",
            f"the device {device_uuid} to be online",
        )
        return ws

    def device_row(self, user, device_uuid):
        with holding_test_cursor(self.registry):
            self.env.cr.execute(
                "SELECT status FROM bus_mobile_device WHERE user_id = %s AND device_uuid = %s",
                [user.id, device_uuid],
            )
            return self.env.cr.fetchone()

    def close(self, ws):
        ws.close()
        self.sockets_done += 1
        self.wait_mobile_sockets_done(self.sockets_done)

    def test_a_new_device_replaces_the_least_recently_seen_idle_one(self):
        for name in ("d1", "d2", "d3"):
            self.register(name)
        token = self.device_token(self.bob.login, device_uuid="d1")
        self.result("/bus_mobile/config", token=token)
        # d1 was seen last (its token was used): d2 is the least recently seen.
        self.env.cr.execute(
            "UPDATE bus_mobile_device SET last_seen = clock_timestamp() AT TIME ZONE 'UTC'"
            " WHERE device_uuid = 'd1'"
        )
        self.assertIsNone(self.register("d4")[2])
        self.assertEqual(self.device_uuids(self.bob), ["d1", "d3", "d4"])
        # A replaced device is signed out: its token would not work either.
        self.register("d5")
        self.assertEqual(self.device_uuids(self.bob), ["d1", "d4", "d5"])
        self.register("d6")
        self.assertEqual(self.device_uuids(self.bob), ["d4", "d5", "d6"])
        _s, _r, error = self.call("/bus_mobile/config", token=token)
        self.assertTrue(error["data"]["message"].startswith("TOKEN_REVOKED"), error)
        # Signing in again on a replaced device (a reinstall) works.
        self.device_token(self.bob.login, device_uuid="d1")
        self.assertEqual(len(self.device_uuids(self.bob)), 3)

    def test_the_reported_flood_is_bounded_and_so_are_pushes(self):
        """300 registrations with new ids and push tokens made 300 devices,
        and each post of another user queued 300 pushes for them."""
        self.set_limit(20)
        for n in range(40):
            self.register(f"flood-{n}", push_token=f"ExponentPushToken[flood-{n}]")
        self.assertEqual(len(self.device_uuids(self.bob)), 20)
        room = self.make_channel("Flooded", "private", self.alice | self.bob)
        room.with_user(self.alice)._bus_mobile_post("hello", uuid.uuid4().hex)
        pushes = self.env["bus_mobile.push"].sudo().search([("user_id", "=", self.bob.id)])
        self.assertEqual(len(pushes), 20)
        # Other users are not limited by Bob's devices.
        self.cookie = self.session_cookie(self.carol.login)
        self.register("carol-phone")
        self.assertEqual(self.device_uuids(self.carol), ["carol-phone"])

    def test_refused_only_when_every_device_has_an_open_socket(self):
        sockets = [self.open_device_socket(name) for name in ("d1", "d2", "d3")]
        status, _result, error = self.register("d4")
        self.assertEqual(status, 200)
        message = self.check_rpc_error(error, TOO_MANY)
        self.assertTrue(message.startswith("TOO_MANY_DEVICES: "), message)
        # Signing in on a new device: the same refusal.
        _s, _r, error = self.call(
            "/bus_mobile/device/login",
            {
                "login": self.bob.login,
                "password": self.bob.login,
                "device_uuid": "d4",
                "platform": "ios",
            },
        )
        self.check_rpc_error(error, TOO_MANY)
        # A socket for a new device: refused at its handshake.
        with self.assertRaises(ws_client.WebSocketBadStatusException) as caught:
            self.mobile_connect(cookie=self.cookie, device_uuid="d4")
        self.assertEqual(caught.exception.status_code, 403)
        refusal = caught.exception.resp_headers[REFUSAL_HEADER.lower()]
        self.assertTrue(refusal.startswith("TOO_MANY_DEVICES: "), refusal)
        self.assertEqual(self.device_uuids(self.bob), ["d1", "d2", "d3"])
        # The devices that exist still work.
        self.assertIsNone(self.register("d2", app_version="2.0")[2])
        # Once one socket closes, its device makes room.
        self.close(sockets[1])
        self.assertIsNone(self.register("d4")[2])
        self.assertEqual(self.device_uuids(self.bob), ["d1", "d3", "d4"])

    def test_sockets_cannot_create_unlimited_devices(self):
        for n in range(8):
            self.close(self.open_device_socket(f"sock-{n}"))
        self.assertEqual(self.device_uuids(self.bob), ["sock-5", "sock-6", "sock-7"])

    def test_a_socket_that_loses_the_race_closes_with_1008(self):
        """The handshake made room, then another new device of the user
        took it before the socket opened: no fourth device, and the socket
        closes with the reason."""
        sockets = [self.open_device_socket(name) for name in ("d1", "d2", "d3")]
        with patch.object(
            MobileWebsocketConnectionHandler, "_no_room_for_device", return_value=False
        ):
            ws = self.mobile_connect(cookie=self.cookie, device_uuid="d4")
            code, reason = self.close_code_and_reason(ws)
        self.assertEqual((code, reason), (CloseCode.MESSAGE_VIOLATING_POLICY, "TOO_MANY_DEVICES"))
        self.sockets_done += 1
        self.wait_mobile_sockets_done(self.sockets_done)
        self.assertEqual(self.device_uuids(self.bob), ["d1", "d2", "d3"])
        for ws in sockets:
            self.close(ws)

    def test_a_bad_limit_falls_back_to_the_default(self):
        for value in ("0", "-5", "many", str(10**400)):
            self.set_limit(value)
            settings = self.env["ir.config_parameter"]._bus_mobile_settings()
            self.assertEqual(settings["max_devices_per_user"], 20, value)
