import json
import os
import subprocess
import sys
import threading
import uuid
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from odoo import SUPERUSER_ID, Command, api, fields, sql_db
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.bus.models.bus import json_dump

from ..mobile_socket import device_presence
from ..tools.channels import MOBILE_PRESENCE
from ..tools.presence import best_status
from .common import PresenceAssertions, make_test_user, wait_until, websocket_request


@tagged("post_install", "-at_install")
class TestPresence(PresenceAssertions, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = make_test_user(cls.env, login="pres_alice", groups="base.group_user")
        cls.bob = make_test_user(cls.env, login="pres_bob", groups="base.group_portal")
        cls.Device = cls.env["bus_mobile.device"]

    def as_alice(self):
        return self.Device.with_user(self.alice)

    def test_best_status(self):
        self.assertEqual(best_status("offline", "away", None), "away")
        self.assertEqual(best_status("away", "online", "offline"), "online")
        self.assertEqual(best_status(None, None), None)
        # Statuses of other modules are left alone.
        self.assertEqual(best_status("im_partner", "online"), "im_partner")
        self.assertEqual(best_status("leave_offline", "online"), "leave_offline")

    def test_open_close_notifies_once_per_change(self):
        start = self.last_bus_id()
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        self.assertEqual(self.presence_statuses(self.alice.partner_id, start), ["online"])
        self.assertEqual(self.alice.im_status, "online")
        self.assertEqual(self.alice.partner_id.im_status, "online")
        # A second socket, then a second device: no change, nothing sent.
        mark = self.last_bus_id()
        self.as_alice()._bus_mobile_socket_opened("phone", "s2")
        self.as_alice()._bus_mobile_socket_opened("tablet", "t1")
        self.assertEqual(self.presence_notifications(self.alice.partner_id, mark), [])
        # Closing sockets while one remains: still online, nothing sent.
        self.as_alice()._bus_mobile_socket_closed("phone", "s1")
        self.as_alice()._bus_mobile_socket_closed("phone", "s2")
        self.assertEqual(self.device_row(self.alice, "phone")[0], "offline")
        self.assertEqual(self.presence_notifications(self.alice.partner_id, mark), [])
        self.as_alice()._bus_mobile_socket_closed("tablet", "t1")
        self.assertEqual(
            self.presence_notifications(self.alice.partner_id, mark),
            [
                (
                    "bus_mobile/presence",
                    {
                        "partner_id": self.alice.partner_id.id,
                        "im_status": "offline",
                        "last_seen": self.alice.partner_id._bus_mobile_presence_data()[
                            self.alice.partner_id.id
                        ]["last_seen"],
                    },
                ),
                (
                    "bus.bus/im_status_updated",
                    {"im_status": "offline", "partner_id": self.alice.partner_id.id},
                ),
            ],
        )
        self.assertEqual(self.alice.im_status, "offline")

    def test_closing_an_unknown_socket_changes_nothing(self):
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        mark = self.last_bus_id()
        self.as_alice()._bus_mobile_socket_closed("phone", "not-this-socket")
        self.assertEqual(self.device_row(self.alice, "phone")[:2], ("online", ["s1"]))
        self.assertEqual(self.presence_notifications(self.alice.partner_id, mark), [])

    def test_tokens_of_killed_processes_are_dropped(self):
        """Sockets of a killed worker ran no close: given as dead, their
        tokens are dropped on the device's next open or close."""
        device = self.as_alice()
        device._bus_mobile_socket_opened("phone", "killed")
        device._bus_mobile_socket_opened("phone", "live", dead_tokens=["killed"])
        self.assertEqual(self.device_row(self.alice, "phone")[:2], ("online", ["live"]))
        device._bus_mobile_socket_opened("phone", "killed too")
        mark = self.last_bus_id()
        # Without knowing, the dead socket keeps the device online...
        device._bus_mobile_socket_closed("phone", "live")
        self.assertEqual(self.device_row(self.alice, "phone")[:2], ("online", ["killed too"]))
        # ...knowing, the last live socket's close takes it offline.
        device._bus_mobile_socket_opened("phone", "live")
        device._bus_mobile_socket_closed("phone", "live", dead_tokens=["killed too", "unknown"])
        self.assertEqual(self.device_row(self.alice, "phone")[:2], ("offline", []))
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["offline"])
        self.assertEqual(device._bus_mobile_connection_tokens("phone"), [])
        self.assertEqual(device._bus_mobile_connection_tokens("no such device"), [])

    def test_dead_tokens_are_those_of_gone_processes_of_this_host(self):
        exited = subprocess.Popen([sys.executable, "-c", ""])
        exited.wait()
        # Exited but not reaped yet (a worker the master did not wait for).
        zombie = subprocess.Popen([sys.executable, "-c", ""])
        stat = Path(f"/proc/{zombie.pid}/stat")
        wait_until(
            lambda: stat.read_text().rsplit(")", 1)[1].split()[0] == "Z", "the child to exit"
        )
        host = device_presence.HOST_KEY
        gone = f"{uuid.uuid4().hex}.{exited.pid}.{host}"
        unreaped = f"{uuid.uuid4().hex}.{zombie.pid}.{host}"
        mine = device_presence.new_token()
        parent = f"{uuid.uuid4().hex}.{os.getppid()}.{host}"
        elsewhere = f"{uuid.uuid4().hex}.{exited.pid}.0123456789ab"
        older_format = uuid.uuid4().hex
        tokens = [gone, mine, unreaped, parent, elsewhere, older_format, "1.2", "a.b.c", 7, None]
        try:
            self.assertEqual(device_presence.dead_tokens(tokens), [gone, unreaped])
        finally:
            zombie.wait()
        self.assertTrue(mine.endswith(f".{os.getpid()}.{host}"))
        for not_a_list in (None, "a.1.b", {"a": 1}, 42):
            self.assertEqual(device_presence.dead_tokens(not_a_list), [])

    def test_rotation_close_keeps_status(self):
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        mark = self.last_bus_id()
        self.as_alice()._bus_mobile_socket_closed("phone", "s1", keep_status=True)
        self.assertEqual(self.device_row(self.alice, "phone")[:2], ("online", []))
        self.as_alice()._bus_mobile_socket_opened("phone", "s2")
        self.assertEqual(self.presence_notifications(self.alice.partner_id, mark), [])

    def test_heartbeat_rules(self):
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        mark = self.last_bus_id()
        self.as_alice()._bus_mobile_heartbeat("phone", 0, "background")
        self.assertEqual(self.device_row(self.alice, "phone")[0], "away")
        self.as_alice()._bus_mobile_heartbeat("phone", 0, "foreground")
        self.as_alice()._bus_mobile_heartbeat("phone", 1800 * 1000 - 1, None)
        self.assertEqual(self.device_row(self.alice, "phone")[0], "online")
        self.as_alice()._bus_mobile_heartbeat("phone", 1800 * 1000, None)
        self.assertEqual(self.device_row(self.alice, "phone")[0], "away")
        self.as_alice()._bus_mobile_heartbeat("phone", 1800 * 1000, "foreground")
        self.assertEqual(
            self.presence_statuses(self.alice.partner_id, mark), ["away", "online", "away"]
        )

    def test_heartbeat_follows_away_after_parameter(self):
        self.env["ir.config_parameter"].set_param("bus_mobile.away_after_s", "60")
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        self.as_alice()._bus_mobile_heartbeat("phone", 60 * 1000, "foreground")
        self.assertEqual(self.device_row(self.alice, "phone")[0], "away")

    def test_heartbeat_reattaches_its_socket(self):
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        self.env.cr.execute(
            "UPDATE bus_mobile_device SET status = 'offline', connection_tokens = '[]'"
        )
        self.as_alice()._bus_mobile_heartbeat("phone", 0, None, token="s1")
        self.assertEqual(self.device_row(self.alice, "phone")[:2], ("online", ["s1"]))
        self.as_alice()._bus_mobile_socket_closed("phone", "s1")
        self.assertEqual(self.device_row(self.alice, "phone")[:2], ("offline", []))

    def test_pong_refreshes_last_seen(self):
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        old = fields.Datetime.now() - timedelta(seconds=50)
        self.env.cr.execute("UPDATE bus_mobile_device SET last_seen = %s", [old])
        self.as_alice()._bus_mobile_socket_alive("phone", "s1")
        self.assertGreater(self.device_row(self.alice, "phone")[2], old)

    def test_combined_with_stock_presence(self):
        """The web client (bus.presence) and devices combine; watchers hear
        of the combined status only."""
        presence = self.env["bus.presence"].create({"user_id": self.alice.id, "status": "away"})
        self.assertEqual(self.alice.im_status, "away")
        mark = self.last_bus_id()
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        self.assertEqual(self.alice.im_status, "online")
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["online"])
        # The web client goes offline: the phone keeps the user online.
        mark = self.last_bus_id()
        presence.status = "offline"
        self.assertEqual(self.alice.im_status, "online")
        self.assertEqual(self.presence_notifications(self.alice.partner_id, mark), [])
        # The phone leaves too.
        self.as_alice()._bus_mobile_socket_closed("phone", "s1")
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["offline"])
        # Stock presence alone still notifies (combined) changes.
        mark = self.last_bus_id()
        presence.status = "online"
        self.assertEqual(
            self.presence_notifications(self.alice.partner_id, mark)[-1],
            (
                "bus.bus/im_status_updated",
                {"im_status": "online", "partner_id": self.alice.partner_id.id},
            ),
        )
        presence.unlink()
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["online", "offline"])

    def test_missed_presences_send_the_combined_status(self):
        presence = self.env["bus.presence"].create({"user_id": self.alice.id, "status": "offline"})
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        watcher = self.env.ref("base.user_admin").partner_id
        mark = self.last_bus_id()
        presence._send_presence(bus_target=watcher)
        self.env.cr.precommit.run()
        # sudo: bus.bus - reading the notifications in tests
        rows = self.env["bus.bus"].sudo().search([("id", ">", mark)])
        payloads = [json.loads(row.message)["payload"] for row in rows]
        self.assertEqual(
            payloads, [{"im_status": "online", "partner_id": self.alice.partner_id.id}]
        )

    def test_malformed_presence_channels_are_dropped(self):
        """A malformed ``odoo-presence-res.partner_<id>`` among the channels
        of a subscribe is dropped; it does not fail the whole subscription
        (an exception there leaves the socket subscribed to nothing)."""
        self.env["bus_mobile.channel"].create(
            {
                "name": "Field team",
                "channel_type": "private",
                "member_ids": [
                    Command.create({"partner_id": partner.id})
                    for partner in (self.alice.partner_id, self.bob.partner_id)
                ],
            }
        )
        names = [
            "odoo-presence-res.partner_abc",
            "odoo-presence-res.partner",
            "odoo-presence-res.partner_",
            "odoo-presence-res.partner_1_2",
            "odoo-presence-res.partner_-3",
            f"odoo-presence-res.partner_{2**31}",
            "odoo-presence-",
        ]
        for watcher, target in ((self.bob, self.alice), (self.alice, self.bob)):
            with self.subTest(watcher=watcher.login), websocket_request(self.env, watcher):
                # What a subscribe frame's channels go through, whatever
                # overrides ``_build_presence_channel_list`` (mail's too).
                data = (
                    self.env["ir.websocket"]
                    .with_user(watcher)
                    ._prepare_subscribe_data(
                        [*names, f"odoo-presence-res.partner_{target.partner_id.id}"], 0
                    )
                )
                presences = [
                    c for c in data["channels"] if isinstance(c, tuple) and c[1] == "presence"
                ]
                self.assertEqual(presences, [(target.partner_id, "presence")])
                self.assertIn(watcher.partner_id, data["channels"])

    def test_sweep_takes_silent_devices_offline(self):
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        self.Device.with_user(self.bob)._bus_mobile_socket_opened("phone", "b1")
        self.as_alice()._bus_mobile_socket_opened("tablet", "t1")
        stale = fields.Datetime.now() - timedelta(seconds=66)
        self.env.cr.execute(
            "UPDATE bus_mobile_device SET last_seen = %s WHERE user_id = %s",
            [stale, self.alice.id],
        )
        mark = self.last_bus_id()
        self.assertEqual(self.Device._cron_sweep_offline(), 2)
        self.assertEqual(self.device_row(self.alice, "phone")[:2], ("offline", []))
        self.assertEqual(self.device_row(self.alice, "tablet")[:2], ("offline", []))
        self.assertEqual(self.device_row(self.bob, "phone")[0], "online")
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["offline"])
        self.assertEqual(self.presence_notifications(self.bob.partner_id, mark), [])
        self.assertEqual(self.Device._cron_sweep_offline(), 0)

    def test_sweep_follows_offline_after_and_batches(self):
        self.env["ir.config_parameter"].set_param("bus_mobile.offline_after_s", "300")
        for name in ("a", "b", "c"):
            self.as_alice()._bus_mobile_socket_opened(name, name)
        self.env.cr.execute(
            "UPDATE bus_mobile_device SET last_seen = %s",
            [fields.Datetime.now() - timedelta(seconds=200)],
        )
        self.assertEqual(self.Device._cron_sweep_offline(), 0)
        self.env.cr.execute(
            "UPDATE bus_mobile_device SET last_seen = %s",
            [fields.Datetime.now() - timedelta(seconds=301)],
        )
        self.assertEqual(self.Device._cron_sweep_offline(batch_size=2), 2)
        self.assertEqual(self.Device._bus_mobile_stale_count(), 1)
        self.assertEqual(self.alice.im_status, "online")
        self.assertEqual(self.Device._cron_sweep_offline(batch_size=2), 1)
        self.assertEqual(self.alice.im_status, "offline")

    def test_sweep_cron_record_runs(self):
        cron = self.env.ref("bus_mobile.ir_cron_bus_mobile_presence_sweep")
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        self.env.cr.execute(
            "UPDATE bus_mobile_device SET last_seen = %s",
            [fields.Datetime.now() - timedelta(seconds=120)],
        )
        cron.method_direct_trigger()
        self.assertEqual(self.device_row(self.alice, "phone")[0], "offline")

    def test_unregister_notifies_when_it_changes_the_status(self):
        self.as_alice()._bus_mobile_socket_opened("phone", "s1")
        mark = self.last_bus_id()
        self.as_alice()._bus_mobile_get("phone")._bus_mobile_unregister()
        self.assertIsNone(self.device_row(self.alice, "phone"))
        self.assertEqual(self.presence_statuses(self.alice.partner_id, mark), ["offline"])
        # Its sockets' later events touch nothing.
        self.assertIsNone(self.as_alice()._bus_mobile_socket_closed("phone", "s1"))
        self.assertIsNone(self.as_alice()._bus_mobile_socket_alive("phone", "s1"))


@tagged("post_install", "-at_install")
class TestConcurrentPresence(TransactionCase):
    """Real concurrent transactions (own connections, committed data), as
    two Odoo workers serving two sockets, or the sweep cron and a socket.
    The test transaction writes nothing: it holds no lock they could wait
    for."""

    def setUp(self):
        super().setUp()
        self.dbname = self.env.cr.dbname
        with closing(self.real_cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            user = make_test_user(env, login="concurrent_presence", groups="base.group_user")
            self.uid, self.partner_id = user.id, user.partner_id.id
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self.delete_user)

    def real_cursor(self):
        cr = sql_db.db_connect(self.dbname).cursor()
        cr.execute("SET lock_timeout = '10s'")  # never hang the test run
        return cr

    def delete_user(self):
        with closing(self.real_cursor()) as cr:
            api.Environment(cr, SUPERUSER_ID, {})["res.users"].browse(self.uid).unlink()
            api.Environment(cr, SUPERUSER_ID, {})["res.partner"].browse(self.partner_id).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def devices(self, cr):
        """The user's devices, as an Odoo worker of that cursor sees them."""
        return api.Environment(cr, self.uid, {})["bus_mobile.device"]

    def committed(self, func):
        """``func(devices)`` in a transaction of its own, committed."""
        with closing(self.real_cursor()) as cr:
            result = func(self.devices(cr))
            cr.commit()  # pylint: disable=invalid-commit
        return result

    def rows(self):
        """{device_uuid: (status, connection tokens)}, committed data."""
        with closing(self.real_cursor()) as cr:
            cr.execute(
                "SELECT device_uuid, status, connection_tokens FROM bus_mobile_device"
                " WHERE user_id = %s",
                [self.uid],
            )
            return {uuid: (status, tokens) for uuid, status, tokens in cr.fetchall()}

    def last_bus_id(self):
        with closing(self.real_cursor()) as cr:
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM bus_bus")
            return cr.fetchone()[0]

    def statuses_told(self, after_id):
        """The ``bus_mobile/presence`` statuses sent to the user's watchers."""
        channel = json_dump([self.dbname, "res.partner", self.partner_id, MOBILE_PRESENCE])
        with closing(self.real_cursor()) as cr:
            cr.execute(
                "SELECT message FROM bus_bus WHERE id > %s AND channel = %s ORDER BY id",
                [after_id, channel],
            )
            messages = [json.loads(message) for (message,) in cr.fetchall()]
        return [m["payload"]["im_status"] for m in messages if m["type"] == "bus_mobile/presence"]

    def wait_for_lock_wait(self, cr):
        """Until the backend of ``cr`` waits for a lock held by another."""
        pid = cr._cnx.get_backend_pid()
        query = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s"
        with closing(self.real_cursor()) as observer:

            def waits_for_a_lock():
                observer.execute(query, [pid])
                return observer.fetchone()[0] == "Lock"

            wait_until(waits_for_a_lock, "the second transaction to wait for a lock")

    def test_concurrent_closes_of_one_device(self):
        """The last two sockets of a device close at the same instant in two
        workers: each transaction's snapshot still has the other's socket.
        The second to write waits for the first, then fails to serialize,
        and Odoo's retry replays it on the first's changes: the device ends
        offline with no socket left, and watchers hear "offline" once."""
        self.committed(lambda d: d._bus_mobile_socket_opened("phone", "s1"))
        self.committed(lambda d: d._bus_mobile_socket_opened("phone", "s2"))
        mark = self.last_bus_id()
        with closing(self.real_cursor()) as cr1, closing(self.real_cursor()) as cr2:
            first, second = self.devices(cr1), self.devices(cr2)
            for cr in (cr1, cr2):  # both transactions take their snapshot
                cr.execute("SELECT 1")
            first._bus_mobile_socket_closed("phone", "s1")  # not committed yet
            attempts, errors = [], []

            def close_second():
                def attempt():
                    attempts.append(1)
                    return second._bus_mobile_socket_closed("phone", "s2")

                try:
                    with mute_logger("odoo.service.model"):
                        retrying(attempt, second.env)
                except Exception as exc:  # reported below
                    errors.append(exc)

            thread = threading.Thread(target=close_second)
            thread.start()
            self.wait_for_lock_wait(cr2)
            cr1.commit()  # pylint: disable=invalid-commit
            thread.join(30)
            self.assertFalse(thread.is_alive())
            self.assertEqual(errors, [])
            self.assertEqual(len(attempts), 2, "the second close was retried once")
        self.assertEqual(self.rows(), {"phone": ("offline", [])})
        self.assertEqual(self.statuses_told(mark), ["offline"])

    def test_sign_out_racing_a_heartbeat_is_retried_unlogged(self):
        """A phone signs out while its socket's heartbeat writes the same
        device row: the sign-out's snapshot is older than the heartbeat.
        Its first write is a serialization failure that Odoo's retry
        replays; it must not be logged as a bad query (the ORM's own
        write of the push token would be: the row is locked first)."""
        self.committed(lambda d: d._bus_mobile_socket_opened("phone", "s1"))
        with closing(self.real_cursor()) as cr:
            cr.execute("SELECT 1")  # the sign-out's transaction began
            self.committed(lambda d: d._bus_mobile_heartbeat("phone", 0, None, token="s1"))
            attempts = []

            def sign_out():
                attempts.append(1)
                self.devices(cr)._bus_mobile_get("phone")._bus_mobile_sign_out()

            with self.assertNoLogs("odoo.sql_db", "ERROR"), mute_logger("odoo.service.model"):
                retrying(sign_out, self.devices(cr).env)
            cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(len(attempts), 2, "the first attempt lost the race, and was retried")
        self.assertEqual(self.rows(), {"phone": ("offline", [])})

    def make_stale(self, *device_uuids):
        def age(devices):
            devices.env.cr.execute(
                "UPDATE bus_mobile_device SET last_seen = %s WHERE user_id = %s"
                " AND device_uuid = ANY(%s)",
                [fields.Datetime.now() - timedelta(seconds=120), self.uid, list(device_uuids)],
            )

        self.committed(age)

    def test_sweep_stops_on_a_heartbeat_committed_after_it_began(self):
        """The sweep's snapshot says the phone is stale, but a heartbeat
        committed since: taking it offline would undo the heartbeat. The
        batch stops, rolled back; the next run sweeps only what is still
        stale."""
        for name in ("phone", "tablet"):
            self.committed(lambda d, name=name: d._bus_mobile_socket_opened(name, name))
        self.make_stale("phone", "tablet")
        mark = self.last_bus_id()
        with closing(self.real_cursor()) as sweep_cr:
            sweeper = api.Environment(sweep_cr, SUPERUSER_ID, {})["bus_mobile.device"]
            sweep_cr.execute("SELECT 1")  # the cron's transaction began
            self.committed(lambda d: d._bus_mobile_heartbeat("phone", 0, None, token="phone"))
            self.assertEqual(sweeper._cron_sweep_offline(), 0)
            sweep_cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(
            self.rows(), {"phone": ("online", ["phone"]), "tablet": ("online", ["tablet"])}
        )
        self.assertEqual(self.statuses_told(mark), [])
        # The next run, in a new transaction: the tablet only.
        with closing(self.real_cursor()) as sweep_cr:
            sweeper = api.Environment(sweep_cr, SUPERUSER_ID, {})["bus_mobile.device"]
            self.assertEqual(sweeper._cron_sweep_offline(), 1)
            sweep_cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self.rows(), {"phone": ("online", ["phone"]), "tablet": ("offline", [])})
        self.assertEqual(self.statuses_told(mark), [])  # the phone keeps the user online

    def test_sweep_skips_a_device_another_transaction_holds(self):
        """A heartbeat in progress holds the phone's row: the sweep neither
        waits for it nor takes it offline; the other stale device goes."""
        for name in ("phone", "tablet"):
            self.committed(lambda d, name=name: d._bus_mobile_socket_opened(name, name))
        self.make_stale("phone", "tablet")
        with closing(self.real_cursor()) as beat_cr, closing(self.real_cursor()) as sweep_cr:
            self.devices(beat_cr)._bus_mobile_heartbeat("phone", 0, None, token="phone")
            sweep_cr.execute("SET lock_timeout = '1s'")  # waiting would fail the test
            sweeper = api.Environment(sweep_cr, SUPERUSER_ID, {})["bus_mobile.device"]
            self.assertEqual(sweeper._cron_sweep_offline(), 1)
            sweep_cr.commit()  # pylint: disable=invalid-commit
            beat_cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self.rows(), {"phone": ("online", ["phone"]), "tablet": ("offline", [])})
