"""The mobile flavour of Odoo's bus WebSocket.

Same frames, same dispatcher and same sessions as stock ``/websocket``; what
differs is only what a native app needs: no worker-version check, no required
``Origin`` header, an explicit refusal of foreign web origins and of
anonymous sessions, and a ``device_uuid`` bound to the connection.
"""

import logging
from urllib.parse import urlparse

from werkzeug.exceptions import ServiceUnavailable

from odoo.http import Response
from odoo.tools import config

from odoo.addons.bus.websocket import (
    CloseCode,
    Websocket,
    WebsocketConnectionHandler,
)

_logger = logging.getLogger(__name__)

# Header carrying the reason of a refused handshake: Odoo's threaded server
# drops the body of any response to an Upgrade request, headers survive.
REFUSAL_HEADER = "X-Bus-Mobile-Error"


class MobileWebsocket(Websocket):
    """A bus WebSocket tied to one device (``bus_mobile.device``) of its user."""

    def __init__(self, sock, session, cookies, device_uuid=None):
        # Set before the stock initializer: it fires the OPEN lifecycle event,
        # whose callbacks only receive this instance.
        self.bus_mobile_device_uuid = device_uuid
        super().__init__(sock, session, cookies)


class MobileWebsocketConnectionHandler(WebsocketConnectionHandler):
    # Native apps (Android's OkHttp, most RN libraries) send no Origin.
    _REQUIRED_HANDSHAKE_HEADERS = WebsocketConnectionHandler._REQUIRED_HANDSHAKE_HEADERS - {
        "origin"
    }

    @classmethod
    def open_mobile_connection(cls, request, device_uuid=None):
        """Upgrade ``request`` to a :class:`MobileWebsocket`, or refuse it.

        :return: the 101 response, or an empty-bodied refusal whose reason is
            in the ``X-Bus-Mobile-Error`` header.
        """
        if not cls.websocket_allowed(request):
            raise ServiceUnavailable("Websocket is disabled in test mode")
        if not cls._is_origin_allowed(request):
            origin = request.httprequest.headers.get("Origin")
            _logger.warning("Mobile websocket refused for origin %s", origin)
            return cls._refusal(
                403, f"ORIGIN_NOT_ALLOWED: {origin} is not listed in bus_mobile.allowed_origins"
            )
        response = cls._get_handshake_response(request.httprequest.headers)
        try:
            sock = request.httprequest._HTTPRequest__environ["socket"]
        except KeyError as exc:
            raise RuntimeError(
                "Couldn't bind the websocket. Is the connection opened on the "
                f"evented port ({config['gevent_port']})?"
            ) from exc
        session, db, httprequest = request.session, request.db, request.httprequest
        response.call_on_close(
            lambda: cls._serve_mobile(
                MobileWebsocket(sock, session, httprequest.cookies, device_uuid),
                db,
                httprequest,
            )
        )
        # The session must be persisted: the socket authenticates with it.
        request.session.is_dirty = True
        return response

    @classmethod
    def _serve_mobile(cls, websocket, db, httprequest):
        if websocket._session.uid is None:
            # An app reads 4001 as "log in again"; an anonymous socket would
            # otherwise look connected and never receive anything.
            websocket.disconnect(CloseCode.SESSION_EXPIRED, "SESSION_EXPIRED")
        # Our own version: mobile apps have no worker bundle to be outdated.
        cls._serve_forever(websocket, db, httprequest, cls._VERSION)

    @classmethod
    def _is_origin_allowed(cls, request):
        """No Origin (a native app) or the server's own origin pass; another
        web site's origin passes only if an administrator listed it, which
        stops cross-site WebSocket hijacking with the user's cookies."""
        origin = request.httprequest.headers.get("Origin")
        if not origin:
            return True
        if urlparse(origin).netloc == request.httprequest.host:
            return True
        return origin.rstrip("/") in cls._allowed_origins(request.env)

    @classmethod
    def _allowed_origins(cls, env):
        # sudo: ir.config_parameter - the handshake may be anonymous; the
        # allow-list is not secret.
        value = env["ir.config_parameter"].sudo().get_param("bus_mobile.allowed_origins", "")
        return {origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()}

    @classmethod
    def _refusal(cls, status, reason):
        return Response(status=status, headers={REFUSAL_HEADER: reason, "Content-Length": "0"})
