"""Stock's bus dispatch, safe for sockets served by many threads.

Stock :class:`~odoo.addons.bus.models.bus.ImDispatch` maps channels to
sockets in a plain dict that every socket's thread changes, on subscribe and
on close, without a lock. Two sockets sharing a channel (one user's phone
and browser, every socket's "broadcast") race: one removes the last socket
of a channel and drops the channel while the other just added itself to it.
The second socket is then no longer woken for that channel, and its close
fails with ``KeyError`` in ``dispatch.unsubscribe``: a traceback, and the
rest of stock's close (the device's and the user's presence) never runs.

:func:`guard_channel_map` makes ``subscribe`` and ``unsubscribe`` run one
at a time, for every socket of the process (stock's included: they share
the map). Both are short: they change the map and tell the socket its
channels.
"""

import functools
import threading

from odoo.addons.bus.models.bus import ImDispatch

_channel_map_lock = threading.RLock()


def _one_at_a_time(method):
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with _channel_map_lock:
            return method(self, *args, **kwargs)

    locked.bus_mobile_locked = True
    return locked


def guard_channel_map():
    """Lock stock's channel map changes (once, however often imported)."""
    for name in ("subscribe", "unsubscribe"):
        method = getattr(ImDispatch, name)
        if not getattr(method, "bus_mobile_locked", False):
            setattr(ImDispatch, name, _one_at_a_time(method))
