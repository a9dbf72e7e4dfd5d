from contextlib import closing

from psycopg2 import errors as pgerrors

from odoo import SUPERUSER_ID, api, sql_db
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.fields import Command
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import ChannelCase


@tagged("post_install", "-at_install")
class TestMessage(ChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.private = cls.make_channel(
            "Private", "private", cls.alice | cls.bob | cls.paul | cls.pia
        )
        cls.public = cls.make_channel("Public", "public", cls.alice)

    def post(self, user, channel, body, client_uuid):
        return self.rpc(
            user,
            "/bus_mobile/message/post",
            channel_id=channel.id,
            body=body,
            client_uuid=client_uuid,
        )

    def test_post_returns_the_message_and_notifies_the_channel_once(self):
        mark = self.bus_mark()
        message = self.post(self.alice, self.private, "Hello\nworld", "c0ffee")
        record = self.env["bus_mobile.message"].browse(message["id"])
        self.assertEqual(
            message,
            {
                "id": record.id,
                "channel_id": self.private.id,
                "author_id": self.alice.partner_id.id,
                "author_name": "Alice",
                "body": "Hello\nworld",
                "client_uuid": "c0ffee",
                "create_date": record.create_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        # Four members, one notification, on the channel itself.
        self.assertEqual(
            self.bus_since(mark),
            [(("bus_mobile.channel", self.private.id), "bus_mobile/message", message)],
        )

    def test_post_is_idempotent(self):
        first = self.post(self.alice, self.private, "once", "uuid-1")
        mark = self.bus_mark()
        retry = self.post(self.alice, self.private, "once, retried", "uuid-1")
        self.assertEqual(retry, first)
        self.assertEqual(self.bus_since(mark), [], "a retry sends nothing")
        Message = self.env["bus_mobile.message"]
        self.assertEqual(Message.search_count([("client_uuid", "=", "uuid-1")]), 1)
        # The key is (channel, author, client_uuid).
        by_bob = self.post(self.bob, self.private, "same uuid", "uuid-1")
        self.assertNotEqual(by_bob["id"], first["id"])
        self.public.member_ids = [Command.create({"partner_id": self.bob.partner_id.id})]
        elsewhere = self.post(self.bob, self.public, "same uuid", "uuid-1")
        self.assertNotEqual(elsewhere["id"], by_bob["id"])
        self.assertEqual(Message.search_count([("client_uuid", "=", "uuid-1")]), 3)

    def test_client_uuid_is_unique_in_the_database(self):
        vals = {
            "channel_id": self.private.id,
            "author_id": self.alice.partner_id.id,
            "body": "x",
            "client_uuid": "dup",
        }
        self.env["bus_mobile.message"].create(vals)
        with self.assertRaises(pgerrors.UniqueViolation), mute_logger("odoo.sql_db"):
            self.env["bus_mobile.message"].create(vals)

    def test_post_checks_its_input(self):
        route = "/bus_mobile/message/post"
        self.env["ir.config_parameter"].set_param("bus_mobile.max_body_chars", "10")
        ok = {"channel_id": self.private.id, "client_uuid": "u1"}
        cases = [
            ({"body": "x" * 11}, "limit is 10"),
            ({"body": ""}, "empty"),
            ({"body": " \n\t"}, "empty"),
            ({"body": None}, "body must be a string"),
            ({"body": 42}, "body must be a string"),
            ({"body": ["hi"]}, "body must be a string"),
            ({"body": "a\x00b"}, "NUL"),
            ({"body": "hi", "client_uuid": None}, "client_uuid is required"),
            ({"body": "hi", "client_uuid": ""}, "client_uuid is required"),
            ({"body": "hi", "client_uuid": 123}, "client_uuid is required"),
            ({"body": "hi", "client_uuid": "u" * 129}, "128"),
            # Valid JSON, but a lone surrogate cannot be stored (UTF-8).
            ({"body": "a\ud800b"}, "body"),
            ({"body": "hi", "client_uuid": "u\udfff"}, "client_uuid"),
        ]
        for params, message in cases:
            with self.subTest(params=params):
                self.assert_rpc_error(
                    self.alice, route, ValidationError, message, **dict(ok, **params)
                )
        self.assert_rpc_error(
            self.alice,
            route,
            ValidationError,
            "client_uuid is required",
            channel_id=self.private.id,
            body="hi",
        )
        self.assertFalse(self.env["bus_mobile.message"].search([]))
        self.assertEqual(self.post(self.alice, self.private, "x" * 10, "u1")["body"], "x" * 10)

    def test_only_members_post(self):
        self.assert_rpc_error(
            self.carol,
            "/bus_mobile/message/post",
            AccessError,
            "not a member",
            channel_id=self.public.id,
            body="hi",
            client_uuid="u",
        )
        self.assert_rpc_error(
            self.carol,
            "/bus_mobile/message/post",
            AccessError,
            channel_id=self.private.id,
            body="hi",
            client_uuid="u",
        )
        self.assertFalse(self.env["bus_mobile.message"].search([]))

    def test_portal_member_posts_and_reads(self):
        message = self.post(self.paul, self.private, "from the portal", "p1")
        self.post(self.alice, self.private, "from inside", "a1")
        history = self.rpc(self.paul, "/bus_mobile/messages", channel_id=self.private.id)
        self.assertEqual([m["body"] for m in history], ["from the portal", "from inside"])
        self.assertEqual(history[1]["author_name"], "Alice")
        self.assertEqual(message["author_name"], "Paul")

    def test_history_pages(self):
        bob_channel = self.private.with_user(self.bob)
        ids = [bob_channel._bus_mobile_post(f"m{n}", f"u{n}").id for n in range(25)]
        route = "/bus_mobile/messages"

        def page(**params):
            return [
                m["id"] for m in self.rpc(self.alice, route, channel_id=self.private.id, **params)
            ]

        self.assertEqual(page(), ids)  # page_max (100) by default
        self.assertEqual(page(limit=10), ids[-10:])
        self.assertEqual(page(limit=10, before_id=ids[-10]), ids[-20:-10])
        self.assertEqual(page(limit=10, before_id=ids[5]), ids[:5])
        self.assertEqual(page(limit=10, after_id=ids[2]), ids[3:13])
        self.assertEqual(page(limit=10, after_id=ids[20]), ids[21:])
        self.assertEqual(page(limit=10, after_id=ids[2], before_id=ids[6]), ids[3:6])
        self.assertEqual(page(after_id=0), ids)
        self.assertEqual(page(after_id=ids[-1]), [])
        self.env["ir.config_parameter"].set_param("bus_mobile.page_max", "20")
        self.assertEqual(page(), ids[-20:])
        for limit in (0, -1, 21):
            with self.subTest(limit=limit):
                self.assert_rpc_error(
                    self.alice,
                    route,
                    ValidationError,
                    "between 1 and 20",
                    channel_id=self.private.id,
                    limit=limit,
                )
        for params in (
            {"limit": "10"},
            {"limit": 2.5},
            {"before_id": "x"},
            {"after_id": -5},
            {"after_id": True},
        ):
            with self.subTest(params=params):
                self.assert_rpc_error(
                    self.alice,
                    route,
                    ValidationError,
                    next(iter(params)),
                    channel_id=self.private.id,
                    **params,
                )

    def test_reading_another_channel_history_is_refused(self):
        self.post(self.alice, self.private, "secret", "s1")
        self.assert_rpc_error(
            self.carol, "/bus_mobile/messages", AccessError, channel_id=self.private.id
        )
        others = self.make_channel("Others", "private", self.carol)
        self.assert_rpc_error(self.paul, "/bus_mobile/messages", AccessError, channel_id=others.id)
        # Public history: internal users may read it, portal users may not.
        self.post(self.alice, self.public, "announcement", "p1")
        history = self.rpc(self.carol, "/bus_mobile/messages", channel_id=self.public.id)
        self.assertEqual([m["body"] for m in history], ["announcement"])
        self.assert_rpc_error(
            self.paul, "/bus_mobile/messages", AccessError, channel_id=self.public.id
        )
        Message = self.env["bus_mobile.message"]
        self.assertEqual(Message.with_user(self.carol).search([]).mapped("body"), ["announcement"])
        self.assertEqual(Message.with_user(self.pia).search([]).mapped("body"), ["secret"])

    def test_read_receipts(self):
        bob_channel = self.private.with_user(self.bob)
        messages = [bob_channel._bus_mobile_post(f"m{n}", f"u{n}") for n in range(3)]

        def unread(user):
            channels = self.rpc(user, "/bus_mobile/channels")
            return next(c["unread_count"] for c in channels if c["id"] == self.private.id)

        self.assertEqual(unread(self.alice), 3)
        mark = self.bus_mark()
        result = self.rpc(
            self.alice,
            "/bus_mobile/message/read",
            channel_id=self.private.id,
            message_id=messages[1].id,
        )
        self.assertIsNone(result)
        self.assertEqual(
            self.bus_since(mark),
            [
                (
                    ("bus_mobile.channel", self.private.id),
                    "bus_mobile/read",
                    {
                        "channel_id": self.private.id,
                        "partner_id": self.alice.partner_id.id,
                        "message_id": messages[1].id,
                    },
                )
            ],
        )
        self.assertEqual(unread(self.alice), 1)
        self.assertEqual(unread(self.paul), 3)
        # Going back is a no-op, and says nothing.
        mark = self.bus_mark()
        self.rpc(
            self.alice,
            "/bus_mobile/message/read",
            channel_id=self.private.id,
            message_id=messages[0].id,
        )
        self.assertEqual(self.bus_since(mark), [])
        self.assertEqual(unread(self.alice), 1)
        other = self.public.with_user(self.alice)._bus_mobile_post("elsewhere", "e1")
        self.assert_rpc_error(
            self.alice,
            "/bus_mobile/message/read",
            ValidationError,
            "not in the channel",
            channel_id=self.private.id,
            message_id=other.id,
        )
        self.assert_rpc_error(
            self.alice,
            "/bus_mobile/message/read",
            MissingError,
            "999999",
            channel_id=self.private.id,
            message_id=999999,
        )
        self.assert_rpc_error(
            self.alice,
            "/bus_mobile/message/read",
            ValidationError,
            "message_id",
            channel_id=self.private.id,
            message_id=str(messages[2].id),
        )

    def test_typing_is_sent_not_stored(self):
        mark = self.bus_mark()
        self.rpc(self.paul, "/bus_mobile/typing", channel_id=self.private.id, is_typing=True)
        self.assertEqual(
            self.bus_since(mark),
            [
                (
                    ("bus_mobile.channel", self.private.id),
                    "bus_mobile/typing",
                    {
                        "channel_id": self.private.id,
                        "partner_id": self.paul.partner_id.id,
                        "is_typing": True,
                    },
                )
            ],
        )
        self.assertFalse(self.env["bus_mobile.message"].search([]))
        self.assert_rpc_error(
            self.paul,
            "/bus_mobile/typing",
            ValidationError,
            "is_typing",
            channel_id=self.private.id,
            is_typing="yes",
        )
        self.assert_rpc_error(
            self.carol,
            "/bus_mobile/typing",
            AccessError,
            channel_id=self.public.id,
            is_typing=True,
        )


@tagged("post_install", "-at_install")
class TestConcurrentPosts(TransactionCase):
    """Two real transactions (own connections, committed data), as two
    Odoo workers serving two requests. The test transaction itself writes
    nothing, so it holds no lock these transactions could wait for."""

    def setUp(self):
        super().setUp()
        self.dbname = self.env.cr.dbname
        with closing(self.real_cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.channel_id = (
                env["bus_mobile.channel"]
                .create(
                    {
                        "name": "Concurrency",
                        "channel_type": "private",
                        "member_ids": [Command.create({"partner_id": env.user.partner_id.id})],
                    }
                )
                .id
            )
            # Committed on its own connection, as a worker would: the data the
            # two "requests" below race on must be visible to both.
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self.delete_channel)

    def real_cursor(self):
        cr = sql_db.db_connect(self.dbname).cursor()
        cr.execute("SET lock_timeout = '10s'")  # never hang the test run
        return cr

    def delete_channel(self):
        with closing(self.real_cursor()) as cr:
            api.Environment(cr, SUPERUSER_ID, {})["bus_mobile.channel"].browse(
                self.channel_id
            ).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def post(self, cr, body, client_uuid):
        env = api.Environment(cr, SUPERUSER_ID, {})
        return env["bus_mobile.channel"].browse(self.channel_id)._bus_mobile_post(body, client_uuid)

    def test_racing_identical_posts_create_one_message(self):
        """The second request took its snapshot before the first committed:
        it cannot see the first message. It must neither duplicate it nor
        fail: Odoo's retry returns the first message."""
        with closing(self.real_cursor()) as cr1, closing(self.real_cursor()) as cr2:
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            # The second request starts (snapshot taken) ...
            env2["bus_mobile.channel"].browse(self.channel_id)._bus_mobile_member()
            # ... the first one posts and commits ...
            first = self.post(cr1, "hello", "same-uuid")
            cr1.commit()
            # ... then the second one posts the same message, through Odoo's
            # request retry loop.
            attempts = []

            def second_request():
                attempts.append(1)
                return self.post(cr2, "hello (retried)", "same-uuid").id

            with mute_logger("odoo.service.model"):
                second_id = retrying(second_request, env2)
            self.assertEqual(second_id, first.id)
            self.assertEqual(len(attempts), 2, "first attempt: serialization failure, retried")
        with closing(self.real_cursor()) as cr:
            cr.execute(
                "SELECT body FROM bus_mobile_message WHERE channel_id = %s", [self.channel_id]
            )
            self.assertEqual(cr.fetchall(), [("hello",)])

    def test_conflict_raises_a_retryable_error(self):
        with closing(self.real_cursor()) as cr1, closing(self.real_cursor()) as cr2:
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            env2["bus_mobile.channel"].browse(self.channel_id)._bus_mobile_member()
            self.post(cr1, "hello", "uuid-2")
            cr1.commit()
            with self.assertRaises(pgerrors.SerializationFailure):
                self.post(cr2, "hello", "uuid-2")
            cr2.rollback()
            cr2.execute("SELECT count(*) FROM bus_mobile_message WHERE client_uuid = 'uuid-2'")
            self.assertEqual(cr2.fetchone()[0], 1)

    def test_message_ids_are_allocated_in_commit_order(self):
        """While a message insert is not committed, no other transaction
        can insert one: an id is never visible before a smaller one."""
        with closing(self.real_cursor()) as cr1, closing(self.real_cursor()) as cr2:
            self.post(cr1, "first, not committed yet", "a")
            cr2.execute("SET lock_timeout = '100ms'")
            with (
                self.assertRaises(pgerrors.LockNotAvailable),
                mute_logger("odoo.sql_db"),
                cr2.savepoint(flush=False),
            ):
                self.post(cr2, "second", "b")
            cr1.commit()
            cr2.execute("SET lock_timeout = '10s'")
            second = self.post(cr2, "second", "b")
            cr2.commit()
            cr2.execute(
                "SELECT id FROM bus_mobile_message WHERE channel_id = %s ORDER BY id",
                [self.channel_id],
            )
            ids = [row[0] for row in cr2.fetchall()]
            self.assertEqual(ids[-1], second.id)
            self.assertEqual(len(ids), 2)
