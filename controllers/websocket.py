from odoo.http import Controller, request, route

from ..mobile_socket import SOCKET_PATH, MobileWebsocketConnectionHandler


class BusMobileWebsocketController(Controller):
    @route(SOCKET_PATH, type="http", auth="public", websocket=True)
    def websocket(self, device_uuid=None, ticket=None):
        """Open the mobile socket; see ``MobileWebsocketConnectionHandler``.
        ``auth='public'``: a socket client cannot follow the login redirect,
        an anonymous session is closed with 4001 right after the upgrade.
        ``ticket``: a socket ticket, for browsers (no Authorization header)."""
        return MobileWebsocketConnectionHandler.open_mobile_connection(request, device_uuid, ticket)

    @route("/bus_mobile/socket/ticket", type="json", auth="bus_mobile", methods=["POST"], cors="*")
    def socket_ticket(self):
        """A one-time ticket opening one socket for the calling bearer token
        (``?ticket=`` on the socket): see ``bus_mobile.socket.ticket``."""
        return request.env["bus_mobile.socket.ticket"]._bus_mobile_issue(request.bus_mobile_bearer)
