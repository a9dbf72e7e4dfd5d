from odoo.http import Controller, request, route

from ..mobile_websocket import MobileWebsocketConnectionHandler


class BusMobileController(Controller):
    @route("/bus_mobile/websocket", type="http", auth="public", websocket=True)
    def websocket(self, device_uuid=None):
        """Open the mobile socket; see ``MobileWebsocketConnectionHandler``."""
        return MobileWebsocketConnectionHandler.open_mobile_connection(request, device_uuid)

    @route("/bus_mobile/config", type="json", auth="user", methods=["POST"], cors="*")
    def config(self):
        return request.env.user._bus_mobile_config()
