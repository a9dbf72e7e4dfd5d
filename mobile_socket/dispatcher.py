"""One bus reader per worker for every mobile socket.

Stock ``/websocket`` wakes each socket on every notification and lets it
read its session file, borrow a database connection, check its session and
run its own ``bus.bus`` query: N sockets cost N queries per notification.

The mobile sockets of a worker share one :class:`MobileDispatcher` instead.
Stock :data:`~odoo.addons.bus.models.bus.dispatch` still listens to
PostgreSQL's ``imbus`` channel and still knows which socket listens to which
channel (so several workers and several nodes work as before), but waking a
mobile socket only marks its database as dirty. The dispatcher then, per
batch and per database, in one transaction (one snapshot):

1. live delivery: it reads the new ``bus.bus`` rows once (the same "ids
   seen in the last few seconds" history as stock, so rows committed out of
   id order are never missed nor sent twice), checks the sessions of the
   sockets about to receive something (closing with 4001 those whose
   session is gone or no longer valid), drops what a socket's user may no
   longer read (mobile channels left, presences no longer shared), encodes
   each notification and each distinct frame once and hands it to every
   socket without waiting for slow ones. Only then does its read position
   move: a failure before that serves the same rows again;
2. new subscriptions: their ``last`` replay (bounded, whatever ``last``
   a client sends), checked and filtered the same way, then their channels
   join the index.

Everything a client sends was checked before it gets here
(:mod:`.frames`); what one socket does (fail, stall, close) touches only
that socket.

In tests the bus thread sees no commit: ``trigger_notification_dispatching``
wakes the sockets as for stock ones, and the dispatcher reads through the
test cursor like stock sockets do.
"""

import datetime
import logging
import os
import sys
import threading
import time
from contextlib import closing, suppress

import psycopg2
from psycopg2.pool import PoolError

from odoo import SUPERUSER_ID, api, fields
from odoo.http import FilesystemSessionStore, root
from odoo.modules.registry import Registry
from odoo.service.server import CommonServer
from odoo.tools import SQL
from odoo.tools.misc import consteq

from odoo.addons.bus.models.bus import json_dump
from odoo.addons.bus.websocket import CloseCode, acquire_cursor

from .. import metrics
from ..tools.channels import CHANNEL_MODEL, mobile_channel_id_of_value, presence_partner_id_of_value
from .feed import HISTORY_SECONDS, REPLAY_SECONDS, Feed, ReplayBudget, Subscriber, text_frame

_logger = logging.getLogger(__name__)

# Sleep after a failed batch before serving the database again.
ERROR_DELAY = 1.0
# With subscribers and no wake-up for this long, read the bus anyway: a
# NOTIFY can be missed (stock's listener, cut by a PostgreSQL restart,
# listens again only after 50 s), a row never is.
POLL_SECONDS = 2.0
# A failing database is logged again at most this often.
ERROR_LOG_INTERVAL = 60.0
# A session id of our own whose token tells when Odoo's cache was cleared.
CANARY_SID = "bus_mobile.dispatch.canary"
# The dispatcher tells the node's metrics it is alive at most this often.
BEAT_SECONDS = 1.0


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
        # db -> time of the last logged failure
        self._failures = {}
        # Dispatcher thread only.
        self._replay_budget = ReplayBudget()
        self._beat_at = 0.0

    # ------------------------------------------------------------------
    # Called by the sockets (their own thread)
    # ------------------------------------------------------------------

    def subscribe(self, websocket, channels, last):
        """Serve ``channels`` (stock hashable channels) to ``websocket`` from
        the next batch on, after replaying the rows after ``last`` (the last
        ``REPLAY_SECONDS`` when ``last`` is 0) of the channels it did not
        listen to yet."""
        # Checked by the frame already; shared code never trusts a client.
        if isinstance(last, bool) or not isinstance(last, int) or last < 0:
            last = 0
        # Interned: thousands of sockets share "broadcast", their groups...
        encoded = frozenset(sys.intern(json_dump(channel)) for channel in channels)
        db = websocket._db
        with self._lock:
            feed = self._feeds.setdefault(db, Feed())
            subscriber = feed.subscribers.get(websocket)
            if subscriber is None:
                subscriber = feed.subscribers[websocket] = Subscriber(websocket)
            feed.pending[subscriber] = (encoded, last)
        self.wake(db)
        start_once(self)

    def unsubscribe(self, websocket):
        """``websocket`` closes: forget it, whatever a batch is doing."""
        with self._lock:
            feed = self._feeds.get(websocket._db)
            if feed is None:
                return
            subscriber = feed.subscribers.get(websocket)
            if subscriber is not None:
                feed.leave(subscriber)
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

    def subscriber_count(self, db):
        with self._lock:
            feed = self._feeds.get(db)
            return len(feed.subscribers) if feed else 0

    # ------------------------------------------------------------------
    # Dispatcher thread
    # ------------------------------------------------------------------

    def run(self):
        while not self._stopping:
            if not self._wakeup.wait(self._poll_interval()):
                self._poll()
            self._wakeup.clear()
            self._beat()
            with self._lock:
                dbs, self._dirty = self._dirty, set()
                self._running = True
            try:
                for db in dbs:
                    try:
                        self._serve(db)
                        self._failures.pop(db, None)
                    except Exception as exc:
                        if self._stopping:
                            return
                        self._log_failure(db, exc)
                        time.sleep(ERROR_DELAY)
                        self.wake(db)
            finally:
                with self._lock:
                    self._running = False

    def _poll_interval(self):
        return POLL_SECONDS

    def _beat(self):
        """Tell the node's metrics (and its health probe) that this thread
        runs, and how many channels its sockets listen to."""
        now = time.monotonic()
        if now - self._beat_at < BEAT_SECONDS:
            return
        self._beat_at = now
        with self._lock:
            channels = {db: feed.channel_count for db, feed in self._feeds.items()}
        metrics.dispatcher_beat(channels)

    def _poll(self):
        """Serve every database with subscribers, as if woken."""
        with self._lock:
            self._dirty.update(db for db in self._feeds if self._may_poll(db))

    def _may_poll(self, db):
        """Not a database in Odoo's test mode: its tests dispatch by
        themselves, on a cursor this thread shares with theirs."""
        registry = Registry.registries.get(db)
        return registry is None or not registry.in_test_mode()

    def _log_failure(self, db, exc):
        """A database that fails (restarting, out of connections) is logged
        once a minute, without a traceback; anything else is a bug."""
        expected = isinstance(exc, psycopg2.Error | PoolError)
        now = time.monotonic()
        if expected and now - self._failures.get(db, -ERROR_LOG_INTERVAL) < ERROR_LOG_INTERVAL:
            return
        self._failures[db] = now
        if expected:
            _logger.warning("Mobile bus dispatch on %s failed, retrying: %s", db, str(exc)[:200])
        else:
            _logger.exception("Mobile bus dispatch on %s failed, retrying", db)

    def _serve(self, db):
        """One batch of ``db``: live delivery, then the new subscriptions."""
        with self._lock:
            feed = self._feeds.get(db)
            if feed is None:
                return
            pending, feed.pending = feed.pending, {}
            feed.busy = True
        started = time.perf_counter()
        try:
            with closing(acquire_cursor(db)) as cr:
                # Picks up cache invalidations from other workers, such as a
                # password change that invalidates session tokens.
                Registry(db).check_signaling(cr)
                # The dispatcher reads rows and session tokens for every
                # user, as superuser; what each socket receives is decided
                # by its channels and rechecked per user.
                env = api.Environment(cr, SUPERUSER_ID, {})
                backlog, oldest = self._serve_live(env, feed)
                self._serve_subscriptions(env, feed, pending)
            metrics.batch_done(
                db,
                time.perf_counter() - started,
                backlog,
                max(time.time() - oldest, 0.0) if oldest else 0.0,
                feed.newest_id(),
            )
        except Exception:
            with self._lock:
                for subscriber, subscription in pending.items():
                    if subscriber.active:
                        feed.pending.setdefault(subscriber, subscription)
            raise
        finally:
            with self._lock:
                feed.busy = False
                if feed.is_idle() and self._feeds.get(db) is feed:
                    del self._feeds[db]

    def _serve_live(self, env, feed):
        """Deliver the new rows; ``(rows read, creation time of the oldest
        or None)``."""
        now = time.time()
        if feed.last_id is None:
            self._start_feed(env.cr, feed, now)
            return 0, None
        rows, created = self._read_new_rows(env.cr, feed)
        with self._lock:
            deliveries = feed.route(rows)
        deliveries = self._check(env, feed, deliveries)
        frames, sent_bytes, written = self._write(deliveries)
        metrics.delivered(env.cr.dbname, frames, sent_bytes, [created[i] for i in written])
        # Only now: a failure above reads the same rows again.
        feed.remember([row[0] for row in rows], now)
        if rows and _logger.isEnabledFor(logging.DEBUG):
            # Read by ``make bench`` (scripts/bench/loadgen.py) for the
            # server's own fan-out time: commit -> last frame handed over.
            _logger.debug(
                "fan-out %s: %d rows, ids %d-%d, to %d sockets, done at %.6f",
                env.cr.dbname,
                len(rows),
                rows[0][0],
                rows[-1][0],
                len(deliveries),
                time.monotonic(),
            )
        return len(rows), min(created.values(), default=None)

    def _serve_subscriptions(self, env, feed, pending):
        """Replay what the new subscriptions missed, from the snapshot of the
        live rows (so later rows go through the index), then index them."""
        if not pending:
            return
        replays = self._read_replays(env.cr, feed, pending)
        replays = self._check(env, feed, replays)
        subscribed = set()
        with self._lock:
            for subscriber, (channels, _last) in pending.items():
                if subscriber.is_listening():
                    feed.listen(subscriber, channels)
                    subscribed.add(subscriber)
        frames, sent_bytes, _written = self._write(
            {s: rows for s, rows in replays.items() if s in subscribed}
        )
        metrics.delivered(env.cr.dbname, frames, sent_bytes, ())
        for subscriber in subscribed:
            subscriber.websocket.on_subscribed()

    def _start_feed(self, cr, feed, now):
        """Start reading ``bus.bus`` the way a stock socket would after its
        first read: every row of the last HISTORY_SECONDS counts as read
        (the subscribers get them through their replay), the cursor stays
        behind them for rows committed out of order."""
        horizon = fields.Datetime.now() - datetime.timedelta(seconds=HISTORY_SECONDS)
        cr.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM bus_bus WHERE create_date < %s", horizon))
        last_id = cr.fetchone()[0]
        cr.execute(SQL("SELECT id FROM bus_bus WHERE id > %s ORDER BY id", last_id))
        feed.history = [(notif_id, now) for (notif_id,) in cr.fetchall()]
        feed.last_id = last_id

    def _read_new_rows(self, cr, feed):
        """The one read of a batch: every row not read yet, all channels
        (filtering by channel would send the whole subscription set to the
        database on each batch; rows nobody listens to are dropped here).

        :return: ``(rows, {id: creation as Unix time})``; ``bus.bus`` stamps
            its rows just before their commit (``models/bus_bus.py``)
        """
        cr.execute(
            SQL(
                "SELECT id, channel, message, EXTRACT(EPOCH FROM create_date)::float8"
                " FROM bus_bus WHERE id > %s AND NOT (id = ANY(%s)) ORDER BY id",
                feed.last_id,
                [notif_id for notif_id, _seen in feed.history],
            )
        )
        fetched = cr.fetchall()
        return [row[:3] for row in fetched], {row[0]: row[3] for row in fetched}

    def _read_replays(self, cr, feed, pending):
        """{subscriber: (row, ...)}: for each pending subscription, the rows
        of the channels it did not listen to yet, after its ``last`` (or of
        the last REPLAY_SECONDS when ``last`` is 0), like ``bus.bus._poll``,
        within the newest REPLAY_MAX_ROWS ids (fewer for a user who used
        their replay rows, see ``Feed.replay_floor``). One query for
        all."""
        wanted = {
            subscriber: channels - subscriber.channels
            for subscriber, (channels, _last) in pending.items()
            if subscriber.is_listening()
        }
        all_channels = set().union(*wanted.values())
        if not all_channels:
            return {}
        now = time.monotonic()
        db = cr.dbname
        budget = self._replay_budget
        lasts = {}
        for subscriber in wanted:
            key = (db, subscriber.uid)
            last = lasts[subscriber] = max(
                pending[subscriber][1], feed.replay_floor(budget, key, now)
            )
            if pending[subscriber][1]:
                # Charged what it asks the database for (the ids after its
                # ``last``), whoever the rows are for; before the next
                # socket of the batch: sockets subscribing at once share
                # the budget. (``last=0``, every app's first subscribe, is
                # charged below with the rows of its REPLAY_SECONDS.)
                budget.charge(key, max(feed.newest_id() - last, 0), now)
        zero = [s for s in wanted if not pending[s][1]]
        cutoff = fields.Datetime.now() - datetime.timedelta(seconds=REPLAY_SECONDS)
        conditions = [SQL("id > %s", min(lasts.values()))]
        if zero and len(zero) == len(wanted):
            conditions.append(SQL("create_date > %s", cutoff))
        cr.execute(
            SQL(
                "SELECT id, channel, message, create_date FROM bus_bus"
                " WHERE channel = ANY(%s) AND %s ORDER BY id",
                sorted(all_channels),
                SQL(" AND ").join(conditions),
            )
        )
        rows = cr.fetchall()
        replays = {}
        for subscriber, channels in wanted.items():
            last = lasts[subscriber]
            since_cutoff = not pending[subscriber][1]
            replay = tuple(
                (notif_id, channel, message)
                for notif_id, channel, message, create_date in rows
                if channel in channels
                and notif_id > last
                and (create_date > cutoff if since_cutoff else True)
            )
            if replay:
                replays[subscriber] = replay
                if since_cutoff:
                    budget.charge((db, subscriber.uid), len(replay), now)
        return replays

    # ------------------------------------------------------------------
    # Sessions and filters
    # ------------------------------------------------------------------

    def _check(self, env, feed, deliveries):
        """``deliveries`` without the sockets whose session ended (closed
        with 4001 instead) and without the rows their users may no longer
        read."""
        expired = self._expired(env, feed, deliveries)
        for subscriber, reason in expired.items():
            with self._lock:
                feed.leave(subscriber)
            subscriber.websocket.request_close(CloseCode.SESSION_EXPIRED, reason)
            del deliveries[subscriber]
        return self._filter_deliveries(env, deliveries)

    def _expired(self, env, feed, subscribers):
        """``{subscriber: close reason}`` for the subscribers whose session
        was logged out, expired, revoked, or whose token no longer matches
        (password change, archived user), and for those opened with a
        bearer token whose key no longer works (one query per kind of key,
        on every batch they receive something in: a revocation notifies the
        key's channel, so its sockets are always in that batch)."""
        store = root.session_store
        users = env["res.users"]
        epoch = self._token_epoch(feed, users)
        expired = {}
        bearers = {}
        for subscriber in subscribers:
            bearer = subscriber.websocket.bearer
            if bearer is not None:
                bearers.setdefault(bearer, []).append(subscriber)
            elif not self._is_session_valid(subscriber, store, users, epoch):
                expired[subscriber] = "SESSION_EXPIRED"
        if bearers:
            refusals = env["res.users.apikeys"]._bus_mobile_refusals(bearers)
            for bearer, reason in refusals.items():
                expired.update(dict.fromkeys(bearers[bearer], reason))
        return expired

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

    def _is_session_valid(self, subscriber, store, users, epoch):
        """Stock reads a socket's session file and recomputes its token on
        each dispatch. Here: a ``stat`` of the file (gone when logged out,
        rotated, revoked or expired), a read when it changed, and the token
        again only when it may have changed (see ``_token_epoch``)."""
        stamp = self._session_stamp(subscriber, store)
        if stamp is False:
            return False
        if stamp is None or stamp != subscriber.session_stamp:
            stored = store.get(subscriber.sid)
            if not stored or stored.uid is None or stored.uid != subscriber.uid:
                return False
            token = stored.session_token or ""
            if token != subscriber.session_token:
                subscriber.session_token = token
                subscriber.token_epoch = None
            subscriber.session_stamp = stamp
        if subscriber.token_epoch != epoch:
            expected = users.browse(subscriber.uid)._compute_session_token(subscriber.sid)
            if not (expected and consteq(expected, subscriber.session_token)):
                return False
            subscriber.token_epoch = epoch
        return True

    def _session_stamp(self, subscriber, store):
        """The session file's mtime; False when the file is gone; None when
        sessions are not files (another session store): then the session is
        read on each batch, as stock does."""
        if not isinstance(store, FilesystemSessionStore):
            return None
        if subscriber.session_path is None:
            try:
                path = store.get_session_filename(subscriber.sid)
            except ValueError:
                return False
            subscriber.session_path = path
        try:
            return os.stat(subscriber.session_path).st_mtime_ns
        except OSError:
            return False

    def _filter_deliveries(self, env, deliveries):
        """Drop the rows a socket's user may no longer read, asked once per
        user of the batch through overridable model methods:

        - a ``bus_mobile.channel`` left or removed from
          (``bus_mobile.channel._bus_mobile_readable_ids``, the rule of stock
          sockets' poll too);
        - the presence of a partner the user may no longer watch
          (``res.partner._bus_mobile_watchable_ids``), e.g. a portal user
          who left the only channel shared with that partner.
        """
        if CHANNEL_MODEL not in env:
            return deliveries
        kinds, checked = _rechecked(deliveries)
        if not checked:
            return deliveries
        wanted = {}  # (uid, kind) -> {ids}
        for subscriber, rows in deliveries.items():
            if id(rows) not in checked:
                continue
            for _notif_id, channel, _message in rows:
                kind = kinds[channel]
                if kind is not None:
                    wanted.setdefault((subscriber.uid, kind[0]), set()).add(kind[1])
        users = env["res.users"]
        readable = {}
        for (uid, kind), ids in wanted.items():
            user = users.browse(uid)
            if kind == "channel":
                allowed = env[CHANNEL_MODEL]._bus_mobile_readable_ids(user, ids)
            else:
                allowed = env["res.partner"]._bus_mobile_watchable_ids(user, ids)
            readable[uid, kind] = allowed
        filtered = {}
        for subscriber, rows in deliveries.items():
            if id(rows) not in checked:
                filtered[subscriber] = rows
                continue
            uid = subscriber.uid
            kept = tuple(
                row
                for row in rows
                if kinds[row[1]] is None
                or kinds[row[1]][1] in readable.get((uid, kinds[row[1]][0]), ())
            )
            if kept:
                filtered[subscriber] = kept
        return filtered

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------

    def _write(self, deliveries):
        """Encode each row once and each distinct frame once, then hand the
        frame to each socket (which never blocks the dispatcher). A socket
        that fails is closed; the others are served all the same.

        :return: ``(frames handed, their bytes, ids of the rows written)``
        """
        parts = {}
        frames = {}
        sent_bytes = 0
        for subscriber, rows in deliveries.items():
            frame = frames.get(rows)
            if frame is None:
                for notif_id, _channel, message in rows:
                    if notif_id not in parts:
                        parts[notif_id] = f'{{"id":{notif_id},"message":{message}}}'
                payload = "[" + ",".join(parts[row[0]] for row in rows) + "]"
                frame = frames[rows] = text_frame(payload.encode())
            try:
                subscriber.websocket.deliver(frame)
                sent_bytes += len(frame)
            except Exception:
                _logger.exception(
                    "Mobile socket %s failed to take a frame", id(subscriber.websocket)
                )
                with suppress(Exception):
                    subscriber.websocket.request_close(CloseCode.SERVER_ERROR)
        return len(deliveries), sent_bytes, parts.keys()


def _rechecked(deliveries):
    """``(kinds, checked)``: each channel of the batch classified (see
    ``_classify``), and the ``id()`` of the rows tuples holding a row to
    recheck. Sockets share their rows tuples: each distinct one is read
    once, so a broadcast to thousands of sockets costs one pass."""
    kinds = {}
    checked = set()
    for rows in {id(rows): rows for rows in deliveries.values()}.values():
        for _notif_id, channel, _message in rows:
            kind = kinds.get(channel, False)
            if kind is False:
                kind = kinds[channel] = _classify(channel)
            if kind is not None:
                checked.add(id(rows))
    return kinds, checked


def _classify(channel):
    """``("channel", id)`` for a mobile channel's row, ``("presence", id)``
    for a partner's presence row, else None (not rechecked)."""
    channel_id = mobile_channel_id_of_value(channel)
    if channel_id is not None:
        return ("channel", channel_id)
    partner_id = presence_partner_id_of_value(channel)
    if partner_id is not None:
        return ("presence", partner_id)
    return None


_start_lock = threading.Lock()


def start_once(thread):
    """Start ``thread`` unless it runs already.

    Ours and stock's :data:`~odoo.addons.bus.models.bus.dispatch` start
    lazily, from the first subscription. Two sockets subscribing at once
    (after a restart every app reconnects) would both see it not alive and
    both start it; the second start dies with a ``KeyError`` traceback from
    ``threading``. One start at a time.
    """
    if thread.is_alive():  # every subscription but the first: no lock
        return
    with _start_lock, suppress(RuntimeError):  # started once, then stopped
        if not thread.is_alive():
            thread.start()


mobile_dispatch = MobileDispatcher()
CommonServer.on_stop(mobile_dispatch.stop)
