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
