"""The Discuss routes of apps (doc/discuss.md): what each one does in mail's
data, as the web client would see it. Only on the database with mail."""

import json

import requests

from odoo import http
from odoo.tests import tagged

from ..discuss.shape import TEMPORARY_ID_PREFIX, message_dicts
from .auth_common import new_totp_secret, totp_code
from .discuss_common import PREFIX, DiscussCase

NEW_MESSAGE = "discuss.channel/new_message"
RECORD_INSERT = "mail.record/insert"


@tagged("post_install", "-at_install")
class TestDiscussRoutes(DiscussCase):
    def test_two_factor_user_posts_with_a_device_token_and_no_cookie(self):
        self.alice.sudo().totp_secret = secret = new_totp_secret()
        first = self.device_login("dr_alice")
        self.assertEqual(first, {"totp_required": True})
        token = self.device_login("dr_alice", totp_code=totp_code(secret))["token"]
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"channel_id": self.team.id, "body": "from my phone", "client_uuid": "2fa-1"},
        }
        self.env.flush_all()
        response = requests.post(
            f"{self.base_url()}{PREFIX}message/post",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            timeout=30,
        )
        # No cookie was sent; the one Odoo hands out is not signed in.
        sid = response.cookies.get("session_id")
        if sid:
            self.assertIsNone(http.root.session_store.get(sid).uid)
        result = response.json()["result"]
        message = self.env["mail.message"].browse(result["id"])
        self.assertEqual(message.author_id, self.alice.partner_id)
        self.assertEqual((message.model, message.res_id), ("discuss.channel", self.team.id))
        self.assertEqual(str(message.body), "<p>from my phone</p>")
        self.assertEqual(result["body"], "from my phone")
        self.assertEqual(result["client_uuid"], "2fa-1")

    def test_post_is_what_the_web_composer_posts(self):
        """Plain text in; mail's HTML, mention links and notifications out:
        the mentioned partner is a recipient, the web user's unread counter
        grows, and the channel gets mail's new_message with our key."""
        mark = self.bus_mark()
        unread_before = self.member(self.bob, self.team).message_unread_counter
        result = self.post(
            self.alice,
            self.team,
            "Hi @Bob Brown <3\n\nsee www.odoo.com",
            "post-1",
            partner_ids=[self.bob.partner_id.id],
        )
        message = self.env["mail.message"].browse(result["id"])
        self.assertEqual(message.partner_ids, self.bob.partner_id)
        self.assertIn(f'data-oe-id="{self.bob.partner_id.id}"', str(message.body))
        self.assertIn("&lt;3<br><br>see", str(message.body))
        self.assertIn('href="http://www.odoo.com"', str(message.body))
        self.assertEqual(result["body"], "Hi @Bob Brown <3\n\nsee www.odoo.com")
        self.assertEqual(result["body_html"], str(message.body))
        self.assertEqual(
            result["mentions"], [{"partner_id": self.bob.partner_id.id, "name": "Bob Brown"}]
        )
        self.assertEqual(result["thread"], {"model": "discuss.channel", "id": self.team.id})
        self.assertEqual(
            (result["author_id"], result["author_name"]), (self.alice.partner_id.id, "Alice Anders")
        )
        self.assertEqual(self.member(self.bob, self.team).message_unread_counter, unread_before + 1)
        news = self.bus_rows(mark, NEW_MESSAGE)
        self.assertEqual(len(news), 1)
        channel, _type, payload = news[0]
        self.assertEqual(channel[1:3], ["discuss.channel", self.team.id])
        self.assertEqual(payload["data"]["mail.message"][0]["id"], result["id"])
        self.assertEqual(payload["temporary_id"], "bus_mobile:post-1")
        # One conversion: the socket's notification gives the route's dict.
        uuid = payload["temporary_id"].removeprefix(TEMPORARY_ID_PREFIX)
        self.assertEqual(
            message_dicts(payload["data"], client_uuids={result["id"]: uuid})[0], result
        )

    def test_reply_and_parent_of_another_conversation(self):
        first = self.web_post(self.bob, self.team, "question?")
        reply = self.post(self.alice, self.team, "answer", "reply-1", parent_id=first.id)
        self.assertEqual(
            reply["parent"],
            {
                "id": first.id,
                "author_id": self.bob.partner_id.id,
                "author_name": "Bob Brown",
                "body": "question?",
            },
        )
        self.assertEqual(self.env["mail.message"].browse(reply["id"]).parent_id, first)
        elsewhere = self.web_post(self.bob, self.others, "not Alice's")
        self.d_error(
            self.alice,
            "message/post",
            "MissingError",
            "is not in the conversation",
            channel_id=self.team.id,
            body="x",
            client_uuid="reply-2",
            parent_id=elsewhere.id,
        )

    def test_a_retried_post_lands_once(self):
        first = self.post(self.alice, self.team, "once", "retry-1")
        count = self.env["mail.message"].search_count([("res_id", "=", self.team.id)])
        again = self.post(self.alice, self.team, "once (retried after a timeout)", "retry-1")
        self.assertEqual(again, first)
        self.assertEqual(
            self.env["mail.message"].search_count([("res_id", "=", self.team.id)]), count
        )
        # The key is per author and conversation.
        other = self.post(self.bob, self.team, "mine", "retry-1")
        self.assertNotEqual(other["id"], first["id"])

    def test_history_pages_and_search(self):
        messages = [self.web_post(self.bob, self.team, f"message {n}") for n in range(12)]
        ids = [m.id for m in messages]
        page = self.d(self.alice, "messages", channel_id=self.team.id, limit=5)
        self.assertEqual([m["id"] for m in page["messages"]], ids[-5:])
        older = self.d(self.alice, "messages", channel_id=self.team.id, before=ids[-5], limit=5)
        self.assertEqual([m["id"] for m in older["messages"]], ids[-10:-5])
        newer = self.d(self.alice, "messages", channel_id=self.team.id, after=ids[3], limit=3)
        self.assertEqual([m["id"] for m in newer["messages"]], ids[4:7])
        around = self.d(self.alice, "messages", channel_id=self.team.id, around=ids[6], limit=4)
        self.assertEqual([m["id"] for m in around["messages"]], ids[5:9])
        found = self.d(self.alice, "messages", channel_id=self.team.id, search_term="message 1")
        self.assertEqual({m["id"] for m in found["messages"]}, {ids[1], ids[10], ids[11]})
        self.assertEqual(found["count"], 3)

    def test_edit_delete_and_reactions(self):
        result = self.post(self.alice, self.team, "typo", "edit-1")
        edited = self.d(
            self.alice,
            "message/edit",
            message_id=result["id"],
            body="fixed @Bob Brown",
            partner_ids=[self.bob.partner_id.id],
        )
        self.assertEqual(edited["body"], "fixed @Bob Brown")
        self.assertTrue(edited["edited"])
        self.assertEqual(edited["mentions"][0]["partner_id"], self.bob.partner_id.id)
        self.d_error(
            self.bob,
            "message/edit",
            "AccessError",
            "Only its author",
            message_id=result["id"],
            body="mine now",
        )
        reacted = self.d(
            self.bob, "message/react", message_id=result["id"], content="👍", action="add"
        )
        self.assertEqual(
            reacted["reactions"],
            [{"content": "👍", "count": 1, "partner_ids": [self.bob.partner_id.id]}],
        )
        self.d(self.alice, "message/react", message_id=result["id"], content="👍", action="add")
        removed = self.d(
            self.bob, "message/react", message_id=result["id"], content="👍", action="remove"
        )
        self.assertEqual(removed["reactions"][0]["partner_ids"], [self.alice.partner_id.id])
        self.d_error(self.bob, "message/delete", "AccessError", message_id=result["id"])
        deleted = self.d(self.alice, "message/delete", message_id=result["id"])
        self.assertEqual((deleted["body"], deleted["attachments"]), ("", []))
        self.assertTrue(self.env["mail.message"].browse(result["id"]).exists())

    def test_mark_read_moves_the_web_counters_and_seen_ticks(self):
        messages = [self.web_post(self.bob, self.team, f"unread {n}") for n in range(3)]
        self.assertEqual(self.member(self.alice, self.team).message_unread_counter, 3)
        mark = self.bus_mark()
        answer = self.d(self.alice, "mark_read", channel_id=self.team.id, message_id=messages[1].id)
        self.assertEqual(
            answer,
            {
                "thread": {"model": "discuss.channel", "id": self.team.id},
                "seen_message_id": messages[1].id,
                "unread_count": 1,
            },
        )
        member = self.member(self.alice, self.team)
        self.assertEqual(member.seen_message_id, messages[1])
        self.assertEqual(member.message_unread_counter, 1)
        seen = [
            payload
            for channel, _t, payload in self.bus_rows(mark, RECORD_INSERT)
            if channel[1:3] == ["discuss.channel", self.team.id]
        ]
        self.assertTrue(
            any(
                m.get("seen_message_id") == messages[1].id
                for payload in seen
                for m in payload.get("discuss.channel.member", [])
            ),
            seen,
        )

    def test_typing_reaches_the_conversation(self):
        mark = self.bus_mark()
        self.assertIsNone(self.d(self.alice, "typing", channel_id=self.team.id, is_typing=True))
        rows = self.bus_rows(mark, RECORD_INSERT)
        members = [m for _c, _t, payload in rows for m in payload.get("discuss.channel.member", [])]
        self.assertTrue(any(m.get("isTyping") is True for m in members), rows)
        self.assertEqual({tuple(c[1:3]) for c, _t, _p in rows}, {("discuss.channel", self.team.id)})

    def test_conversations_list_as_the_web_client(self):
        self.web_post(self.bob, self.team, "last one")
        chat = self.d(self.alice, "chat", partner_id=self.bob.partner_id.id)
        answer = self.d(self.alice, "channels")
        by_id = {c["id"]: c for c in answer["channels"]}
        self.assertIn(self.team.id, by_id)
        self.assertIn(chat["id"], by_id)
        self.assertNotIn(self.others.id, by_id)
        self.assertNotIn(self.lobby.id, by_id)
        team = by_id[self.team.id]
        self.assertEqual(team["last_message"]["body"], "last one")
        self.assertEqual(
            team["unread_count"], self.member(self.alice, self.team).message_unread_counter
        )
        self.assertEqual(
            {m["partner_id"] for m in team["members"]},
            set((self.alice | self.bob | self.paula).partner_id.ids),
        )
        self.assertEqual(by_id[chat["id"]]["name"], "Bob Brown")
        self.assertIsInstance(answer["sync_cursor"], int)

    def test_chat_group_members_leave_and_join(self):
        chat = self.d(self.alice, "chat", partner_id=self.carol.partner_id.id)
        self.assertEqual(chat["channel_type"], "chat")
        self.assertEqual(
            self.d(self.alice, "chat", partner_id=self.carol.partner_id.id)["id"], chat["id"]
        )
        self.d_error(self.alice, "chat", "ValidationError", partner_id=self.alice.partner_id.id)
        group = self.d(
            self.alice, "group/create", partner_ids=[self.bob.partner_id.id], name="trio"
        )
        self.assertEqual((group["channel_type"], group["name"]), ("group", "trio"))
        group = self.d(
            self.alice,
            "channel/add_members",
            channel_id=group["id"],
            partner_ids=[self.carol.partner_id.id],
        )
        self.assertEqual(group["member_count"], 3)
        self.assertEqual(
            self.d(self.carol, "channel/leave", channel_id=group["id"]),
            {"left": True, "thread": {"model": "discuss.channel", "id": group["id"]}},
        )
        self.assertFalse(self.member(self.carol, self.env["discuss.channel"].browse(group["id"])))
        self.d_error(self.alice, "channel", "AccessError", channel_id=self.lobby.id)
        joined = self.d(self.alice, "channel/join", channel_id=self.lobby.id)
        self.assertEqual(joined["id"], self.lobby.id)
        self.assertTrue(self.member(self.alice, self.lobby))
        # A private group of others cannot be joined.
        self.d_error(self.alice, "channel/join", "AccessError", channel_id=self.others.id)

    def test_people_to_chat_with(self):
        found = self.d(self.alice, "partners", search="Bob Br")
        self.assertEqual(
            found,
            [{"partner_id": self.bob.partner_id.id, "name": "Bob Brown", "im_status": "offline"}],
        )
        self.assertEqual(
            self.d(self.alice, "partners", search="Paula"), []
        )  # portal: not a colleague

    def test_mute_and_notification_setting(self):
        muted = self.d(self.alice, "mute", channel_id=self.team.id, minutes=-1)
        self.assertEqual(muted["mute_until"], "9999-12-31T23:59:59Z")
        self.assertTrue(self.member(self.alice, self.team).mute_until_dt)
        self.assertIsNone(
            self.d(self.alice, "mute", channel_id=self.team.id, minutes=0)["mute_until"]
        )
        later = self.d(self.alice, "mute", channel_id=self.team.id, minutes=60)["mute_until"]
        self.assertTrue(later.endswith("Z"))
        setting = self.d(self.bob, "notifications", channel_id=self.lobby.id, setting="mentions")
        self.assertEqual(setting["notifications"], "mentions")
        self.assertEqual(self.member(self.bob, self.lobby).custom_notifications, "mentions")
        reset = self.d(self.bob, "notifications", channel_id=self.lobby.id, setting=None)
        self.assertIsNone(reset["notifications"])

    def test_config_says_discuss_is_available(self):
        config = self.result("/bus_mobile/config", token=self.key(self.alice))
        self.assertEqual(
            config["discuss"], {"available": True, "upload_max_bytes": 25 * 1024 * 1024}
        )

    def test_portal_member_gets_what_mail_allows(self):
        result = self.post(
            self.paula,
            self.team,
            "from the portal @Carol Crane",
            "portal-1",
            partner_ids=[self.bob.partner_id.id, self.carol.partner_id.id],
        )
        # mail reduces a portal user's mentions to members.
        self.assertEqual([m["partner_id"] for m in result["mentions"]], [self.bob.partner_id.id])
        self.d(self.paula, "message/react", message_id=result["id"], content="🎉", action="add")
        self.d(self.paula, "mark_read", channel_id=self.team.id, message_id=result["id"])
        self.assertIn(self.team.id, [c["id"] for c in self.d(self.paula, "channels")["channels"]])
        self.d_error(
            self.paula, "group/create", "AccessError", partner_ids=[self.bob.partner_id.id]
        )
        self.d_error(
            self.paula,
            "channel/add_members",
            "AccessError",
            channel_id=self.team.id,
            partner_ids=[self.pia.partner_id.id],
        )

    def test_both_sides_see_each_other_on_their_sockets(self):
        """The web user's stock socket gets mail's new_message for a post
        of the app; the app's socket gets the web user's post."""
        web = self.websocket_connect(cookie=self.session_cookie("dr_bob"))
        self.subscribe(web, [], self.bus_mark())
        app = self.mobile_connect(cookie=self.session_cookie("dr_alice"), ping_after_connect=True)
        self.subscribe(app, [], self.bus_mark())
        from_app = self.post(self.alice, self.team, "from the app", "both-1")
        self.trigger_notification_dispatching([self.team])
        self.assertEqual(self.next_new_message(web, from_app["id"])["id"], self.team.id)
        from_web = self.web_post(self.bob, self.team, "from the web")
        self.trigger_notification_dispatching([self.team])
        payload = self.next_new_message(app, from_web.id)
        self.assertEqual(payload["id"], self.team.id)

    def next_new_message(self, ws, message_id):
        """The payload of mail's new_message of ``message_id`` on ``ws``."""
        for _frame in range(30):
            for notification in self.recv_notifications(ws):
                payload = notification["message"]["payload"]
                if (
                    notification["message"]["type"] == NEW_MESSAGE
                    and payload["data"]["mail.message"][0]["id"] == message_id
                ):
                    return payload
        self.fail(f"no new_message of {message_id} received")
