"""Who may do what on the Discuss routes: members only, mail's rules for
portal users, over HTTP and on the socket. Only on the database with mail."""

from odoo.tests import tagged

from .discuss_common import PREFIX, DiscussCase

NEW_MESSAGE = "discuss.channel/new_message"
MARKER = "bus_mobile/test_marker"


@tagged("post_install", "-at_install")
class TestDiscussAccess(DiscussCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.message = cls.team.with_user(cls.bob).message_post(
            body="team only", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        cls.others_message = cls.others.with_user(cls.bob).message_post(
            body="others only", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        cls.lobby_message = cls.lobby.with_user(cls.bob).message_post(
            body="public", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        cls.env.cr.precommit.run()

    def counts(self):
        """What a refused call must not have written."""
        self.env.flush_all()
        counts = {}
        for table in (
            "mail_message",
            "mail_message_reaction",
            "discuss_channel_member",
            "bus_mobile_discuss_post",
            "ir_attachment",
        ):
            self.env.cr.execute(f"SELECT count(*) FROM {table}")  # fixed names
            counts[table] = self.env.cr.fetchone()[0]
        return counts

    def refused_calls(self, channel, message):
        """(route, params) of every JSON route on ``channel``/``message``."""
        return [
            ("channel", {"channel_id": channel.id}),
            ("messages", {"channel_id": channel.id}),
            ("message/post", {"channel_id": channel.id, "body": "intruder", "client_uuid": "x1"}),
            ("message/react", {"message_id": message.id, "content": "👍", "action": "add"}),
            ("message/edit", {"message_id": message.id, "body": "changed"}),
            ("message/delete", {"message_id": message.id}),
            ("mark_read", {"channel_id": channel.id, "message_id": message.id}),
            ("typing", {"channel_id": channel.id, "is_typing": True}),
            ("channel/add_members", {"channel_id": channel.id, "partner_ids": []}),
            ("channel/leave", {"channel_id": channel.id}),
            ("channel/join", {"channel_id": channel.id}),
            ("mute", {"channel_id": channel.id, "minutes": 10}),
            ("notifications", {"channel_id": channel.id, "setting": "all"}),
        ]

    def test_non_members_can_do_nothing_by_channel_or_message_id(self):
        before = self.counts()
        mark = self.bus_mark()
        for user in (self.carol, self.pia):
            for route, params in self.refused_calls(self.team, self.message):
                with self.subTest(user=user.login, route=route):
                    self.d_error(user, route, "AccessError", **params)
        # A member of one conversation cannot reach another's message.
        for route, params in self.refused_calls(self.others, self.others_message):
            if route != "channel/join":  # a private group: AccessError as well
                with self.subTest(user="alice", route=route):
                    self.d_error(self.alice, route, "AccessError", **params)
        # A public channel mail lets every employee read: members only here
        # too (joining it is the way in).
        for route, params in self.refused_calls(self.lobby, self.lobby_message):
            if route != "channel/join":
                with self.subTest(user="alice", route=route, channel="lobby"):
                    self.d_error(self.alice, route, "AccessError", "not a member", **params)
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.bus_rows(mark), [])

    def test_sync_and_lists_never_show_others_conversations(self):
        self.web_post(self.bob, self.others, "still others only")
        for user in (self.carol, self.pia, self.alice):
            channels = self.d(user, "channels")["channels"]
            synced = self.d(user, "sync", cursor=0)
            with self.subTest(user=user.login):
                if user != self.carol:
                    self.assertNotIn(self.others.id, [c["id"] for c in channels])
                if user != self.alice:
                    self.assertNotIn(self.team.id, [c["id"] for c in channels])
                for message in synced["messages"]:
                    self.assertIn(
                        user.partner_id,
                        self.env["discuss.channel"]
                        .browse(message["thread"]["id"])
                        .channel_member_ids.partner_id,
                    )

    def test_missing_and_non_discuss_ids(self):
        self.d_error(self.alice, "channel", "MissingError", channel_id=2**31 - 1)
        self.d_error(
            self.alice,
            "message/react",
            "MissingError",
            message_id=2**31 - 1,
            content="👍",
            action="add",
        )
        chatter = self.alice.partner_id.message_post(body="a note on a contact")
        self.d_error(
            self.alice,
            "message/edit",
            "MissingError",
            "Discuss message",
            message_id=chatter.id,
            body="x",
        )
        self.d_error(self.alice, "chat", "MissingError", partner_id=2**31 - 1)

    def test_attachments_only_for_members(self):
        upload = self.http(
            "POST",
            PREFIX + "attachment/upload",
            token=self.key(self.alice),
            data={"channel_id": str(self.team.id)},
            files={"ufile": ("note.txt", b"hello", "text/plain")},
        )
        self.assertEqual(upload.status_code, 200, upload.text)
        attachment_id = upload.json()["attachment"]["id"]
        posted = self.post(self.alice, self.team, "", "att-1", attachment_ids=[attachment_id])
        url = posted["attachments"][0]["url"]
        self.assertEqual(self.http("GET", url, token=self.key(self.bob)).content, b"hello")
        for user in (self.carol, self.pia):
            with self.subTest(user=user.login):
                self.assert_json_error(
                    self.http("GET", url, token=self.key(user)), 403, "AccessError"
                )
                refused = self.http(
                    "POST",
                    PREFIX + "attachment/upload",
                    token=self.key(user),
                    data={"channel_id": str(self.team.id)},
                    files={"ufile": ("x.txt", b"x", "text/plain")},
                )
                self.assert_json_error(refused, 403, "AccessError")
        # The attachment through a conversation it does not belong to.
        self.assert_json_error(
            self.http(
                "GET",
                f"{PREFIX}channel/{self.others.id}/attachment/{attachment_id}",
                token=self.key(self.bob),
            ),
            404,
            "MissingError",
        )
        # Another member cannot post Alice's upload, nor anyone post it twice.
        second = self.http(
            "POST",
            PREFIX + "attachment/upload",
            token=self.key(self.alice),
            data={"channel_id": str(self.team.id)},
            files={"ufile": ("two.txt", b"two", "text/plain")},
        ).json()["attachment"]["id"]
        self.d_error(
            self.bob,
            "message/post",
            "AccessError",
            "not uploads of yours",
            channel_id=self.team.id,
            body="mine",
            client_uuid="att-2",
            attachment_ids=[second],
        )
        self.d_error(
            self.alice,
            "message/post",
            "AccessError",
            "not uploads of yours",
            channel_id=self.team.id,
            body="again",
            client_uuid="att-3",
            attachment_ids=[attachment_id],
        )

    def test_socket_of_a_non_member_gets_nothing(self):
        """Typing, posts and reactions made through our routes reach the
        members' sockets, and never an outsider's, even one asking for the
        conversation by name."""
        asked = [f"discuss.channel_{self.team.id}"]
        member_ws = self.mobile_connect(
            cookie=self.session_cookie("dr_bob"), ping_after_connect=True
        )
        self.subscribe(member_ws, [], self.bus_mark())
        outsider_ws = self.mobile_connect(
            cookie=self.session_cookie("dr_carol"), ping_after_connect=True
        )
        self.subscribe(outsider_ws, asked, self.bus_mark())
        self.d(self.alice, "typing", channel_id=self.team.id, is_typing=True)
        posted = self.post(self.alice, self.team, "members only", "sock-1")
        self.d(self.alice, "message/react", message_id=posted["id"], content="👍", action="add")
        self.trigger_notification_dispatching([self.team])
        received = self.types_until_marker(member_ws, self.bob)
        self.assertIn(NEW_MESSAGE, received)
        self.assertIn("mail.record/insert", received)
        self.assertEqual(self.types_until_marker(outsider_ws, self.carol), [])

    def types_until_marker(self, ws, user):
        """Types of the notifications ``ws`` receives before a marker sent
        to ``user`` now (everything sent before it came first)."""
        self.env["bus.bus"]._sendone(user.partner_id, MARKER, {})
        self.trigger_notification_dispatching([user.partner_id])
        received = []
        for _frame in range(50):
            for notification in self.recv_notifications(ws):
                kind = notification["message"]["type"]
                if kind == MARKER:
                    return received
                if not kind.startswith("bus.bus/") and "presence" not in kind:
                    received.append(kind)
        self.fail("no marker received")
