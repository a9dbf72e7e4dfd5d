"""What the fault and multi-node tests share.

- :class:`CountingClient`: the app, counting what the server sent (every
  frame of the socket, every ``/bus_mobile/sync`` page) before its own
  de-duplication by message id;
- :class:`Inbox`: a thread reading an app's notifications, as its UI would
  show them (after de-duplication);
- :class:`PresenceWatch`: a watcher's view of one partner's presence;
- :func:`run_fault`: a burst of posts with a fault in its middle, then the
  checks every fault must pass, and the figures, appended to
  ``$BUS_MOBILE_FAULTS_REPORT`` when set.
"""

import contextlib
import dataclasses
import os
import threading
import time
import uuid
from collections import Counter

from bus_mobile_client.client import MobileBusClient
from bus_mobile_client.notifications import MESSAGE, PRESENCE

# A fault's burst: COUNT posts, the fault after HALF of them.
COUNT = 40
POST_INTERVAL = 0.05
# Generous bounds: the machine is shared and noisy; a lost message never
# arrives however long one waits.
DELIVERY_TIMEOUT = 120.0
# How long a watcher waits for a presence to change, whatever the cause:
# a bound for a status that never comes, not a measure (the figures go to
# the report).
PRESENCE_TIMEOUT = 60.0
# offline_after_s of the live tests that assert "offline after close": far
# above their waits, so that only the close itself can take the device
# offline in time, never the sweep (offline_after_s after the last sign
# of life) nor the keepalive (30 % + 20 % of it).
OFFLINE_AFTER_S = 600


class CountingClient(MobileBusClient):
    """A :class:`MobileBusClient` that counts what it was sent, before its
    de-duplication: ``socket_messages`` (message id -> times a socket frame
    carried it), ``notification_ids`` (bus id -> times received) and
    ``synced_messages`` (message id -> times a sync page returned it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._count_lock = threading.Lock()
        self.socket_messages = Counter()
        self.notification_ids = Counter()
        self.synced_messages = Counter()

    def _accept_frame(self, raw_notifications):
        with self._count_lock:
            for raw in raw_notifications:
                self.notification_ids[raw.get("id")] += 1
                message = raw.get("message") or {}
                if message.get("type") == MESSAGE:
                    self.socket_messages[message["payload"]["id"]] += 1
        super()._accept_frame(raw_notifications)

    def sync(self, after_id, limit=None):
        result = super().sync(after_id, limit)
        with self._count_lock:
            for message in result.get("messages", []):
                self.synced_messages[message["id"]] += 1
        return result

    def sent_twice(self, message_ids=None):
        """Message ids a socket carried more than once (``message_ids``
        only, when given), and bus ids received more than once."""
        with self._count_lock:
            messages = {
                mid: n
                for mid, n in self.socket_messages.items()
                if n > 1 and (message_ids is None or mid in message_ids)
            }
            notifications = {nid: n for nid, n in self.notification_ids.items() if n > 1}
        return messages, notifications


class Inbox(threading.Thread):
    """Reads ``client``'s notifications until :meth:`stop`: ``shown`` counts
    the messages of ``channel_id`` the app shows (after its de-duplication),
    ``arrivals`` keeps when each was first shown."""

    def __init__(self, client, channel_id):
        super().__init__(daemon=True)
        self.client, self.channel_id = client, channel_id
        self.shown = Counter()
        self.arrivals = {}
        self.errors = []
        self._lock = threading.Lock()
        self._stopping = False

    def run(self):
        try:
            while not self._stopping:
                for notification in self.client.poll(0.5):
                    if notification.type == MESSAGE and notification.channel_id == self.channel_id:
                        with self._lock:
                            self.shown[notification.message_id] += 1
                            self.arrivals.setdefault(notification.message_id, time.monotonic())
        except Exception as exc:
            self.errors.append(exc)

    def has(self, message_ids):
        with self._lock:
            return set(message_ids) <= set(self.shown)

    def wait_for(self, message_ids, timeout=DELIVERY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.has(message_ids) and time.monotonic() < deadline and not self.errors:
            time.sleep(0.1)
        return self.has(message_ids)

    def stop(self):
        self._stopping = True
        self.join(10)


class PresenceWatch(threading.Thread):
    """A watcher's socket following ``partner_id``: ``events`` lists
    ``(monotonic time, im_status)`` of each presence notification."""

    def __init__(self, watcher, partner_id):
        super().__init__(daemon=True)
        self.watcher, self.partner_id = watcher, partner_id
        self.events = []
        self.errors = []
        self._stopping = False

    def start(self):
        self.watcher.watch_presence([self.partner_id])
        super().start()
        return self

    def run(self):
        try:
            while not self._stopping:
                for notification in self.watcher.poll(0.5):
                    if notification.type == PRESENCE and notification.partner_id == self.partner_id:
                        self.events.append((time.monotonic(), notification.im_status))
        except Exception as exc:
            self.errors.append(exc)

    def status(self):
        """What the watcher's app shows: its last notification, else what
        ``/bus_mobile/presence`` says."""
        if self.events:
            return self.events[-1][1]
        return self.asked()

    def asked(self):
        return self.watcher.presence([self.partner_id])[0]["im_status"]

    def count(self, status, since=0.0):
        return sum(1 for at, value in self.events if value == status and at >= since)

    def wait(self, status, since, timeout):
        """Seconds from ``since`` until both the notifications and
        ``/bus_mobile/presence`` say ``status``; None if not within
        ``timeout``."""
        deadline = since + timeout
        while time.monotonic() < deadline:
            if self.status() == status and self.asked() == status:
                return time.monotonic() - since
            time.sleep(0.1)
        return None

    def back_online_after(self, fault_started, fault_ended):
        """Seconds after ``fault_ended`` until the watcher was shown
        ``online`` again for good (0 if it never saw anything else)."""
        since = [(at, value) for at, value in self.events if at >= fault_started]
        last_other = max((at for at, value in since if value != "online"), default=None)
        if last_other is None:
            return 0.0
        back = min((at for at, value in since if at > last_other and value == "online"))
        return max(back - fault_ended, 0.0)

    def stop(self):
        self._stopping = True
        self.join(10)


class Poster(threading.Thread):
    """Posts ``count`` messages to ``channel_id``, each with its own
    ``client_uuid`` kept across retries (a retry never makes a second
    message); ``half`` is set after the first half. ``held()`` waits for
    the post in flight and holds the next until it ends."""

    def __init__(self, client, channel_id, count=COUNT, label="burst"):
        super().__init__(daemon=True)
        self.client, self.channel_id, self.count = client, channel_id, count
        self.run_id = f"{label} {uuid.uuid4().hex[:8]}"
        self.posted = {}
        self.retries = 0
        self.errors = []
        self.half = threading.Event()
        self._posting = threading.Lock()

    def run(self):
        try:
            for seq in range(1, self.count + 1):
                message = self._post(seq)
                self.posted[seq] = message["id"]
                if seq == self.count // 2:
                    self.half.set()
                time.sleep(POST_INTERVAL)
        except Exception as exc:
            self.errors.append(exc)
        finally:
            self.half.set()

    def _post(self, seq):
        with self._posting:
            message, attempts = self.client.post_reliably(
                self.channel_id,
                f"{self.run_id} seq {seq}",
                client_uuid=f"{self.run_id}-{seq}".replace(" ", "-"),
                give_up_after=DELIVERY_TIMEOUT,
            )
        self.retries += attempts - 1
        return message

    def held(self):
        return self._posting

    @property
    def ids(self):
        return set(self.posted.values())


@dataclasses.dataclass
class FaultFigures:
    """What a fault cost the app, as reported and asserted."""

    fault: str
    posted: int
    lost: int
    shown_twice: int
    sent_twice: int
    notifications_twice: int
    synced: int
    dropped_by_client: int
    reconnects: int
    post_retries: int
    fault_s: float
    online_after_s: float | None
    offline_after_close_s: float | None
    offline_events_during_fault: int
    offline_after_s_setting: int

    def line(self):
        def seconds(value):
            return "never" if value is None else f"{value:.1f} s"

        return (
            f"{self.fault}: {self.posted} posted, {self.lost} lost, {self.shown_twice} shown "
            f"twice, {self.sent_twice} sent twice on the socket ({self.notifications_twice} bus "
            f"ids twice), {self.synced} caught up by sync, {self.dropped_by_client} dropped by "
            f"the client's de-duplication, {self.reconnects} reconnect(s), {self.post_retries} "
            f"post retries; fault took {self.fault_s:.1f} s; presence online again "
            f"{seconds(self.online_after_s)} after it (watcher saw "
            f"{self.offline_events_during_fault} offline), offline "
            f"{seconds(self.offline_after_close_s)} after the app closed "
            f"(offline_after_s = {self.offline_after_s_setting})"
        )

    def check(self):
        """Nothing lost or repeated, and presence converged: online again
        after the fault, offline after the close (within the watcher's
        wait, far below ``offline_after_s``: the close did it). How fast
        is a figure of the report, not a bound."""
        assert self.lost == 0, self.line()
        assert self.shown_twice == 0, self.line()
        assert self.sent_twice == 0 and self.notifications_twice == 0, self.line()
        assert self.online_after_s is not None, self.line()
        assert self.offline_after_close_s is not None, self.line()


def report(line):
    """Print a figure and append it to ``$BUS_MOBILE_FAULTS_REPORT``."""
    print(line)
    path = os.environ.get("BUS_MOBILE_FAULTS_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def run_fault(name, fault, *, poster, app, watcher, channel_id, count=COUNT, between_posts=False):
    """Post ``count`` messages from ``poster`` (HTTP only) into
    ``channel_id`` while ``app`` (a connected :class:`CountingClient`)
    receives them and ``watcher`` (a connected client) follows ``app``'s
    presence; call ``fault()`` after the first half (``between_posts``:
    with no post in flight, the next one held until it ends). Then close
    ``app``. Returns the :class:`FaultFigures` (not yet checked)."""
    offline_after_s = app.server_config["presence"]["offline_after_s"]
    assert offline_after_s >= OFFLINE_AFTER_S, (
        f"offline_after_s is {offline_after_s}: the sweep could take the app offline"
        f" before the watcher's wait ({PRESENCE_TIMEOUT} s) ends; set {OFFLINE_AFTER_S}"
    )
    app_partner = app.server_config["user"]["partner_id"]
    watch = PresenceWatch(watcher, app_partner).start()
    assert watch.wait("online", time.monotonic(), PRESENCE_TIMEOUT) is not None, "app not online"
    inbox = Inbox(app, channel_id)
    inbox.start()
    sender = Poster(poster, channel_id, count, label=name)
    try:
        sender.start()
        assert sender.half.wait(DELIVERY_TIMEOUT)
        with sender.held() if between_posts else contextlib.nullcontext():
            fault_started = time.monotonic()
            fault()
            fault_ended = time.monotonic()
        sender.join(DELIVERY_TIMEOUT * 2)
        assert not sender.errors, sender.errors
        assert len(sender.posted) == count
        inbox.wait_for(sender.ids)
        converged = watch.wait("online", time.monotonic(), PRESENCE_TIMEOUT) is not None
        online_after = watch.back_online_after(fault_started, fault_ended) if converged else None
        offline_events = watch.count("offline", since=fault_started)
        inbox.stop()
        assert not inbox.errors, inbox.errors
        closed_at = time.monotonic()
        app.close()
        offline_after_close = watch.wait("offline", closed_at, PRESENCE_TIMEOUT)
    finally:
        inbox.stop()
        watch.stop()
    assert not watch.errors, watch.errors
    ids = sender.ids
    sent_twice, notifications_twice = app.sent_twice(ids)
    return FaultFigures(
        fault=name,
        posted=len(ids),
        lost=len(ids - set(inbox.shown)),
        shown_twice=sum(1 for mid in ids if inbox.shown[mid] > 1),
        sent_twice=len(sent_twice),
        notifications_twice=len(notifications_twice),
        synced=sum(1 for mid in ids if app.synced_messages[mid]),
        dropped_by_client=app.stats["duplicates"],
        reconnects=app.stats["reconnects"],
        post_retries=sender.retries,
        fault_s=fault_ended - fault_started,
        online_after_s=online_after,
        offline_after_close_s=offline_after_close,
        offline_events_during_fault=offline_events,
        offline_after_s_setting=offline_after_s,
    )
