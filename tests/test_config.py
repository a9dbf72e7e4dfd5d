import websocket as ws_client

from odoo import release
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException

from odoo.addons.bus.websocket import WebsocketConnectionHandler

from .common import BROWSER_UA, MobileWebsocketCase


@tagged("post_install", "-at_install")
class TestConfig(MobileWebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.make_user("mobile_bob")

    def test_config_matches_running_server(self):
        self.authenticate("mobile_bob", "mobile_bob")
        config = self.make_jsonrpc_request("/bus_mobile/config")
        self.assertEqual(config["websocket_url"], "/bus_mobile/websocket")
        self.assertEqual(config["worker_version"], WebsocketConnectionHandler._VERSION)
        self.assertEqual(config["server_version"], release.version)
        self.assertEqual(
            config["user"],
            {"id": self.user.id, "partner_id": self.user.partner_id.id, "name": self.user.name},
        )
        self.assertIsInstance(config["channels"], list)
        self.assertEqual(
            config["presence"], {"heartbeat_s": 30, "away_after_s": 1800, "offline_after_s": 65}
        )
        self.assertEqual(
            set(config["limits"]),
            {
                "max_body_chars",
                "page_max",
                "rate_limit_burst",
                "rate_limit_delay",
            },
        )

    def test_config_follows_system_parameters(self):
        self.env["ir.config_parameter"].set_param("bus_mobile.offline_after_s", "120")
        self.env["ir.config_parameter"].set_param("bus_mobile.page_max", "not a number")
        self.authenticate("mobile_bob", "mobile_bob")
        config = self.make_jsonrpc_request("/bus_mobile/config")
        self.assertEqual(config["presence"]["offline_after_s"], 120)
        self.assertEqual(config["limits"]["page_max"], 100)

    def test_worker_version_opens_stock_websocket(self):
        """A client that must use stock /websocket with a browser UA learns
        the right ?version= from the config and is not closed."""
        session = self.authenticate("mobile_bob", "mobile_bob")
        version = self.make_jsonrpc_request("/bus_mobile/config")["worker_version"]
        ws = ws_client.create_connection(
            f"{self._BASE_WEBSOCKET_URL}?version={version}",
            cookie=f"session_id={session.sid}",
            header=[f"User-Agent: {BROWSER_UA}"],
            timeout=5,
        )
        self._websockets.add(ws)
        self.subscribe(ws, [], self.env["bus.bus"]._bus_last_id())
        self.env["bus.bus"]._sendone(self.user.partner_id, "bus_mobile/test", {"ok": True})
        self.trigger_notification_dispatching([self.user.partner_id])
        notification = self.recv_notifications(ws)[0]
        self.assertEqual(notification["message"]["payload"], {"ok": True})

    def test_config_requires_a_session(self):
        with self.assertRaises(JsonRpcException) as caught:
            self.make_jsonrpc_request("/bus_mobile/config")
        self.assertEqual(str(caught.exception), "odoo.http.SessionExpiredException")
