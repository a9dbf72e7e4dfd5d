"""Push for Discuss (doc/discuss.md, "Push"): mail's own recipients, through
the push outbox, sent by its cron to a fake Expo on loopback. Only on the
database with mail."""

import json
import uuid

from odoo import api
from odoo.tests import tagged

from .discuss_common import DiscussCase
from .fake_push_provider import FakePushProvider

CRON = "bus_mobile.ir_cron_bus_mobile_push_send"
NEW_MESSAGE = "discuss.channel/new_message"


def expo_token(name):
    return f"ExponentPushToken[{name}]"


@tagged("post_install", "-at_install")
class TestDiscussPush(DiscussCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakePushProvider().start()
        cls.addClassCleanup(cls.fake.stop)
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("bus_mobile.push_expo_base_url", cls.fake.expo_base_url)
        cls.chat = (
            cls.env["discuss.channel"].with_user(cls.alice).channel_get([cls.bob.partner_id.id])
        )

    def setUp(self):
        super().setUp()
        self.fake.reset()

    def device(self, user, name, state="offline"):
        """A device of ``user`` with an Expo token, ``offline`` or
        ``online``, whose app loaded its conversations (``channels``)."""
        self.d(user, "channels")
        Device = self.env["bus_mobile.device"].with_user(user)
        device_uuid = f"dev-{uuid.uuid4().hex[:12]}"
        device = Device._bus_mobile_register(device_uuid, "ios", push_token=expo_token(name))
        if state == "online":
            Device._bus_mobile_heartbeat(device_uuid, 0, "foreground")
        return device.sudo()

    def pushes(self, device=None):
        self.env.flush_all()
        domain = [("discuss_channel_id", "!=", False)]
        if device:
            domain.append(("device_id", "=", device.id))
        return self.env["bus_mobile.push"].sudo().search(domain, order="id")

    def run_cron(self):
        """The send cron's job, as Odoo's cron runner calls it."""
        with self.registry.cursor() as cr:
            api.Environment(cr, self.env.uid, {}).ref(CRON).method_direct_trigger()
        self.env.invalidate_all()

    def sent(self):
        return [m for r in self.fake.of_kind("expo_send") for m in r["body"]]

    def test_direct_message_to_an_offline_device_is_pushed_once(self):
        bob_phone = self.device(self.bob, "bob")
        alice_phone = self.device(self.alice, "alice")  # the author's own device
        mark = self.bus_mark()
        posted = self.post(self.alice, self.chat, "Lunch at noon?", "push-1")
        push = self.pushes()
        self.assertEqual(push.device_id, bob_phone)
        self.assertFalse(self.pushes(alice_phone))
        new_message = (
            self.env["bus.bus"].sudo().search([("id", ">", mark), ("message", "like", NEW_MESSAGE)])
        )
        self.assertEqual(
            (push.discuss_channel_id, push.discuss_message_id, push.bus_id),
            (self.chat.id, posted["id"], new_message.id),
        )
        self.run_cron()
        self.run_cron()
        sent = self.sent()
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["to"], expo_token("bob"))
        self.assertEqual((sent[0]["title"], sent[0]["body"]), ("Alice Anders", "Lunch at noon?"))
        self.assertEqual(
            sent[0]["data"],
            {
                "type": "bus_mobile/discuss_message",
                "thread_model": "discuss.channel",
                "thread_id": self.chat.id,
                "message_id": posted["id"],
                "bus_id": new_message.id,
                "count": 1,
            },
        )
        self.assertEqual(push.state, "sent")

    def test_an_online_device_gets_none(self):
        online = self.device(self.bob, "bob-online", "online")
        self.post(self.alice, self.chat, "you see it live", "push-2")
        self.assertFalse(self.pushes(online))

    def test_a_muted_conversation_gets_nothing(self):
        bob_phone = self.device(self.bob, "bob")
        paula_phone = self.device(self.paula, "paula")
        self.d(self.bob, "mute", channel_id=self.team.id, minutes=-1)
        self.post(self.alice, self.team, "team news", "push-3")
        self.assertEqual(self.pushes().device_id, paula_phone)
        self.assertFalse(self.pushes(bob_phone))

    def test_mentions_only_channel_pushes_mentions(self):
        """In a channel set to "mentions only", a plain message is not
        pushed and a mention is."""
        bob_phone = self.device(self.bob, "bob")
        self.d(self.alice, "channel/join", channel_id=self.lobby.id)
        self.d(self.bob, "notifications", channel_id=self.lobby.id, setting="mentions")
        self.post(self.alice, self.lobby, "plain news", "push-4")
        self.assertFalse(self.pushes(bob_phone))
        self.post(
            self.alice,
            self.lobby,
            "@Bob Brown look",
            "push-5",
            partner_ids=[self.bob.partner_id.id],
        )
        self.assertEqual(self.pushes().device_id, bob_phone)
        self.d(self.bob, "notifications", channel_id=self.lobby.id, setting="all")
        self.post(self.alice, self.lobby, "more plain news", "push-6")
        self.assertEqual(self.pushes(bob_phone).message_count, 2)

    def test_a_web_post_is_pushed_too_and_collapses(self):
        alice_phone = self.device(self.alice, "alice")
        self.web_post(self.bob, self.chat, "first from the web")
        self.web_post(self.bob, self.chat, "second from the web")
        push = self.pushes()
        self.assertEqual((push.device_id, push.message_count), (alice_phone, 2))
        self.run_cron()
        [sent] = self.sent()
        self.assertEqual(sent["title"], "Bob Brown")
        self.assertEqual(sent["body"], "2 new messages from Bob Brown")

    def test_group_push_names_the_author_and_privacy_mode_hides_it(self):
        self.device(self.bob, "bob")
        self.post(self.alice, self.team, "for the team", "push-7")
        self.run_cron()
        [sent] = self.sent()
        self.assertEqual((sent["title"], sent["body"]), ("team", "Alice Anders: for the team"))
        self.fake.reset()
        self.env["ir.config_parameter"].sudo().set_param("bus_mobile.push_data_only", "1")
        self.post(self.alice, self.team, "secret", "push-8")
        self.run_cron()
        [sent] = self.sent()
        self.assertNotIn("title", sent)
        self.assertNotIn("body", sent)
        self.assertNotIn("secret", json.dumps(sent))
        self.assertEqual(sent["data"]["thread_id"], self.team.id)

    def test_an_app_that_never_loaded_its_conversations_gets_none(self):
        """mail notifies only users with Discuss settings, made when its web
        client loads: the app's first ``channels`` does the same."""
        Device = self.env["bus_mobile.device"].with_user(self.paula)
        phone = Device._bus_mobile_register("paula-phone", "ios", push_token=expo_token("paula"))
        self.post(self.alice, self.team, "before", "push-9")
        self.assertFalse(self.pushes(phone))
        self.d(self.paula, "channels")
        self.post(self.alice, self.team, "after", "push-10")
        self.assertEqual(
            self.pushes(phone).discuss_message_id,
            self.env["mail.message"]
            .search([("model", "=", "discuss.channel"), ("res_id", "=", self.team.id)], limit=1)
            .id,
        )

    def test_system_lines_are_not_pushed(self):
        self.device(self.bob, "bob")
        self.d(
            self.alice,
            "channel/add_members",
            channel_id=self.team.id,
            partner_ids=[self.carol.partner_id.id],
        )
        self.assertFalse(self.pushes())

    def test_a_message_deleted_in_its_own_transaction_is_skipped(self):
        self.device(self.bob, "bob")
        message = self.chat.with_user(self.alice).message_post(
            body="oops", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        message.sudo().unlink()
        self.env.cr.precommit.run()  # writes mail's new_message notification
        self.assertFalse(self.pushes())
        self.env.cr.execute(
            "SELECT count(*) FROM bus_mobile_discuss_journal WHERE message_id = %s", [message.id]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
