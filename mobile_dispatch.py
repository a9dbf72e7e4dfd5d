"""One bus reader per worker for every mobile socket.

Stock ``/websocket`` wakes each socket on every notification and lets it
read its session file, borrow a database connection, check its session and
run its own ``bus.bus`` query: N sockets cost N queries per notification.

The mobile sockets of a worker share one :class:`MobileDispatcher` instead.
Stock :data:`~odoo.addons.bus.models.bus.dispatch` still listens to
PostgreSQL's ``imbus`` channel and still knows which socket listens to which
channel (so several workers and several nodes work as before), but waking a
mobile socket only marks its database as dirty. The dispatcher then, per
batch and per database:

- reads the new ``bus.bus`` rows once (one query; the same "ids seen in the
  last few seconds" history as stock, so rows committed out of id order are
  never missed nor sent twice);
- serves the pending subscriptions from the same snapshot (``last`` replay,
  one query for all of them);
- checks the sessions of the sockets about to receive something (a ``stat``
  per session file; the token again only after Odoo's cache was cleared,
  as a password change does): a socket whose session is gone or no longer
  valid is closed with 4001 instead, before anything else is sent to it;
- drops the rows of mobile channels a socket's user may no longer read
  (one ``_bus_mobile_readable_ids`` call per user, as stock sockets' poll);
- encodes each notification once and each distinct frame once, then writes
  it to every subscribed socket without waiting for slow ones.

In tests the bus thread sees no commit: ``trigger_notification_dispatching``
wakes the sockets as for stock ones, and the dispatcher reads through the
test cursor like stock sockets do.
"""

import datetime
import json
import logging
import os
import struct
import sys
import threading
import time
from contextlib import closing, suppress

from odoo import SUPERUSER_ID, api, fields
from odoo.http import FilesystemSessionStore, root
from odoo.modules.registry import Registry
from odoo.service.server import CommonServer
from odoo.tools import SQL
from odoo.tools.misc import consteq

from odoo.addons.bus.models.bus import TIMEOUT, json_dump
from odoo.addons.bus.websocket import CloseCode, Websocket, acquire_cursor

_logger = logging.getLogger(__name__)

# Same guarantee as stock sockets: a row is held in the history (and the read
# cursor held back) this long, so that a transaction committing a lower id
# after a higher one is still read once.
HISTORY_SECONDS = Websocket.MAX_NOTIFICATION_HISTORY_SEC
# ``last == 0`` replays this many seconds, as ``bus.bus._poll`` does.
REPLAY_SECONDS = TIMEOUT
# Sleep after an unexpected error before serving the database again.
ERROR_DELAY = 1.0
# A session id of our own whose token tells when Odoo's cache was cleared.
CANARY_SID = "bus_mobile.dispatch.canary"
# Notifications of these records are filtered by membership (see
# ``_filter_deliveries``).
CHANNEL_MODEL = "bus_mobile.channel"


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


def _mobile_channel_id(channel):
    """The ``bus_mobile.channel`` id of a bus.bus ``channel`` value, or None."""
    if CHANNEL_MODEL not in channel:
        return None
    target = json.loads(channel)
    if len(target) >= 3 and target[1] == CHANNEL_MODEL:
        return target[2]
    return None


class _Feed:
    """What the dispatcher knows of one database: where its read cursor is,
    which socket listens to which channel, and the subscriptions to serve."""

    __slots__ = (
        "busy",
        "canary",
        "history",
        "last_id",
        "pending",
        "sockets_by_channel",
        "token_epoch",
    )

    def __init__(self):
        # Rows with an id <= last_id, and rows in the history, were read.
        self.last_id = None
        # [(id, seen at)], ascending ids, each younger than HISTORY_SECONDS
        # unless an older id before it is still young.
        self.history = []
        # bus.bus ``channel`` column value -> {websocket}
        self.sockets_by_channel = {}
        # websocket -> (channels, last) of its latest subscribe
        self.pending = {}
        # A batch is running: its subscriptions are neither here nor pending.
        self.busy = False
        # See MobileDispatcher._token_epoch.
        self.canary = None
        self.token_epoch = 0

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

    def route(self, rows):
        """{websocket: (row, ...)} for the subscribed, still open sockets.

        Sockets that receive the same rows share one tuple: with thousands
        of sockets a batch allocates next to nothing per socket (less
        garbage, fewer and shorter collections)."""
        deliveries = {}
        joined = {}
        for row in rows:
            alone = (row,)
            for websocket in self.sockets_by_channel.get(row[1], ()):
                if not websocket._bus_mobile_is_listening():
                    continue
                previous = deliveries.get(websocket)
                if previous is None:
                    deliveries[websocket] = alone
                    continue
                key = (previous, row[0])
                rows_so_far = joined.get(key)
                if rows_so_far is None:
                    rows_so_far = joined[key] = previous + alone
                deliveries[websocket] = rows_so_far
        return deliveries

    def add(self, websocket, channels):
        for channel in channels:
            self.sockets_by_channel.setdefault(channel, set()).add(websocket)

    def discard(self, websocket, channels):
        for channel in channels:
            sockets = self.sockets_by_channel.get(channel)
            if sockets is not None:
                sockets.discard(websocket)
                if not sockets:
                    del self.sockets_by_channel[channel]

    def is_idle(self):
        return not (self.sockets_by_channel or self.pending or self.busy)


class MobileDispatcher(threading.Thread):
    """Serves the mobile sockets of this worker; see the module docstring.

    Sockets call :meth:`subscribe`, :meth:`unsubscribe` and :meth:`wake`
    from their own thread (greenlet); everything else runs in this one.
    """

    def __init__(self):
        super().__init__(daemon=True, name=f"{__name__}.MobileDispatcher")
        # Guards the feeds and the dirty set; never held across I/O.
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._stopping = False
        self._running = False
        self._dirty = set()
        self._feeds = {}

    # ------------------------------------------------------------------
    # Called by the sockets (their own thread)
    # ------------------------------------------------------------------

    def subscribe(self, websocket, channels, last):
        """Serve ``channels`` (stock hashable channels) to ``websocket`` from
        the next batch on, after replaying the rows after ``last`` (the last
        ``REPLAY_SECONDS`` when ``last`` is 0) of the channels it did not
        listen to yet."""
        # Interned: thousands of sockets share "broadcast", their groups...
        encoded = frozenset(sys.intern(json_dump(channel)) for channel in channels)
        db = websocket._db
        with self._lock:
            feed = self._feeds.setdefault(db, _Feed())
            feed.pending[websocket] = (encoded, last or 0)
        self.wake(db)
        with suppress(RuntimeError):  # already started
            if not self.is_alive():
                self.start()

    def unsubscribe(self, websocket):
        with self._lock:
            feed = self._feeds.get(websocket._db)
            if feed is None:
                return
            feed.pending.pop(websocket, None)
            feed.discard(websocket, websocket._bus_mobile_channels)
            websocket._bus_mobile_channels = frozenset()
            if feed.is_idle():
                # The next subscriber starts a fresh cursor: rows read while
                # nobody listens are never read.
                del self._feeds[websocket._db]

    def wake(self, db):
        """New rows may be in ``db``'s bus: serve it soon. Cheap, called once
        per subscribed socket for each ``imbus`` notification."""
        if db in self._dirty:  # read without the lock: a miss only costs it
            return
        with self._lock:
            if db in self._dirty:
                return
            self._dirty.add(db)
        self._wakeup.set()

    def stop(self):
        self._stopping = True
        self._wakeup.set()

    def is_idle(self):
        """No batch running nor due (tests wait for this before touching the
        database their cursor shares with the dispatcher)."""
        with self._lock:
            return not (self._running or self._dirty)

    # ------------------------------------------------------------------
    # Dispatcher thread
    # ------------------------------------------------------------------

    def run(self):
        while not self._stopping:
            self._wakeup.wait()
            self._wakeup.clear()
            with self._lock:
                dbs, self._dirty = self._dirty, set()
                self._running = True
            try:
                for db in dbs:
                    try:
                        self._serve(db)
                    except Exception:
                        if self._stopping:
                            return
                        _logger.exception("Mobile bus dispatch failed on %s, retrying", db)
                        time.sleep(ERROR_DELAY)
                        self.wake(db)
            finally:
                with self._lock:
                    self._running = False

    def _serve(self, db):
        """One batch of ``db``: read, then write without holding a cursor."""
        with self._lock:
            feed = self._feeds.get(db)
            if feed is None:
                return
            pending, feed.pending = feed.pending, {}
            feed.busy = True
        started = time.perf_counter()
        try:
            deliveries, expired, subscribed = self._read(db, feed, pending)
        except Exception:
            with self._lock:
                for websocket, subscription in pending.items():
                    if websocket._bus_mobile_is_listening():
                        feed.pending.setdefault(websocket, subscription)
            raise
        finally:
            with self._lock:
                feed.busy = False
                if feed.is_idle() and self._feeds.get(db) is feed:
                    del self._feeds[db]
        for websocket in expired:
            self.unsubscribe(websocket)
            websocket._bus_mobile_close(CloseCode.SESSION_EXPIRED, "SESSION_EXPIRED")
        read = time.perf_counter()
        self._write(deliveries)
        for websocket in subscribed:
            websocket._bus_mobile_on_subscribed()
        if _logger.isEnabledFor(logging.DEBUG):
            _logger.debug(
                "%s: %d sockets served, %d subscribed, %d expired: read %.1f ms, write %.1f ms",
                db,
                len(deliveries),
                len(subscribed),
                len(expired),
                (read - started) * 1000,
                (time.perf_counter() - read) * 1000,
            )

    def _read(self, db, feed, pending):
        """One read of the new rows, the replays of the pending subscriptions
        from the same snapshot (the cursor is REPEATABLE READ), the session
        checks. Return ``({websocket: (row, ...)}, expired, subscribed)``."""
        now = time.time()
        with closing(acquire_cursor(db)) as cr:
            # Picks up cache invalidations from other workers, such as a
            # password change that invalidates session tokens.
            Registry(db).check_signaling(cr)
            # The dispatcher reads rows and session tokens for every user, as
            # superuser; what each socket receives is decided by its channels.
            env = api.Environment(cr, SUPERUSER_ID, {})
            if feed.last_id is None:
                self._start_feed(cr, feed, now)
                rows = []
            else:
                rows = self._read_new_rows(cr, feed)
                feed.remember([row[0] for row in rows], now)
            replays = self._read_replays(cr, pending) if pending else {}
            with self._lock:
                deliveries = feed.route(rows)
                subscribed = self._apply_subscriptions(feed, pending, replays, deliveries)
            expired = self._expired_sockets(env, feed, deliveries)
            for websocket in expired:
                del deliveries[websocket]
            deliveries = self._filter_deliveries(env, deliveries)
        return deliveries, expired, subscribed

    def _start_feed(self, cr, feed, now):
        """Start reading ``bus.bus`` the way a stock socket would after its
        first read: every row of the last HISTORY_SECONDS counts as read
        (the subscribers get them through their replay), the cursor stays
        behind them for rows committed out of order."""
        horizon = fields.Datetime.now() - datetime.timedelta(seconds=HISTORY_SECONDS)
        cr.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM bus_bus WHERE create_date < %s", horizon))
        feed.last_id = cr.fetchone()[0]
        cr.execute(SQL("SELECT id FROM bus_bus WHERE id > %s ORDER BY id", feed.last_id))
        feed.history = [(notif_id, now) for (notif_id,) in cr.fetchall()]

    def _read_new_rows(self, cr, feed):
        """The one read of a batch: every row not read yet, all channels
        (filtering by channel would send the whole subscription set to the
        database on each batch; rows nobody listens to are dropped here)."""
        cr.execute(
            SQL(
                "SELECT id, channel, message FROM bus_bus"
                " WHERE id > %s AND NOT (id = ANY(%s)) ORDER BY id",
                feed.last_id,
                [notif_id for notif_id, _seen in feed.history],
            )
        )
        return cr.fetchall()

    def _read_replays(self, cr, pending):
        """{websocket: (row, ...)}: for each pending subscription, the rows of the
        channels it did not listen to yet, after its ``last`` (or of the last
        REPLAY_SECONDS when ``last`` is 0), like ``bus.bus._poll``."""
        wanted = {
            websocket: channels - websocket._bus_mobile_channels
            for websocket, (channels, _last) in pending.items()
        }
        all_channels = set().union(*wanted.values())
        if not all_channels:
            return {}
        lasts = [last for _channels, last in pending.values()]
        cutoff = fields.Datetime.now() - datetime.timedelta(seconds=REPLAY_SECONDS)
        conditions = []
        if any(lasts):
            conditions.append(SQL("id > %s", min(last for last in lasts if last)))
        if not all(lasts):
            conditions.append(SQL("create_date > %s", cutoff))
        cr.execute(
            SQL(
                "SELECT id, channel, message, create_date FROM bus_bus"
                " WHERE channel = ANY(%s) AND (%s) ORDER BY id",
                sorted(all_channels),
                SQL(" OR ").join(conditions),
            )
        )
        rows = cr.fetchall()
        replays = {}
        for websocket, channels in wanted.items():
            last = pending[websocket][1]
            replays[websocket] = tuple(
                (notif_id, channel, message)
                for notif_id, channel, message, create_date in rows
                if channel in channels and (notif_id > last if last else create_date > cutoff)
            )
        return replays

    def _apply_subscriptions(self, feed, pending, replays, deliveries):
        """Move the pending subscriptions into the channel index (under the
        lock), adding their replays to ``deliveries``. Rows of this batch's
        snapshot went to the former channels through ``deliveries``, to the
        new ones through the replay; later rows go through the index."""
        subscribed = []
        for websocket, (channels, _last) in pending.items():
            if not websocket._bus_mobile_is_listening():
                continue
            feed.discard(websocket, websocket._bus_mobile_channels - channels)
            feed.add(websocket, channels - websocket._bus_mobile_channels)
            websocket._bus_mobile_channels = channels
            subscribed.append(websocket)
            replay = replays.get(websocket)
            if replay:
                deliveries[websocket] = tuple(sorted(deliveries.get(websocket, ()) + replay))
        return subscribed

    # ------------------------------------------------------------------
    # Sessions and filters
    # ------------------------------------------------------------------

    def _expired_sockets(self, env, feed, websockets):
        """The sockets whose session was logged out, expired, revoked, or
        whose token no longer matches (password change, archived user)."""
        store = root.session_store
        users = env["res.users"]
        epoch = self._token_epoch(feed, users)
        return [ws for ws in websockets if not self._is_session_valid(ws, store, users, epoch)]

    def _token_epoch(self, feed, users):
        """A number that changes whenever session tokens may have changed.

        A token depends on its user's login, password, active flag...: any
        change of those clears Odoo's ormcache, in this process or, through
        ``check_signaling``, in the others. A canary token (a session id of
        our own) is cached like the others: getting a new object for it means
        the cache was cleared, and the sockets' tokens are checked again.
        Otherwise a socket's token, checked once, stays valid."""
        canary = users.browse(SUPERUSER_ID)._compute_session_token(CANARY_SID)
        if canary is not feed.canary:
            feed.canary = canary
            feed.token_epoch += 1
            _logger.debug("Odoo's cache was cleared: session tokens are checked again")
        return feed.token_epoch

    def _is_session_valid(self, websocket, store, users, epoch):
        """Stock reads a socket's session file and recomputes its token on
        each dispatch. Here: a ``stat`` of the file (gone when logged out,
        rotated, revoked or expired), a read when it changed, and the token
        again only when it may have changed (see ``_token_epoch``)."""
        session = websocket._session
        stamp = self._session_stamp(websocket, store)
        if stamp is False:
            return False
        if stamp is None or stamp != websocket._bus_mobile_session_stamp:
            stored = store.get(session.sid)
            if not stored or stored.uid is None or stored.uid != session.uid:
                return False
            token = stored.session_token or ""
            if token != websocket._bus_mobile_session_token:
                websocket._bus_mobile_session_token = token
                websocket._bus_mobile_token_epoch = None
            websocket._bus_mobile_session_stamp = stamp
        if websocket._bus_mobile_token_epoch != epoch:
            expected = users.browse(session.uid)._compute_session_token(session.sid)
            if not (expected and consteq(expected, websocket._bus_mobile_session_token)):
                return False
            websocket._bus_mobile_token_epoch = epoch
        return True

    def _session_stamp(self, websocket, store):
        """The session file's mtime; False when the file is gone; None when
        sessions are not files (another session store): then the session is
        read on each batch, as stock does."""
        if not isinstance(store, FilesystemSessionStore):
            return None
        if websocket._bus_mobile_session_path is None:
            try:
                path = store.get_session_filename(websocket._session.sid)
            except ValueError:
                return False
            websocket._bus_mobile_session_path = path
        try:
            return os.stat(websocket._bus_mobile_session_path).st_mtime_ns
        except OSError:
            return False

    def _filter_deliveries(self, env, deliveries):
        """Drop the rows of the ``bus_mobile.channel`` records a socket's user
        may no longer read (left, removed): the rule of stock sockets' poll
        (``bus.bus._bus_mobile_filter_channels``), asked once per user of the
        batch through the same overridable ``_bus_mobile_readable_ids``."""
        if CHANNEL_MODEL not in env:
            return deliveries
        channel_ids = {}  # bus.bus channel value -> mobile channel id
        wanted = {}  # uid -> {mobile channel id}
        for websocket, rows in deliveries.items():
            for _notif_id, channel, _message in rows:
                if channel not in channel_ids:
                    channel_ids[channel] = _mobile_channel_id(channel)
                if channel_ids[channel] is not None:
                    wanted.setdefault(websocket._session.uid, set()).add(channel_ids[channel])
        if not wanted:
            return deliveries
        Channel = env[CHANNEL_MODEL]
        readable = {
            uid: Channel._bus_mobile_readable_ids(env["res.users"].browse(uid), ids)
            for uid, ids in wanted.items()
        }
        return {
            websocket: tuple(
                row
                for row in rows
                if channel_ids[row[1]] is None
                or channel_ids[row[1]] in readable.get(websocket._session.uid, ())
            )
            for websocket, rows in deliveries.items()
        }

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------

    def _write(self, deliveries):
        """Encode each row once and each distinct frame once, then hand the
        frame to each socket (which never blocks the dispatcher)."""
        parts = {}
        frames = {}
        for websocket, rows in deliveries.items():
            if not rows:
                continue
            frame = frames.get(rows)
            if frame is None:
                for notif_id, _channel, message in rows:
                    if notif_id not in parts:
                        parts[notif_id] = f'{{"id":{notif_id},"message":{message}}}'
                payload = "[" + ",".join(parts[row[0]] for row in rows) + "]"
                frame = frames[rows] = text_frame(payload.encode())
            websocket._bus_mobile_send(frame)


mobile_dispatch = MobileDispatcher()
CommonServer.on_stop(mobile_dispatch.stop)
