"""The socket's life: open it, say what to follow, keep it alive, and open
it again after every drop.

- an abnormal close or a dropped connection: reconnect with exponential
  backoff and jitter (:mod:`.backoff`); 1013 (try later): a longer backoff;
- a handshake refused with 429 (the handshake limit): counted in
  ``stats['refusals']``, and the next attempt waits out its Retry-After;
- a clean close (1000): no reconnect, :class:`.ClosedError`;
- 4001 (session expired): sign in again once, then
  :class:`.SessionExpiredError`;
- silence (no frame, no ping, no pong): a ping of its own, and a reconnect
  when the server does not answer in time (:mod:`.liveness`);
- a send that fails: the close frame the server sent before (4001 after a
  logout, say) is read first, so the close is handled for what it is.

What the socket brings, and the resume after a reconnect, are
:mod:`.receive`'s.
"""

import json
import logging
import socket
import struct
import time
from urllib.parse import urlencode, urlsplit, urlunsplit

import websocket

from . import backoff as bo
from .errors import (
    MOBILE_SOCKET_PATH,
    ClosedError,
    HandshakeError,
    ServerUnavailable,
    SessionExpiredError,
)
from .explain import close_cause
from .liveness import Liveness

_logger = logging.getLogger(__name__)

# A handshake answered with one of these will not get better by retrying.
FATAL_HANDSHAKE_STATUSES = {400, 401, 403, 404}
# A socket that stayed open this long proved that its session works.
SESSION_PROOF_S = 5.0
# After a failed send, how long (and how many frames) to read what the
# server sent before the connection broke, looking for its close frame.
PENDING_READ_S = 1.0
PENDING_READ_FRAMES = 100


class _ClientSocket(websocket.WebSocket):
    """websocket-client's socket, except that its automatic answer to the
    server's close frame never fails the read of that frame: the server may
    be gone already (a reset), and the frame says why it closed."""

    def send_close(self, *args, **kwargs):
        try:
            super().send_close(*args, **kwargs)
        except (OSError, websocket.WebSocketException) as exc:
            _logger.debug("close frame not answered: %s", exc)


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


class ConnectionMixin:
    """The socket of :class:`.MobileBusClient`: ``_ws`` while connected,
    ``_stop`` once closed on purpose, and the reconnect schedule."""

    def config(self):
        """``/bus_mobile/config``, kept: the socket's URL, its channels and
        its timings (heartbeat, liveness) come from it."""
        self.server_config = self.rpc("/bus_mobile/config")
        return self.server_config

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

    def subscribe(self):
        """Send ``subscribe`` again (new channels, watched partners)."""
        if self._ws is not None:
            self._safe(self._subscribe)

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
        self._socket_credential = self._credential()
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

    def _ping(self):
        self._ws.ping()
        self._ping_sent_at = time.monotonic()

    def _liveness(self):
        return self.liveness or Liveness.from_config(self.server_config)

    # -- drops and reconnects -------------------------------------------

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
        # A request signed in again since this socket opened: reconnect with
        # that session; another sign-in would replace it.
        renewed = self._credential() != self._socket_credential
        if self._reauthed or not (renewed or self.can_login):
            self._stop.set()
            cause, fix = close_cause(code, reason)
            detail = "again right after a new login" if self._reauthed else "and no password is set"
            raise SessionExpiredError(f"{cause} ({detail}). Fix: {fix}")
        if renewed:
            self._reauthed = True
            self._next_attempt_at = time.monotonic()
            return
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
