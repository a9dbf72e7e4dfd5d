"""``MobileWebsocket``: one app connection on ``/bus_mobile/websocket``.

Same frames, sessions and stock dispatch machinery as ``/websocket``. What
differs is what a native app needs and what a shared dispatcher needs:

- the worker's dispatcher (:mod:`.dispatcher`) reads the bus for every
  mobile socket and writes the frames itself, so a mobile socket has no
  wake-up socketpair (1 file descriptor, not 3);
- a client that reads slowly or not at all is bounded: what the kernel does
  not take waits in an outbox of at most ``OUTBOX_MAX_BYTES``, and no write
  to the client waits longer than ``SEND_TIMEOUT``;
- a socket opened with ``?device_uuid=`` drives its device's presence
  through its own lifecycle (:mod:`.device_presence`), and pings its client
  sooner than stock, so that a silent drop is noticed in time.
"""

import collections
import contextlib
import logging
import select
import selectors
import socket
import threading
import time

import psycopg2
from psycopg2.pool import PoolError

import odoo

from odoo.addons.bus.websocket import (
    CloseCode,
    ConnectionState,
    LifecycleEvent,
    Opcode,
    TimeoutReason,
    Websocket,
)

from .. import metrics
from . import device_presence
from .dispatcher import mobile_dispatch
from .frames import MAX_FRAME_BYTES, MobileWebsocketRequest

_logger = logging.getLogger(__name__)

# Bytes queued for a client that does not read them fast enough; past this
# it is closed with 1013 (SLOW_READER): it reconnects and catches up.
OUTBOX_MAX_BYTES = 4 * 1024 * 1024
# No write to a client waits longer: a client that reads nothing is closed.
SEND_TIMEOUT = 15.0
# The keepalive's shortest wait (a step due now runs on the next wake-up).
KEEPALIVE_MIN_WAIT = 0.05
# Guards every mobile socket's outbox and its one termination; held for a
# few instructions, never across I/O (one lock for all keeps sockets small).
_outbox_lock = threading.Lock()


class MobileWebsocket(Websocket):
    """A bus WebSocket of a mobile app, tied to one of its user's devices
    when opened with ``?device_uuid=``."""

    MESSAGE_MAX_SIZE = MAX_FRAME_BYTES
    # Keepalive. Stock pings after 45 s of silence and notices the missing
    # pong at its next 45 s wake-up: a drop without FIN takes ~90 s. A
    # mobile socket pings once its client has been silent for 30 % of
    # offline_after_s and gives up 20 % later, waking up exactly when one
    # of these is due (see INACTIVITY_TIMEOUT): a silent drop is noticed
    # within ~50 % of offline_after_s.
    # ``setup_keepalive`` sets them for a device socket (others keep 65 s).

    # The ``device_uuid`` of the handshake, and the device connection once
    # the device is online (see device_presence).
    device_uuid = None
    device = None
    # The BearerIdentity (tools/bearer.py) of a socket opened with a bearer
    # token: its session is a stand-in that is never saved, and the key is
    # what the frames and the dispatcher check.
    bearer = None
    # The client's socket (stock keeps it name-mangled).
    _client_sock = None
    # (code, reason) this socket was asked to close with, from any thread.
    _close_request = None
    # Frames are written by whoever holds the send lock; the dispatcher
    # never waits for it: what it cannot write at once goes to the outbox.
    _send_lock = None
    _outbox = None
    _outbox_bytes = 0
    _draining = False
    _ping_after = 65 * 0.3
    _last_frame_at = 0.0
    _ping_pending = False
    _terminated = False
    # The thread that reads the socket (stock: the request's thread).
    _serving_thread = None
    # Metrics: the platform counted at the open (None: not counted), and
    # the first close code the server chose (None: the app closed).
    _counted_platform = None
    _close_code = None

    def __init__(self, sock, session, cookies, device_uuid=None, bearer=None):
        # Set before the stock initializer: it fires the OPEN event.
        self.device_uuid = device_uuid
        self.bearer = bearer
        self._client_sock = sock
        # Made by the request's thread, which goes on to serve it.
        self._serving_thread = threading.current_thread()
        self._send_lock = threading.Lock()
        sock.settimeout(SEND_TIMEOUT)
        super().__init__(sock, session, cookies)
        self._drop_wakeup_pair()
        self._counted_platform = self.device.platform if self.device else "none"
        metrics.socket_opened(self._db, self._counted_platform)

    def _drop_wakeup_pair(self):
        """Close the stock wake-up socketpair and serve the client socket
        alone through a poll selector (no epoll descriptor either)."""
        wakeup = (self._Websocket__notif_sock_r, self._Websocket__notif_sock_w)
        self._Websocket__selector.close()
        selector = _MobileSelector()
        selector.register(self._client_sock, selectors.EVENT_READ)
        self._Websocket__selector = selector
        self._Websocket__notif_sock_r = self._Websocket__notif_sock_w = None
        for sock in wakeup:
            sock.close()

    # ------------------------------------------------------------------
    # Lifecycle: the device's presence (instead of process-wide callbacks,
    # which every stock socket of every database would pay for)
    # ------------------------------------------------------------------

    def _trigger_lifecycle_event(self, event_type):
        super()._trigger_lifecycle_event(event_type)
        if not self.device_uuid:
            return
        if event_type is LifecycleEvent.OPEN:
            self.device = device_presence.socket_opened(self)
        elif event_type is LifecycleEvent.CLOSE and self.device:
            device_presence.socket_closed(self)

    def _terminate(self):
        # Once: stock's _kick_all (a server stop) and the socket's own
        # thread can both get here, when the client answers the stop's close
        # frame at once; the second would fail on the closed socket.
        with _outbox_lock:
            if self._terminated:
                return None
            self._terminated = True
        try:
            mobile_dispatch.unsubscribe(self)
            if self._counted_platform is not None:
                metrics.socket_closed(
                    self._db, self._counted_platform, close_label(self._close_code)
                )
            # ``ir.websocket._on_websocket_closed`` learns its socket through
            # ``wsrequest``, as during the socket's frames.
            with MobileWebsocketRequest(self._db, None, self):
                return super()._terminate()
        except (psycopg2.Error, PoolError) as exc:
            if self.state is not ConnectionState.CLOSED:
                raise
            # Closed; only the presence update of the close failed (no
            # connection left, the database restarting): presence ages out.
            # Stock lets it escape the socket's thread as a traceback.
            _logger.warning(
                "Mobile socket of user %s closed without its presence update: %s",
                self._session.uid,
                str(exc)[:200],
            )
            return None
        finally:
            if self.state is not ConnectionState.CLOSED:
                # Failed before stock marked it CLOSED (the error goes on):
                # every later call is a no-op (once, above), and stock's loop
                # runs until CLOSED: it would spin on the dead socket.
                self._close_for_good()

    def _close_for_good(self):
        """Close the client socket and mark this one CLOSED, whatever a
        failed termination left undone."""
        with contextlib.suppress(OSError):
            self._client_sock.close()
        self.state = ConnectionState.CLOSED

    @property
    def closed_for_rotation(self):
        """Closed by the server because the connection reached its stock
        keep-alive lifetime: the app reconnects at once, it did not leave."""
        return self._timeout_manager.timeout_reason is TimeoutReason.KEEP_ALIVE

    # ------------------------------------------------------------------
    # Dispatch (called by the stock dispatch and by the mobile dispatcher)
    # ------------------------------------------------------------------

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

    def on_subscribed(self):
        """The dispatcher served a subscription (replay sent, channels live)."""
        _logger.debug("Mobile socket %s serves %d channels", id(self), len(self._channels))

    def is_listening(self):
        return self.state is ConnectionState.OPEN and not self._close_request

    def is_closed(self):
        return self.state is ConnectionState.CLOSED

    def deliver(self, frame):
        """Write ``frame`` (bytes) for the dispatcher without ever waiting:
        what the kernel does not take at once goes to the outbox, drained by
        a short-lived thread (greenlet) of this socket."""
        if not self.is_listening():
            return
        if self._outbox or not self._send_lock.acquire(blocking=False):
            self._queue(frame)
            return
        try:
            sent = _send_nowait(self._client_sock, frame)
            if sent < len(frame):
                # Queued under the lock: nothing may be written in between.
                self._queue(frame[sent:])
        except BlockingIOError:
            self._queue(frame)
        except OSError:
            self.request_close(CloseCode.ABNORMAL_CLOSURE)
        finally:
            self._send_lock.release()

    def request_close(self, code, reason=None):
        """Ask this socket's own thread to close it with ``code``: shutting
        the read side down wakes it up (no wake-up socket needed)."""
        if self._close_request or self.state is ConnectionState.CLOSED:
            return
        self._close_request = (code, reason)
        with contextlib.suppress(OSError):
            self._client_sock.shutdown(socket.SHUT_RD)

    def _queue(self, data):
        with _outbox_lock:
            if self._outbox is None:  # made on first use: most sockets never queue
                self._outbox = collections.deque()
            self._outbox.append(data)
            self._outbox_bytes += len(data)
            overflow = self._outbox_bytes > OUTBOX_MAX_BYTES
            if overflow:
                self._outbox.clear()
                self._outbox_bytes = 0
            elif self._draining:
                return
            else:
                self._draining = True
        if overflow:
            _logger.info(
                "Mobile socket of user %s closed: it left over %s bytes unread",
                self._session.uid,
                OUTBOX_MAX_BYTES,
            )
            self.request_close(CloseCode.TRY_LATER, "SLOW_READER")
            return
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        try:
            with self._send_lock:
                self._flush()
        except OSError as exc:
            _logger.info(
                "Mobile socket of user %s closed: a write failed or waited over %s s (%s)",
                self._session.uid,
                SEND_TIMEOUT,
                exc.__class__.__name__,
            )
            with _outbox_lock:
                self._outbox.clear()
                self._outbox_bytes = 0
            self.request_close(CloseCode.ABNORMAL_CLOSURE)
        finally:
            with _outbox_lock:
                self._draining = bool(self._outbox) and self.state is not ConnectionState.CLOSED
                again = self._draining
            if again:  # queued after the flush
                threading.Thread(target=self._drain, daemon=True).start()

    def _flush(self):
        """Write the outbox; the caller holds the send lock."""
        while True:
            with _outbox_lock:
                if not self._outbox:
                    return
                data = self._outbox.popleft()
                self._outbox_bytes -= len(data)
            if self.state is ConnectionState.CLOSED:
                continue
            self._client_sock.sendall(data)

    def _send_frame(self, frame):
        # Frames the dispatcher queued go first; nobody writes in between.
        with self._send_lock:
            if self._outbox and self.state is not ConnectionState.CLOSED:
                self._flush()
            return super()._send_frame(frame)

    def disconnect(self, code, reason=None):
        if self._close_code is None:
            self._close_code = code
        try:
            return super().disconnect(code, reason)
        except OSError as exc:
            # The client left before our close frame (a reset, or no read
            # for SEND_TIMEOUT): nobody to tell, close as for a lost client.
            # Stock lets this escape its error handler and the socket's
            # thread, which logs a traceback and skips the close bookkeeping.
            if threading.current_thread() is not self._serving_thread:
                # Stock's _kick_all at shutdown: the socket's own thread
                # closes it (it may be closing it already).
                self.request_close(CloseCode.ABNORMAL_CLOSURE)
                return None
            if self.state is ConnectionState.CLOSED:
                # Sent, then the close itself failed: not a client gone. The
                # exception's name only: the log check counts a traceback.
                _logger.warning(
                    "Mobile socket of user %s: its close failed once closed (%s)",
                    self._session.uid,
                    exc.__class__.__name__,
                )
                return None
            _logger.info(
                "Mobile socket of user %s closed: its client left before close code %s (%s)",
                self._session.uid,
                int(code),
                exc.__class__.__name__,
            )
            return super().disconnect(CloseCode.ABNORMAL_CLOSURE)

    def _handle_transport_error(self, exc):
        request = self._close_request
        if request and self.state is ConnectionState.OPEN:
            return self.disconnect(*request)
        return super()._handle_transport_error(exc)

    def refuse_frame(self, reason):
        """A client frame broke the rules (:mod:`.frames`): close with 1003
        and the reason, logged once since the socket closes."""
        _logger.info("Mobile socket of user %s closed: %s", self._session.uid, reason)
        if self.state is ConnectionState.OPEN:
            self.disconnect(CloseCode.INCORRECT_DATA, reason)

    # ------------------------------------------------------------------
    # Keepalive
    # ------------------------------------------------------------------

    @property
    def INACTIVITY_TIMEOUT(self):  # stock's name, read by its loop
        """How long the stock loop waits for a frame: until the next
        keepalive step is due (the ping after ``_ping_after`` of silence, or
        the deadline of the awaited pong or close frame), not a fixed
        period: thousands of idle sockets wake once per ping, not every few
        seconds each."""
        now = time.monotonic()
        if not self._last_frame_at:
            # Timers never set up (a socket without a device): count from now.
            self._last_frame_at = now
        manager = self._timeout_manager
        if manager._awaited_opcode is not None and manager._waiting_start_time:
            # Stock's timer is on the wall clock.
            wait = manager._waiting_start_time + manager.TIMEOUT - time.time()
        else:
            wait = self._last_frame_at + self._ping_after - now
        return min(max(wait, KEEPALIVE_MIN_WAIT), self._ping_after)

    def setup_keepalive(self, offline_after_s):
        self._ping_after = offline_after_s * 0.3
        self._timeout_manager.TIMEOUT = max(offline_after_s * 0.2, 0.5)
        self._last_frame_at = time.monotonic()

    def _get_next_frame(self):
        frame = super()._get_next_frame()
        self._last_frame_at = time.monotonic()
        return frame

    def _send_ping_frame(self):
        # The stock loop calls this on every idle wake-up.
        now = time.monotonic()
        if not self._last_frame_at:
            # Timers never set up (a socket without a device): count from now.
            self._last_frame_at = now
        if self._ping_pending or now - self._last_frame_at < self._ping_after:
            return
        self._ping_pending = True
        super()._send_ping_frame()

    def _handle_control_frame(self, frame):
        result = super()._handle_control_frame(frame)
        if frame.opcode is Opcode.PONG:
            self._ping_pending = False
        # A client's own ping (OkHttp's pingInterval) proves it alive too: the
        # server then never pings, and last_seen must still be refreshed.
        if frame.opcode in (Opcode.PONG, Opcode.PING) and self.device:
            device_presence.socket_alive(self)
        return result


def close_label(code):
    """A close's ``code`` label in the metrics: the code the server sent,
    ``lost`` for a connection dropped without a closing handshake,
    ``client`` when the app closed first."""
    if code is None:
        return "client"
    if code == CloseCode.ABNORMAL_CLOSURE:
        return "lost"
    return str(int(code))


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
    # A socket with a timeout waits for room before sending: look first.
    _readable, writable, _errors = select.select([], [sock], [], 0)
    if not writable:
        raise BlockingIOError
    return sock.send(data)
