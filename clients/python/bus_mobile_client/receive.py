"""What the socket brings: typed notifications (:mod:`.notifications`),
each message once, none lost.

:meth:`ReceiveMixin.poll` is the client's loop: it reads the socket, and
between reads sends the heartbeat and the liveness ping, and reconnects
(:mod:`.connection`). After every reconnect it resumes: ``subscribe`` with
the last notification id, then ``/bus_mobile/sync`` from the last message
id, de-duplicated by message id (:mod:`.dedup`); Discuss's journal is read
from its own cursor (:mod:`.discuss`).
"""

import json
import time

import websocket

from .connection import SESSION_PROOF_S, parse_close_frame
from .notifications import CHANNEL, MESSAGE, message_notification, parse_notification


class ReceiveMixin:
    """The receiving of :class:`.MobileBusClient`: ``_pending`` holds the
    notifications not yet returned by :meth:`poll`."""

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
