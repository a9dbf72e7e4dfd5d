"""``MobileBusClient``: what a mobile app does, in Python, without Odoo.

It signs in with a device token (``/bus_mobile/device/login``, two-factor
users included), an API key, or Odoo's stock session route, reads
``/bus_mobile/config``, opens the mobile socket with a ``device_uuid``,
subscribes, sends presence heartbeats, calls the JSON-RPC routes of the
wire contract (the addon's doc/protocol.md), and receives typed
notifications while it keeps itself connected: it reconnects after drops,
signs in again after a 4001, notices a silent network, and resumes after
every reconnect so that no message is lost and none is delivered twice.

This class is the public API and holds the state its parts share; each
concern is a part of its own, as in the JavaScript client. Here a part is
a mixin, so its methods stay the client's own: the API, the stats and the
private state that tests spy on are those of one object, as before.

- :mod:`.jsonrpc`     JSON-RPC over HTTP, and retrying through outages
- :mod:`.auth`        signing in and out, the credentials requests carry
- :mod:`.channels`    the mobile channels' routes
- :mod:`.presence`    presence routes, heartbeats and the app's state
- :mod:`.connection`  the socket's life: open, close, drops and reconnects
- :mod:`.receive`     the poll loop, what the socket brings, the resume
- :mod:`.discuss`     Discuss, where the server has ``mail``:
  ``client.discuss``
- :mod:`.errors`      the errors all of them raise

Only ``requests``, ``websocket-client`` and the standard library are used.
"""

import random
import threading
import uuid

from . import backoff as bo
from ._version import __version__
from .auth import AuthMixin
from .channels import MobileChannelsMixin
from .connection import (
    FATAL_HANDSHAKE_STATUSES,
    PENDING_READ_FRAMES,
    PENDING_READ_S,
    SESSION_PROOF_S,
    ConnectionMixin,
    parse_close_frame,
    retry_after_seconds,
    websocket_base,
)
from .dedup import ResumeState
from .discuss import Discuss
from .errors import (
    MOBILE_SOCKET_PATH,
    AuthenticationFailed,
    BusMobileError,
    ClosedError,
    HandshakeError,
    HttpError,
    RpcError,
    ServerUnavailable,
    SessionExpiredError,
    TokenRefused,
    TotpRequired,
)
from .explain import close_cause, handshake_cause
from .jsonrpc import DATABASE_ERROR_PREFIX, SESSION_EXPIRED_NAME, JsonRpcMixin, http_session
from .liveness import Liveness
from .notifications import CHANNEL, MESSAGE, message_notification, parse_notification
from .presence import PresenceMixin
from .receive import ReceiveMixin

# What could be imported from here before this module was split into its
# parts still can be (modules and private names excepted); new code imports
# each name from the part it lives in.
__all__ = [
    "CHANNEL",
    "DATABASE_ERROR_PREFIX",
    "DEFAULT_USER_AGENT",
    "FATAL_HANDSHAKE_STATUSES",
    "MESSAGE",
    "MOBILE_SOCKET_PATH",
    "PENDING_READ_FRAMES",
    "PENDING_READ_S",
    "SESSION_EXPIRED_NAME",
    "SESSION_PROOF_S",
    "AuthenticationFailed",
    "BusMobileError",
    "ClosedError",
    "Discuss",
    "HandshakeError",
    "HttpError",
    "Liveness",
    "MobileBusClient",
    "ResumeState",
    "RpcError",
    "ServerUnavailable",
    "SessionExpiredError",
    "TokenRefused",
    "TotpRequired",
    "close_cause",
    "handshake_cause",
    "message_notification",
    "parse_close_frame",
    "parse_notification",
    "retry_after_seconds",
    "websocket_base",
]

DEFAULT_USER_AGENT = f"bus-mobile-client/{__version__} (websocket-client)"


class MobileBusClient(
    ReceiveMixin,
    ConnectionMixin,
    PresenceMixin,
    MobileChannelsMixin,
    AuthMixin,
    JsonRpcMixin,
):
    """One app install (``device_uuid``) of one user on one server.

    :param url: the server, e.g. ``http://127.0.0.1:8069``
    :param db, login, password: for ``/web/session/authenticate`` or
        :meth:`device_login`; without a password, pass ``session_id`` or
        ``token`` (then no re-login is possible)
    :param token: a bearer token (a device token from :meth:`device_login`,
        or one of the user's API keys), sent as ``Authorization: Bearer``
        on every call and on the socket instead of the session cookie
    :param device_uuid: this install's id; default: a new one, except with
        a ``token``: a device token is its device's, so the socket then goes
        without one and the server ties it to the token's device (an API
        key's socket has no device: stock presence only). Give the
        ``device_uuid`` of the token's device to call the device routes.
    :param ws_url: the socket URL when it is not next to ``url`` (a gevent
        port, a separate proxy route); default: ``websocket_url`` of the config
    :param backoff: a :class:`.backoff.Backoff`
    :param resume: a :class:`.dedup.ResumeState` to resume from saved cursors
    :param channels: extra bus channels to subscribe to (strings)
    :param liveness: a :class:`.liveness.Liveness`; default: derived from the
        server's ``offline_after_s`` (``/bus_mobile/config``)
    """

    def __init__(
        self,
        url,
        db=None,
        login=None,
        password=None,
        *,
        session_id=None,
        token=None,
        device_uuid=None,
        user_agent=DEFAULT_USER_AGENT,
        origin=None,
        ws_url=None,
        timeout=10.0,
        backoff=None,
        resume=None,
        channels=(),
        heartbeat_s=None,
        rand=random.random,
        liveness=None,
    ):
        self.url = url.rstrip("/")
        self.db, self.login, self.password = db, login, password
        self.device_uuid = device_uuid or (None if token else str(uuid.uuid4()))
        self.user_agent, self.origin, self.ws_url = user_agent, origin, ws_url
        self.timeout = timeout
        self.backoff = backoff or bo.Backoff()
        self.resume = resume or ResumeState()
        self.channels = list(channels)
        self.heartbeat_s = heartbeat_s
        self.rand = rand
        self.liveness = liveness
        self.http = http_session(user_agent)
        self.session_id = session_id
        self.token = token
        # What the last device_login answered (token excepted).
        self.sign_in_info = None
        self.session_info = None
        self.server_config = None
        self.app_state, self.inactivity_ms = "foreground", 0
        self.stats = {
            "connects": 0,
            "reconnects": 0,
            "reauths": 0,
            "synced": 0,
            "duplicates": 0,
            "closes": [],
            # Handshakes refused with 429 (the handshake limit): the
            # Retry-After each asked for, in seconds, in order.
            "refusals": [],
        }
        # The socket (connection.py): the open one, the close on purpose, the
        # reconnect schedule, and whether a new sign-in is yet to prove itself.
        self._ws = None
        self._stop = threading.Event()
        self._attempt = 0
        self._next_attempt_at = 0.0
        self._opened_at = 0.0
        self._reauthed = False
        self._socket_credential = None
        # Last time anything came from the server; the pending ping's time.
        self._heard_at = 0.0
        self._ping_sent_at = None
        # When the next heartbeat is due (presence.py).
        self._next_heartbeat_at = 0.0
        # What poll() has received and not returned yet (receive.py).
        self._pending = []
        self._rpc_id = 0
        #: Odoo Discuss (:mod:`.discuss`), where the server has ``mail``.
        self.discuss = Discuss(self)
