"""When a silent connection counts as lost: pure functions, no I/O.

A phone that loses its network, or a proxy that drops a connection without
closing it, sends no FIN: the socket looks open and nothing ever arrives
on it again. The server notices such a client with its keepalive: on a
device socket it pings after 30 % of ``offline_after_s`` without a frame
from the client, and drops the socket when the pong is 20 % late. The
client applies the same bounds to the server: when it has heard nothing
(no frame, no ping, no pong) for ``ping_after_s`` it pings, and when still
nothing came ``pong_timeout_s`` after that ping, the connection is lost and
the client reconnects. With the default ``offline_after_s`` of 65 s a
silent drop is noticed within about 33 s, however quiet the channels.
"""

from dataclasses import dataclass

# The server's keepalive, as fractions of ``offline_after_s`` (see
# ``mobile_socket/connection.py``) and its default.
PING_AFTER = 0.3
PONG_TIMEOUT = 0.2
DEFAULT_OFFLINE_AFTER_S = 65.0


@dataclass(frozen=True)
class Liveness:
    """``ping_after_s`` of silence, then a ping; lost ``pong_timeout_s``
    after the ping if nothing came."""

    ping_after_s: float
    pong_timeout_s: float

    def __post_init__(self):
        if self.ping_after_s <= 0 or self.pong_timeout_s <= 0:
            raise ValueError("liveness delays must be positive")

    @classmethod
    def from_config(cls, config=None):
        """The bounds of the server whose ``/bus_mobile/config`` is ``config``
        (the defaults without one, or with a nonsensical value)."""
        presence = (config or {}).get("presence") or {}
        offline_after_s = presence.get("offline_after_s")
        if (
            isinstance(offline_after_s, bool)
            or not isinstance(offline_after_s, int | float)
            or not offline_after_s > 0
        ):
            offline_after_s = DEFAULT_OFFLINE_AFTER_S
        return cls(offline_after_s * PING_AFTER, offline_after_s * PONG_TIMEOUT)

    def ping_due(self, heard_at, ping_sent_at, now):
        """A ping should go out: silence for ``ping_after_s``, none pending."""
        return ping_sent_at is None and now - heard_at >= self.ping_after_s

    def is_lost(self, heard_at, ping_sent_at, now):
        """Nothing came within ``pong_timeout_s`` of the pending ping."""
        return (
            ping_sent_at is not None
            and heard_at <= ping_sent_at
            and now - ping_sent_at >= self.pong_timeout_s
        )

    def next_check(self, heard_at, ping_sent_at):
        """When :meth:`ping_due` or :meth:`is_lost` may next become true."""
        if ping_sent_at is None or heard_at > ping_sent_at:
            return heard_at + self.ping_after_s
        return ping_sent_at + self.pong_timeout_s
