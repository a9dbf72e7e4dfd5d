from odoo.fields import Command
from odoo.tests import tagged

from .common import ChannelCase, websocket_request

MARKER = "bus_mobile/test_marker"
CHANNEL_TYPES = {"bus_mobile/message", "bus_mobile/typing", "bus_mobile/read"}


@tagged("post_install", "-at_install")
class TestSubscription(ChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.private = cls.make_channel("Private", "private", cls.alice | cls.bob | cls.paul)
        cls.public = cls.make_channel("Public", "public", cls.alice)

    def setUp(self):
        super().setUp()
        self._pending = {}  # socket -> notifications received, not read yet

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    def connect(self, user, channels=(), mobile=True):
        """A socket of ``user`` (mobile or stock /websocket), subscribed to
        ``channels`` from the current bus id on."""
        last = self.bus_mark()
        cookie = self.session_cookie(user.login)
        if mobile:
            ws = self.mobile_connect(cookie=cookie, ping_after_connect=True)
        else:
            ws = self.websocket_connect(cookie=cookie)  # pings likewise
        self.subscribe(ws, list(channels), last)
        return ws

    def post(self, user, channel, body):
        return self.rpc(
            user,
            "/bus_mobile/message/post",
            channel_id=channel.id,
            body=body,
            client_uuid=f"{user.login}-{body}",
        )

    def receive(self, ws, notification_type):
        """Payload of the next notification of ``notification_type``; the
        ones before it are skipped, the ones after it are kept for the next
        call (a frame may carry several)."""
        pending = self._pending.setdefault(ws, [])
        for _frame in range(20):
            while pending:
                message = pending.pop(0)["message"]
                if message["type"] == notification_type:
                    return message["payload"]
            pending.extend(self.recv_notifications(ws))
        self.fail(f"no {notification_type} received")

    def assert_nothing_from_channels(self, ws, user, channels=()):
        """Wake the sockets of ``channels`` and send a marker to ``user``'s
        partner, in one go: whatever the socket receives before the marker
        must not be channel traffic. (The test thread shares its database
        cursor with the server threads: all writes happen before the wake.)"""
        self.env["bus.bus"]._sendone(user.partner_id, MARKER, {})
        self.trigger_notification_dispatching([*channels, user.partner_id])
        received = [n["message"] for n in self._pending.pop(ws, [])]
        for _frame in range(20):
            if any(message["type"] == MARKER for message in received):
                break
            received.extend(n["message"] for n in self.recv_notifications(ws))
        leaked = [message for message in received if message["type"] in CHANNEL_TYPES]
        self.assertEqual(leaked, [])
        self.assertIn(MARKER, [message["type"] for message in received])

    def build_channel_list(self, user, names):
        """``ir.websocket._build_bus_channel_list`` as in a ``subscribe`` of
        ``user`` on a stock socket."""
        with websocket_request(self.env, user):
            return self.env["ir.websocket"].with_user(user)._build_bus_channel_list(list(names))

    def count_queries(self, func):
        """(number of SQL queries ``func()`` ran, its result)"""
        before = self.env.cr.sql_log_count
        result = func()
        return self.env.cr.sql_log_count - before, result

    # ------------------------------------------------------------------
    # Authorization of the requested channels
    # ------------------------------------------------------------------

    def test_subscribe_checks_every_id_in_one_query(self):
        publics = self.env["bus_mobile.channel"]
        for n in range(100):
            publics |= self.make_channel(f"Public {n}", "public", self.bob)
        others = self.make_channel("Others", "private", self.bob)
        one = [f"bus_mobile.channel_{publics[0].id}"]
        hundred = [f"bus_mobile.channel_{channel.id}" for channel in publics]
        noise = [
            f"bus_mobile.channel_{others.id}",
            "bus_mobile.channel_99999999",
            "bus_mobile.channel_x",
            "bus_mobile.channel_99999999999",
            "bus_mobile.anything",
        ]
        self.build_channel_list(self.alice, hundred + noise)  # warm the caches
        none, _channels = self.count_queries(lambda: self.build_channel_list(self.alice, []))
        count, small = self.count_queries(lambda: self.build_channel_list(self.alice, one + noise))
        self.assertEqual(count, none)
        count, large = self.count_queries(
            lambda: self.build_channel_list(self.alice, hundred + noise)
        )
        self.assertEqual(count, none)
        if "discuss.channel" not in self.env:
            # Without mail, stock adds no query of its own: this is ours.
            self.assertEqual(none, 1)
        Channel = self.env["bus_mobile.channel"]

        def mobile_channels(channels):
            return Channel.union(*[c for c in channels if isinstance(c, type(Channel))])

        mine = self.private | self.public
        self.assertEqual(mobile_channels(small), mine | publics[0])
        self.assertEqual(mobile_channels(large), mine | publics)
        self.assertFalse([c for c in large if isinstance(c, str) and c.startswith("bus_mobile.")])
        Partner = type(self.alice.partner_id)
        self.assertIn(self.alice.partner_id, [c for c in large if isinstance(c, Partner)])
        # Portal users get their channels, never a public one.
        paul_list = self.build_channel_list(self.paul, hundred)
        self.assertEqual(mobile_channels(paul_list), self.private)

    def test_config_lists_member_channels(self):
        others = self.make_channel("Others", "private", self.bob)
        config = self.rpc(self.bob, "/bus_mobile/config")
        self.assertEqual(
            sorted(config["channels"]),
            sorted(f"bus_mobile.channel_{c.id}" for c in self.private | others),
        )
        self.assertEqual(self.rpc(self.carol, "/bus_mobile/config")["channels"], [])

    # ------------------------------------------------------------------
    # Real sockets
    # ------------------------------------------------------------------

    def _check_member_receives_posts_live(self, mobile):
        ws = self.connect(self.bob, mobile=mobile)  # auto-subscribed: a member
        message = self.post(self.alice, self.private, "live")
        self.trigger_notification_dispatching([self.private])
        self.assertEqual(self.receive(ws, "bus_mobile/message"), message)
        self.rpc(self.alice, "/bus_mobile/typing", channel_id=self.private.id, is_typing=True)
        self.trigger_notification_dispatching([self.private])
        self.assertEqual(
            self.receive(ws, "bus_mobile/typing"),
            {
                "channel_id": self.private.id,
                "partner_id": self.alice.partner_id.id,
                "is_typing": True,
            },
        )

    def test_member_receives_posts_live(self):
        self._check_member_receives_posts_live(mobile=True)

    def test_member_receives_posts_live_on_stock_socket(self):
        self._check_member_receives_posts_live(mobile=False)

    def _check_non_member_receives_nothing(self, mobile):
        guesses = [f"bus_mobile.channel_{n}" for n in range(self.private.id + 50)]
        ws = self.connect(self.carol, guesses, mobile=mobile)
        self.post(self.alice, self.private, "secret")
        self.rpc(self.bob, "/bus_mobile/typing", channel_id=self.private.id, is_typing=True)
        self.assert_nothing_from_channels(ws, self.carol, [self.private])

    def test_non_member_receives_nothing(self):
        self._check_non_member_receives_nothing(mobile=True)

    def test_non_member_receives_nothing_on_stock_socket(self):
        self._check_non_member_receives_nothing(mobile=False)

    def test_public_channel_by_name(self):
        name = f"bus_mobile.channel_{self.public.id}"
        carol_ws = self.connect(self.carol, [name])  # internal, not a member
        paul_ws = self.connect(self.paul, [name])  # portal: refused
        message = self.post(self.alice, self.public, "hello all")
        self.trigger_notification_dispatching([self.public])
        self.assertEqual(self.receive(carol_ws, "bus_mobile/message"), message)
        self.assert_nothing_from_channels(paul_ws, self.paul, [self.public])

    def test_portal_member_sends_and_receives(self):
        paul_ws = self.connect(self.paul)
        bob_ws = self.connect(self.bob)
        from_bob = self.post(self.bob, self.private, "to the portal")
        self.trigger_notification_dispatching([self.private])
        self.assertEqual(self.receive(paul_ws, "bus_mobile/message"), from_bob)
        self.assertEqual(self.receive(bob_ws, "bus_mobile/message"), from_bob)
        from_paul = self.post(self.paul, self.private, "from the portal")
        self.trigger_notification_dispatching([self.private])
        self.assertEqual(self.receive(bob_ws, "bus_mobile/message"), from_paul)
        self.assertEqual(self.receive(paul_ws, "bus_mobile/message"), from_paul)

    def _check_leaving_stops_notifications(self, mobile):
        ws = self.connect(self.bob, mobile=mobile)
        self.post(self.alice, self.private, "before")
        self.trigger_notification_dispatching([self.private])
        self.receive(ws, "bus_mobile/message")
        self.rpc(self.bob, "/bus_mobile/channel/leave", channel_id=self.private.id)
        self.trigger_notification_dispatching([self.bob.partner_id, self.private])
        event = self.receive(ws, "bus_mobile/channel")
        self.assertEqual(event["event"], "member_removed")
        self.assertEqual(event["partner_ids"], [self.bob.partner_id.id])
        self.post(self.alice, self.private, "after")
        self.rpc(self.alice, "/bus_mobile/typing", channel_id=self.private.id, is_typing=True)
        self.assert_nothing_from_channels(ws, self.bob, [self.private])
        # Back in the channel: the same socket, never re-subscribed, gets it
        # again (a stock socket may first get the channel's notifications of
        # the last seconds it missed, which a member may read).
        self.private.member_ids = [Command.create({"partner_id": self.bob.partner_id.id})]
        message = self.post(self.alice, self.private, "welcome back")
        self.trigger_notification_dispatching([self.private])
        received = self.receive(ws, "bus_mobile/message")
        if received["body"] == "after" and not mobile:
            received = self.receive(ws, "bus_mobile/message")
        self.assertEqual(received, message)

    def test_leaving_stops_notifications_without_reconnect(self):
        self._check_leaving_stops_notifications(mobile=True)

    def test_leaving_stops_notifications_on_stock_socket(self):
        self._check_leaving_stops_notifications(mobile=False)

    def _check_removed_member_stops_receiving(self, mobile):
        ws = self.connect(self.paul, mobile=mobile)
        self.private.member_ids.filtered(lambda m: m.partner_id == self.paul.partner_id).unlink()
        self.post(self.alice, self.private, "without paul")
        self.assert_nothing_from_channels(ws, self.paul, [self.private])

    def test_removed_member_stops_receiving(self):
        self._check_removed_member_stops_receiving(mobile=True)

    def test_removed_member_stops_receiving_on_stock_socket(self):
        self._check_removed_member_stops_receiving(mobile=False)

    def test_added_member_is_told_and_resubscribes(self):
        ws = self.connect(self.carol)
        self.rpc(
            self.alice,
            "/bus_mobile/channel/add_members",
            channel_id=self.private.id,
            partner_ids=[self.carol.partner_id.id],
        )
        self.trigger_notification_dispatching([self.carol.partner_id])
        event = self.receive(ws, "bus_mobile/channel")
        self.assertEqual(event["event"], "member_added")
        self.assertEqual(event["channel"]["id"], self.private.id)
        self.subscribe(ws, [], self.bus_mark())
        message = self.post(self.bob, self.private, "welcome")
        self.trigger_notification_dispatching([self.private])
        self.assertEqual(self.receive(ws, "bus_mobile/message"), message)

    def test_peek_notifications_route_follows_the_same_rule(self):
        """Stock's HTTP fallback of the socket (``/websocket/peek_notifications``)
        subscribes and polls through the same overrides."""
        last = self.bus_mark()
        self.post(self.alice, self.private, "peeked")
        names = [f"bus_mobile.channel_{n}" for n in range(self.private.id + 5)]

        def peek(user):
            result = self.rpc(
                user, "/websocket/peek_notifications", channels=names, last=last, is_first_poll=True
            )
            return [
                n["message"]["payload"]
                for n in result["notifications"]
                if n["message"]["type"] == "bus_mobile/message"
            ]

        self.assertEqual([m["body"] for m in peek(self.bob)], ["peeked"])
        self.assertEqual(peek(self.paul), peek(self.bob))
        self.assertEqual(peek(self.carol), [])
        self.assertEqual(peek(self.pia), [])
        self.rpc(self.bob, "/bus_mobile/channel/leave", channel_id=self.private.id)
        self.assertEqual(peek(self.bob), [])

    def test_arbitrary_string_channels(self):
        """The mobile socket drops string channels it does not grant; stock
        /websocket keeps stock behaviour."""
        mobile_ws = self.connect(self.carol, ["chan_secret_room"])
        stock_ws = self.connect(self.carol, ["chan_secret_room"], mobile=False)
        self.env["bus.bus"]._sendone("chan_secret_room", "bus_mobile/message", {"x": 1})
        self.trigger_notification_dispatching(["chan_secret_room"])
        self.assertEqual(self.receive(stock_ws, "bus_mobile/message"), {"x": 1})
        self.assert_nothing_from_channels(mobile_ws, self.carol)
