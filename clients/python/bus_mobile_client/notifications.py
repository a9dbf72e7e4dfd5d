"""Typed bus notifications, as the mobile socket and ``/bus_mobile/sync``
deliver them. Unknown types stay readable as plain :class:`Notification`."""

from dataclasses import dataclass, field

MESSAGE = "bus_mobile/message"
TYPING = "bus_mobile/typing"
READ = "bus_mobile/read"
CHANNEL = "bus_mobile/channel"
PRESENCE = "bus_mobile/presence"
IM_STATUS = "bus.bus/im_status_updated"

SOCKET = "socket"  # received on the WebSocket
SYNC = "sync"  # fetched by the catch-up after a reconnect (no bus id)


@dataclass(frozen=True)
class Notification:
    """One bus notification: ``id`` is the bus id (``None`` for a message
    fetched by ``sync``), ``type`` and ``payload`` as the server sent them."""

    id: int | None
    type: str
    payload: dict = field(default_factory=dict)
    source: str = SOCKET


class MessageNotification(Notification):
    """A new message; ``payload`` is the message dict."""

    @property
    def message_id(self):
        return self.payload["id"]

    @property
    def channel_id(self):
        return self.payload["channel_id"]

    @property
    def author_id(self):
        return self.payload["author_id"]

    @property
    def body(self):
        return self.payload["body"]

    @property
    def client_uuid(self):
        return self.payload.get("client_uuid")


class TypingNotification(Notification):
    @property
    def channel_id(self):
        return self.payload["channel_id"]

    @property
    def partner_id(self):
        return self.payload["partner_id"]

    @property
    def is_typing(self):
        return self.payload["is_typing"]


class ReadNotification(Notification):
    """A read receipt: ``partner_id`` read ``channel_id`` up to ``message_id``."""

    @property
    def channel_id(self):
        return self.payload["channel_id"]

    @property
    def partner_id(self):
        return self.payload["partner_id"]

    @property
    def message_id(self):
        return self.payload["message_id"]


class ChannelNotification(Notification):
    """A channel was created or changed (``event``)."""

    @property
    def event(self):
        return self.payload.get("event")

    @property
    def channel(self):
        """The channel dict, whether sent under ``channel`` or inline."""
        if isinstance(self.payload.get("channel"), dict):
            return self.payload["channel"]
        return {key: value for key, value in self.payload.items() if key != "event"}


class PresenceNotification(Notification):
    @property
    def partner_id(self):
        return self.payload["partner_id"]

    @property
    def im_status(self):
        return self.payload["im_status"]

    @property
    def last_seen(self):
        return self.payload.get("last_seen")


_CLASSES = {
    MESSAGE: MessageNotification,
    TYPING: TypingNotification,
    READ: ReadNotification,
    CHANNEL: ChannelNotification,
    PRESENCE: PresenceNotification,
}


def parse_notification(raw, source=SOCKET):
    """A typed notification from one element of a bus frame,
    ``{"id": 12, "message": {"type": ..., "payload": ...}}``."""
    message = raw.get("message") or {}
    kind = message.get("type", "")
    payload = message.get("payload")
    if not isinstance(payload, dict):
        payload = {"value": payload}
    return _CLASSES.get(kind, Notification)(raw.get("id"), kind, payload, source)


def message_notification(message):
    """A message fetched by ``sync``, shaped like its bus notification."""
    return MessageNotification(None, MESSAGE, message, SYNC)
