"""With ``mail`` installed, Discuss reaches the mobile socket as it reaches
Odoo's web client: the same notifications (a user's channels' messages,
presence), through the same dispatcher and the same authorization.

``make test`` runs this file in its Odoo test run on a database with mail
(and leaves it out of the run on a bus-only database).
"""

import unittest

from odoo import Command
from odoo.tests import tagged

from ..tools.channels import PRESENCE_SUBCHANNELS
from .common import MobileWebsocketCase

NEW_MESSAGE = "discuss.channel/new_message"
IM_STATUS = "bus.bus/im_status_updated"
MARKER = "bus_mobile/test_marker"


@tagged("post_install", "-at_install")
class TestDiscussOnMobileSocket(MobileWebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "discuss.channel" not in cls.env:
            raise unittest.SkipTest("needs mail: make test runs it on its database with mail")
        cls.alice = cls.make_user("discuss_alice", name="Alice")
        cls.bob = cls.make_user("discuss_bob", name="Bob")
        cls.carol = cls.make_user("discuss_carol", name="Carol")
        cls.paula = cls.make_user("discuss_paula", name="Paula", groups="base.group_portal")
        cls.pia = cls.make_user("discuss_pia", name="Pia", groups="base.group_portal")
        Channel = cls.env["discuss.channel"]
        # Alice's conversation with Bob (and Paula, a portal user).
        cls.team = Channel.create(
            {
                "name": "team",
                "channel_type": "group",
                "channel_member_ids": [
                    Command.create({"partner_id": user.partner_id.id})
                    for user in (cls.alice, cls.bob, cls.paula)
                ],
            }
        )
        # Conversations Alice is not in: private, and public (any internal
        # user may open it in Discuss and join it).
        cls.others = Channel.create(
            {
                "name": "others",
                "channel_type": "group",
                "channel_member_ids": [
                    Command.create({"partner_id": user.partner_id.id})
                    for user in (cls.bob, cls.carol)
                ],
            }
        )
        cls.lobby = Channel.create(
            {
                "name": "lobby",
                "channel_type": "channel",
                "group_public_id": cls.env.ref("base.group_user").id,
                "channel_member_ids": [Command.create({"partner_id": cls.bob.partner_id.id})],
            }
        )

    def setUp(self):
        super().setUp()
        self._pending = {}  # socket -> notifications received, not read yet

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    def mobile(self, user, channels=()):
        ws = self.mobile_connect(cookie=self.session_cookie(user.login), ping_after_connect=True)
        self.subscribe(ws, list(channels), self.bus_mark())
        return ws

    def web_client(self, user, channels=()):
        """Stock ``/websocket``, as Odoo's web client opens it."""
        ws = self.websocket_connect(cookie=self.session_cookie(user.login))
        self.subscribe(ws, list(channels), self.bus_mark())
        return ws

    def post(self, user, channel, body):
        message = channel.with_user(user).message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.trigger_notification_dispatching([channel])
        return message

    def receive(self, ws, predicate, what):
        """The next notification ``predicate`` accepts (the others before
        it are dropped, those after it kept)."""
        pending = self._pending.setdefault(ws, [])
        for _frame in range(30):
            while pending:
                notification = pending.pop(0)
                if predicate(notification):
                    return notification
            pending.extend(self.recv_notifications(ws))
        self.fail(f"no {what} received")

    def receive_new_message(self, ws, channel):
        return self.receive(
            ws,
            lambda n: n["message"]["type"] == NEW_MESSAGE
            and n["message"]["payload"]["id"] == channel.id,
            f"{NEW_MESSAGE} of {channel.name}",
        )

    def messages_before_marker(self, ws, user):
        """Send a marker to ``user``; return the messages of the
        notifications ``ws`` receives before it."""
        self.env["bus.bus"]._sendone(user.partner_id, MARKER, {})
        self.trigger_notification_dispatching([user.partner_id])
        received = []
        while True:
            message = self.receive(ws, lambda n: True, "the marker")["message"]
            if message["type"] == MARKER:
                return received
            received.append(message)

    def discuss_messages_before_marker(self, ws, user):
        """Send a marker to ``user``; return the ``new_message``
        notifications ``ws`` receives before it (the writes happened
        before, in the same transaction)."""
        self.env["bus.bus"]._sendone(user.partner_id, MARKER, {})
        self.trigger_notification_dispatching([user.partner_id])
        received = []
        while True:
            notification = self.receive(ws, lambda n: True, "the marker")
            if notification["message"]["type"] == MARKER:
                return received
            if notification["message"]["type"] == NEW_MESSAGE:
                received.append(notification["message"]["payload"]["id"])

    # ------------------------------------------------------------------
    # tests
    # ------------------------------------------------------------------

    def test_member_gets_channel_messages_as_the_web_client_does(self):
        phone = self.mobile(self.alice)
        browser = self.web_client(self.alice)
        message = self.post(self.bob, self.team, "Hello from Discuss")
        on_phone = self.receive_new_message(phone, self.team)
        in_browser = self.receive_new_message(browser, self.team)
        self.assertEqual(on_phone, in_browser)
        self.assertIn(
            message.id,
            [m["id"] for m in on_phone["message"]["payload"]["data"]["mail.message"]],
        )

    def test_portal_member_receives_channel_messages(self):
        phone = self.mobile(self.paula)
        message = self.post(self.bob, self.team, "to the portal")
        received = self.receive_new_message(phone, self.team)
        self.assertIn(
            message.id,
            [m["id"] for m in received["message"]["payload"]["data"]["mail.message"]],
        )

    def test_channels_of_others_never_arrive(self):
        """Neither a private conversation of others (even asked for by name)
        nor a public channel one did not join: nothing of them reaches the
        socket, while one's own channel does."""
        asked = [f"discuss.channel_{self.others.id}"]
        phone = self.mobile(self.alice, asked)
        browser = self.web_client(self.alice, asked)
        self.post(self.bob, self.others, "private, not for Alice")
        self.post(self.bob, self.lobby, "public, Alice did not join")
        self.post(self.bob, self.team, "for Alice")
        for ws in (phone, browser):
            self.assertEqual(self.discuss_messages_before_marker(ws, self.alice), [self.team.id])

    def test_leaving_then_subscribing_again_stops_the_channel(self):
        """As in the web client: mail tells the socket
        (``discuss.channel/leave``), the app subscribes again, and the
        channel's messages stop."""
        phone = self.mobile(self.alice)
        self.post(self.bob, self.team, "before")
        self.receive_new_message(phone, self.team)
        self.team.with_user(self.alice).action_unfollow()
        self.trigger_notification_dispatching([self.alice.partner_id])
        self.receive(
            phone, lambda n: n["message"]["type"] == "discuss.channel/leave", "the leave event"
        )
        self.subscribe(phone, [], self.bus_mark())
        self.post(self.bob, self.team, "after")
        self.assertEqual(self.discuss_messages_before_marker(phone, self.alice), [])

    def test_im_status_reaches_watchers_as_in_the_web_client(self):
        """Presence (``bus.bus/im_status_updated``) of a partner one may
        watch: an internal user anyone; a portal user (mail's rule) the
        members of their Discuss channels only. Apps get
        ``bus_mobile/presence`` too, the web client stock's alone."""
        presence = [f"odoo-presence-res.partner_{self.bob.partner_id.id}"]
        phone = self.mobile(self.alice, presence)
        browser = self.web_client(self.alice, presence)
        portal_phone = self.mobile(self.paula, presence)  # shares "team" with Bob
        stranger_phone = self.mobile(self.pia, presence)  # shares nothing
        self.env["bus.presence"].create({"user_id": self.bob.id, "status": "online"})
        self.trigger_notification_dispatching(
            [(self.bob.partner_id, sub) for sub in PRESENCE_SUBCHANNELS]
        )
        status = {"im_status": "online", "partner_id": self.bob.partner_id.id}
        # Apps get ours too, before stock's; the browser only stock's.
        both = ["bus_mobile/presence", IM_STATUS]
        # The browser's socket thread reads the bus on this test's cursor
        # (stock's, not waited for by trigger_notification_dispatching):
        # wait for its frame before this thread uses the cursor again.
        self._pending.setdefault(browser, []).extend(self.recv_notifications(browser))
        watchers = {
            "phone": (phone, self.alice, both),
            "browser": (browser, self.alice, [IM_STATUS]),
            "portal phone": (portal_phone, self.paula, both),
            "stranger's phone": (stranger_phone, self.pia, []),
        }
        for name, (ws, user, told) in watchers.items():
            with self.subTest(socket=name):
                received = [
                    message
                    for message in self.messages_before_marker(ws, user)
                    if message["type"] in both
                ]
                self.assertEqual([message["type"] for message in received], told)
                for message in received:
                    self.assertEqual({key: message["payload"][key] for key in status}, status)
