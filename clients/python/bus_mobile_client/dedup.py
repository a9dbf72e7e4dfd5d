"""Exactly-once delivery on the client: pure bookkeeping, no I/O.

After a reconnect a message can reach the client twice: once replayed by the
bus (``subscribe`` with ``last``) and once more from ``/bus_mobile/sync``. Or
it can arrive on the socket while the sync page that also holds it is in
flight. Messages are de-duplicated by their id; the bus cursor (``last``)
and the sync cursor (``after_id``) only ever move forward.
"""


def advance(cursor, ids):
    """The cursor after seeing ``ids``: the largest of them, never lower."""
    return max([cursor, *(i for i in ids if i is not None)])


def unseen(seen_ids, messages):
    """The messages whose id is neither in ``seen_ids`` nor earlier in
    ``messages``, in their original order. Pure: ``seen_ids`` is not changed."""
    fresh, batch_ids = [], set()
    for message in messages:
        message_id = message["id"]
        if message_id in seen_ids or message_id in batch_ids:
            continue
        batch_ids.add(message_id)
        fresh.append(message)
    return fresh


class ResumeState:
    """What a client must remember across reconnects.

    - ``last_notification_id``: the highest bus notification id received,
      sent as ``last`` when subscribing again so the bus replays the rest;
    - ``last_message_id``: the highest message id received, the ``after_id``
      of the ``/bus_mobile/sync`` catch-up;
    - the ids of the messages already delivered, to drop duplicates.

    Persist the two cursors to resume after an app restart. ``max_seen``
    bounds memory: the lowest ids are forgotten first; they are far below
    both cursors, so neither the bus replay nor the sync can return them.
    """

    def __init__(self, last_notification_id=0, last_message_id=0, max_seen=10000):
        if max_seen < 1:
            raise ValueError("max_seen must be >= 1")
        self.last_notification_id = last_notification_id
        self.last_message_id = last_message_id
        self.max_seen = max_seen
        self._seen = set()

    def note_notifications(self, notification_ids):
        """Move the bus cursor past ``notification_ids``."""
        self.last_notification_id = advance(self.last_notification_id, notification_ids)

    def accept(self, messages):
        """Record ``messages`` and return those not delivered before."""
        fresh = unseen(self._seen, messages)
        self._seen.update(message["id"] for message in fresh)
        self.last_message_id = advance(self.last_message_id, [m["id"] for m in fresh])
        if len(self._seen) > self.max_seen:
            self._seen = set(sorted(self._seen)[-self.max_seen :])
        return fresh

    def seen(self, message_id):
        return message_id in self._seen
