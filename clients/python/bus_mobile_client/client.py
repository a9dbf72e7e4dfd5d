"""``MobileBusClient``: what a mobile app does, in Python, without Odoo.

It signs in with a device token (``/bus_mobile/device/login``, two-factor
users included), an API key, or Odoo's stock session route, reads
``/bus_mobile/config``,
opens the mobile socket with a ``device_uuid``, subscribes, sends presence
heartbeats, calls the JSON-RPC routes of the wire contract (the addon's
doc/protocol.md), and receives typed notifications while it
keeps itself connected:

- an abnormal close or a dropped connection: reconnect with exponential
  backoff and jitter (:mod:`.backoff`);
- a clean close (1000): no reconnect, :class:`ClosedError`;
- 4001 (session expired): log in again once, then :class:`SessionExpiredError`;
- 1013 (try later): a longer backoff;
- silence (no frame, no ping, no pong: a network that drops the connection
  without closing it): a ping of its own, and a reconnect when the server
  does not answer in time (:mod:`.liveness`, bounds derived from the
  server's keepalive);
- a send that fails: the close frame the server sent before (4001 after a
  logout, say) is read first, so the close is handled for what it is;
- after every reconnect: subscribe with the last notification id, then
  ``/bus_mobile/sync`` from the last message id, de-duplicated by message
  id (:mod:`.dedup`), so no message is lost and none is delivered twice;
- Discuss, where the server has ``mail``: ``client.discuss`` (:mod:`.discuss`).

Only ``requests``, ``websocket-client`` and the standard library are used.
"""

import http.cookiejar
import json
import logging
import random
import socket
import struct
import threading
import time
import uuid
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
import websocket

from . import backoff as bo
from ._version import __version__
from .dedup import ResumeState
from .discuss import Discuss
from .explain import close_cause, handshake_cause
from .liveness import Liveness
from .notifications import (
    CHANNEL,
    MESSAGE,
    message_notification,
    parse_notification,
)

_logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"bus-mobile-client/{__version__} (websocket-client)"
MOBILE_SOCKET_PATH = "/bus_mobile/websocket"
SESSION_EXPIRED_NAME = "odoo.http.SessionExpiredException"
# JSON-RPC errors of the server's database driver (a database restarting).
DATABASE_ERROR_PREFIX = "psycopg2."
# A handshake answered with one of these will not get better by retrying.
FATAL_HANDSHAKE_STATUSES = {400, 401, 403, 404}
# A socket that stayed open this long proved that its session works.
SESSION_PROOF_S = 5.0
# After a failed send, how long (and how many frames) to read what the
# server sent before the connection broke, looking for its close frame.
PENDING_READ_S = 1.0
PENDING_READ_FRAMES = 100


def retry_after_seconds(headers):
    """The ``Retry-After`` of a refusal's headers (any case), in seconds: its
    delta form; 0 when absent or not a number of seconds."""
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                return 0.0
    return 0.0


class BusMobileError(Exception):
    """Base of the client's errors."""


class ServerUnavailable(BusMobileError):
    """Network error or HTTP 5xx: worth retrying later. ``handshake`` is the
    :class:`HandshakeError` when the socket handshake got an HTTP error."""

    def __init__(self, message, handshake=None):
        self.handshake = handshake
        super().__init__(message)


class HttpError(BusMobileError):
    """An HTTP answer that is not JSON-RPC (404: route missing, ...)."""

    def __init__(self, status, url, body=""):
        self.status, self.url, self.body = status, url, body
        super().__init__(f"HTTP {status} on {url}: {body[:200]}")


class RpcError(BusMobileError):
    """Odoo's JSON-RPC error object: ``name`` is the exception's dotted name."""

    def __init__(self, route, name, message):
        self.route, self.name, self.message = route, name, message
        super().__init__(f"{route}: {name}: {message}")

    @property
    def short_name(self):
        return self.name.rsplit(".", 1)[-1]


class AuthenticationFailed(BusMobileError):
    """Login refused: wrong login/password, unknown database, or MFA."""


class TotpRequired(AuthenticationFailed):
    """The account has two-factor authentication: call
    :meth:`MobileBusClient.device_login` again with ``totp_code``."""


class TokenRefused(BusMobileError):
    """The server refused the bearer token (HTTP 401): ``reason`` is
    ``INVALID_TOKEN``, ``TOKEN_EXPIRED``, ``TOKEN_REVOKED`` or
    ``USER_MISMATCH``. Sign in again."""

    def __init__(self, route, reason, message):
        self.route, self.reason, self.message = route, reason, message
        super().__init__(f"{route}: {message}")


class SessionExpiredError(BusMobileError):
    """The session is not valid and a new login did not help (or was not possible)."""


class HandshakeError(BusMobileError):
    """The socket handshake was refused for good (400, 403, 404, ...)."""

    def __init__(self, status, headers=None, body=None, path=MOBILE_SOCKET_PATH):
        self.status, self.headers, self.body = status, headers or {}, body
        self.cause, self.fix = handshake_cause(status, self.headers, body, path)
        super().__init__(f"{self.cause}. Fix: {self.fix}")


class ClosedError(BusMobileError):
    """The server closed the socket on purpose (1000): no reconnect."""

    def __init__(self, code, reason=""):
        self.code, self.reason = code, reason
        self.cause, self.fix = close_cause(code, reason)
        super().__init__(f"{self.cause}. Fix: {self.fix}")


class _ClientSocket(websocket.WebSocket):
    """websocket-client's socket, except that its automatic answer to the
    server's close frame never fails the read of that frame: the server may
    be gone already (a reset), and the frame says why it closed."""

    def send_close(self, *args, **kwargs):
        try:
            super().send_close(*args, **kwargs)
        except (OSError, websocket.WebSocketException) as exc:
            _logger.debug("close frame not answered: %s", exc)


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie, request):
        return False


def websocket_base(url):
    """``ws://host:port`` (``wss`` for https) of the Odoo server at ``url``."""
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def parse_close_frame(data):
    """``(code, reason)`` from the payload of a close frame."""
    if len(data) < 2:
        return 1005, ""
    return struct.unpack("!H", data[:2])[0], data[2:].decode("utf-8", "replace")


class MobileBusClient:
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
        self.http = requests.Session()
        self.http.headers["User-Agent"] = user_agent
        # The session cookie is kept by hand (``session_id``), not by a
        # cookie jar: a jar may hold two ``session_id`` for one host (set by
        # hand and by the server), and an app stores it explicitly anyway.
        self.http.cookies.set_policy(_NoCookies())
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
        self._ws = None
        self._stop = threading.Event()
        self._pending = []
        self._attempt = 0
        self._next_attempt_at = 0.0
        self._next_heartbeat_at = 0.0
        self._opened_at = 0.0
        # Last time anything came from the server; the pending ping's time.
        self._heard_at = 0.0
        self._ping_sent_at = None
        self._reauthed = False
        self._rpc_id = 0
        #: Odoo Discuss (:mod:`.discuss`), where the server has ``mail``.
        self.discuss = Discuss(self)

    # ------------------------------------------------------------------
    # HTTP: session and JSON-RPC
    # ------------------------------------------------------------------

    @property
    def can_login(self):
        return bool(self.db and self.login and self.password is not None)

    def authenticate(self):
        """Log in (``/web/session/authenticate``); returns Odoo's session info."""
        if not self.can_login:
            raise AuthenticationFailed("no database/login/password to log in with")
        # A stale cookie would make Odoo route the login to its database.
        self.session_id = None
        params = {"db": self.db, "login": self.login, "password": self.password}
        try:
            info = self._jsonrpc("/web/session/authenticate", params)
        except RpcError as exc:
            if exc.short_name == "AccessDenied":
                raise AuthenticationFailed(
                    f"wrong login or password for {self.login!r} on database {self.db!r}"
                ) from exc
            raise AuthenticationFailed(f"login refused: {exc.name}: {exc.message}") from exc
        if not info or not info.get("uid"):
            raise AuthenticationFailed(
                f"login of {self.login!r} returned no user (multi-factor authentication?)"
            )
        self.session_info = info
        return info

    def device_login(self, totp_code=None, platform="other", app_version=__version__):
        """Sign this device in (``/bus_mobile/device/login``): keeps the
        device token (:attr:`token`), which replaces the password and the
        cookie from then on. Store it safely; it is shown once.

        :raises TotpRequired: a two-factor account and no ``totp_code``:
            call again with the code of the user's authenticator app
        :raises AuthenticationFailed: wrong login, password or code, or
            Odoo's login cooldown after repeated failures
        """
        if not self.can_login:
            raise AuthenticationFailed("no database/login/password to sign in with")
        self.device_uuid = self.device_uuid or str(uuid.uuid4())
        params = {
            "db": self.db,
            "login": self.login,
            "password": self.password,
            "device_uuid": self.device_uuid,
            "platform": platform,
            "app_version": app_version,
        }
        if totp_code is not None:
            params["totp_code"] = str(totp_code)
        try:
            answer = self._jsonrpc("/bus_mobile/device/login", params, auth=False)
        except RpcError as exc:
            if exc.short_name == "AccessDenied":
                wrong = "login, password or code" if totp_code is not None else "login or password"
                raise AuthenticationFailed(
                    f"wrong {wrong} for {self.login!r} on database {self.db!r} "
                    f"(the server said: {exc.message})"
                ) from exc
            raise
        if answer.get("totp_required"):
            raise TotpRequired(
                f"{self.login!r} uses two-factor authentication: call device_login(totp_code=...)"
            )
        self.token, self.session_id = answer["token"], None
        self.sign_in_info = {k: v for k, v in answer.items() if k != "token"}
        return self.sign_in_info

    def sign_out(self):
        """Sign this device out (``/bus_mobile/device/logout``): its token
        stops working, its sockets close; then close this client."""
        try:
            return self._jsonrpc(
                "/bus_mobile/device/logout",
                {} if self.token else {"device_uuid": self.device_uuid},
            )
        finally:
            self.token = None
            self.close()

    def rpc(self, route, **params):
        """Call a JSON-RPC route; ``None`` params are left out. An expired
        session is renewed once with the stored credentials."""
        params = {key: value for key, value in params.items() if value is not None}
        try:
            return self._jsonrpc(route, params)
        except (SessionExpiredError, TokenRefused):
            if not self.can_login:
                raise
            self._relogin()
            return self._jsonrpc(route, params)

    def _relogin(self):
        if self.token is not None:
            self.device_login()
        else:
            self.authenticate()
        self.stats["reauths"] += 1

    def _auth_headers(self):
        """The one place credentials go out: the token, else the cookie."""
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.session_id:
            return {"Cookie": f"session_id={self.session_id}"}
        return {}

    def _jsonrpc(self, route, params, auth=True):
        self._rpc_id += 1
        payload = {"jsonrpc": "2.0", "method": "call", "params": params, "id": self._rpc_id}
        url = self.url + route
        headers = self._auth_headers() if auth else {}
        try:
            response = self.http.post(url, json=payload, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ServerUnavailable(f"{route}: {exc.__class__.__name__}: {exc}") from exc
        # Odoo sets the cookie on login and when it rotates the session.
        if not self.token:
            self.session_id = response.cookies.get("session_id") or self.session_id
        if response.status_code >= 500:
            raise ServerUnavailable(f"{route}: HTTP {response.status_code}")
        if response.status_code == 401:
            raise self._token_refused(route, response)
        if response.status_code == 404 and self.server_config is not None:
            # The server answered /bus_mobile/config before: Odoo answers 404
            # to every route of a database it cannot reach (PostgreSQL
            # restarting), and logs the session out; both pass.
            raise ServerUnavailable(f"{route}: HTTP 404, the server's database is unreachable")
        if response.status_code != 200:
            raise HttpError(response.status_code, url, response.text)
        try:
            body = response.json()
        except ValueError as exc:
            raise HttpError(200, url, f"not JSON-RPC: {response.text[:200]}") from exc
        error = body.get("error")
        if error:
            data = error.get("data") or {}
            name = data.get("name") or error.get("message", "")
            message = data.get("message") or error.get("message", "")
            if name == SESSION_EXPIRED_NAME:
                raise SessionExpiredError(f"{route}: the session expired ({message})")
            if name.startswith(DATABASE_ERROR_PREFIX):
                # The server's database failed (restarting): worth retrying.
                raise ServerUnavailable(f"{route}: {name}: {message[:200]}")
            raise RpcError(route, name, message)
        return body.get("result")

    @staticmethod
    def _token_refused(route, response):
        try:
            message = response.json()["error"]["data"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        return TokenRefused(route, message.split(":", 1)[0], message)

    # ------------------------------------------------------------------
    # The routes of the wire contract
    # ------------------------------------------------------------------

    def config(self):
        self.server_config = self.rpc("/bus_mobile/config")
        return self.server_config

    def channels_list(self):
        return self.rpc("/bus_mobile/channels")

    def create_channel(self, name, channel_type="private", partner_ids=()):
        return self.rpc(
            "/bus_mobile/channel/create",
            name=name,
            channel_type=channel_type,
            partner_ids=list(partner_ids),
        )

    def join_channel(self, channel_id):
        return self.rpc("/bus_mobile/channel/join", channel_id=channel_id)

    def leave_channel(self, channel_id):
        return self.rpc("/bus_mobile/channel/leave", channel_id=channel_id)

    def add_members(self, channel_id, partner_ids):
        return self.rpc(
            "/bus_mobile/channel/add_members", channel_id=channel_id, partner_ids=list(partner_ids)
        )

    def post(self, channel_id, body, client_uuid=None):
        """Post a message; ``client_uuid`` makes a retry return the same message."""
        return self.rpc(
            "/bus_mobile/message/post",
            channel_id=channel_id,
            body=body,
            client_uuid=client_uuid or str(uuid.uuid4()),
        )

    def post_reliably(self, channel_id, body, client_uuid=None, give_up_after=120.0):
        """Post, retrying with the same ``client_uuid`` through network errors
        and server outages until it succeeds or ``give_up_after`` seconds pass.
        Returns ``(message, attempts)``."""
        client_uuid = client_uuid or str(uuid.uuid4())
        return self.retrying(lambda: self.post(channel_id, body, client_uuid), give_up_after)

    def retrying(self, call, give_up_after=120.0):
        """``call()`` again after network errors and server outages, with the
        backoff, until it succeeds or ``give_up_after`` seconds pass.
        Returns ``(result, attempts)``."""
        deadline = time.monotonic() + give_up_after
        attempt = 0
        while True:
            try:
                return call(), attempt + 1
            except ServerUnavailable:
                if time.monotonic() >= deadline:
                    raise
                delay = self.backoff.delay(attempt, rand=self.rand)
                attempt += 1
                time.sleep(min(delay, max(deadline - time.monotonic(), 0)))

    def messages(self, channel_id, before_id=None, after_id=None, limit=None):
        return self.rpc(
            "/bus_mobile/messages",
            channel_id=channel_id,
            before_id=before_id,
            after_id=after_id,
            limit=limit,
        )

    def sync(self, after_id, limit=None):
        return self.rpc("/bus_mobile/sync", after_id=after_id, limit=limit)

    def mark_read(self, channel_id, message_id):
        """Read receipt: ``message_id`` and all before it are read."""
        return self.rpc("/bus_mobile/message/read", channel_id=channel_id, message_id=message_id)

    def typing(self, channel_id, is_typing=True):
        return self.rpc("/bus_mobile/typing", channel_id=channel_id, is_typing=is_typing)

    def register_device(self, platform="other", app_version=__version__, push_token=None):
        return self.rpc(
            "/bus_mobile/device/register",
            device_uuid=self.device_uuid,
            platform=platform,
            app_version=app_version,
            push_token=push_token,
        )

    def unregister_device(self):
        return self.rpc("/bus_mobile/device/unregister", device_uuid=self.device_uuid)

    def presence(self, partner_ids):
        return self.rpc("/bus_mobile/presence", partner_ids=list(partner_ids))

    def update_presence_http(self, inactivity_ms=0, app_state="foreground"):
        """The HTTP heartbeat, for when the socket is down."""
        return self.rpc(
            "/bus_mobile/presence/update",
            device_uuid=self.device_uuid,
            inactivity_ms=inactivity_ms,
            app_state=app_state,
        )

    # ------------------------------------------------------------------
    # The socket
    # ------------------------------------------------------------------

    @property
    def websocket(self):
        """The open ``websocket.WebSocket`` (``None`` while disconnected)."""
        return self._ws

    @property
    def connected(self):
        return self._ws is not None

    def socket_url(self):
        path = (self.server_config or {}).get("websocket_url") or MOBILE_SOCKET_PATH
        base = self.ws_url or websocket_base(self.url) + path
        if self.device_uuid is None:
            return base  # the server ties the socket to the device token's device
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}{urlencode({'device_uuid': self.device_uuid})}"

    def connect(self):
        """Open the socket, subscribe and send a first heartbeat (one attempt;
        later drops are handled by :meth:`poll`)."""
        self._stop.clear()
        if self.server_config is None and not self.ws_url:
            self.config()
        self._open()
        self.stats["connects"] += 1
        self.discuss.start()
        if self.resume.last_message_id:
            self._catch_up()

    def watch_presence(self, partner_ids):
        """Also receive the presence changes of ``partner_ids``."""
        for partner_id in partner_ids:
            channel = f"odoo-presence-res.partner_{partner_id}"
            if channel not in self.channels:
                self.channels.append(channel)
        self.subscribe()

    def subscribe(self):
        """Send ``subscribe`` again (new channels, watched partners)."""
        if self._ws is not None:
            self._safe(self._subscribe)

    def set_app_state(self, app_state, inactivity_ms=0):
        """Change the state the next heartbeat reports, and send it now
        (from the thread that polls)."""
        self.app_state, self.inactivity_ms = app_state, inactivity_ms
        self._next_heartbeat_at = 0.0

    def close(self):
        """Close the socket cleanly (1000) and stop reconnecting. Safe to call
        from another thread than the one polling."""
        self._stop.set()
        ws, self._ws = self._ws, None
        if ws is None:
            return
        try:
            ws.send_close(bo.CLEAN)
            ws.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, websocket.WebSocketException, AttributeError) as exc:
            _logger.debug("socket already gone at close: %s", exc)
        ws.shutdown()

    @property
    def closed_by_user(self):
        return self._stop.is_set()

    def _open(self):
        header = [f"User-Agent: {self.user_agent}"]
        cookie = ""
        if self.token:
            header.append(f"Authorization: Bearer {self.token}")
        elif self.session_id:
            cookie = f"session_id={self.session_id}"
        url = self.socket_url()
        try:
            ws = websocket.create_connection(
                url,
                timeout=self.timeout,
                header=header,
                cookie=cookie,
                origin=self.origin,
                suppress_origin=self.origin is None,
                enable_multithread=True,
                class_=_ClientSocket,
            )
        except websocket.WebSocketBadStatusException as exc:
            error = HandshakeError(
                exc.status_code, dict(exc.resp_headers or {}), exc.resp_body, urlsplit(url).path
            )
            if exc.status_code in FATAL_HANDSHAKE_STATUSES:
                raise error from exc
            raise ServerUnavailable(str(error), handshake=error) from exc
        except (OSError, websocket.WebSocketException) as exc:
            raise ServerUnavailable(f"{url}: {exc.__class__.__name__}: {exc}") from exc
        self._ws = ws
        self._opened_at = self._heard_at = time.monotonic()
        self._ping_sent_at = None
        self._subscribe()
        self._heartbeat()

    def _send_event(self, event_name, data):
        self._ws.send(json.dumps({"event_name": event_name, "data": data}))

    def _subscribe(self):
        channels = list(
            dict.fromkeys([*(self.server_config or {}).get("channels", []), *self.channels])
        )
        self._send_event(
            "subscribe", {"channels": channels, "last": self.resume.last_notification_id}
        )

    def _heartbeat(self):
        # im_status_ids_by_model: stock ir.websocket requires the key.
        self._send_event(
            "update_presence",
            {
                "inactivity_period": self.inactivity_ms,
                "im_status_ids_by_model": {},
                "app_state": self.app_state,
            },
        )
        self._next_heartbeat_at = time.monotonic() + self._heartbeat_interval()

    def _ping(self):
        self._ws.ping()
        self._ping_sent_at = time.monotonic()

    def _liveness(self):
        return self.liveness or Liveness.from_config(self.server_config)

    def _heartbeat_interval(self):
        if self.heartbeat_s:
            return self.heartbeat_s
        return (self.server_config or {}).get("presence", {}).get("heartbeat_s", 30)

    # ------------------------------------------------------------------
    # Receiving, reconnecting, resuming
    # ------------------------------------------------------------------

    def notifications(self, idle_timeout=None):
        """Yield typed notifications (:mod:`.notifications`) as they come,
        reconnecting by itself. Ends when :meth:`close` is called, or after
        ``idle_timeout`` seconds without any notification."""
        idle_since = time.monotonic()
        while not self._stop.is_set():
            batch = self.poll(1.0)
            if batch:
                idle_since = time.monotonic()
                yield from batch
            elif idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout:
                return

    def wait_for(self, predicate, timeout=10.0):
        """Poll until a notification satisfies ``predicate``; return every
        notification received meanwhile, the matching one last. Raises
        ``TimeoutError`` with what was received."""
        deadline = time.monotonic() + timeout
        received = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching notification within {timeout}s: {received}")
            batch = self.poll(remaining)
            for index, notification in enumerate(batch):
                received.append(notification)
                if predicate(notification):
                    # What came after the match is for the next poll.
                    self._pending[:0] = batch[index + 1 :]
                    return received

    def poll(self, timeout=1.0):
        """Wait up to ``timeout`` seconds; return the new notifications (maybe
        none). Reconnects, re-authenticates and resumes as needed.

        :raises ClosedError: the server closed the socket on purpose (1000)
        :raises SessionExpiredError: 4001 and a new login did not help
        :raises HandshakeError: the server refuses the socket for good
        :raises AuthenticationFailed: the stored password no longer works
        """
        deadline = time.monotonic() + timeout
        while not self._stop.is_set():
            if self._pending:
                batch, self._pending = self._pending, []
                return batch
            if self._ws is None:
                if not self._wait_and_reconnect(deadline):
                    return []
                continue
            now = time.monotonic()
            liveness = self._liveness()
            if liveness.is_lost(self._heard_at, self._ping_sent_at, now):
                silent = now - self._heard_at
                self._on_close(None, f"silence: nothing from the server for {silent:.1f}s")
                continue
            if liveness.ping_due(self._heard_at, self._ping_sent_at, now) and not self._safe(
                self._ping
            ):
                continue
            if now >= self._next_heartbeat_at and not self._safe(self._heartbeat):
                continue
            if self._reauthed and now - self._opened_at >= SESSION_PROOF_S:
                self._reauthed = False
            next_check = liveness.next_check(self._heard_at, self._ping_sent_at)
            wait = min(deadline, self._next_heartbeat_at, next_check) - now
            if wait <= 0 and now >= deadline:
                return []
            self._receive(max(wait, 0.01))
        return []

    def _safe(self, send):
        """Run a socket send; a failure counts as a lost connection, once
        the server's pending close frame, if any, was read."""
        try:
            send()
        except (OSError, websocket.WebSocketException) as exc:
            self._on_close(*self._pending_close(f"{exc.__class__.__name__}: {exc}"))
            return False
        return True

    def _pending_close(self, error):
        """``(code, reason)`` of the close frame the server sent before a
        send failed (it closed the connection first: its kernel then resets
        the connection when our frame arrives, which fails the next send,
        while its close frame still waits to be read); ``(None, error)``
        when there is none. The notifications read on the way are kept."""
        ws = self._ws
        try:
            ws.settimeout(PENDING_READ_S)
            for _frame in range(PENDING_READ_FRAMES):
                opcode, data = ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return parse_close_frame(data)
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    self._accept_frame(json.loads(data), resubscribe=False)
        except (OSError, websocket.WebSocketException, AttributeError, ValueError):
            pass
        return None, error

    def _receive(self, wait):
        ws = self._ws
        try:
            ws.settimeout(wait)
            # Control frames too: a ping or a pong proves the server alive.
            opcode, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketTimeoutException:
            return
        except (OSError, websocket.WebSocketException, AttributeError) as exc:
            self._on_close(None, f"{exc.__class__.__name__}: {exc}")
            return
        self._heard_at = time.monotonic()
        self._ping_sent_at = None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            self._on_close(*parse_close_frame(data))
        elif opcode == websocket.ABNF.OPCODE_TEXT:
            self._accept_frame(json.loads(data))

    def _accept_frame(self, raw_notifications, resubscribe=True):
        batch = [parse_notification(raw) for raw in raw_notifications]
        self.resume.note_notifications([n.id for n in batch])
        channel_event = False
        for notification in batch:
            if notification.type == MESSAGE and not self._accept_message(notification.payload):
                continue
            channel_event = channel_event or notification.type == CHANNEL
            self._pending.append(notification)
        discuss, joined = self.discuss.accept_frame(batch)
        self._pending += discuss
        self._reauthed = False
        if resubscribe and (channel_event or joined):
            # A channel was created or I was added to one: subscribe again,
            # the server adds the channels I am now a member of.
            self._safe(self._subscribe)

    def _accept_message(self, message):
        if self.resume.accept([message]):
            return True
        self.stats["duplicates"] += 1
        return False

    def _on_close(self, code, reason):
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.shutdown()
        if self._stop.is_set():
            return
        self.stats["closes"].append((code, reason))
        action = bo.close_action(code, reason)
        _logger.info("socket closed (%s %s): %s", code, reason, action)
        if action == bo.STOP:
            self._stop.set()
            raise ClosedError(code, reason)
        if action == bo.REAUTH:
            self._reauthenticate(code, reason)
            return
        self._schedule_retry(action)

    def _reauthenticate(self, code, reason):
        if self._reauthed or not self.can_login:
            self._stop.set()
            cause, fix = close_cause(code, reason)
            detail = "again right after a new login" if self._reauthed else "and no password is set"
            raise SessionExpiredError(f"{cause} ({detail}). Fix: {fix}")
        try:
            self._relogin()
        except ServerUnavailable:
            # The server is down: the next connection will say 4001 again.
            self._schedule_retry(bo.RECONNECT)
            return
        self._reauthed = True
        self._next_attempt_at = time.monotonic()

    def _schedule_retry(self, action):
        delay = self.backoff.delay(self._attempt, action, self.rand)
        self._attempt += 1
        self._next_attempt_at = time.monotonic() + delay
        _logger.info("reconnecting in %.2fs (attempt %s)", delay, self._attempt)

    def _wait_and_reconnect(self, deadline):
        """Reconnect when the backoff delay is over; ``False`` when the
        deadline (or a close) comes first."""
        wait = self._next_attempt_at - time.monotonic()
        if wait > 0:
            if self._stop.wait(min(wait, max(deadline - time.monotonic(), 0))):
                return False
            if time.monotonic() < self._next_attempt_at:
                return False
        try:
            self._open()
            self._catch_up()
        except ServerUnavailable as exc:
            self._drop_quietly()
            _logger.info("reconnect failed: %s", exc)
            self._schedule_retry(bo.RECONNECT)
            self._wait_out_refusal(exc.handshake)
            return time.monotonic() < deadline
        except (OSError, websocket.WebSocketException) as exc:
            # The subscribe or the first heartbeat failed: the server may
            # have closed the new socket at once (4001), say why first.
            self._on_close(*self._pending_close(f"{exc.__class__.__name__}: {exc}"))
            return time.monotonic() < deadline
        if self._stop.is_set():  # closed from another thread meanwhile
            self._drop_quietly()
            return False
        self._attempt = 0
        self.stats["reconnects"] += 1
        return True

    def _wait_out_refusal(self, handshake):
        """A handshake refused with 429 (too many sockets for this session
        or key): count it, and try again no sooner than its Retry-After."""
        if handshake is None or handshake.status != 429:
            return
        retry_after = retry_after_seconds(handshake.headers)
        self.stats["refusals"].append(retry_after)
        self._next_attempt_at = max(self._next_attempt_at, time.monotonic() + retry_after)

    def _drop_quietly(self):
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.shutdown()

    def _catch_up(self):
        """Fetch the messages missed while disconnected (``/bus_mobile/sync``)."""
        after_id = self.resume.last_message_id
        while True:
            result = self.sync(after_id)
            messages = result.get("messages", [])
            for message in messages:
                if self._accept_message(message):
                    self.stats["synced"] += 1
                    self._pending.append(message_notification(message))
            if not result.get("has_more") or not messages:
                break
            after_id = messages[-1]["id"]
        self._pending += self.discuss.catch_up()
