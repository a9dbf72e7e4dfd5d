"""Limits kept in memory: token buckets (a burst, then one more every
``refill_s``), deadlines, and slots (at most so many held at once)."""

import collections
import threading
import time

# Buckets kept at most; beyond, the full ones (untouched for a whole
# refill) are forgotten, which changes nothing for them.
MAX_KEYS = 100_000


class TokenBuckets:
    """One bucket per key, shared by the threads (greenlets) of a process."""

    def __init__(self, max_keys=MAX_KEYS):
        self._buckets = {}  # key -> (tokens, monotonic time)
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def take(self, key, burst, refill_s, now=None):
        """Take a token from ``key``'s bucket: ``0.0`` when there was one,
        else the seconds until there is one (nothing taken)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + max(now - at, 0.0) / refill_s)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > self._max_keys:
                    self._forget_full(now, burst * refill_s)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) * refill_s

    def _forget_full(self, now, full_after_s):
        self._buckets = {
            key: bucket for key, bucket in self._buckets.items() if now - bucket[1] < full_after_s
        }
        if len(self._buckets) > self._max_keys:
            # Every key active at once: fail open rather than grow.
            self._buckets.clear()

    def __len__(self):
        return len(self._buckets)


class Deadlines:
    """Keys held until a monotonic deadline, in memory, shared by the
    threads (greenlets) of a process."""

    def __init__(self, max_keys=MAX_KEYS):
        self._deadlines = {}  # key -> monotonic time
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hold(self, key, seconds, now=None):
        now = time.monotonic() if now is None else now
        with self._lock:
            self._deadlines[key] = now + seconds
            if len(self._deadlines) > self._max_keys:
                self._deadlines = {k: at for k, at in self._deadlines.items() if at > now}
                if len(self._deadlines) > self._max_keys:
                    self._deadlines.clear()  # every key held at once: fail open

    def remaining(self, key, now=None):
        """Seconds until ``key``'s deadline; 0.0 when it is not held."""
        now = time.monotonic() if now is None else now
        with self._lock:
            at = self._deadlines.get(key)
            if at is None:
                return 0.0
            if at <= now:
                del self._deadlines[key]
                return 0.0
            return at - now

    def __len__(self):
        return len(self._deadlines)


class Slots:
    """At most ``limit`` slots held per key at once, in memory, shared by the
    threads (greenlets) of a process. A key is kept only while it holds a
    slot: memory is bounded by what is held."""

    def __init__(self):
        self._held = collections.Counter()
        self._lock = threading.Lock()

    def take(self, key, limit):
        """Take a slot of ``key``: False, taking nothing, when it holds
        ``limit`` already."""
        with self._lock:
            if self._held[key] >= limit:
                return False
            self._held[key] += 1
            return True

    def give_back(self, key):
        with self._lock:
            self._held[key] -= 1
            if self._held[key] <= 0:
                del self._held[key]

    def held(self, key):
        with self._lock:
            return self._held.get(key, 0)

    def __len__(self):
        return len(self._held)
