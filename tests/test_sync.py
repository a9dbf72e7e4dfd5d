import math
import random

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import ChannelCase


@tagged("post_install", "-at_install")
class TestSync(ChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.private = cls.make_channel("Private", "private", cls.alice | cls.bob | cls.paul)
        cls.public = cls.make_channel("Public", "public", cls.alice | cls.carol)
        cls.direct = cls.make_channel("Direct", "direct", cls.alice | cls.bob)
        cls.others = cls.make_channel("Others", "private", cls.bob | cls.carol)

    @classmethod
    def make_messages(cls, count, channels_and_authors, seed):
        """``count`` messages, interleaved at random over the channels."""
        rng = random.Random(seed)
        vals = []
        for n in range(count):
            channel, authors = rng.choice(channels_and_authors)
            vals.append(
                {
                    "channel_id": channel.id,
                    "author_id": rng.choice(authors).partner_id.id,
                    "body": f"message {n}",
                    "client_uuid": f"seed{seed}-{n}",
                }
            )
        return cls.env["bus_mobile.message"].create(vals)

    def sync_all(self, user, limit, after_id=0):
        """Page with /sync until has_more is false: (ids, pages)."""
        ids, pages = [], 0
        while True:
            page = self.rpc(user, "/bus_mobile/sync", after_id=after_id, limit=limit)
            pages += 1
            self.assertLess(pages, 1000, "sync does not converge")
            page_ids = [message["id"] for message in page["messages"]]
            self.assertEqual(page_ids, sorted(page_ids))
            self.assertTrue(all(message_id > after_id for message_id in page_ids))
            if page["has_more"]:
                self.assertEqual(len(page_ids), limit)
            ids.extend(page_ids)
            if not page["has_more"]:
                return ids, pages
            after_id = page_ids[-1]

    def test_sync_is_gapless_over_1200_messages_in_several_channels(self):
        messages = self.make_messages(
            1260,
            [
                (self.private, self.alice | self.bob | self.paul),
                (self.public, self.alice | self.carol),
                (self.direct, self.alice | self.bob),
                (self.others, self.bob | self.carol),
            ],
            seed=3,
        )
        expected = {
            user: sorted(
                messages.filtered(
                    lambda m, u=user: u.partner_id in m.channel_id.member_ids.partner_id
                ).ids
            )
            for user in (self.alice, self.carol, self.paul)
        }
        self.assertGreater(len(expected[self.alice]), 900)
        for user, limit in (
            (self.alice, 100),
            (self.alice, 37),
            (self.carol, 100),
            (self.paul, 100),
        ):
            with self.subTest(user=user.login, limit=limit):
                ids, pages = self.sync_all(user, limit)
                self.assertEqual(ids, expected[user], "every message once, in id order")
                self.assertEqual(len(ids), len(set(ids)))
                self.assertEqual(pages, max(1, math.ceil(len(ids) / limit)))
        # A device that already holds part of the history gets exactly the rest.
        middle = expected[self.alice][400]
        ids, _pages = self.sync_all(self.alice, 100, after_id=middle)
        self.assertEqual(ids, expected[self.alice][401:])
        # Messages posted after a sync are found by the next one.
        last = expected[self.alice][-1]
        later = self.make_messages(150, [(self.private, self.bob), (self.others, self.carol)], 4)
        ids, _pages = self.sync_all(self.alice, 100, after_id=last)
        self.assertEqual(
            ids, later.filtered(lambda m: m.channel_id == self.private).sorted("id").ids
        )

    def test_sync_returns_message_dicts_and_has_more(self):
        first = self.private.with_user(self.bob)._bus_mobile_post("one", "u1")
        self.private.with_user(self.bob)._bus_mobile_post("two", "u2")
        page = self.rpc(self.alice, "/bus_mobile/sync", after_id=0, limit=1)
        self.assertTrue(page["has_more"])
        self.assertEqual(page["messages"], [first._bus_mobile_message_dict()])
        page = self.rpc(self.alice, "/bus_mobile/sync", after_id=first.id, limit=1)
        self.assertFalse(page["has_more"])
        self.assertEqual([m["body"] for m in page["messages"]], ["two"])
        # Defaults: from the beginning, page_max messages.
        page = self.rpc(self.alice, "/bus_mobile/sync")
        self.assertEqual([m["body"] for m in page["messages"]], ["one", "two"])
        self.assertFalse(page["has_more"])

    def test_sync_has_no_gap_when_a_channel_is_archived_for_a_while(self):
        """A message of a channel archived while the device was offline is
        still synced: once the channel is restored, it would lie below the
        device's ``after_id`` and never be fetched by sync again."""
        before = self.private.with_user(self.bob)._bus_mobile_post("before archiving", "u1")
        self.private.active = False
        after = self.public.with_user(self.carol)._bus_mobile_post("meanwhile", "u2")
        ids, _pages = self.sync_all(self.alice, 100)
        self.private.active = True
        ids += self.sync_all(self.alice, 100, after_id=ids[-1])[0]
        self.assertEqual(ids, [before.id, after.id])

    def test_sync_checks_its_input(self):
        for params, text in (
            ({"limit": 0}, "between 1 and 100"),
            ({"limit": 101}, "between 1 and 100"),
            ({"limit": "10"}, "limit"),
            ({"after_id": -1}, "after_id"),
            ({"after_id": "12"}, "after_id"),
            ({"after_id": None}, "after_id"),
            ({"after_id": 2**31}, "after_id"),
        ):
            with self.subTest(params=params):
                self.assert_rpc_error(
                    self.alice, "/bus_mobile/sync", ValidationError, text, **params
                )

    def test_sync_follows_membership(self):
        self.private.with_user(self.bob)._bus_mobile_post("before leaving", "u1")
        self.public.with_user(self.carol)._bus_mobile_post("public", "u2")
        self.assertEqual(len(self.rpc(self.alice, "/bus_mobile/sync")["messages"]), 2)
        self.rpc(self.alice, "/bus_mobile/channel/leave", channel_id=self.private.id)
        bodies = [m["body"] for m in self.rpc(self.alice, "/bus_mobile/sync")["messages"]]
        self.assertEqual(bodies, ["public"])
        # A public channel is synced only by its members.
        bodies = [m["body"] for m in self.rpc(self.bob, "/bus_mobile/sync")["messages"]]
        self.assertEqual(bodies, ["before leaving"])
        self.assertEqual(self.rpc(self.pia, "/bus_mobile/sync")["messages"], [])
