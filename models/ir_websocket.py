from odoo import models


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    # ------------------------------------------------------------------
    # Subscription authorization (mobile channels)
    # ------------------------------------------------------------------

    # ------------------------------------------------------------------
    # Presence (devices, heartbeats, watchers)
    # ------------------------------------------------------------------
