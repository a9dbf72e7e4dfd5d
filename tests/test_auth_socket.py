import gc
import secrets

import websocket as ws_client

from odoo.tests import tagged

from odoo.addons.bus.websocket import CloseCode

from ..mobile_socket import REFUSAL_HEADER, mobile_dispatch
from .auth_common import AuthCallsMixin
from .common import MobileWebsocketCase, wait_until


@tagged("post_install", "-at_install")
class TestBearerSocket(AuthCallsMixin, MobileWebsocketCase):
    """The mobile socket with ``Authorization: Bearer``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.make_user("sock_alice")
        cls.bob = cls.make_user("sock_bob")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        # Sockets of these tests left to the garbage collector close now, not
        # in the middle of a later test that counts descriptors.
        gc.collect()

    def bearer_connect(self, token, device_uuid=None, cookie=""):
        """A native app's socket: the token in a header, no Origin."""
        url = self._MOBILE_WEBSOCKET_URL
        if device_uuid:
            url += f"?device_uuid={device_uuid}"
        before = mobile_dispatch.subscriber_count(self.env.cr.dbname)
        ws = ws_client.create_connection(
            url,
            cookie=cookie,
            header=[f"Authorization: Bearer {token}"],
            suppress_origin=True,
            timeout=5,
        )
        self._websockets.add(ws)
        self.wait_socket_served(before + 1)
        return ws

    def wait_socket_served(self, count, timeout=5):
        """Wait until the server thread opened the socket (its device is
        online) and the dispatcher served its key's channel: they share this
        test's cursor, which must not be used meanwhile."""
        wait_until(
            lambda: mobile_dispatch.subscriber_count(self.env.cr.dbname) >= count,
            f"{count} sockets subscribed to the dispatcher",
            timeout,
        )
        self.wait_mobile_dispatch()

    def refused(self, token, status=401, **kw):
        with self.assertRaises(ws_client.WebSocketBadStatusException) as caught:
            self.bearer_connect(token, **kw)
        self.assertEqual(caught.exception.status_code, status)
        self.assertFalse(caught.exception.resp_body, "refusals have an empty body")
        return caught.exception.resp_headers[REFUSAL_HEADER.lower()]

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

    def revoke_and_dispatch(self, records):
        """What a revocation's commit does on a real server: the key's
        channel is notified on the bus, every worker's dispatcher serves it."""
        self.env.cr.precommit.run()
        self.trigger_notification_dispatching(list(records))

    def test_device_token_socket_is_the_devices(self):
        token = self.device_token("sock_alice")
        ws = self.bearer_connect(token)  # no device_uuid: the token's
        self.assert_receives_own_notification(ws, self.alice)
        device = self.device(self.alice)
        device.invalidate_recordset()
        self.assertEqual(device.status, "online")
        # Its own device_uuid given explicitly is fine too.
        ws2 = self.bearer_connect(token, device_uuid="phone-1")
        self.assert_receives_own_notification(ws2, self.alice)

    def test_api_key_socket(self):
        key = self.api_key(self.alice)
        ws = self.bearer_connect(key, device_uuid="script-1")
        self.assert_receives_own_notification(ws, self.alice)
        self.assertEqual(self.device(self.alice, "script-1").status, "online")

    def test_handshake_refusals(self):
        token = self.device_token("sock_alice")
        self.assertIn("INVALID_TOKEN", self.refused(secrets.token_hex(20)))
        # Bob's cookie with Alice's token.
        bob = self.session_cookie("sock_bob")
        self.assertIn("USER_MISMATCH", self.refused(token, cookie=bob))
        # Another device's uuid (Bob's device) with Alice's device token.
        self.device_token("sock_bob", device_uuid="bob-phone")
        self.assertIn("DEVICE_MISMATCH", self.refused(token, status=403, device_uuid="bob-phone"))
        self.assertFalse(self.device(self.alice, "bob-phone"))
        # Expired.
        self.env.cr.execute(
            "UPDATE bus_mobile_device_token SET expiration_date = now() - interval '1 hour'"
            " WHERE user_id = %s",
            [self.alice.id],
        )
        self.assertIn("TOKEN_EXPIRED", self.refused(token))
        # Revoked.
        token = self.device_token("sock_alice")
        self.device(self.alice)._bus_mobile_sign_out()
        self.assertIn("TOKEN_REVOKED", self.refused(token))

    def test_revocation_closes_the_open_socket(self):
        token = self.device_token("sock_alice")
        # Never subscribed: it listens to its key's channel anyway.
        ws = self.bearer_connect(token)
        device = self.device(self.alice)
        tokens = device._bus_mobile_tokens()
        device._bus_mobile_sign_out()
        self.revoke_and_dispatch(tokens)
        self.assertEqual(
            self.close_code_and_reason(ws), (CloseCode.SESSION_EXPIRED, "TOKEN_REVOKED")
        )
        device.invalidate_recordset()
        self.assertEqual(device.status, "offline")

    def test_revocation_closes_a_subscribed_socket(self):
        token = self.device_token("sock_alice")
        ws = self.bearer_connect(token)
        self.assert_receives_own_notification(ws, self.alice)
        tokens = self.device(self.alice)._bus_mobile_tokens()
        self.alice.password = "changed-password"
        self.revoke_and_dispatch(tokens)
        self.assertEqual(self.close_code_and_reason(ws)[0], CloseCode.SESSION_EXPIRED)

    def test_removed_api_key_closes_its_socket(self):
        key_text = self.api_key(self.alice)
        ws = self.bearer_connect(key_text, device_uuid="script-1")
        key = self.env["res.users.apikeys"].search([("user_id", "=", self.alice.id)])
        key.with_user(self.alice)._remove()
        self.revoke_and_dispatch(key)
        self.assertEqual(
            self.close_code_and_reason(ws), (CloseCode.SESSION_EXPIRED, "TOKEN_REVOKED")
        )

    def test_frames_of_a_revoked_socket_close_it(self):
        """Even without the bus notification, the next frame is refused."""
        token = self.device_token("sock_alice")
        ws = self.bearer_connect(token)
        self.device(self.alice)._bus_mobile_sign_out()
        self.subscribe(ws, [], 0, wait_for_dispatch=False)
        self.assertEqual(
            self.close_code_and_reason(ws), (CloseCode.SESSION_EXPIRED, "TOKEN_REVOKED")
        )

    def test_other_sockets_stay_open(self):
        alice = self.bearer_connect(self.device_token("sock_alice"))
        bob = self.bearer_connect(self.device_token("sock_bob", device_uuid="bob-phone"))
        tokens = self.device(self.alice)._bus_mobile_tokens()
        self.device(self.alice)._bus_mobile_sign_out()
        self.revoke_and_dispatch(tokens)
        self.assertEqual(self.close_code_and_reason(alice)[0], CloseCode.SESSION_EXPIRED)
        self.assert_receives_own_notification(bob, self.bob)

    def test_archiving_closes_both_kinds_of_socket_with_its_reason(self):
        """A device token is revoked by the archive (TOKEN_REVOKED, for
        good); an API key is refused while the user is archived
        (USER_ARCHIVED), at the handshake too."""
        device_ws = self.bearer_connect(self.device_token("sock_alice"))
        key = self.api_key(self.alice)
        key_ws = self.bearer_connect(key, device_uuid="script-1")
        keys = self.env["res.users.apikeys"].search([("user_id", "=", self.alice.id)])
        tokens = self.device(self.alice)._bus_mobile_tokens()
        self.alice.active = False
        self.revoke_and_dispatch([*tokens, *keys])
        self.assertEqual(
            self.close_code_and_reason(device_ws), (CloseCode.SESSION_EXPIRED, "TOKEN_REVOKED")
        )
        self.assertEqual(
            self.close_code_and_reason(key_ws), (CloseCode.SESSION_EXPIRED, "USER_ARCHIVED")
        )
        self.wait_mobile_sockets_done(2)
        self.assertIn("USER_ARCHIVED", self.refused(key, device_uuid="script-1"))
