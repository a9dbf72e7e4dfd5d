from odoo.http import Controller, request, route

from ..mobile_socket import SOCKET_PATH, MobileWebsocketConnectionHandler


class BusMobileWebsocketController(Controller):
    @route(SOCKET_PATH, type="http", auth="public", websocket=True)
    def websocket(self, device_uuid=None):
        """Open the mobile socket; see ``MobileWebsocketConnectionHandler``.
        ``auth='public'``: a socket client cannot follow the login redirect,
        an anonymous session is closed with 4001 right after the upgrade."""
        return MobileWebsocketConnectionHandler.open_mobile_connection(request, device_uuid)
