"""Bad input on every Discuss route: a clear JSON-RPC error (or a JSON 4xx
on the HTTP routes) naming the problem, never a 500 or a traceback, and
nothing stored. Only on the database with mail."""

import json

from odoo.tests import tagged

from .discuss_common import PREFIX, DiscussCase

TOO_BIG = 2**31
# Nested lists the routes refuse by type; deeper JSON is refused as a whole
# before Odoo parses it (tests/test_hostile_input.py).
DEEP = json.loads("[" * 20 + "]" * 20)
LONE_SURROGATE = "\ud800"
WRONG_IDS = [
    ("1", "must be an integer"),
    (1.5, "must be an integer"),
    (True, "must be an integer"),
    (None, "must be an integer"),
    ([1], "must be an integer"),
    ({"id": 1}, "must be an integer"),
    (-1, "must be between"),
    (TOO_BIG, "must be between"),
    (10**30, "must be between"),
]


@tagged("post_install", "-at_install")
class TestDiscussBadInput(DiscussCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.message = cls.team.with_user(cls.alice).message_post(
            body="mine", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        cls.env.cr.precommit.run()

    def stored(self):
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT (SELECT count(*) FROM mail_message), (SELECT count(*) FROM ir_attachment),
                      (SELECT count(*) FROM bus_mobile_discuss_post),
                      (SELECT count(*) FROM bus_mobile_discuss_journal),
                      (SELECT count(*) FROM discuss_channel),
                      (SELECT count(*) FROM discuss_channel_member),
                      (SELECT count(*) FROM mail_message_reaction)"""
        )
        return self.env.cr.fetchone()

    def assert_refused(self, route, error, message_part, /, **params):
        with self.subTest(route=route, params=repr(params)[:80]):
            self.d_error(self.alice, route, error, message_part, **params)

    def test_wrong_ids_on_every_route(self):
        before = self.stored()
        c, m = self.team.id, self.message.id
        routes = [
            ("channel", "channel_id", {}),
            ("messages", "channel_id", {}),
            ("message/post", "channel_id", {"body": "x", "client_uuid": "u"}),
            ("message/edit", "message_id", {"body": "x"}),
            ("message/delete", "message_id", {}),
            ("message/react", "message_id", {"content": "👍", "action": "add"}),
            ("mark_read", "channel_id", {"message_id": m}),
            ("mark_read", "message_id", {"channel_id": c}),
            ("typing", "channel_id", {"is_typing": True}),
            ("chat", "partner_id", {}),
            ("channel/add_members", "channel_id", {"partner_ids": []}),
            ("channel/join", "channel_id", {}),
            ("channel/leave", "channel_id", {}),
            ("mute", "channel_id", {"minutes": 0}),
            ("notifications", "channel_id", {"setting": None}),
            ("sync", "cursor", {}),
            ("messages", "before", {"channel_id": c}),
            ("messages", "after", {"channel_id": c}),
            ("messages", "around", {"channel_id": c}),
            ("message/post", "parent_id", {"channel_id": c, "body": "x", "client_uuid": "u"}),
        ]
        for route, field, params in routes:
            for value, message in WRONG_IDS:
                if value is None and field in ("before", "after", "around", "parent_id"):
                    continue  # optional
                self.assert_refused(
                    route, "ValidationError", f"{field} {message}", **params, **{field: value}
                )
        self.assertEqual(self.stored(), before)

    def test_wrong_id_lists(self):
        before = self.stored()
        c = self.team.id
        lists = [
            ("message/post", "partner_ids", {"channel_id": c, "body": "x", "client_uuid": "u"}),
            ("message/post", "attachment_ids", {"channel_id": c, "body": "x", "client_uuid": "u"}),
            ("message/edit", "partner_ids", {"message_id": self.message.id, "body": "x"}),
            ("group/create", "partner_ids", {}),
            ("channel/add_members", "partner_ids", {"channel_id": c}),
        ]
        for route, field, params in lists:
            for value in ("1", 1, [True], [-1], [TOO_BIG], ["1"], DEEP, [DEEP]):
                self.assert_refused(route, "ValidationError", field, **params, **{field: value})
            self.assert_refused(
                route, "ValidationError", field, **params, **{field: list(range(1, 1002))}
            )
        self.assert_refused(
            "group/create", "ValidationError", "partner_ids", partner_ids=list(range(1, 102))
        )
        self.assert_refused(
            "message/post",
            "ValidationError",
            "attachment_ids",
            channel_id=c,
            body="x",
            client_uuid="u",
            attachment_ids=list(range(1, 22)),
        )
        self.assert_refused(
            "message/post",
            "MissingError",
            "partners do not exist",
            channel_id=c,
            body="x",
            client_uuid="u",
            partner_ids=[TOO_BIG - 1],
        )
        self.assert_refused(
            "message/post",
            "MissingError",
            "attachments do not exist",
            channel_id=c,
            body="x",
            client_uuid="u",
            attachment_ids=[TOO_BIG - 1],
        )
        self.assert_refused(
            "group/create", "MissingError", "partners do not exist", partner_ids=[TOO_BIG - 1]
        )
        self.assertEqual(self.stored(), before)

    def test_wrong_texts(self):
        before = self.stored()
        max_chars = self.env["ir.config_parameter"]._bus_mobile_settings()["max_body_chars"]
        c = self.team.id
        post = {"channel_id": c, "client_uuid": "u"}
        for body, part in (
            (None, "body"),
            (12, "body"),
            (["x"], "body"),
            ("x" * (max_chars + 1), "body"),
            ("a\x00b", "cannot be stored"),
            (f"a{LONE_SURROGATE}b", "cannot be stored"),
            ("", "empty"),
            ("  \n ", "empty"),
        ):
            self.assert_refused("message/post", "ValidationError", part, body=body, **post)
            self.assert_refused(
                "message/edit", "ValidationError", part, message_id=self.message.id, body=body
            )
        for client_uuid in (None, "", "  ", 5, "x" * 129, "a\x00", LONE_SURROGATE):
            self.assert_refused(
                "message/post",
                "ValidationError",
                "client_uuid",
                channel_id=c,
                body="x",
                client_uuid=client_uuid,
            )
        react = {"message_id": self.message.id}
        for content in (None, "", " ", 5, "x" * 33, "\x00", LONE_SURROGATE):
            self.assert_refused(
                "message/react",
                "ValidationError",
                "content",
                content=content,
                action="add",
                **react,
            )
        for action in (None, "toggle", 1, "ADD"):
            self.assert_refused(
                "message/react", "ValidationError", "action", content="👍", action=action, **react
            )
        for term in (5, "x" * 101, "\x00"):
            self.assert_refused(
                "messages", "ValidationError", "search_term", channel_id=c, search_term=term
            )
        for search in (None, 5, "x" * 101, f"{LONE_SURROGATE}"):
            self.assert_refused("partners", "ValidationError", "search", search=search)
        for name in (5, "x" * 101, "a\x00"):
            self.assert_refused(
                "group/create", "ValidationError", "name", partner_ids=[], name=name
            )
        for setting in ("loud", 5, True, ""):
            self.assert_refused(
                "notifications", "ValidationError", "setting", channel_id=c, setting=setting
            )
        self.assertEqual(self.stored(), before)

    def test_wrong_numbers_and_flags(self):
        before = self.stored()
        c = self.team.id
        for limit in (0, -1, -100, 101, 10**12, "10", 1.5, True):
            self.assert_refused("messages", "ValidationError", "limit", channel_id=c, limit=limit)
            self.assert_refused("sync", "ValidationError", "limit", cursor=0, limit=limit)
            self.assert_refused("partners", "ValidationError", "limit", search="a", limit=limit)
        for minutes in (-2, 525601, 10**12, "10", 1.5, True, None):
            self.assert_refused("mute", "ValidationError", "minutes", channel_id=c, minutes=minutes)
        for is_typing in ("yes", 1, None, []):
            self.assert_refused(
                "typing", "ValidationError", "is_typing", channel_id=c, is_typing=is_typing
            )
        self.assertEqual(self.stored(), before)

    def test_unknown_parameters_and_bad_params(self):
        self.assert_refused("message/post", "ValidationError", "channelId", channelId=self.team.id)
        status, _result, error = self.call(PREFIX + "channels", None, token=self.key(self.alice))
        self.assertEqual((status, error), (200, None))  # no params at all: fine
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": [1, 2]}
        response = self.http(
            "POST",
            PREFIX + "channels",
            token=self.key(self.alice),
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.check_rpc_error(response.json()["error"], "odoo.exceptions.ValidationError", "params")

    def test_huge_body_is_refused_before_posting(self):
        before = self.stored()
        self.assert_refused(
            "message/post",
            "ValidationError",
            "body",
            channel_id=self.team.id,
            body="x" * 2_000_000,
            client_uuid="huge",
        )
        self.assertEqual(self.stored(), before)
