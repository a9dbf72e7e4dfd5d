from odoo import Command
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.http import SessionExpiredException
from odoo.tests import HttpCase, new_test_user, tagged

from .common import PresenceAssertions, RpcMixin


@tagged("post_install", "-at_install")
class TestDevice(PresenceAssertions, RpcMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = new_test_user(cls.env, login="dev_alice", password="dev_alice")
        cls.bob = new_test_user(
            cls.env, login="dev_bob", password="dev_bob", groups="base.group_portal"
        )
        cls.admin = cls.env.ref("base.user_admin")

    def register(self, user, device_uuid="phone-1", **kw):
        params = {"platform": "ios", "app_version": "1.2.0", "push_token": "tok-secret"}
        params.update(kw)
        return self.rpc(user, "/bus_mobile/device/register", device_uuid=device_uuid, **params)

    def test_register_and_update(self):
        device = self.register(self.alice)
        self.assertEqual(
            {k: v for k, v in device.items() if k != "id"},
            {
                "device_uuid": "phone-1",
                "platform": "ios",
                "app_version": "1.2.0",
                "status": "offline",
                "last_seen": None,
                "has_push_token": True,
                "push_provider": "fcm",
                "push_project": None,
            },
        )
        again = self.register(self.alice, platform="android", app_version="1.3.0", push_token=None)
        self.assertEqual(again["id"], device["id"])
        self.assertEqual((again["platform"], again["app_version"]), ("android", "1.3.0"))
        self.assertTrue(again["has_push_token"], "push_token omitted keeps the stored one")
        self.assertFalse(self.register(self.alice, push_token="")["has_push_token"])
        record = self.env["bus_mobile.device"].browse(device["id"])
        self.assertEqual(record.user_id, self.alice)

    def test_register_validates_input(self):
        cases = [
            {"device_uuid": None},
            {"device_uuid": ""},
            {"device_uuid": "a b"},
            {"device_uuid": "x" * 129},
            {"device_uuid": 12},
            {"platform": "windows-phone"},
            {"platform": None},
            {"app_version": "1" * 65},
            {"app_version": 3},
            {"push_token": ["not", "text"]},
        ]
        for case in cases:
            with self.subTest(**case):
                params = {"device_uuid": "phone-1", "platform": "ios", **case}
                self.assert_rpc_error(
                    self.alice, "/bus_mobile/device/register", ValidationError, **params
                )
        self.assertFalse(self.env["bus_mobile.device"].search([("user_id", "=", self.alice.id)]))

    def test_register_rejects_unhashable_and_multiline_input(self):
        """Values of the wrong JSON type or with a trailing newline get a
        ValidationError, never a raw TypeError or a stored bad uuid."""
        cases = [
            {"device_uuid": "phone-1\n"},
            {"platform": ["ios"]},
            {"platform": {"ios": 1}},
        ]
        for case in cases:
            with self.subTest(**{k: repr(v) for k, v in case.items()}):
                params = {"device_uuid": "phone-1", "platform": "ios", **case}
                self.assert_rpc_error(
                    self.alice, "/bus_mobile/device/register", ValidationError, **params
                )
        self.assertFalse(self.env["bus_mobile.device"].search([("user_id", "=", self.alice.id)]))

    def test_presence_update_rejects_non_finite_inactivity(self):
        self.register(self.alice)
        route = "/bus_mobile/presence/update"
        for bad in (float("inf"), float("-inf"), float("nan"), [1], {"ms": 1}):
            with self.subTest(inactivity_ms=repr(bad)):
                self.assert_rpc_error(
                    self.alice, route, ValidationError, device_uuid="phone-1", inactivity_ms=bad
                )
        self.assertEqual(self.device_row(self.alice, "phone-1")[0], "offline")

    def test_presence_with_out_of_range_ids(self):
        for bad in ([2**31], [2**63], [10**30], [-(2**63)]):
            with self.subTest(partner_ids=bad):
                self.assertEqual(self.rpc(self.alice, "/bus_mobile/presence", partner_ids=bad), [])
        self.assertEqual(self.rpc(self.bob, "/bus_mobile/presence", partner_ids=[10**30]), [])

    def test_routes_require_a_session(self):
        for route in (
            "/bus_mobile/device/register",
            "/bus_mobile/device/unregister",
            "/bus_mobile/presence",
            "/bus_mobile/presence/update",
        ):
            with self.subTest(route=route):
                self.assert_rpc_error(None, route, SessionExpiredException)

    def test_uuid_is_unique_per_user_not_global(self):
        alice_device = self.register(self.alice, "shared-uuid")
        bob_device = self.register(self.bob, "shared-uuid", platform="android")
        self.assertNotEqual(alice_device["id"], bob_device["id"])
        devices = self.env["bus_mobile.device"].search([("device_uuid", "=", "shared-uuid")])
        self.assertEqual(devices.user_id, self.alice | self.bob)
        self.assertEqual(devices.filtered(lambda d: d.user_id == self.alice).platform, "ios")

    def test_unregister(self):
        self.register(self.alice, "phone-1")
        # Bob cannot remove Alice's device, even knowing its uuid.
        self.assert_rpc_error(
            self.bob, "/bus_mobile/device/unregister", MissingError, device_uuid="phone-1"
        )
        self.assert_rpc_error(
            self.bob, "/bus_mobile/device/unregister", ValidationError, device_uuid=""
        )
        self.assertIsNone(
            self.rpc(self.alice, "/bus_mobile/device/unregister", device_uuid="phone-1")
        )
        self.assertFalse(self.device_row(self.alice, "phone-1"))
        self.assert_rpc_error(
            self.alice, "/bus_mobile/device/unregister", MissingError, device_uuid="phone-1"
        )

    def test_push_token_is_never_shown(self):
        device_id = self.register(self.alice)["id"]
        device = self.env["bus_mobile.device"].browse(device_id)
        for user in (self.alice, self.admin):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                device.with_user(user).read(["push_token"])
        self.assertNotIn("push_token", device.with_user(self.admin).read()[0])
        # sudo: bus_mobile.device - the server itself (push delivery) reads it
        self.assertEqual(device.sudo().push_token, "tok-secret")

    def test_devices_are_private_and_read_only(self):
        device = self.env["bus_mobile.device"].browse(self.register(self.alice)["id"])
        Device = self.env["bus_mobile.device"]
        self.assertFalse(Device.with_user(self.bob).search([]))
        with self.assertRaises(AccessError):
            device.with_user(self.bob).read(["status"])
        self.assertEqual(Device.with_user(self.alice).search([]), device)
        with self.assertRaises(AccessError):
            device.with_user(self.alice).write({"status": "online"})
        with self.assertRaises(AccessError):
            Device.with_user(self.alice).create({"device_uuid": "forged"})
        self.assertIn(device, Device.with_user(self.admin).search([]))

    def test_presence_update_over_http(self):
        self.register(self.alice)
        mark = self.last_bus_id()
        self.assertIsNone(
            self.rpc(self.alice, "/bus_mobile/presence/update", device_uuid="phone-1")
        )
        self.assertEqual(self.device_row(self.alice, "phone-1")[0], "online")
        self.assertIsNotNone(self.device_row(self.alice, "phone-1")[2])
        self.rpc(
            self.alice, "/bus_mobile/presence/update", device_uuid="phone-1", app_state="background"
        )
        self.assertEqual(self.device_row(self.alice, "phone-1")[0], "away")
        self.rpc(self.alice, "/bus_mobile/presence/update", device_uuid="phone-1", inactivity_ms=5)
        self.rpc(
            self.alice, "/bus_mobile/presence/update", device_uuid="phone-1", inactivity_ms=1800000
        )
        self.assertEqual(self.device_row(self.alice, "phone-1")[0], "away")
        self.assertEqual(
            self.presence_statuses(self.alice.partner_id, mark),
            ["online", "away", "online", "away"],
        )

    def test_presence_update_validates_input(self):
        self.register(self.alice)
        route = "/bus_mobile/presence/update"
        self.assert_rpc_error(self.alice, route, MissingError, device_uuid="unknown")
        self.assert_rpc_error(
            self.alice, route, ValidationError, device_uuid="phone-1", app_state="asleep"
        )
        self.assert_rpc_error(
            self.alice, route, ValidationError, device_uuid="phone-1", inactivity_ms="nope"
        )
        self.assert_rpc_error(
            self.alice, route, ValidationError, device_uuid="phone-1", inactivity_ms=-1
        )
        self.assert_rpc_error(self.alice, route, ValidationError, device_uuid=None)
        self.assertEqual(self.device_row(self.alice, "phone-1")[0], "offline")

    def test_presence_lists_only_partners_one_may_watch(self):
        self.register(self.bob, "bob-phone")
        self.rpc(self.bob, "/bus_mobile/presence/update", device_uuid="bob-phone")
        # An internal user may watch anyone (stock rule).
        partners = [self.bob.partner_id.id, self.admin.partner_id.id, self.bob.partner_id.id]
        result = self.rpc(self.alice, "/bus_mobile/presence", partner_ids=partners)
        self.assertEqual(
            [(r["partner_id"], r["im_status"]) for r in result],
            [(self.bob.partner_id.id, "online"), (self.admin.partner_id.id, "offline")],
        )
        self.assertRegex(result[0]["last_seen"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        # A portal user who shares no channel with them sees nobody.
        self.assertEqual(self.rpc(self.bob, "/bus_mobile/presence", partner_ids=partners), [])

    def test_presence_for_channel_co_members(self):
        """A portal user may watch the members of a mobile channel they
        belong to, and nobody else."""
        carol = new_test_user(self.env, login="dev_carol", groups="base.group_portal")
        channel = self.env["bus_mobile.channel"].create(
            {
                "name": "Field team",
                "channel_type": "private",
                "member_ids": [
                    Command.create({"partner_id": partner.id})
                    for partner in (self.alice.partner_id, self.bob.partner_id)
                ],
            }
        )
        partners = [self.alice.partner_id.id, carol.partner_id.id, self.admin.partner_id.id]
        result = self.rpc(self.bob, "/bus_mobile/presence", partner_ids=partners)
        self.assertEqual([r["partner_id"] for r in result], [self.alice.partner_id.id])
        channel.active = False
        self.assertEqual(self.rpc(self.bob, "/bus_mobile/presence", partner_ids=partners), [])

    def test_presence_validates_input(self):
        for bad in (None, "1,2", [1, "2"], [True], list(range(1001))):
            with self.subTest(partner_ids=str(bad)[:20]):
                self.assert_rpc_error(
                    self.alice, "/bus_mobile/presence", ValidationError, partner_ids=bad
                )
        self.assertEqual(self.rpc(self.alice, "/bus_mobile/presence", partner_ids=[]), [])
        self.assertEqual(self.rpc(self.alice, "/bus_mobile/presence", partner_ids=[10**9]), [])

    def test_config_reports_timers_from_settings(self):
        self.env["ir.config_parameter"].set_param("bus_mobile.heartbeat_s", "20")
        self.env["ir.config_parameter"].set_param("bus_mobile.away_after_s", "600")
        self.assertEqual(
            self.rpc(self.alice, "/bus_mobile/config")["presence"],
            {"heartbeat_s": 20, "away_after_s": 600, "offline_after_s": 65},
        )

    def test_backend_views(self):
        action = self.env.ref("bus_mobile.bus_mobile_device_action")
        self.assertEqual(action.res_model, "bus_mobile.device")
        menu = self.env.ref("bus_mobile.bus_mobile_device_menu")
        self.assertEqual(menu.parent_id, self.env.ref("bus_mobile.menu_bus_mobile_root"))
        self.assertIn(
            "bus_mobile_device_ids",
            self.env["res.users"]
            .with_user(self.admin)
            .get_view(self.env.ref("base.view_users_form").id)["arch"],
        )
        # The addon's own views (Odoo generates default ones, without an
        # id, for a model that has none).
        self.assertEqual(action.view_mode, "list,form")
        views = self.env["bus_mobile.device"].get_views(
            [(False, "list"), (False, "form"), (False, "search")]
        )
        for view_type in ("list", "form", "search"):
            with self.subTest(view_type=view_type):
                view = self.env.ref(f"bus_mobile.bus_mobile_device_view_{view_type}")
                self.assertEqual(views["views"][view_type]["id"], view.id)
