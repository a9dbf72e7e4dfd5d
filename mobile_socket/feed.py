"""What the mobile dispatcher (:mod:`.dispatcher`) keeps per database and
per socket: the read position and its history, which socket listens to
which channel, the replay budgets of users, and the frames it writes.
Plain data, no I/O: only the dispatcher's thread changes it.
"""

import struct

from odoo.addons.bus.models.bus import TIMEOUT
from odoo.addons.bus.websocket import Websocket

# Same guarantee as stock sockets: a row is held in the history (and the read
# cursor held back) this long, so that a transaction committing a lower id
# after a higher one is still read once.
HISTORY_SECONDS = Websocket.MAX_NOTIFICATION_HISTORY_SEC
# ``last == 0`` replays this many seconds, as ``bus.bus._poll`` does.
REPLAY_SECONDS = TIMEOUT
# A replay reads at most the newest REPLAY_MAX_ROWS bus rows, whatever
# ``last`` a client sends. Older messages come from ``/bus_mobile/sync``.
REPLAY_MAX_ROWS = 10_000
# And a user whose sockets asked for REPLAY_MAX_ROWS ids within
# REPLAY_WINDOW seconds gets only the newest REPLAY_THROTTLED_ROWS until the
# window ends: a client reconnecting in a loop with ``last=1`` would
# otherwise keep the dispatcher, shared by every socket of the worker, busy
# with its replays. Per user, not per session or key: a user can open more
# of those (each bearer socket even gets a session of its own).
REPLAY_WINDOW = 60.0
REPLAY_THROTTLED_ROWS = 100


def text_frame(payload):
    """An unmasked, final RFC 6455 text frame carrying ``payload`` (bytes)."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


class Subscriber:
    """The dispatcher's record of one mobile socket: what it listens to and
    what was last checked of its session. Only the dispatcher writes it."""

    __slots__ = (
        "active",
        "channels",
        "session_path",
        "session_stamp",
        "session_token",
        "sid",
        "token_epoch",
        "uid",
        "websocket",
    )

    def __init__(self, websocket):
        self.websocket = websocket
        # A socket's session id and user never change (a new login is a new
        # session): read once, not through Session.__getattr__ per batch.
        session = websocket._session
        self.sid = session.sid
        self.uid = session.uid
        # False once the socket left: a batch in flight must not add it back.
        self.active = True
        # bus.bus ``channel`` values served to this socket.
        self.channels = frozenset()
        # Session file and mtime, and the token, last validated.
        self.session_path = None
        self.session_stamp = None
        self.session_token = ""
        self.token_epoch = None

    def is_listening(self):
        return self.active and self.websocket.is_listening()


class Feed:
    """What the dispatcher knows of one database: where its read cursor is,
    which socket listens to which channel, and the subscriptions to serve."""

    __slots__ = (
        "busy",
        "canary",
        "channel_count",
        "history",
        "last_id",
        "pending",
        "subscribers",
        "subscribers_by_channel",
        "token_epoch",
    )

    def __init__(self):
        # Rows with an id <= last_id, and rows in the history, were read.
        self.last_id = None
        # [(id, seen at)], ascending ids, each younger than HISTORY_SECONDS
        # unless an older id before it is still young.
        self.history = []
        # websocket -> Subscriber
        self.subscribers = {}
        # bus.bus ``channel`` column value -> {Subscriber}
        self.subscribers_by_channel = {}
        # Subscriber -> (channels, last) of its latest subscribe
        self.pending = {}
        # A batch is running: its subscriptions are neither here nor pending.
        self.busy = False
        # See MobileDispatcher._token_epoch.
        self.canary = None
        self.token_epoch = 0
        # Channels listened to, summed over the subscribers (metrics).
        self.channel_count = 0

    def remember(self, ids, now):
        """Record ``ids`` as read at ``now`` and advance ``last_id`` past the
        leading ids older than HISTORY_SECONDS. Only leading ones: dropping
        a later id while an earlier one is kept would read it again."""
        if ids:
            self.history.extend((notif_id, now) for notif_id in ids)
            self.history.sort()
        expired = 0
        for notif_id, seen_at in self.history:
            if now - seen_at <= HISTORY_SECONDS:
                break
            self.last_id = notif_id
            expired += 1
        if expired:
            del self.history[:expired]

    def newest_id(self):
        return self.history[-1][0] if self.history else self.last_id or 0

    def replay_floor(self, budget, key, now):
        """Ids a replay for user ``key`` may start after: the newest
        REPLAY_MAX_ROWS, or REPLAY_THROTTLED_ROWS once it used its
        ``budget`` (:class:`ReplayBudget`)."""
        rows = REPLAY_THROTTLED_ROWS if budget.is_spent(key, now) else REPLAY_MAX_ROWS
        return max(self.newest_id() - rows, 0)

    def route(self, rows):
        """{subscriber: (row, ...)} for the subscribed, still open sockets.

        Sockets that receive the same rows share one tuple: with thousands
        of sockets a batch allocates next to nothing per socket (less
        garbage, fewer and shorter collections)."""
        deliveries = {}
        joined = {}
        gone = set()
        for row in rows:
            alone = (row,)
            for subscriber in self.subscribers_by_channel.get(row[1], ()):
                if not subscriber.is_listening():
                    if subscriber.websocket.is_closed():
                        gone.add(subscriber)
                    continue
                previous = deliveries.get(subscriber)
                if previous is None:
                    deliveries[subscriber] = alone
                    continue
                key = (previous, row[0])
                rows_so_far = joined.get(key)
                if rows_so_far is None:
                    rows_so_far = joined[key] = previous + alone
                deliveries[subscriber] = rows_so_far
        # A socket that closed without leaving (it cannot, but a leak would
        # grow forever): it leaves now.
        for subscriber in gone:
            self.leave(subscriber)
        return deliveries

    def listen(self, subscriber, channels):
        """Make ``subscriber`` listen to ``channels`` (and nothing else)."""
        self._discard(subscriber, subscriber.channels - channels)
        for channel in channels - subscriber.channels:
            self.subscribers_by_channel.setdefault(channel, set()).add(subscriber)
        self.channel_count += len(channels) - len(subscriber.channels)
        subscriber.channels = channels

    def leave(self, subscriber):
        subscriber.active = False
        self.pending.pop(subscriber, None)
        self._discard(subscriber, subscriber.channels)
        self.channel_count -= len(subscriber.channels)
        subscriber.channels = frozenset()
        if self.subscribers.get(subscriber.websocket) is subscriber:
            del self.subscribers[subscriber.websocket]

    def _discard(self, subscriber, channels):
        for channel in channels:
            subscribers = self.subscribers_by_channel.get(channel)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self.subscribers_by_channel[channel]

    def is_idle(self):
        return not (self.subscribers or self.pending or self.busy)


class ReplayBudget:
    """The ids each user had replayed in its current REPLAY_WINDOW, all
    their sockets together (kept by the dispatcher, not the feed: a feed
    ends when its last socket closes, which a reconnect loop does)."""

    def __init__(self):
        self._spent = {}  # (db, uid) -> (start of its window, ids replayed)

    def is_spent(self, key, now):
        started, ids = self._spent.get(key, (now, 0))
        return now - started < REPLAY_WINDOW and ids >= REPLAY_MAX_ROWS

    def charge(self, key, ids, now):
        """Count ``ids`` replayed for ``key``; forget the ended windows."""
        for ended in [k for k, (t, _ids) in self._spent.items() if now - t >= REPLAY_WINDOW]:
            del self._spent[ended]
        started, spent = self._spent.get(key, (now, 0))
        self._spent[key] = (started, spent + ids)

    def __len__(self):
        return len(self._spent)
