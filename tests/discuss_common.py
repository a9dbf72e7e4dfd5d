"""What the Discuss route tests share (doc/discuss.md): users and
conversations of mail, and JSON-RPC with a bearer token (an API key, or a
device token where said). Only on the database with ``mail``."""

import json
import unittest

import requests

from odoo import Command

from .auth_common import AuthCallsMixin
from .common import MobileWebsocketCase

PREFIX = "/bus_mobile/discuss/"


class DiscussCase(AuthCallsMixin, MobileWebsocketCase):
    """Alice, Bob (internal) and Paula (portal) are in the group "team";
    Carol (internal) and Pia (portal) are in nothing of theirs; Bob and
    Carol are in "others"; "lobby" is a public channel of Bob's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "discuss.channel" not in cls.env:
            raise unittest.SkipTest("needs mail: make test runs it on its database with mail")
        cls.alice = cls.make_user("dr_alice", name="Alice Anders", email="alice@example.com")
        cls.bob = cls.make_user("dr_bob", name="Bob Brown", email="bob@example.com")
        cls.carol = cls.make_user("dr_carol", name="Carol Crane", email="carol@example.com")
        cls.paula = cls.make_user("dr_paula", name="Paula", groups="base.group_portal")
        cls.pia = cls.make_user("dr_pia", name="Pia", groups="base.group_portal")
        Channel = cls.env["discuss.channel"]
        # Created by a member: mail adds the creator (else OdooBot) to them.
        cls.team = cls.make_group("team", cls.alice | cls.bob | cls.paula)
        cls.others = cls.make_group("others", cls.bob | cls.carol)
        cls.lobby = Channel.with_user(cls.bob).create(
            {
                "name": "lobby",
                "channel_type": "channel",
                "group_public_id": cls.env.ref("base.group_user").id,
                "channel_member_ids": [Command.create({"partner_id": cls.bob.partner_id.id})],
            }
        )

    @classmethod
    def make_group(cls, name, users):
        """A group created by the first of ``users`` (mail adds the creator)."""
        return (
            cls.env["discuss.channel"]
            .with_user(users[0])
            .create(
                {
                    "name": name,
                    "channel_type": "group",
                    "channel_member_ids": [
                        Command.create({"partner_id": user.partner_id.id}) for user in users
                    ],
                }
            )
        )

    def setUp(self):
        super().setUp()
        self._keys = {}

    def key(self, user):
        """A bearer token of ``user`` (an API key, made once per test)."""
        if user not in self._keys:
            self._keys[user] = self.api_key(user)
        return self._keys[user]

    def d(self, user, route, /, **params):
        """The result of the Discuss route ``route`` as ``user`` (bearer)."""
        status, result, error = self.call(PREFIX + route, params, token=self.key(user))
        self.assertEqual(status, 200, error)
        self.assertIsNone(error, f"{route} {params}")
        self.env.invalidate_all()
        return result

    def d_error(self, user, route, error_name, message_part=None, /, **params):
        """``route`` as ``user`` fails with Odoo's ``error_name`` error (a
        short name, e.g. ``AccessError``); its message."""
        status, result, error = self.call(PREFIX + route, params, token=self.key(user))
        self.assertEqual(status, 200, error)
        self.assertIsNotNone(error, f"{route} {params} succeeded: {result}")
        full_name = error_name if "." in error_name else f"odoo.exceptions.{error_name}"
        message = self.check_rpc_error(error, full_name, message_part)
        self.env.invalidate_all()
        return message

    def post(self, user, channel, body, client_uuid, **params):
        return self.d(
            user,
            "message/post",
            channel_id=channel.id,
            body=body,
            client_uuid=client_uuid,
            **params,
        )

    def web_post(self, user, channel, body, **kw):
        """Post as the web client does (mail's message_post)."""
        message = channel.with_user(user).message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_comment", **kw
        )
        self.env.cr.precommit.run()
        return message

    def member(self, user, channel):
        self.env.invalidate_all()
        return self.env["discuss.channel.member"].search(
            [("channel_id", "=", channel.id), ("partner_id", "=", user.partner_id.id)]
        )

    def bus_rows(self, mark, notification_type=None):
        """[(channel, type, payload)] of the bus rows after ``mark``."""
        self.env.cr.precommit.run()
        rows = self.env["bus.bus"].sudo().search([("id", ">", mark)], order="id")
        result = []
        for row in rows:
            channel, message = json.loads(row.channel), json.loads(row.message)
            if notification_type in (None, message["type"]):
                result.append((channel, message["type"], message["payload"]))
        return result

    def http(self, method, path, token=None, **kw):
        """A plain HTTP request to the test server."""
        self.env.flush_all()
        headers = kw.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = requests.request(
            method, f"{self.base_url()}{path}", headers=headers, timeout=30, **kw
        )
        self.env.invalidate_all()
        return response

    def assert_json_error(self, response, status, name, message_part=None):
        """An HTTP route's JSON error: ``status`` and Odoo's ``name``."""
        self.assertEqual(response.status_code, status, response.text[:500])
        self.assertTrue(
            response.headers.get("Content-Type", "").startswith("application/json"), response.text
        )
        error = response.json()["error"]
        full_name = name if "." in name else f"odoo.exceptions.{name}"
        self.assertEqual(error["name"], full_name, error)
        self.assertNotIn("Traceback", error["message"])
        if message_part:
            self.assertIn(message_part, error["message"])
        return error["message"]
