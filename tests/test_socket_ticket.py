import gc
import secrets
from contextlib import closing
from urllib.parse import quote

import websocket as ws_client

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import TransactionCase, tagged

from odoo.addons.bus.websocket import CloseCode

from ..mobile_socket import REFUSAL_HEADER, mobile_dispatch
from ..models.bus_mobile_socket_ticket import MAX_LIFETIME_S, MAX_LIVE_TICKETS, ticket_hash
from ..tools.bearer import INVALID_TICKET, BearerTokenError
from .auth_common import BEARER_ERROR, SESSION_EXPIRED, USER_ERROR, AuthCallsMixin
from .common import MobileWebsocketCase, wait_until

TICKET_ROUTE = "/bus_mobile/socket/ticket"
# A web build served from another origin than Odoo (Expo web's dev server).
WEB_ORIGIN = "http://localhost:8081"


@tagged("post_install", "-at_install")
class TestSocketTicket(AuthCallsMixin, MobileWebsocketCase):
    """The socket of a web build: a browser cannot set ``Authorization`` on
    a WebSocket, so it trades its bearer token for a one-time ticket and
    passes that in the URL. The ticket's socket gets the header's checks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("ticket_alice")
        cls.bob = cls.make_user("ticket_bob")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        gc.collect()  # see TestBearerSocket

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("bus_mobile.allowed_origins", WEB_ORIGIN)

    # -- helpers ------------------------------------------------------

    def ticket(self, token):
        answer = self.result(TICKET_ROUTE, token=token)
        self.assertEqual(answer["expires_in_s"], 15)
        return answer["ticket"]

    def ticket_connect(self, ticket, origin=WEB_ORIGIN, device_uuid=None, cookie="", header=()):
        """A browser's socket: the ticket in the URL, an Origin, no header."""
        self.env.flush_all()  # the server reads the database
        quoted = quote(ticket, safe="", errors="surrogatepass")
        url = f"{self._MOBILE_WEBSOCKET_URL}?ticket={quoted}"
        if device_uuid:
            url += f"&device_uuid={device_uuid}"
        before = mobile_dispatch.subscriber_count(self.env.cr.dbname)
        ws = ws_client.create_connection(
            url,
            cookie=cookie,
            origin=origin,
            suppress_origin=origin is None,
            header=list(header),
            timeout=5,
        )
        self._websockets.add(ws)
        wait_until(
            lambda: mobile_dispatch.subscriber_count(self.env.cr.dbname) >= before + 1,
            "the ticket's socket subscribed to the dispatcher",
        )
        self.wait_mobile_dispatch()
        return ws

    def refused(self, ticket, status=401, **kw):
        """The reason of the refused handshake. (Not assertRaises: its
        savepoint on the test cursor would race the server's requests.)"""
        try:
            ws = self.ticket_connect(ticket, **kw)
        except ws_client.WebSocketBadStatusException as refused:
            self.assertEqual(refused.status_code, status)
            self.assertFalse(refused.resp_body, "refusals have an empty body")
            return refused.resp_headers[REFUSAL_HEADER.lower()]
        ws.close(CloseCode.CLEAN)
        self.fail("the handshake was not refused")

    def device(self, user, device_uuid="phone-1"):
        return self.env["bus_mobile.device"].search(
            [("user_id", "=", user.id), ("device_uuid", "=", device_uuid)]
        )

    def assert_receives_own_notification(self, ws, user):
        self.subscribe(ws, [], self.env["bus.bus"]._bus_last_id())
        self.env["bus.bus"]._sendone(user.partner_id, "bus_mobile/test", {"n": 1})
        self.trigger_notification_dispatching([user.partner_id])
        notifications = self.recv_notifications(ws)
        self.assertEqual(notifications[-1]["message"]["type"], "bus_mobile/test")

    def ticket_rows(self, user):
        self.env.cr.execute(
            "SELECT ticket_hash FROM bus_mobile_socket_ticket WHERE user_id = %s ORDER BY id",
            [user.id],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    # -- the ticket opens the token's socket ---------------------------

    def test_a_device_tokens_ticket_opens_that_devices_socket(self):
        token = self.device_token("ticket_alice")
        ws = self.ticket_connect(self.ticket(token))
        self.assert_receives_own_notification(ws, self.alice)
        device = self.device(self.alice)
        device.invalidate_recordset()
        self.assertEqual(device.status, "online")
        # Another device's uuid with this device's ticket.
        self.device_token("ticket_bob", device_uuid="bob-phone")
        reason = self.refused(self.ticket(token), status=403, device_uuid="bob-phone")
        self.assertTrue(reason.startswith("DEVICE_MISMATCH:"), reason)

    def test_an_api_keys_ticket(self):
        key = self.api_key(self.alice)
        ws = self.ticket_connect(self.ticket(key), device_uuid="web-1")
        self.assert_receives_own_notification(ws, self.alice)
        self.assertEqual(self.device(self.alice, "web-1").status, "online")

    def test_a_ticket_opens_one_socket(self):
        ticket = self.ticket(self.device_token("ticket_alice"))
        self.ticket_connect(ticket)
        reason = self.refused(ticket)
        self.assertTrue(reason.startswith("INVALID_TICKET:"), reason)
        self.assertFalse(self.ticket_rows(self.alice), "a used ticket is gone")

    def test_an_expired_ticket_is_refused(self):
        ticket = self.ticket(self.device_token("ticket_alice"))
        self.env.cr.execute(
            "UPDATE bus_mobile_socket_ticket SET expires_at = now() AT TIME ZONE 'utc'"
            " - interval '1 second' WHERE ticket_hash = %s",
            [ticket_hash(ticket)],
        )
        self.assertTrue(self.refused(ticket).startswith("INVALID_TICKET:"))

    def test_only_the_hash_is_kept(self):
        ticket = self.ticket(self.device_token("ticket_alice"))
        self.assertEqual(self.ticket_rows(self.alice), [ticket_hash(ticket)])
        self.env.cr.execute(
            "SELECT count(*) FROM bus_mobile_socket_ticket WHERE ticket_hash = %s", [ticket]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_not_tickets(self):
        """Wrong values are refused as unknown tickets, never a 500."""
        for value in (
            "",
            "x",
            "A" * 42,
            "A" * 44,
            "A" * 10_000,
            "A" * 42 + "\x00",
            "A" * 42 + "\ud800",
            "A" * 42 + "é",
            secrets.token_urlsafe(32),  # the right shape, never issued
        ):
            with self.subTest(value=value[:50]):
                self.assertTrue(self.refused(value).startswith("INVALID_TICKET:"))

    # -- the header's checks ------------------------------------------

    def test_a_token_revoked_after_its_ticket(self):
        token = self.device_token("ticket_alice")
        ticket = self.ticket(token)
        self.device(self.alice)._bus_mobile_sign_out()
        self.assertTrue(self.refused(ticket).startswith("TOKEN_REVOKED:"))

    def test_a_user_archived_after_the_ticket(self):
        """As with the header: an API key of an archived user is refused
        (USER_ARCHIVED), and a device token was revoked with the archive."""
        key_ticket = self.ticket(self.api_key(self.alice))
        device_ticket = self.ticket(self.device_token("ticket_alice"))
        self.alice.active = False
        self.assertTrue(self.refused(key_ticket).startswith("USER_ARCHIVED:"))
        self.assertTrue(self.refused(device_ticket).startswith("TOKEN_REVOKED:"))

    def test_revocation_closes_the_tickets_socket(self):
        ws = self.ticket_connect(self.ticket(self.device_token("ticket_alice")))
        device = self.device(self.alice)
        tokens = device._bus_mobile_tokens()
        device._bus_mobile_sign_out()
        self.env.cr.precommit.run()
        self.trigger_notification_dispatching(list(tokens))
        self.assertEqual(
            self.close_code_and_reason(ws), (CloseCode.SESSION_EXPIRED, "TOKEN_REVOKED")
        )

    def test_origin_rules(self):
        ticket = self.ticket(self.device_token("ticket_alice"))
        reason = self.refused(ticket, status=403, origin="https://evil.example")
        self.assertTrue(reason.startswith("ORIGIN_NOT_ALLOWED:"), reason)
        # Refused before the ticket was looked at: still good once.
        self.ticket_connect(ticket)
        # Odoo's own origin, and a native app (no Origin), pass as with the header.
        # (Other devices: a new token of this one would revoke the first.)
        self.ticket_connect(
            self.ticket(self.device_token("ticket_alice", "phone-2")), origin=self.base_url()
        )
        self.ticket_connect(self.ticket(self.device_token("ticket_alice", "phone-3")), origin=None)

    def test_the_handshake_limit_counts_the_key(self):
        """A ticket's socket takes from its key's bucket, as the header's."""
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("bus_mobile.handshake_burst", 2)
        params.set_param("bus_mobile.handshake_refill_s", 3600)
        token = self.device_token("ticket_alice")
        done = self.mobile_sockets_done()
        header_ws = self.mobile_connect(cookie="", header=[f"Authorization: Bearer {token}"])
        ticket_ws = self.ticket_connect(self.ticket(token))
        for ws in (header_ws, ticket_ws):
            ws.close(CloseCode.CLEAN)
        self.wait_mobile_sockets_done(done + 2)
        reason = self.refused(self.ticket(token), status=429)
        self.assertTrue(reason.startswith("TOO_MANY_CONNECTIONS:"), reason)
        # Another key of the same user is not held back.
        self.ticket_connect(self.ticket(self.device_token("ticket_alice", "phone-2")))

    def test_another_users_cookie(self):
        ticket = self.ticket(self.device_token("ticket_alice"))
        bob = self.session_cookie("ticket_bob")
        self.assertTrue(self.refused(ticket, cookie=bob).startswith("USER_MISMATCH:"))

    def test_a_ticket_and_a_header(self):
        token = self.device_token("ticket_alice")
        reason = self.refused(
            self.ticket(token), status=400, header=[f"Authorization: Bearer {token}"]
        )
        self.assertTrue(reason.startswith("TICKET_AND_BEARER:"), reason)

    # -- issuing --------------------------------------------------------

    def test_a_ticket_needs_a_bearer_token(self):
        error = self.assert_error(
            USER_ERROR, TICKET_ROUTE, cookie=self.session_cookie("ticket_alice")
        )
        self.assertIn("Authorization: Bearer", error["data"]["message"])
        self.assert_error(SESSION_EXPIRED, TICKET_ROUTE)
        self.assert_error(
            BEARER_ERROR, TICKET_ROUTE, status=401, reason="INVALID_TOKEN", token="nope"
        )
        self.assertFalse(self.ticket_rows(self.alice))

    def test_unused_tickets_are_bounded_per_key(self):
        token = self.device_token("ticket_alice")
        tickets = [self.ticket(token) for _ in range(MAX_LIVE_TICKETS + 3)]
        self.assertEqual(
            self.ticket_rows(self.alice), [ticket_hash(t) for t in tickets[-MAX_LIVE_TICKETS:]]
        )
        self.assertTrue(self.refused(tickets[0]).startswith("INVALID_TICKET:"))
        self.ticket_connect(tickets[-1])
        # Another key's tickets are its own.
        other = self.ticket(self.device_token("ticket_alice", "phone-2"))
        self.assertIn(ticket_hash(other), self.ticket_rows(self.alice))
        self.assertEqual(len(self.ticket_rows(self.alice)), MAX_LIVE_TICKETS)

    def test_an_absurd_lifetime_is_cut(self):
        """A ticket is used within seconds: a long setting (up to the
        largest the settings take, 68 years) gives tickets of MAX_LIFETIME_S."""
        token = self.device_token("ticket_alice")
        params = self.env["ir.config_parameter"].sudo()
        for value in (10**9, 2**31 - 1):
            with self.subTest(value=value):
                params.set_param("bus_mobile.socket_ticket_s", value)
                answer = self.result(TICKET_ROUTE, token=token)
                self.assertEqual(answer["expires_in_s"], MAX_LIFETIME_S)
                self.env.cr.execute(
                    "SELECT expires_at - now() AT TIME ZONE 'utc'"
                    " FROM bus_mobile_socket_ticket WHERE ticket_hash = %s",
                    [ticket_hash(answer["ticket"])],
                )
                self.assertLessEqual(self.env.cr.fetchone()[0].total_seconds(), MAX_LIFETIME_S)
        self.ticket_connect(answer["ticket"])

    def test_autovacuum_drops_expired_tickets(self):
        token = self.device_token("ticket_alice")
        expired, live = self.ticket(token), self.ticket(token)
        self.env.cr.execute(
            "UPDATE bus_mobile_socket_ticket SET expires_at = now() AT TIME ZONE 'utc'"
            " - interval '1 second' WHERE ticket_hash = %s",
            [ticket_hash(expired)],
        )
        self.env["bus_mobile.socket.ticket"]._gc_expired_tickets()
        self.assertEqual(self.ticket_rows(self.alice), [ticket_hash(live)])


@tagged("post_install", "-at_install")
class TestSocketTicketRace(TransactionCase):
    """Real concurrent transactions (own connections, committed rows), as
    two handshakes on two threads or workers: a ticket deleted by a
    transaction that committed after this one began. Odoo's repeatable read
    makes that a serialization failure, which must mean "used", not a bad
    query logged as an ERROR and a retried request."""

    def setUp(self):
        super().setUp()
        self.dbname = self.env.cr.dbname
        self.ticket = secrets.token_urlsafe(32)
        self.addCleanup(self.delete_ticket)

    def real_cursor(self):
        cr = sql_db.db_connect(self.dbname).cursor()
        cr.execute("SET lock_timeout = '10s'")  # never hang the test run
        return cr

    def insert_ticket(self, lifetime_s):
        with closing(self.real_cursor()) as cr:
            # Of no real key (key 0): what is tested happens before the key
            # is looked at.
            cr.execute(
                """INSERT INTO bus_mobile_socket_ticket
                       (ticket_hash, key_model, key_id, user_id, expires_at)
                   VALUES (%s, 'res.users.apikeys', 0, %s,
                           now() AT TIME ZONE 'utc' + make_interval(secs => %s))""",
                [ticket_hash(self.ticket), SUPERUSER_ID, lifetime_s],
            )
            cr.commit()  # pylint: disable=invalid-commit

    def delete_ticket(self):
        with closing(self.real_cursor()) as cr:
            cr.execute(
                "DELETE FROM bus_mobile_socket_ticket WHERE ticket_hash = %s",
                [ticket_hash(self.ticket)],
            )
            cr.commit()  # pylint: disable=invalid-commit
            return cr.rowcount

    def deleted_meanwhile(self, func, lifetime_s=60):
        """``func(tickets)`` in a transaction that began before another
        one deleted the ticket and committed; the transaction goes on."""
        self.insert_ticket(lifetime_s)
        with closing(self.real_cursor()) as cr:
            cr.execute("SELECT 1")  # this transaction began
            self.assertEqual(self.delete_ticket(), 1)
            tickets = api.Environment(cr, SUPERUSER_ID, {})["bus_mobile.socket.ticket"]
            with self.assertNoLogs("odoo.sql_db", "ERROR"):
                func(tickets)
            cr.execute("SELECT count(*) FROM bus_mobile_socket_ticket")
            cr.rollback()

    def test_a_ticket_used_by_another_handshake_meanwhile(self):
        def redeem(tickets):
            with self.assertRaises(BearerTokenError) as refused:
                tickets._bus_mobile_redeem(self.ticket)
            self.assertEqual(refused.exception.reason, INVALID_TICKET)

        self.deleted_meanwhile(redeem)

    def test_expired_tickets_deleted_by_another_transaction_meanwhile(self):
        """The key's trim (another tab of the web build asking at the same
        time) and the autovacuum leave those rows to the other."""
        bearer = type("Bearer", (), {"model": "res.users.apikeys", "key_id": 0})
        self.deleted_meanwhile(lambda tickets: tickets._bus_mobile_trim(bearer), lifetime_s=-1)
        self.deleted_meanwhile(lambda tickets: tickets._gc_expired_tickets(), lifetime_s=-1)
