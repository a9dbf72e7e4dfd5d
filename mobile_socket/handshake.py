"""The upgrade of ``GET /bus_mobile/websocket`` and the loop serving a
mobile connection.

Unlike stock ``/websocket``: no worker-version check (apps have no worker
bundle to be outdated, whatever their User-Agent), no required ``Origin``
header (native apps send none), an explicit refusal of foreign web origins
and of anonymous sessions, every client frame checked before it is served,
a ``device_uuid`` bound to the connection, and ``Authorization: Bearer``
(a device token or an API key) accepted as well as the session cookie, or
in a browser, which cannot set that header, a one-time socket ticket
(``?ticket=``, see ``bus_mobile.socket.ticket``) standing for the token.
"""

import contextlib
import hashlib
import logging
import math
import threading
import time
from urllib.parse import urlsplit

from psycopg2.pool import PoolError
from werkzeug.exceptions import ServiceUnavailable

import odoo
from odoo.http import Response, SessionExpiredException, get_default_session, root
from odoo.tools import config

from odoo.addons.bus.models.bus import dispatch
from odoo.addons.bus.websocket import CloseCode, WebsocketConnectionHandler

from .. import metrics
from ..tools.bearer import (
    DEVICE_MISMATCH,
    TICKET_AND_BEARER,
    USER_MISMATCH,
    BearerTokenError,
    bearer_token,
)
from ..tools.devices import TOO_MANY_DEVICES, TooManyDevicesError
from ..tools.rate_limit import Deadlines, Slots, TokenBuckets
from ..tools.validation import is_device_uuid
from .connection import MobileWebsocket
from .dispatcher import start_once
from .frames import InvalidFrame, MobileWebsocketRequest

_logger = logging.getLogger(__name__)

# Header carrying the reason of a refused handshake: Odoo's threaded server
# drops the body of any response to an Upgrade request, headers survive.
REFUSAL_HEADER = "X-Bus-Mobile-Error"
SOCKET_PATH = "/bus_mobile/websocket"
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Handshakes per session or bearer key, in this worker.
_handshakes = TokenBuckets()
# A refused handshake's answer waits this long (at most its Retry-After) on
# the gevent port, where waiting costs a greenlet, not a thread: a client
# that reconnects as soon as it is answered then tries once a second.
REFUSAL_DELAY_S = 1.0
# Sessions and tokens refused lately, until their next handshake may pass:
# refused again from ``ir.http._match``, before the request opens its
# transaction, so a client ignoring 429 costs the worker less.
_refused = Deadlines()
# Open mobile sockets per (database, user), in this worker.
_user_sockets = Slots()
TOO_MANY_SOCKETS = "TOO_MANY_SOCKETS"
# A user at bus_mobile.max_sockets_per_user waits this long before trying
# again: one of their sockets may close meanwhile (a dead one is noticed
# within half of offline_after_s).
TOO_MANY_SOCKETS_RETRY_S = 10


def normalize_origin(url):
    """``scheme://host[:port]`` of ``url``, lowercased, default port left
    out; None if it is not an http(s) origin."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _after(seconds):
    time.sleep(seconds)  # gevent's: only this request waits
    yield b""


class MobileWebsocketConnectionHandler(WebsocketConnectionHandler):
    # Native apps (Android's OkHttp, most RN libraries) send no Origin.
    _REQUIRED_HANDSHAKE_HEADERS = WebsocketConnectionHandler._REQUIRED_HANDSHAKE_HEADERS - {
        "origin"
    }

    @classmethod
    def open_mobile_connection(cls, request, device_uuid=None, ticket=None):
        """Upgrade ``request`` to a :class:`MobileWebsocket`, or refuse it.

        :return: the 101 response, or an empty-bodied refusal whose reason is
            in the ``X-Bus-Mobile-Error`` header.
        """
        if not cls.websocket_allowed(request):
            raise ServiceUnavailable("Websocket is disabled in test mode")
        if not cls._is_origin_allowed(request):
            origin = request.httprequest.headers.get("Origin", "")[:200]
            _logger.warning("Mobile websocket refused for origin %s", origin)
            metrics.handshake(request.db, "refused", "origin")
            return cls._refusal(
                403, f"ORIGIN_NOT_ALLOWED: {origin} is not listed in bus_mobile.allowed_origins"
            )
        try:
            bearer = cls._handshake_identity(request, ticket)
        except BearerTokenError as exc:
            metrics.handshake(request.db, "refused", "token")
            return cls._refusal(400 if exc.reason == TICKET_AND_BEARER else 401, str(exc))
        if bearer is not None and bearer.is_device_token:
            # A device token is its device's: the socket is that device's.
            if device_uuid is not None and device_uuid != bearer.device_uuid:
                metrics.handshake(request.db, "refused", "device_mismatch")
                return cls._refusal(403, str(BearerTokenError(DEVICE_MISMATCH)))
            device_uuid = bearer.device_uuid
        refusal = cls._limit_refusal(request, bearer, device_uuid)
        if refusal is not None:
            return refusal
        response = cls._get_handshake_response(request.httprequest.headers)
        try:
            sock = request.httprequest._HTTPRequest__environ["socket"]
        except KeyError as exc:
            raise RuntimeError(
                "Couldn't bind the websocket. Is the connection opened on the "
                f"evented port ({config['gevent_port']})?"
            ) from exc
        db, httprequest = request.db, request.httprequest
        if bearer is None:
            session = request.session
            # The session must be persisted: the socket authenticates with it.
            request.session.is_dirty = True
        else:
            session = cls._bearer_session(request, bearer)
        max_sockets = cls._max_sockets(request.env)
        response.call_on_close(
            lambda: cls._serve_mobile(
                (sock, session, httprequest.cookies, device_uuid, bearer),
                db,
                httprequest,
                max_sockets,
            )
        )
        return response

    @classmethod
    def _limit_refusal(cls, request, bearer, device_uuid):
        """The refusal of a handshake over one of its limits (its session's
        or key's rate, its user's open sockets, its user's devices), else
        None. Making room for a new device signs older ones out: it comes
        last, once no other limit refuses the handshake."""
        wait = cls._handshake_wait(request, bearer)
        if wait:
            metrics.handshake(request.db, "refused", "too_many_connections")
            return cls._too_many_connections(wait)
        if cls._user_sockets_full(request, bearer):
            metrics.handshake(request.db, "refused", "too_many_sockets")
            return cls._too_many_sockets()
        if cls._no_room_for_device(request, bearer, device_uuid):
            metrics.handshake(request.db, "refused", "too_many_devices")
            return cls._refusal(
                403,
                f"{TOO_MANY_DEVICES}: every device of this account has an open socket"
                " (bus_mobile.max_devices_per_user): close one",
            )
        return None

    @classmethod
    def _handshake_identity(cls, request, ticket):
        """The handshake's :class:`~..tools.bearer.BearerIdentity`: its
        ``Authorization: Bearer`` header's, or its socket ticket's (used up
        here, whatever the handshake's outcome after); None for a cookie.

        :raise BearerTokenError:
        """
        if ticket is None:
            return request.env["ir.http"]._bus_mobile_bearer_identity()
        if bearer_token(request.httprequest.headers) is not None:
            raise BearerTokenError(TICKET_AND_BEARER)
        # sudo: bus_mobile.socket.ticket - the handshake is anonymous, the
        # ticket is its credential.
        identity = request.env["bus_mobile.socket.ticket"].sudo()._bus_mobile_redeem(ticket)
        if request.session.uid is not None and request.session.uid != identity.uid:
            raise BearerTokenError(USER_MISMATCH)
        return identity

    @classmethod
    def _no_room_for_device(cls, request, bearer, device_uuid):
        """Whether the socket would make a new device that its user has no
        room for (``bus_mobile.device._bus_mobile_make_room``, which makes
        room if it can): refused before the socket, as an app signing in
        is (the socket's open would find no room either)."""
        uid = bearer.uid if bearer is not None else request.session.uid
        if uid is None or not is_device_uuid(device_uuid) or "bus_mobile.device" not in request.env:
            return False
        try:
            request.env["bus_mobile.device"].with_user(uid)._bus_mobile_make_room(device_uuid)
        except TooManyDevicesError:
            return True
        return False

    @classmethod
    def _user_sockets_full(cls, request, bearer):
        """Whether the handshake's user holds ``max_sockets_per_user`` open
        sockets in this worker already. Only a first check, refused with
        429: the slot itself is taken when the socket is served
        (``_serve_mobile``), where concurrent handshakes can't both pass."""
        uid = bearer.uid if bearer is not None else request.session.uid
        if uid is None:
            return False
        return _user_sockets.held((request.db, uid)) >= cls._max_sockets(request.env)

    @staticmethod
    def _max_sockets(env):
        return env["ir.config_parameter"]._bus_mobile_settings()["max_sockets_per_user"]

    @classmethod
    def _too_many_sockets(cls):
        wait = TOO_MANY_SOCKETS_RETRY_S
        return cls._retry_later(
            f"{TOO_MANY_SOCKETS}: this account holds bus_mobile.max_sockets_per_user"
            f" open sockets on this server, retry in {wait} s",
            wait,
        )

    @classmethod
    def _bearer_session(cls, request, bearer):
        """The session of a socket opened with a bearer token: a stand-in
        holding what stock code reads (db, uid, context), never saved. Stock
        code that looks it up in the session store finds nothing and treats
        the socket as expired; the frames and the dispatcher check its key
        instead (``MobileWebsocketRequest``, ``ir.websocket``)."""
        # sudo: res.users - the socket user's own language and time zone.
        user = request.env["res.users"].sudo().browse(bearer.uid)
        session = root.session_store.new()
        session.update(
            get_default_session(),
            db=request.db,
            uid=bearer.uid,
            login=user.login,
            context={"lang": user.lang, "tz": user.tz},
        )
        session.can_save = False
        return session

    @classmethod
    def _serve_mobile(cls, socket_args, db, httprequest, max_sockets):
        """Stock ``_serve_forever`` without its version check, with every
        frame checked first: a bad frame closes its own socket only. The
        socket (``MobileWebsocket(*socket_args)``) holds one of its user's
        ``max_sockets`` slots while served; over them, it is made without
        its device (no device made, no presence change), only to close."""
        threading.current_thread().type = "websocket"
        sock, session, cookies, device_uuid, bearer = socket_args
        slot = (db, session.uid) if session.uid is not None else None
        held = slot is not None and _user_sockets.take(slot, max_sockets)
        over_limit = slot is not None and not held
        try:
            websocket = MobileWebsocket(
                sock, session, cookies, None if over_limit else device_uuid, bearer
            )
            cls._serve_frames(websocket, db, httprequest, over_limit)
        finally:
            if held:
                _user_sockets.give_back(slot)
            cls._end_connection(httprequest)

    @staticmethod
    def _end_connection(httprequest):
        """The connection of an ended socket carries no more HTTP requests.
        gevent's server would read what the client sends late (its close
        frame again) as one, answer 400 on a socket shut for writing and
        log an error; its keep-alive loop ends on a closed input stream.
        (Odoo's threaded server already reads an empty one.)"""
        stream = httprequest._HTTPRequest__environ.get("wsgi.input")
        if odoo.evented and stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.close()

    @classmethod
    def _serve_frames(cls, websocket, db, httprequest, over_limit):
        # Stock's dispatch.subscribe starts it unlocked (see start_once).
        start_once(dispatch)
        if websocket._session.uid is None:
            # An app reads 4001 as "log in again"; an anonymous socket would
            # otherwise look connected and never receive anything.
            metrics.handshake(db, "refused", "anonymous")
            websocket.disconnect(CloseCode.SESSION_EXPIRED, "SESSION_EXPIRED")
        elif over_limit:
            # Handshakes that passed the first check together: the last to
            # be served finds its user's slots taken. 1013: retry later.
            metrics.handshake(db, "refused", "too_many_sockets")
            websocket.disconnect(CloseCode.TRY_LATER, TOO_MANY_SOCKETS)
        else:
            metrics.handshake(db, "accepted")
        if not over_limit and websocket._session.uid is not None and websocket.bearer is not None:
            # Listen to the key's channel from the start, subscribed or not:
            # its revocation reaches this socket on every worker and node.
            dispatch.subscribe([websocket.bearer.channel(db)], 0, db, websocket)
        for message in websocket.get_messages():
            cls._serve_message(websocket, db, httprequest, message)
            # Nothing of a frame stays alive while the socket waits for the
            # next one, often for hours (see _serve_message).
            del message

    @classmethod
    def _serve_message(cls, websocket, db, httprequest, message):
        """One client frame. Its request (environment, closed cursor, the
        session read from its file) dies on return: kept in the loop, as
        stock does, it costs an idle socket ~10 KB."""
        with MobileWebsocketRequest(db, httprequest, websocket) as req:
            try:
                req.serve_websocket_message(message)
            except InvalidFrame as exc:
                websocket.refuse_frame(str(exc))
            except SessionExpiredException as exc:
                # A bearer socket's reason (TOKEN_REVOKED...) or stock's.
                websocket.disconnect(CloseCode.SESSION_EXPIRED, str(exc) or "SESSION_EXPIRED")
            except PoolError:
                websocket.disconnect(CloseCode.TRY_LATER)
            except Exception:
                _logger.exception("Exception occurred during websocket request handling")

    @classmethod
    def _is_origin_allowed(cls, request):
        """No Origin (a native app) or the server's own origin (scheme, host
        and port) pass; another web site's origin passes only if an
        administrator listed it, which stops cross-site WebSocket hijacking
        with the user's cookies."""
        origin = request.httprequest.headers.get("Origin")
        if not origin:
            return True
        origin = normalize_origin(origin)
        if origin is None:
            return False
        if origin == normalize_origin(request.httprequest.host_url):
            return True
        return origin in cls._allowed_origins(request.env)

    @classmethod
    def _allowed_origins(cls, env):
        # sudo: ir.config_parameter - the handshake may be anonymous; the
        # allow-list is not secret.
        value = env["ir.config_parameter"].sudo().get_param("bus_mobile.allowed_origins", "")
        origins = (normalize_origin(origin) for origin in value.split(",") if origin.strip())
        return {origin for origin in origins if origin}

    @classmethod
    def _refusal(cls, status, reason, headers=None):
        # Connection: close - what follows a refused upgrade on that
        # connection (an app closing the socket it thought was opening
        # sends a close frame) is not an HTTP request to read. Odoo's
        # threaded server closes it anyway; gevent's would keep it alive.
        headers = {
            **(headers or {}),
            REFUSAL_HEADER: reason,
            "Content-Length": "0",
            "Connection": "close",
        }
        return Response(status=status, headers=headers)

    @classmethod
    def _handshake_wait(cls, request, bearer):
        """0 when this session (or bearer key) may open one more socket,
        else the whole seconds to wait: a client reconnecting in a loop is
        refused here, before its socket, presence and replay cost the
        worker's other sockets anything. Anonymous sessions are closed
        right after the upgrade anyway: not counted."""
        if bearer is not None:
            key = (request.db, bearer.model, bearer.key_id)
        elif request.session.uid is not None:
            key = (request.db, request.session.sid)
        else:
            return 0
        settings = request.env["ir.config_parameter"]._bus_mobile_settings()
        wait = _handshakes.take(key, settings["handshake_burst"], settings["handshake_refill_s"])
        early_key = cls._early_key(request)
        if wait and early_key is not None:
            _refused.hold(early_key, wait)
        return math.ceil(wait)

    @classmethod
    def refusal_before_dispatch(cls, request):
        """The 429 of a handshake whose session or token was refused lately
        and has not waited its ``Retry-After``, else None. Needs no
        transaction: called from ``ir.http._match``."""
        key = cls._early_key(request)
        wait = 0 if key is None else _refused.remaining(key)
        if not wait:
            return None
        metrics.handshake(request.db, "refused", "too_many_connections")
        return cls._too_many_connections(math.ceil(wait))

    @classmethod
    def _early_key(cls, request):
        """What a handshake is limited by, known before its transaction:
        its bearer token (hashed) or its session id. None for a socket
        ticket: used once, it only names its key inside the transaction (a
        ticket's handshake is limited there, with its key's)."""
        if "ticket" in request.httprequest.args:
            return None
        try:
            token = bearer_token(request.httprequest.headers)
        except BearerTokenError:
            return None  # refused with 401 by the handshake itself
        if token is not None:
            return (request.db, hashlib.sha256(token.encode()).digest())
        return (request.db, request.session.sid)

    @classmethod
    def _too_many_connections(cls, wait):
        return cls._retry_later(
            "TOO_MANY_CONNECTIONS: this session opened sockets faster than"
            f" bus_mobile.handshake_burst allows, retry in {wait} s",
            wait,
        )

    @classmethod
    def _retry_later(cls, reason, wait):
        """A 429 refusal: ``reason`` in its header, ``wait`` in Retry-After."""
        response = cls._refusal(429, reason, {"Retry-After": str(wait)})
        if odoo.evented:
            # The server sends the headers with the first body chunk: after
            # the wait, with no cursor held meanwhile.
            response.response = _after(min(wait, REFUSAL_DELAY_S))
        return response
