import json

from psycopg2 import errors as pgerrors

from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import ChannelCase


@tagged("post_install", "-at_install")
class TestChannel(ChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.private = cls.make_channel("Private", "private", cls.alice | cls.bob)
        cls.public = cls.make_channel("Public", "public", cls.alice)

    def test_create_private_channel_notifies_members(self):
        mark = self.bus_mark()
        channel = self.rpc(
            self.alice,
            "/bus_mobile/channel/create",
            name=" Team ",
            channel_type="private",
            partner_ids=[self.bob.partner_id.id, self.paul.partner_id.id],
        )
        members = {self.alice.partner_id.id, self.bob.partner_id.id, self.paul.partner_id.id}
        self.assertEqual(channel["name"], "Team")
        self.assertEqual(channel["channel_type"], "private")
        self.assertEqual(set(channel["member_partner_ids"]), members)
        self.assertEqual(channel["unread_count"], 0)
        self.assertIsNone(channel["last_message"])
        events = self.bus_since(mark, "bus_mobile/channel")
        self.assertEqual({target[1] for target, _t, _p in events}, members)
        self.assertEqual({target[0] for target, _t, _p in events}, {"res.partner"})
        self.assertEqual({payload["event"] for _t, _ty, payload in events}, {"created"})
        self.assertEqual(events[0][2]["channel"]["id"], channel["id"])

    def test_create_checks_its_input(self):
        route = "/bus_mobile/channel/create"
        partner = self.env["res.partner"].create({"name": "Not a user"})
        self.assert_rpc_error(
            self.alice, route, ValidationError, "channel_type", name="x", channel_type="secret"
        )
        self.assert_rpc_error(
            self.alice, route, ValidationError, "name", channel_type="private", name="  "
        )
        self.assert_rpc_error(
            self.alice, route, ValidationError, "name", channel_type="private", name=12
        )
        self.assert_rpc_error(
            self.alice, route, ValidationError, "128", channel_type="public", name="x" * 129
        )
        self.assert_rpc_error(
            self.alice,
            route,
            ValidationError,
            "partner_ids",
            channel_type="private",
            name="x",
            partner_ids=str(self.bob.partner_id.id),
        )
        self.assert_rpc_error(
            self.alice,
            route,
            ValidationError,
            "partner_ids",
            channel_type="private",
            name="x",
            partner_ids=["7"],
        )
        self.assert_rpc_error(
            self.alice,
            route,
            MissingError,
            "999999",
            channel_type="private",
            name="x",
            partner_ids=[999999],
        )
        self.assert_rpc_error(
            self.alice,
            route,
            ValidationError,
            str(partner.id),
            channel_type="private",
            name="x",
            partner_ids=[partner.id],
        )

    def test_create_rejects_unhashable_and_unencodable_input(self):
        """A list or dict as channel_type, or a lone UTF-16 surrogate in the
        name (valid JSON, not storable), is a clear error, not a TypeError
        or UnicodeEncodeError."""
        route = "/bus_mobile/channel/create"
        for bad in (["public"], {"type": "public"}):
            with self.subTest(channel_type=bad):
                self.assert_rpc_error(
                    self.alice, route, ValidationError, "channel_type", name="x", channel_type=bad
                )
        self.assert_rpc_error(
            self.alice, route, ValidationError, "name", channel_type="private", name="a\ud800b"
        )

    def test_duplicate_partner_ids_are_one_partner(self):
        channel = self.rpc(
            self.alice,
            "/bus_mobile/channel/add_members",
            channel_id=self.private.id,
            partner_ids=[self.carol.partner_id.id, self.carol.partner_id.id],
        )
        self.assertIn(self.carol.partner_id.id, channel["member_partner_ids"])
        self.assertEqual(len(self.private.member_ids), 3)
        direct = self.rpc(
            self.alice,
            "/bus_mobile/channel/create",
            channel_type="direct",
            partner_ids=[self.bob.partner_id.id, self.bob.partner_id.id],
        )
        self.assertEqual(
            sorted(direct["member_partner_ids"]),
            sorted([self.alice.partner_id.id, self.bob.partner_id.id]),
        )

    def test_portal_users_cannot_create_or_add(self):
        self.assert_rpc_error(
            self.paul,
            "/bus_mobile/channel/create",
            AccessError,
            "internal",
            name="x",
            channel_type="private",
            partner_ids=[self.alice.partner_id.id],
        )
        self.private.member_ids = [Command.create({"partner_id": self.paul.partner_id.id})]
        self.assert_rpc_error(
            self.paul,
            "/bus_mobile/channel/add_members",
            AccessError,
            "internal",
            channel_id=self.private.id,
            partner_ids=[self.pia.partner_id.id],
        )

    def test_direct_channel_is_one_per_pair(self):
        route = "/bus_mobile/channel/create"
        first = self.rpc(
            self.alice, route, channel_type="direct", partner_ids=[self.bob.partner_id.id]
        )
        again = self.rpc(
            self.alice,
            route,
            channel_type="direct",
            partner_ids=[self.alice.partner_id.id, self.bob.partner_id.id],
        )
        reverse = self.rpc(
            self.bob, route, channel_type="direct", partner_ids=[self.alice.partner_id.id]
        )
        self.assertEqual(first["id"], again["id"])
        self.assertEqual(first["id"], reverse["id"])
        self.assertEqual(first["channel_type"], "direct")
        self.assertEqual(first["name"], "Alice, Bob")
        self.assertEqual(
            sorted(first["member_partner_ids"]),
            sorted([self.alice.partner_id.id, self.bob.partner_id.id]),
        )
        with_carol = self.rpc(
            self.alice, route, channel_type="direct", partner_ids=[self.carol.partner_id.id]
        )
        self.assertNotEqual(with_carol["id"], first["id"])
        self.assert_rpc_error(
            self.alice,
            route,
            ValidationError,
            "exactly one",
            channel_type="direct",
            partner_ids=[self.bob.partner_id.id, self.carol.partner_id.id],
        )
        self.assert_rpc_error(
            self.alice,
            route,
            ValidationError,
            "exactly one",
            channel_type="direct",
            partner_ids=[self.alice.partner_id.id],
        )
        self.assert_rpc_error(
            self.alice,
            "/bus_mobile/channel/leave",
            UserError,
            "direct",
            channel_id=first["id"],
        )
        self.assert_rpc_error(
            self.alice,
            "/bus_mobile/channel/add_members",
            UserError,
            "direct",
            channel_id=first["id"],
            partner_ids=[self.carol.partner_id.id],
        )

    def test_direct_pair_is_unique_in_the_database(self):
        pair = self.alice | self.bob
        self.make_channel("Direct", "direct", pair)
        with self.assertRaises(pgerrors.UniqueViolation), mute_logger("odoo.sql_db"):
            self.make_channel("Direct again", "direct", pair).flush_recordset()

    def test_direct_channel_keeps_two_members_from_the_member_side(self):
        """The backend's member list edits members directly: a direct channel
        still has exactly its two partners."""
        direct = self.make_channel("Direct", "direct", self.alice | self.bob)
        Member = self.env["bus_mobile.channel.member"]
        with self.assertRaises(ValidationError):
            Member.create({"channel_id": direct.id, "partner_id": self.carol.partner_id.id})
        with self.assertRaises(ValidationError):
            direct.member_ids[0].unlink()
        with self.assertRaises(ValidationError):
            direct.member_ids[0].channel_id = self.make_channel("Other", "private", self.carol)
        self.assertEqual(direct.member_ids.partner_id, self.alice.partner_id | self.bob.partner_id)
        direct.unlink()  # the whole conversation can still go
        self.assertFalse(direct.exists())

    def test_archived_direct_channel_is_reused(self):
        direct = self.make_channel("Direct", "direct", self.alice | self.bob)
        direct.active = False
        channel = self.rpc(
            self.bob,
            "/bus_mobile/channel/create",
            channel_type="direct",
            partner_ids=[self.alice.partner_id.id],
        )
        self.assertEqual(channel["id"], direct.id)
        self.assertTrue(direct.active)

    def test_join_and_leave_public_channel(self):
        mark = self.bus_mark()
        joined = self.rpc(self.carol, "/bus_mobile/channel/join", channel_id=self.public.id)
        self.assertIn(self.carol.partner_id.id, joined["member_partner_ids"])
        again = self.rpc(self.carol, "/bus_mobile/channel/join", channel_id=self.public.id)
        self.assertEqual(again["member_partner_ids"], joined["member_partner_ids"])
        added = self.bus_since(mark, "bus_mobile/channel")
        self.assertEqual(
            [(target, payload["event"], payload["partner_ids"]) for target, _t, payload in added],
            [
                (
                    ("bus_mobile.channel", self.public.id),
                    "member_added",
                    [self.carol.partner_id.id],
                ),
                (
                    ("res.partner", self.carol.partner_id.id),
                    "member_added",
                    [self.carol.partner_id.id],
                ),
            ],
        )
        mark = self.bus_mark()
        left = self.rpc(self.carol, "/bus_mobile/channel/leave", channel_id=self.public.id)
        self.assertNotIn(self.carol.partner_id.id, left["member_partner_ids"])
        self.assertNotIn(self.carol.partner_id, self.public.member_ids.partner_id)
        removed = self.bus_since(mark, "bus_mobile/channel")
        self.assertEqual(
            {(target, payload["event"]) for target, _t, payload in removed},
            {
                (("bus_mobile.channel", self.public.id), "member_removed"),
                (("res.partner", self.carol.partner_id.id), "member_removed"),
            },
        )
        self.assert_rpc_error(
            self.carol,
            "/bus_mobile/channel/leave",
            AccessError,
            "not a member",
            channel_id=self.public.id,
        )

    def test_only_internal_users_join_public_channels(self):
        self.assert_rpc_error(
            self.carol, "/bus_mobile/channel/join", AccessError, channel_id=self.private.id
        )
        self.assert_rpc_error(
            self.paul, "/bus_mobile/channel/join", AccessError, channel_id=self.public.id
        )
        self.assertNotIn(self.paul.partner_id, self.public.member_ids.partner_id)

    def test_add_members(self):
        mark = self.bus_mark()
        channel = self.rpc(
            self.bob,
            "/bus_mobile/channel/add_members",
            channel_id=self.private.id,
            partner_ids=[
                self.carol.partner_id.id,
                self.paul.partner_id.id,
                self.alice.partner_id.id,
            ],
        )
        expected = self.alice | self.bob | self.carol | self.paul
        self.assertEqual(set(channel["member_partner_ids"]), set(expected.partner_id.ids))
        targets = {target for target, _t, _p in self.bus_since(mark, "bus_mobile/channel")}
        self.assertEqual(
            targets,
            {
                ("bus_mobile.channel", self.private.id),
                ("res.partner", self.carol.partner_id.id),
                ("res.partner", self.paul.partner_id.id),
            },
        )
        self.assert_rpc_error(
            self.pia,
            "/bus_mobile/channel/add_members",
            AccessError,
            channel_id=self.private.id,
            partner_ids=[self.pia.partner_id.id],
        )

    def test_non_member_cannot_add_members(self):
        self.assert_rpc_error(
            self.carol,
            "/bus_mobile/channel/add_members",
            AccessError,
            channel_id=self.public.id,
            partner_ids=[self.carol.partner_id.id],
        )

    def test_bad_channel_id_gets_a_clear_error(self):
        routes = {
            "/bus_mobile/channel/join": {},
            "/bus_mobile/channel/leave": {},
            "/bus_mobile/channel/add_members": {"partner_ids": []},
            "/bus_mobile/message/post": {"body": "hi", "client_uuid": "u"},
            "/bus_mobile/messages": {},
            "/bus_mobile/message/read": {"message_id": 1},
            "/bus_mobile/typing": {"is_typing": True},
        }
        for route, params in routes.items():
            for bad in ("abc", str(self.private.id), 1.5, True, None, [self.private.id], -1, 2**40):
                with self.subTest(route=route, channel_id=bad):
                    self.assert_rpc_error(
                        self.alice,
                        route,
                        ValidationError,
                        "channel_id",
                        channel_id=bad,
                        **params,
                    )
            with self.subTest(route=route, channel_id="missing"):
                self.assert_rpc_error(
                    self.alice, route, MissingError, "999999", channel_id=999999, **params
                )
            with self.subTest(route=route, channel_id="not mine"):
                self.assert_rpc_error(
                    self.carol, route, AccessError, channel_id=self.private.id, **params
                )

    def test_every_route_answers_bad_types_with_an_odoo_error(self):
        """Each parameter of each route, given each value below in turn (the
        others valid): a value of the wrong type or out of range is refused
        with a ValidationError naming the parameter, as README.rst promises;
        never a 500, a raw Python exception, or a success. Only the values
        listed as valid for that parameter succeed."""
        message = self.private.with_user(self.alice)._bus_mobile_post("hi", "fuzz")
        valid = {
            "/bus_mobile/channel/create": {
                "name": "fuzz",
                "channel_type": "private",
                "partner_ids": [self.bob.partner_id.id],
            },
            "/bus_mobile/channel/join": {"channel_id": self.public.id},
            "/bus_mobile/channel/leave": {"channel_id": self.public.id},
            "/bus_mobile/channel/add_members": {
                "channel_id": self.private.id,
                "partner_ids": [self.bob.partner_id.id],
            },
            "/bus_mobile/message/post": {
                "channel_id": self.private.id,
                "body": "hi",
                "client_uuid": "fuzz-2",
            },
            "/bus_mobile/messages": {
                "channel_id": self.private.id,
                "before_id": message.id + 1,
                "after_id": 0,
                "limit": 10,
            },
            "/bus_mobile/sync": {"after_id": 0, "limit": 10},
            "/bus_mobile/message/read": {"channel_id": self.private.id, "message_id": message.id},
            "/bus_mobile/typing": {"channel_id": self.private.id, "is_typing": True},
        }
        bad_values = ["", "abc", "7", "a\ud800", 1.5, True, None, [], [1], {"a": 1}, -1, 2**64]
        # The values above that are right for a parameter (texts for a
        # text; None where the parameter is optional; an empty list of
        # partners); any other must be refused.
        accepted = {
            "name": ["abc", "7"],
            "body": ["abc", "7"],
            "client_uuid": ["abc", "7"],
            ("/bus_mobile/channel/create", "partner_ids"): [[], None],
            ("/bus_mobile/channel/add_members", "partner_ids"): [[]],
            ("/bus_mobile/messages", "before_id"): [None],
            ("/bus_mobile/messages", "after_id"): [None],
            "limit": [None],
            "is_typing": [True],
        }
        wrong = []
        self.authenticate(self.alice.login, self.alice.login)
        for route, params in valid.items():
            for name in params:
                ok = accepted.get((route, name), accepted.get(name, []))
                for bad in bad_values:
                    payload = {"jsonrpc": "2.0", "method": "call", "params": params}
                    payload["params"] = dict(params, **{name: bad})
                    response = self.url_open(
                        route,
                        json.dumps(payload).encode(),
                        headers={"Content-Type": "application/json"},
                    )
                    case = f"{route} {name}={bad!r}"
                    if response.status_code != 200:
                        wrong.append(f"{case}: HTTP {response.status_code}")
                        continue
                    error = response.json().get("error")
                    if any(bad == value and type(bad) is type(value) for value in ok):
                        if error:
                            wrong.append(f"{case}: refused ({error['data']['message'][:100]})")
                    elif not error:
                        wrong.append(f"{case}: accepted")
                    elif error["data"]["name"] != "odoo.exceptions.ValidationError":
                        wrong.append(f"{case}: {error['data']['name']}")
                    elif not self._names(error["data"]["message"], name, bad):
                        wrong.append(
                            f"{case}: the message names neither: {error['data']['message']}"
                        )
        self.assertEqual(wrong, [])

    @staticmethod
    def _names(message, name, value):
        """The error ``message`` names the parameter, or the value (each id
        of a list) that is wrong."""
        values = value if isinstance(value, list) else [value]
        return name in message or all(str(v) in message for v in values)

    def test_my_channels(self):
        direct = self.make_channel("Direct", "direct", self.alice | self.bob)
        self.make_channel("Others", "private", self.bob | self.carol)
        archived = self.make_channel("Old", "private", self.alice)
        archived.active = False
        channels = self.rpc(self.alice, "/bus_mobile/channels")
        self.assertEqual(
            sorted(channel["id"] for channel in channels),
            sorted([self.private.id, self.public.id, direct.id]),
        )
        for channel in channels:
            self.assertEqual(
                set(channel),
                {
                    "id",
                    "name",
                    "channel_type",
                    "active",
                    "member_partner_ids",
                    "unread_count",
                    "last_message",
                },
            )
        self.assertEqual([c["id"] for c in self.rpc(self.paul, "/bus_mobile/channels")], [])

    def test_unread_count_and_last_message(self):
        bob_private = self.private.with_user(self.bob)
        for n in range(3):
            bob_private._bus_mobile_post(f"m{n}", f"uuid-{n}")
        mine = self.private.with_user(self.alice)._bus_mobile_post("mine", "uuid-mine")
        by_id = {c["id"]: c for c in self.rpc(self.alice, "/bus_mobile/channels")}
        self.assertEqual(by_id[self.private.id]["unread_count"], 3)  # own message not counted
        self.assertEqual(by_id[self.private.id]["last_message"]["id"], mine.id)
        self.assertEqual(by_id[self.public.id]["unread_count"], 0)
        self.assertIsNone(by_id[self.public.id]["last_message"])
        by_id = {c["id"]: c for c in self.rpc(self.bob, "/bus_mobile/channels")}
        self.assertEqual(by_id[self.private.id]["unread_count"], 1)

    def test_record_rules(self):
        others = self.make_channel("Others", "private", self.bob | self.carol)
        with_paul = self.make_channel("With Paul", "private", self.alice | self.paul)
        Channel = self.env["bus_mobile.channel"]
        self.assertEqual(
            set(Channel.with_user(self.carol).search([]).ids), {self.public.id, others.id}
        )
        self.assertEqual(Channel.with_user(self.paul).search([]), with_paul)
        self.assertEqual(Channel.with_user(self.pia).search([]), Channel)
        self.assertEqual(
            self.env["bus_mobile.channel.member"].with_user(self.paul).search([]).channel_id,
            with_paul,
        )
        with self.assertRaises(AccessError):
            self.private.with_user(self.carol).check_access("read")
        with self.assertRaises(AccessError):
            self.public.with_user(self.alice).write({"name": "renamed"})
        with self.assertRaises(AccessError):
            Channel.with_user(self.alice).create({"name": "direct ORM", "channel_type": "public"})
        with self.assertRaises(AccessError):
            self.env["bus_mobile.channel.member"].with_user(self.alice).create(
                {"channel_id": self.private.id, "partner_id": self.carol.partner_id.id}
            )
        admin = self.env.ref("base.user_admin")
        self.assertGreaterEqual(
            set(Channel.with_user(admin).search([]).ids),
            {self.private.id, self.public.id, others.id, with_paul.id},
        )

    def test_changes_are_announced(self):
        mark = self.bus_mark()
        self.private.name = "Renamed"
        self.private.member_ids.filtered(lambda m: m.partner_id == self.bob.partner_id).unlink()
        events = self.bus_since(mark, "bus_mobile/channel")
        self.assertEqual(
            [(target, payload["event"]) for target, _t, payload in events],
            [
                (("bus_mobile.channel", self.private.id), "updated"),
                (("bus_mobile.channel", self.private.id), "member_removed"),
                (("res.partner", self.bob.partner_id.id), "member_removed"),
            ],
        )
        self.assertEqual(events[0][2]["channel"]["name"], "Renamed")
        mark = self.bus_mark()
        self.private.member_ids.muted = True
        self.assertEqual(self.bus_since(mark, "bus_mobile/channel"), [])
        self.private.active = False
        events = self.bus_since(mark, "bus_mobile/channel")
        self.assertEqual(len(events), 1)
        self.assertFalse(events[0][2]["channel"]["active"])
        self.assert_rpc_error(
            self.alice,
            "/bus_mobile/message/post",
            UserError,
            "archived",
            channel_id=self.private.id,
            body="hi",
            client_uuid="u",
        )
        mark = self.bus_mark()
        self.public.unlink()
        events = self.bus_since(mark, "bus_mobile/channel")
        self.assertEqual(
            [(target, payload["event"]) for target, _t, payload in events],
            [(("res.partner", self.alice.partner_id.id), "member_removed")],
        )

    def test_backend_views_and_menus(self):
        """Each menu's action opens the addon's own views (for a model
        without any, Odoo would generate default ones, without an id)."""
        addon_views = {
            "bus_mobile_channel_action": ("channel", ["list", "form", "search"]),
            "bus_mobile_channel_member_action": ("channel_member", ["list", "search"]),
            "bus_mobile_message_action": ("message", ["list", "form", "search"]),
        }
        for action_xmlid, (name, view_types) in addon_views.items():
            action = self.env.ref(f"bus_mobile.{action_xmlid}")
            self.assertEqual(action.view_mode.split(","), view_types[:-1])
            views = self.env[action.res_model].get_views([(False, t) for t in view_types])
            for view_type in view_types:
                with self.subTest(model=action.res_model, view_type=view_type):
                    view = self.env.ref(f"bus_mobile.bus_mobile_{name}_view_{view_type}")
                    self.assertEqual(views["views"][view_type]["id"], view.id)
        root = self.env.ref("bus_mobile.menu_bus_mobile_root")
        self.assertEqual(root.groups_id, self.env.ref("base.group_system"))
        self.assertLessEqual(
            {"bus_mobile.channel", "bus_mobile.channel.member", "bus_mobile.message"},
            {menu.action.res_model for menu in root.child_id if menu.action},
        )
        action = self.private.action_bus_mobile_view_messages()
        self.assertEqual(action["domain"], [("channel_id", "=", self.private.id)])
        self.assertEqual(self.private.message_count, 0)
        self.assertEqual(self.private.member_count, 2)
