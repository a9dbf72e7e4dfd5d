from odoo import models, release

from odoo.addons.bus.websocket import Websocket, WebsocketConnectionHandler


class ResUsers(models.Model):
    _inherit = "res.users"

    def _bus_mobile_config(self):
        """The bootstrap an app needs before it opens the mobile socket."""
        self.ensure_one()
        settings = self.env["ir.config_parameter"]._bus_mobile_settings()
        return {
            "websocket_url": "/bus_mobile/websocket",
            # Read, never hard-coded: it changes with Odoo updates.
            "worker_version": WebsocketConnectionHandler._VERSION,
            "server_version": release.version,
            "user": {"id": self.id, "partner_id": self.partner_id.id, "name": self.name},
            "channels": self._bus_mobile_channel_names(),
            "presence": {
                "heartbeat_s": settings["heartbeat_s"],
                "away_after_s": settings["away_after_s"],
                "offline_after_s": settings["offline_after_s"],
            },
            "limits": {
                "max_body_chars": settings["max_body_chars"],
                "page_max": settings["page_max"],
                "rate_limit_burst": Websocket.RL_BURST,
                "rate_limit_delay": Websocket.RL_DELAY,
            },
        }

    def _bus_mobile_channel_names(self):
        """String bus channels this user may subscribe to on the mobile socket."""
        self.ensure_one()
        return []
