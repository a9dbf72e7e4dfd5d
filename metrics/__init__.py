"""Operations: what a node counts (:mod:`.store`), what a scrape and a
health probe answer (:mod:`.collect`, :mod:`.scrape`), and the snapshots the
live view adds up (:mod:`.publisher`, :mod:`.live`)."""

from . import store
from .store import (
    after_commit,
    batch_done,
    delivered,
    device_token,
    dispatcher_beat,
    handshake,
    push_answered,
    push_outcomes,
    push_receipts,
    socket_closed,
    socket_opened,
)

store.setup()
