"""Catch-up and idempotency of Discuss posts under real concurrency: each
"request" is a transaction of its own connection that commits, as Odoo
workers serve them (doc/discuss.md, "Catch-up"). The test transaction
itself writes nothing, so it holds no lock they could wait for. Only on
the database with mail."""

import threading
import unittest
from contextlib import closing

from psycopg2 import errors as pgerrors

from odoo import SUPERUSER_ID, api, sql_db
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger


class RealTransactionsCase(TransactionCase):
    """Ann and Ben share the groups "sync" and "sync 2"; Ben and Cid "not
    ann's"; all committed, deleted after the test. (Two posts in one
    conversation queue on its row, which mail updates; out-of-order
    commits happen across conversations.)"""

    def setUp(self):
        super().setUp()
        if "discuss.channel" not in self.env:
            raise unittest.SkipTest("needs mail: make test runs it on its database with mail")
        self.dbname = self.env.cr.dbname
        with closing(self.real_cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            users = env["res.users"].create(
                [
                    {"login": f"sync_{name}", "name": name.title(), "email": f"{name}@example.com"}
                    for name in ("ann", "ben", "cid")
                ]
            )
            self.ann, self.ben, self.cid = users.ids
            Channel = env["discuss.channel"].with_user(users[0])
            self.channel_id = Channel.create_group(users[:2].partner_id.ids, name="sync").id
            self.channel2_id = Channel.create_group(users[:2].partner_id.ids, name="sync 2").id
            self.other_id = (
                env["discuss.channel"]
                .with_user(users[1])
                .create_group(users[1:].partner_id.ids, name="not ann's")
                .id
            )
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self.delete_data)

    def real_cursor(self):
        cr = sql_db.db_connect(self.dbname).cursor()
        cr.execute("SET lock_timeout = '10s'")  # never hang the test run
        return cr

    def delete_data(self):
        with closing(self.real_cursor()) as cr:
            channels = [self.channel_id, self.channel2_id, self.other_id]
            cr.execute(
                "DELETE FROM bus_mobile_discuss_journal WHERE channel_id = ANY(%s)", [channels]
            )
            cr.execute("DELETE FROM bus_mobile_discuss_post WHERE channel_id = ANY(%s)", [channels])
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["discuss.channel"].browse(channels).unlink()
            users = env["res.users"].browse([self.ann, self.ben, self.cid])
            partners = users.partner_id
            users.unlink()
            partners.unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def env_of(self, cr, uid):
        return api.Environment(cr, uid, {})

    def web_post(self, cr, uid, body, channel_id=None):
        """mail's message_post, as the web client posts; not committed."""
        env = self.env_of(cr, uid)
        channel = env["discuss.channel"].browse(channel_id or self.channel_id)
        return channel.message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
        ).id

    def sync(self, cursor, limit=None):
        """One /sync answer for Ann, in a transaction of its own."""
        with closing(self.real_cursor()) as cr:
            return self.env_of(cr, self.ann)["bus_mobile.discuss"]._bus_mobile_sync(cursor, limit)

    def sync_all(self, cursor, limit):
        """Page until ``has_more`` is false: (message ids, cursor)."""
        ids = []
        for _page in range(1000):
            page = self.sync(cursor, limit)
            self.assertLessEqual(len(page["messages"]), limit)
            ids += [message["id"] for message in page["messages"]]
            self.assertGreaterEqual(page["cursor"], cursor)
            cursor = page["cursor"]
            if not page["has_more"]:
                return ids, cursor
        self.fail("sync does not converge")

    def channels_cursor(self):
        with closing(self.real_cursor()) as cr:
            return self.env_of(cr, self.ann)["bus_mobile.discuss"]._bus_mobile_channels()[
                "sync_cursor"
            ]


@tagged("post_install", "-at_install")
class TestDiscussCatchUp(RealTransactionsCase):
    def test_a_message_committed_after_a_newer_one_is_caught_up(self):
        """Message A gets its id first but commits last: a cursor on
        message ids would have moved past it. The journal gives it a place
        after B, and the next sync returns it, once."""
        cursor = self.channels_cursor()
        with closing(self.real_cursor()) as slow, closing(self.real_cursor()) as fast:
            a = self.web_post(slow, self.ben, "A: slow transaction")
            b = self.web_post(fast, self.ben, "B: fast transaction", self.channel2_id)
            self.assertLess(a, b)
            fast.commit()
            first, cursor = self.sync_all(cursor, 10)
            self.assertEqual(first, [b])
            slow.commit()
        second, cursor = self.sync_all(cursor, 10)
        self.assertEqual(second, [a])
        self.assertEqual(self.sync_all(cursor, 10)[0], [])

    def test_journal_ids_are_allocated_in_commit_order(self):
        """While a posting transaction has not committed its journal row,
        no other one can write one: a journal id is never visible before a
        smaller one."""
        with closing(self.real_cursor()) as first, closing(self.real_cursor()) as second:
            self.web_post(first, self.ben, "first")
            first.precommit.run()  # its journal row, not committed
            self.web_post(second, self.ben, "second", self.channel2_id)
            second.execute("SET lock_timeout = '100ms'")
            with (
                self.assertRaises(pgerrors.LockNotAvailable),
                mute_logger("odoo.sql_db"),
                second.savepoint(flush=False),
            ):
                second.precommit.run()
            first.commit()
            second.execute("SET lock_timeout = '10s'")
            second.commit()

    def test_forty_messages_while_offline_arrive_once_in_order(self):
        """40 messages posted from the web side, committed out of id order
        in pairs, paged 7 at a time: each arrives once, in commit order; the
        other conversation's never."""
        cursor = self.channels_cursor()
        committed = []
        for n in range(20):
            with closing(self.real_cursor()) as slow, closing(self.real_cursor()) as fast:
                late = self.web_post(slow, self.ben, f"late {n}")
                early = self.web_post(fast, self.ann, f"early {n}", self.channel2_id)
                self.web_post(fast, self.ben, f"not for Ann {n}", channel_id=self.other_id)
                fast.commit()
                slow.commit()
                committed += [early, late]
        ids, cursor = self.sync_all(cursor, 7)
        self.assertEqual(ids, committed)
        self.assertEqual(len(set(ids)), 40)
        self.assertEqual(self.sync_all(cursor, 7)[0], [])
        # A new connection (a restarted server) continues from the cursor.
        with closing(self.real_cursor()) as cr:
            newer = self.web_post(cr, self.ben, "after the restart")
            cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self.sync_all(cursor, 7)[0], [newer])

    def test_a_cursor_older_than_the_journal_asks_for_a_reset(self):
        """The cleanup deletes journal rows older than discuss_journal_days;
        a cursor below them answers ``reset`` (the app reloads)."""
        old_cursor = self.channels_cursor()
        with closing(self.real_cursor()) as cr:
            self.web_post(cr, self.ben, "a month ago")
            cr.commit()  # pylint: disable=invalid-commit
        with closing(self.real_cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute(
                "UPDATE bus_mobile_discuss_journal SET date = date - interval '31 days' "
                "WHERE channel_id = %s",
                [self.channel_id],
            )
            try:
                env["bus_mobile.discuss.journal"]._gc_journal()
                Discuss = env(user=self.ann)["bus_mobile.discuss"]
                answer = Discuss._bus_mobile_sync(old_cursor)
                self.assertEqual((answer["reset"], answer["messages"]), (True, []))
                self.assertFalse(Discuss._bus_mobile_sync(answer["cursor"])["reset"])
            finally:
                cr.rollback()
                env.registry.clear_cache()  # get_param's cache saw the mark


@tagged("post_install", "-at_install")
class TestDiscussPostKey(RealTransactionsCase):
    """The same post twice at once lands once (``client_uuid``)."""

    def app_post(self, cr, uid, client_uuid, body="hello"):
        return self.env_of(cr, uid)["bus_mobile.discuss"]._bus_mobile_post(
            self.channel_id, body, client_uuid
        )["id"]

    def count_posts(self, client_uuid):
        with closing(self.real_cursor()) as cr:
            cr.execute(
                """SELECT count(*) FROM mail_message m
                     JOIN bus_mobile_discuss_post k ON k.message_id = m.id
                    WHERE k.client_uuid = %s""",
                [client_uuid],
            )
            messages = cr.fetchone()[0]
            cr.execute(
                "SELECT count(*) FROM mail_message WHERE res_id = %s AND model = 'discuss.channel'"
                " AND message_type = 'comment'",
                [self.channel_id],
            )
            return messages, cr.fetchone()[0]

    def test_retry_after_the_first_committed_returns_it(self):
        """The second request took its snapshot before the first committed:
        it fails with a serialization error, Odoo retries it, and the retry
        returns the first message."""
        with closing(self.real_cursor()) as cr1, closing(self.real_cursor()) as cr2:
            env2 = self.env_of(cr2, self.ann)
            cr2.execute("SELECT 1")  # its snapshot is taken
            first = self.app_post(cr1, self.ann, "same-uuid")
            cr1.commit()
            attempts = []

            def second_request():
                attempts.append(1)
                return self.app_post(cr2, self.ann, "same-uuid", body="hello (retried)")

            with mute_logger("odoo.service.model"):
                second = retrying(second_request, env2)
            self.assertEqual(second, first)
            self.assertEqual(len(attempts), 2, "first attempt: serialization failure, retried")
        self.assertEqual(self.count_posts("same-uuid"), (1, 1))

    def test_two_posts_at_once_wait_for_each_other(self):
        """The second INSERT of the key waits for the first transaction;
        once it commits, the second is retried and returns its message."""
        results = {}
        with closing(self.real_cursor()) as cr1, closing(self.real_cursor()) as cr2:
            first = self.app_post(cr1, self.ann, "race-uuid")
            env2 = self.env_of(cr2, self.ann)

            def second_request():
                results.setdefault("attempts", 0)
                results["attempts"] += 1
                return self.app_post(cr2, self.ann, "race-uuid", body="hello too")

            def run_second():
                with mute_logger("odoo.service.model"):
                    results["id"] = retrying(second_request, env2)

            thread = threading.Thread(target=run_second)
            thread.start()
            thread.join(0.5)
            self.assertTrue(thread.is_alive(), "the second post must wait for the first")
            cr1.commit()
            thread.join(20)
            self.assertFalse(thread.is_alive())
            self.assertEqual(results["id"], first)
            self.assertEqual(results["attempts"], 2)
        self.assertEqual(self.count_posts("race-uuid"), (1, 1))
