"""A push as the server decides it, before any provider's format."""

import dataclasses

from .payload import cut_utf8

# A title longer than this is cut (the body gets the rest of the 4 KB).
MAX_TITLE_BYTES = 256


@dataclasses.dataclass
class PushMessage:
    token: str
    title: str
    body: str
    # Small values only (ids, a count): apps read them to open the screen.
    data: dict
    # Seconds the push is still worth delivering.
    ttl_s: int
    # Pushes with the same key replace each other on the phone.
    collapse_key: str
    # Privacy mode: no title, no body; the app wakes up and syncs.
    data_only: bool = False

    def __post_init__(self):
        self.title = cut_utf8(self.title or "", MAX_TITLE_BYTES)
        self.ttl_s = max(int(self.ttl_s), 0)


MESSAGE_TYPE = "bus_mobile/message"
DISCUSS_MESSAGE_TYPE = "bus_mobile/discuss_message"


def conversation_data(*, discuss, channel_id, message_id, bus_id, count):
    """The ``data`` and collapse key of a push about new messages in a
    conversation: a mobile channel, or a Discuss one (``discuss``). Apps
    read ``data`` to open the conversation, and drop the push when they
    already got ``bus_id`` on their socket."""
    if discuss:
        data = {
            "type": DISCUSS_MESSAGE_TYPE,
            "thread_model": "discuss.channel",
            "thread_id": channel_id,
        }
        collapse_key = f"bus_mobile.discuss.channel_{channel_id}"
    else:
        data = {"type": MESSAGE_TYPE, "channel_id": channel_id}
        collapse_key = f"bus_mobile.channel_{channel_id}"
    data.update(message_id=message_id, bus_id=bus_id or None, count=count)
    return data, collapse_key
