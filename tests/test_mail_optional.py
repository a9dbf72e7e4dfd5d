"""Discuss needs mail, which the addon does not depend on: on a bus-only
database every Discuss route refuses with an error naming the module; with
mail they answer. Both databases run this file. Also the pure functions
behind the Discuss dicts (discuss/compose.py, discuss/shape.py)."""

import json

import requests

from odoo.tests import BaseCase, HttpCase, tagged

from ..discuss.compose import text_to_html
from ..discuss.shape import html_to_text, message_dicts
from .auth_common import AuthCallsMixin

PREFIX = "/bus_mobile/discuss/"
JSON_ROUTES = [
    ("channels", {}),
    ("channel", {"channel_id": 1}),
    ("chat", {"partner_id": 1}),
    ("group/create", {"partner_ids": []}),
    ("channel/add_members", {"channel_id": 1, "partner_ids": []}),
    ("channel/join", {"channel_id": 1}),
    ("channel/leave", {"channel_id": 1}),
    ("messages", {"channel_id": 1}),
    ("sync", {"cursor": 0}),
    ("message/post", {"channel_id": 1, "body": "x", "client_uuid": "u"}),
    ("message/edit", {"message_id": 1, "body": "x"}),
    ("message/delete", {"message_id": 1}),
    ("message/react", {"message_id": 1, "content": "👍", "action": "add"}),
    ("mark_read", {"channel_id": 1, "message_id": 1}),
    ("typing", {"channel_id": 1, "is_typing": True}),
    ("partners", {"search": "a"}),
    ("mute", {"channel_id": 1, "minutes": 0}),
    ("notifications", {"channel_id": 1, "setting": None}),
]
UNAVAILABLE = "the mail module is not installed"


@tagged("post_install", "-at_install")
class TestDiscussNeedsMail(AuthCallsMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.env["res.users"].create(
            {"login": "optional_ann", "password": "optional_ann", "name": "Ann"}
        )
        cls.has_mail = "discuss.channel" in cls.env

    def test_every_route_answers_as_the_database_allows(self):
        """Without mail: each route names the missing module, nothing is
        written; with mail: the config says Discuss is there and the
        conversations list answers."""
        token = self.api_key(self.user)
        config = self.result("/bus_mobile/config", token=token)["discuss"]
        if self.has_mail:
            self.assertTrue(config["available"])
            self.assertIn("channels", self.result(PREFIX + "channels", token=token))
            return
        self.assertEqual(
            config, {"available": False, "reason": "The mail module is not installed."}
        )
        self.env.cr.execute("SELECT count(*) FROM bus_mobile_discuss_post")
        keys_before = self.env.cr.fetchone()[0]
        for route, params in JSON_ROUTES:
            with self.subTest(route=route):
                self.assert_error("odoo.exceptions.UserError", PREFIX + route, params, token=token)
                _status, _result, error = self.call(PREFIX + route, params, token=token)
                self.assertIn(UNAVAILABLE, error["data"]["message"])
        self.env.flush_all()
        for method, path, kw in (
            (
                "POST",
                "attachment/upload",
                {"files": {"ufile": ("a.txt", b"x")}, "data": {"channel_id": "1"}},
            ),
            ("GET", "channel/1/attachment/1", {}),
            ("GET", "channel/1/image/1/8x8", {}),
        ):
            with self.subTest(path=path):
                response = requests.request(
                    method,
                    f"{self.base_url()}{PREFIX}{path}",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                    **kw,
                )
                self.assertEqual(response.status_code, 400, response.text[:300])
                error = response.json()["error"]
                self.assertEqual(error["name"], "odoo.exceptions.UserError")
                self.assertIn(UNAVAILABLE, error["message"])
        self.env.cr.execute("SELECT count(*) FROM bus_mobile_discuss_post")
        self.assertEqual(self.env.cr.fetchone()[0], keys_before)


class TestComposeAndShape(BaseCase):
    """The web composer's HTML from plain text, and back; mail's Store data
    to a message dict. No database."""

    def test_text_to_html_as_the_web_composer(self):
        html = text_to_html(
            "  <b>Hi</b> @Bob Brown & @Bob Brown\r\n\r\n\r\nsee www.odoo.com, or https://x.org/a?b=1.\n",
            [(7, "Bob Brown"), (8, "Nobody")],
        )
        self.assertEqual(
            str(html),
            "&lt;b&gt;Hi&lt;/b&gt; "
            '<a href="/odoo/res.partner/7" class="o_mail_redirect" data-oe-id="7" '
            'data-oe-model="res.partner" target="_blank" contenteditable="false">@Bob Brown</a>'
            " &amp; @Bob Brown<br><br>see "
            '<a target="_blank" rel="noreferrer noopener" href="http://www.odoo.com">www.odoo.com</a>'
            ", or "
            '<a target="_blank" rel="noreferrer noopener" href="https://x.org/a?b=1">https://x.org/a?b=1</a>.',
        )

    def test_a_mention_name_is_escaped_and_never_injects(self):
        html = str(text_to_html('@<img src=x onerror="1">', [(3, '<img src=x onerror="1">')]))
        self.assertNotIn("<img", html)
        self.assertIn("@&lt;img src=x onerror=&#34;1&#34;&gt;</a>", html)

    def test_html_to_text(self):
        self.assertEqual(
            html_to_text(
                "<p>a<br>b &amp; &lt;c&gt;&nbsp;d</p>\n   <p>e  f</p><ul><li>g</li><li>h</li></ul>"
                "<p>i<br><br><br><br>j</p>"
            ),
            "a\nb & <c> d\ne f\ng\nh\ni\n\nj",
        )
        self.assertEqual(html_to_text(""), "")
        self.assertEqual(html_to_text("<span class='o-mail-Message-edited'/>"), "")

    def test_text_round_trips(self):
        for text in ("hello", "a\nb", "a\n\nb", "x < y & z", "@Bob Brown, look", "  trimmed  "):
            with self.subTest(text=text):
                self.assertEqual(html_to_text(text_to_html(text, [(7, "Bob Brown")])), text.strip())

    def test_message_dict_from_store_data(self):
        data = json.loads(
            """{
            "MessageReactions": [{"content": "👍", "count": 2, "message": 14, "sequence": 1,
                "personas": [{"id": 9, "type": "partner"}, {"id": 3, "type": "guest"}]}],
            "ir.attachment": [{"id": 41, "mimetype": "image/png", "name": "x.png", "size": 8}],
            "mail.guest": [{"id": 3, "name": "Guest"}],
            "mail.message": [
              {"id": 14, "author": {"id": 10, "type": "partner"}, "attachment_ids": [41],
               "body": "<p>reply @Alice<span class='o-mail-Message-edited'></span></p>",
               "create_date": "2026-12-06 17:03:29", "message_type": "comment",
               "parentMessage": 13, "reactions": [{"message": 14, "content": "👍"}],
               "recipients": [{"id": 9, "type": "partner"}],
               "thread": {"id": 4, "model": "discuss.channel"}},
              {"id": 13, "author": {"id": 9, "type": "partner"}, "attachment_ids": [],
               "body": "<p>hi</p>",
               "create_date": "2026-12-06 17:03:28", "message_type": "comment",
               "thread": {"id": 4, "model": "discuss.channel"}}],
            "res.partner": [{"id": 9, "name": "Alice"}, {"id": 10, "name": "Bob"}]
            }"""
        )
        [message] = message_dicts(data, [14], {14: "uuid-1"})
        self.assertEqual(
            message,
            {
                "id": 14,
                "thread": {"model": "discuss.channel", "id": 4},
                "message_type": "comment",
                "author_id": 10,
                "author_name": "Bob",
                "body": "reply @Alice",
                "body_html": "<p>reply @Alice<span class='o-mail-Message-edited'></span></p>",
                "create_date": "2026-12-06T17:03:29Z",
                "edited": True,
                "attachments": [
                    {
                        "id": 41,
                        "name": "x.png",
                        "mimetype": "image/png",
                        "size": 8,
                        "url": "/bus_mobile/discuss/channel/4/attachment/41",
                        "image_url": "/bus_mobile/discuss/channel/4/image/41",
                    }
                ],
                "parent": {"id": 13, "author_id": 9, "author_name": "Alice", "body": "hi"},
                "reactions": [{"content": "👍", "count": 2, "partner_ids": [9]}],
                "mentions": [{"partner_id": 9, "name": "Alice"}],
                "client_uuid": "uuid-1",
            },
        )
        self.assertEqual([m["id"] for m in message_dicts(data)], [14, 13])
