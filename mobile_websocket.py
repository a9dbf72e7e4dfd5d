"""The mobile flavour of Odoo's bus WebSocket.

Same frames, same dispatcher and same sessions as stock ``/websocket``; what
differs is only what a native app needs: no worker-version check, no required
``Origin`` header, an explicit refusal of foreign web origins and of
anonymous sessions, and a ``device_uuid`` bound to the connection.
"""

import collections
import contextlib
import logging
import selectors
import socket
import threading
import time
from urllib.parse import urlparse

from werkzeug.exceptions import ServiceUnavailable

import odoo
from odoo.http import Response
from odoo.tools import config

from odoo.addons.bus.websocket import (
    CloseCode,
    ConnectionState,
    Opcode,
    TimeoutReason,
    Websocket,
    WebsocketConnectionHandler,
)

from .mobile_dispatch import mobile_dispatch

_logger = logging.getLogger(__name__)

# Header carrying the reason of a refused handshake: Odoo's threaded server
# drops the body of any response to an Upgrade request, headers survive.
REFUSAL_HEADER = "X-Bus-Mobile-Error"
# A mobile socket whose client does not read this many queued frames is closed.
OUTBOX_MAX_FRAMES = 1000
# Guards every mobile socket's outbox; held for a few instructions, never
# across I/O (one lock for all keeps sockets small).
_outbox_lock = threading.Lock()


class MobileWebsocket(Websocket):
    """A bus WebSocket tied to one device (``bus_mobile.device``) of its user."""

    def __init__(self, sock, session, cookies, device_uuid=None):
        # Set before the stock initializer: it fires the OPEN lifecycle event,
        # whose callbacks only receive this instance.
        self.bus_mobile_device_uuid = device_uuid
        self._bus_mobile_init_dispatch(sock)
        super().__init__(sock, session, cookies)
        self._bus_mobile_drop_wakeup_pair()

    # ------------------------------------------------------------------
    # Dispatch: the worker's MobileDispatcher (mobile_dispatch.py) reads the
    # bus once for every mobile socket and writes the frames itself, so a
    # mobile socket needs no wake-up socketpair (1 file descriptor, not 3).
    # ------------------------------------------------------------------

    def _bus_mobile_init_dispatch(self, sock):
        self._bus_mobile_sock = sock
        # bus.bus ``channel`` values the dispatcher serves to this socket.
        self._bus_mobile_channels = frozenset()
        # Session file mtime and token the dispatcher last validated.
        self._bus_mobile_session_path = None
        self._bus_mobile_session_stamp = None
        self._bus_mobile_session_token = ""
        self._bus_mobile_token_epoch = None
        # (code, reason) the dispatcher asked this socket to close with.
        self._bus_mobile_close_request = None
        # Frames written by whoever holds the lock; the dispatcher never
        # waits for it: what it cannot write at once waits in the outbox.
        self._bus_mobile_send_lock = threading.Lock()
        self._bus_mobile_outbox = None
        self._bus_mobile_draining = False

    def _bus_mobile_drop_wakeup_pair(self):
        """Close the stock wake-up socketpair and serve the client socket
        alone through a poll selector (no epoll descriptor either)."""
        wakeup = (self._Websocket__notif_sock_r, self._Websocket__notif_sock_w)
        self._Websocket__selector.close()
        selector = _MobileSelector()
        selector.register(self._bus_mobile_sock, selectors.EVENT_READ)
        self._Websocket__selector = selector
        self._Websocket__notif_sock_r = self._Websocket__notif_sock_w = None
        for sock in wakeup:
            sock.close()

    def subscribe(self, channels, last):
        # Called by stock ``dispatch.subscribe``, which still maps channels to
        # sockets (it relays ``imbus`` to ``trigger_notification_dispatching``)
        # and reads ``_channels`` to unsubscribe.
        self._channels = channels
        mobile_dispatch.subscribe(self, channels, last)

    def trigger_notification_dispatching(self):
        if self.state is ConnectionState.OPEN:
            mobile_dispatch.wake(self._db)

    def _dispatch_bus_notifications(self):
        # Stock reads the bus here, per socket: the dispatcher does it.
        self.trigger_notification_dispatching()

    def _bus_mobile_on_subscribed(self):
        """Called by the dispatcher once a subscription is served (replay
        sent, channels live)."""
        _logger.debug("Mobile socket %s serves %d channels", id(self), len(self._channels))

    def _bus_mobile_is_listening(self):
        return self.state is ConnectionState.OPEN and not self._bus_mobile_close_request

    def _bus_mobile_send(self, frame):
        """Write ``frame`` (bytes) from the dispatcher without ever waiting:
        what the kernel does not take at once goes to the outbox, drained by a
        short-lived thread (greenlet) of this socket."""
        if not self._bus_mobile_is_listening():
            return
        if self._bus_mobile_outbox or not self._bus_mobile_send_lock.acquire(blocking=False):
            self._bus_mobile_queue(frame)
            return
        try:
            sent = _send_nowait(self._bus_mobile_sock, frame)
            if sent < len(frame):
                # Queued under the lock: nothing may be written in between.
                self._bus_mobile_queue(frame[sent:])
        except BlockingIOError:
            self._bus_mobile_queue(frame)
        except OSError:
            self._bus_mobile_close(CloseCode.ABNORMAL_CLOSURE)
        finally:
            self._bus_mobile_send_lock.release()

    def _bus_mobile_queue(self, data):
        with _outbox_lock:
            if self._bus_mobile_outbox is None:
                self._bus_mobile_outbox = collections.deque()
            self._bus_mobile_outbox.append(data)
            if len(self._bus_mobile_outbox) > OUTBOX_MAX_FRAMES:
                # A client that stopped reading: drop it rather than buffer.
                self._bus_mobile_outbox.clear()
                self._bus_mobile_close(CloseCode.ABNORMAL_CLOSURE)
                return
            if self._bus_mobile_draining:
                return
            self._bus_mobile_draining = True
        threading.Thread(target=self._bus_mobile_drain, daemon=True).start()

    def _bus_mobile_drain(self):
        try:
            with self._bus_mobile_send_lock:
                self._bus_mobile_flush()
        except OSError:
            self._bus_mobile_close(CloseCode.ABNORMAL_CLOSURE)
        finally:
            with _outbox_lock:
                self._bus_mobile_draining = False
                if self._bus_mobile_outbox:
                    # Queued after the flush: drain again.
                    self._bus_mobile_draining = True
                    threading.Thread(target=self._bus_mobile_drain, daemon=True).start()

    def _bus_mobile_flush(self):
        """Write the outbox; the caller holds the send lock."""
        while True:
            with _outbox_lock:
                if not self._bus_mobile_outbox:
                    return
                data = self._bus_mobile_outbox.popleft()
            if self.state is ConnectionState.CLOSED:
                continue
            self._bus_mobile_sock.sendall(data)

    def _bus_mobile_close(self, code, reason=None):
        """Ask this socket's own thread to close it with ``code``: shutting
        the read side down wakes it up (no wake-up socket needed)."""
        if self._bus_mobile_close_request or self.state is ConnectionState.CLOSED:
            return
        self._bus_mobile_close_request = (code, reason)
        with contextlib.suppress(OSError):
            self._bus_mobile_sock.shutdown(socket.SHUT_RD)

    def _send_frame(self, frame):
        # Frames the dispatcher queued go first; nobody writes in between.
        with self._bus_mobile_send_lock:
            if self._bus_mobile_outbox and self.state is not ConnectionState.CLOSED:
                self._bus_mobile_flush()
            return super()._send_frame(frame)

    def _handle_transport_error(self, exc):
        request = self._bus_mobile_close_request
        if request and self.state is ConnectionState.OPEN:
            return self.disconnect(*request)
        return super()._handle_transport_error(exc)

    def _terminate(self):
        mobile_dispatch.unsubscribe(self)
        return super()._terminate()

    # ------------------------------------------------------------------
    # Keepalive (presence, issue 6). Stock pings after 45 s of silence and
    # notices the missing pong at its next 45 s wake-up: a drop without FIN
    # takes ~90 s. A mobile socket pings once its client has been silent for
    # 30 % of offline_after_s, gives up 20 % later, and wakes up every 10 %:
    # a silent drop is noticed within ~70 % of offline_after_s (+1 s of
    # stock shutdown). ``websocket_lifecycle`` sets the timers from the
    # system parameter when a device socket opens (others keep 65 s).
    # ------------------------------------------------------------------

    # Seconds between two wake-ups of the idle loop (stock: 45).
    INACTIVITY_TIMEOUT = 65 * 0.1
    _bus_mobile_ping_after = 65 * 0.3
    _bus_mobile_last_frame_at = 0.0
    _bus_mobile_ping_pending = False
    # Called with the socket when a pong proves its client alive.
    bus_mobile_alive_callback = None

    def bus_mobile_setup_keepalive(self, offline_after_s):
        self.INACTIVITY_TIMEOUT = max(offline_after_s * 0.1, 0.1)
        self._bus_mobile_ping_after = offline_after_s * 0.3
        self._timeout_manager.TIMEOUT = max(offline_after_s * 0.2, 0.5)
        self._bus_mobile_last_frame_at = time.monotonic()

    @property
    def bus_mobile_closed_for_rotation(self):
        """Closed by the server because the connection reached its stock
        keep-alive lifetime: the app reconnects at once, it did not leave."""
        return self._timeout_manager.timeout_reason is TimeoutReason.KEEP_ALIVE

    def _get_next_frame(self):
        frame = super()._get_next_frame()
        self._bus_mobile_last_frame_at = time.monotonic()
        return frame

    def _send_ping_frame(self):
        # The stock loop calls this on every idle wake-up.
        now = time.monotonic()
        if not self._bus_mobile_last_frame_at:
            # Timers never set up (a socket without a device): count from now.
            self._bus_mobile_last_frame_at = now
        if (
            self._bus_mobile_ping_pending
            or now - self._bus_mobile_last_frame_at < self._bus_mobile_ping_after
        ):
            return
        self._bus_mobile_ping_pending = True
        super()._send_ping_frame()

    def _handle_control_frame(self, frame):
        result = super()._handle_control_frame(frame)
        if frame.opcode is Opcode.PONG:
            self._bus_mobile_ping_pending = False
        # A client's own ping (OkHttp's pingInterval) proves it alive too: the
        # server then never pings, and last_seen must still be refreshed.
        if frame.opcode in (Opcode.PONG, Opcode.PING) and self.bus_mobile_alive_callback:
            self.bus_mobile_alive_callback(self)
        return result


class _MobileSelector(getattr(selectors, "PollSelector", selectors.DefaultSelector)):
    """Selector of a mobile socket: stock unregisters its wake-up socket on a
    clean close; a mobile socket has none."""

    def unregister(self, fileobj):
        if fileobj is None:
            return None
        return super().unregister(fileobj)


def _send_nowait(sock, data):
    """Send what the kernel takes now; never wait (gevent or threads)."""
    if odoo.evented:
        return sock.send(data, 0, 0.0)  # gevent: timeout 0 raises, never waits
    return sock.send(data, socket.MSG_DONTWAIT)


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
