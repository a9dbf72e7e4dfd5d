"""When to reconnect, and how long to wait first: pure functions.

A mobile client must reconnect on its own after a network drop or a server
restart, but it must not hammer a server that is down or overloaded, and it
must not fight a close that was meant. The rules follow Odoo's own browser
bus worker (``bus/static/src/workers/websocket_worker.js``): a clean close
(1000) is final, everything else is retried with an exponential backoff with
jitter; the session-expired close (4001) needs a new login first.
"""

import random
from dataclasses import dataclass

# Close codes the mobile client gives a meaning to (Odoo's ``CloseCode``).
CLEAN = 1000
GOING_AWAY = 1001
ABNORMAL_CLOSURE = 1006
TRY_LATER = 1013
SESSION_EXPIRED = 4001
KEEP_ALIVE_TIMEOUT = 4002

# What to do after the socket closed.
STOP = "stop"  # meant close: do not reconnect
RECONNECT = "reconnect"  # network drop, server restart, server error
REAUTH = "reauth"  # log in again, then reconnect
TRY_LATER_ACTION = "try_later"  # server overloaded or rate limit hit: back off longer

# Exponents beyond this give a delay far above any sensible cap; clamping
# keeps ``factor ** attempt`` from overflowing on a client left retrying.
_MAX_EXPONENT = 64


def close_action(code, reason=""):
    """What a client should do after a close with ``code`` and ``reason``.

    ``code`` is ``None`` when the connection dropped without a close frame
    (TCP reset, network lost, server killed), which is the same as 1006.
    """
    if code == CLEAN:
        return STOP
    if code == SESSION_EXPIRED:
        return REAUTH
    if code == TRY_LATER:
        return TRY_LATER_ACTION
    return RECONNECT


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter.

    The n-th consecutive retry (``attempt`` counting from 0) waits
    ``min(cap, initial * factor ** attempt)`` scaled by a random factor in
    ``[1 - jitter, 1]``, so that thousands of phones cut off by the same
    server restart do not all come back in the same second. A 1013 (try
    later) waits at least ``try_later_min``.
    """

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.5
    try_later_min: float = 5.0

    def __post_init__(self):
        if self.initial < 0 or self.cap < 0 or self.try_later_min < 0:
            raise ValueError("backoff delays must not be negative")
        if self.factor < 1:
            raise ValueError("backoff factor must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("backoff jitter must be between 0 and 1")

    def ceiling(self, attempt):
        """The delay of retry number ``attempt`` before jitter."""
        if attempt < 0:
            raise ValueError("attempt must be >= 0")
        return min(self.cap, self.initial * self.factor ** min(attempt, _MAX_EXPONENT))

    def delay(self, attempt, action=RECONNECT, rand=random.random):
        """Seconds to wait before retry number ``attempt`` after ``action``.

        ``rand`` returns a float in ``[0, 1)``; pass a fixed one to get a
        deterministic delay.
        """
        delay = self.ceiling(attempt) * (1 - self.jitter * rand())
        if action == TRY_LATER_ACTION:
            delay = max(delay, self.try_later_min)
        return delay
