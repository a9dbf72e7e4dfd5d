from unittest.mock import patch

import websocket as ws_client

from odoo.tests import BaseCase, tagged

from odoo.addons.bus.websocket import CloseCode

from ..mobile_socket import REFUSAL_HEADER, MobileWebsocketConnectionHandler, handshake
from ..tools.rate_limit import Slots
from .auth_common import AuthCallsMixin
from .common import MobileWebsocketCase, PresenceAssertions


@tagged("post_install", "-at_install")
class TestSlots(BaseCase):
    """The slots alone."""

    def test_at_most_the_limit_per_key(self):
        slots = Slots()
        self.assertEqual([slots.take("a", 2) for _ in range(3)], [True, True, False])
        self.assertEqual(slots.held("a"), 2)  # the refusal took nothing
        self.assertTrue(slots.take("b", 2))
        slots.give_back("a")
        self.assertTrue(slots.take("a", 2))
        self.assertFalse(slots.take("a", 2))

    def test_a_key_is_kept_only_while_it_holds_a_slot(self):
        slots = Slots()
        for key in range(1000):
            slots.take(key, 5)
        for key in range(1000):
            slots.give_back(key)
        self.assertEqual(len(slots), 0)
        self.assertEqual(slots.held(1), 0)


@tagged("post_install", "-at_install")
class TestSocketsPerUser(AuthCallsMixin, PresenceAssertions, MobileWebsocketCase):
    """A user holds at most ``bus_mobile.max_sockets_per_user`` open mobile
    sockets in a worker, whatever their sessions, keys and devices, so that
    one account can't take a worker's sockets from the others."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("slots_alice")
        cls.bob = cls.make_user("slots_bob")

    def setUp(self):
        super().setUp()
        params = self.env["ir.config_parameter"].sudo()
        # The handshake rate is another limit: out of the way here.
        params.set_param("bus_mobile.handshake_burst", 100)
        params.set_param("bus_mobile.max_sockets_per_user", 2)

    def held(self, user):
        return handshake._user_sockets.held((self.env.cr.dbname, user.id))

    def served(self, **kw):
        """A socket the server serves (it answered a ping: its slot is
        taken by then)."""
        return self.mobile_connect(ping_after_connect=True, **kw)

    def refusal(self, **kw):
        """The headers of the refused handshake. (Not assertRaises: its
        savepoint on the test cursor would race the server's requests.)"""
        try:
            ws = self.mobile_connect(**kw)
        except ws_client.WebSocketBadStatusException as refused:
            self.assertEqual(refused.status_code, 429)
            return refused.resp_headers
        ws.close(CloseCode.CLEAN)
        self.fail("the handshake was not refused")

    def test_sessions_keys_and_devices_count_together(self):
        by_cookie = self.served(cookie=self.session_cookie("slots_alice"), device_uuid="web-1")
        token = self.device_token("slots_alice", "phone-1")
        self.served(header=[f"Authorization: Bearer {token}"])
        self.assertEqual(self.held(self.alice), 2)
        # A third socket: another session, an API key, another device.
        headers = self.refusal(cookie=self.session_cookie("slots_alice"))
        reason = headers[REFUSAL_HEADER.lower()]
        self.assertTrue(reason.startswith("TOO_MANY_SOCKETS:"), reason)
        self.assertIn("bus_mobile.max_sockets_per_user", reason)
        self.assertEqual(headers["retry-after"], str(handshake.TOO_MANY_SOCKETS_RETRY_S))
        key = self.api_key(self.alice)
        self.refusal(header=[f"Authorization: Bearer {key}"], device_uuid="script-1")
        self.refusal(header=[f"Authorization: Bearer {self.device_token('slots_alice', 'p2')}"])
        self.assertEqual(self.held(self.alice), 2)
        # Another user is served; Alice is again once one of hers closes.
        self.served(cookie=self.session_cookie("slots_bob"))
        done = self.mobile_sockets_done()
        by_cookie.close(CloseCode.CLEAN)
        self.wait_mobile_sockets_done(done + 1)
        self.assertEqual(self.held(self.alice), 1)
        self.served(header=[f"Authorization: Bearer {key}"], device_uuid="script-1")
        self.assertEqual(self.held(self.alice), 2)

    def test_handshakes_that_pass_together_are_closed_over_the_limit(self):
        """Concurrent handshakes can all pass the first check: the slot is
        taken when a socket is served, and the one over the limit is closed
        with 1013 (try again later), before its device is made or goes
        online. Here the first check lets every handshake pass, as it does
        for handshakes at the same moment."""
        self.env["ir.config_parameter"].sudo().set_param("bus_mobile.max_sockets_per_user", 1)
        alice = self.session_cookie("slots_alice")
        first = self.served(cookie=alice)
        handler = MobileWebsocketConnectionHandler
        with patch.object(handler, "_user_sockets_full", return_value=False):
            second = self.mobile_connect(cookie=alice, device_uuid="late-phone")
            self.assertEqual(
                self.close_code_and_reason(second), (CloseCode.TRY_LATER, "TOO_MANY_SOCKETS")
            )
        self.wait_mobile_sockets_done(1)
        self.assertEqual(self.held(self.alice), 1)
        self.assertIsNone(self.device_row(self.alice, "late-phone"), "no device for it")
        first.ping()  # the first one is still served
        first.recv_data_frame(control_frame=True)

    def test_a_refused_new_device_signs_no_other_device_out(self):
        """A handshake refused for its user's sockets changes nothing: the
        room a new device would need is not made, so the user's device
        without a socket keeps its token."""
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("bus_mobile.max_sockets_per_user", 1)
        params.set_param("bus_mobile.max_devices_per_user", 2)
        idle = self.device_token("slots_alice", "idle-phone")
        token = self.device_token("slots_alice", "busy-phone")
        self.served(header=[f"Authorization: Bearer {token}"])
        headers = self.refusal(cookie=self.session_cookie("slots_alice"), device_uuid="new-phone")
        self.assertTrue(headers[REFUSAL_HEADER.lower()].startswith("TOO_MANY_SOCKETS:"))
        self.assertIsNotNone(self.device_row(self.alice, "idle-phone"))
        self.assertIsNone(self.device_row(self.alice, "new-phone"))
        # Its token still works (a 401 TOKEN_REVOKED otherwise).
        self.result("/bus_mobile/presence", {"partner_ids": [self.bob.partner_id.id]}, token=idle)

    def test_every_end_gives_its_slot_back(self):
        """Closed by the app, by the server on a bad frame, or refused as
        anonymous: no slot is kept, however many times."""
        alice = self.session_cookie("slots_alice")
        for n in range(3):
            ws = self.served(cookie=alice)
            ws.close(CloseCode.CLEAN)
            self.wait_mobile_sockets_done(2 * n + 1)
            ws = self.served(cookie=alice)
            ws.send("not json")
            self.assertEqual(self.close_code_and_reason(ws)[0], CloseCode.INCORRECT_DATA)
            self.wait_mobile_sockets_done(2 * n + 2)
        self.assertEqual(self.held(self.alice), 0)
        anonymous = self.mobile_connect()
        self.assertEqual(self.close_code_and_reason(anonymous)[0], CloseCode.SESSION_EXPIRED)
        self.wait_mobile_sockets_done(7)
        self.assertEqual(len(handshake._user_sockets), 0)

    def test_bad_settings_fall_back_to_the_default(self):
        params = self.env["ir.config_parameter"].sudo()
        for value in ("many", -1, 0, 10**400, ""):
            params.set_param("bus_mobile.max_sockets_per_user", value)
            settings = self.env["ir.config_parameter"]._bus_mobile_settings()
            self.assertEqual(settings["max_sockets_per_user"], 50)
        self.served(cookie=self.session_cookie("slots_alice"))
