"""Odoo Discuss through ``/bus_mobile/discuss/*`` (the addon's
doc/discuss.md), where the server has the ``mail`` module.

``client.discuss`` lists, reads and posts in the user's Discuss
conversations (channels, groups, direct chats). New messages come as
:class:`DiscussMessageNotification` from :meth:`.MobileBusClient.poll`,
in the route's message dict: mail's ``discuss.channel/new_message`` on the
socket only says that there is something new; the client then reads the
server's catch-up journal (``sync``) from its cursor, which gives each
message once, in commit order, already converted (so this package needs
no copy of the server's conversion of mail's data). The same ``sync``
brings back what was posted while the socket was down.

Where the server has no ``mail``, every route answers an
:class:`.RpcError` (``UserError``) naming the module, and the client asks
nothing by itself.
"""

import uuid

from .notifications import SOCKET, SYNC, Notification

PREFIX = "/bus_mobile/discuss/"
# Types of the notifications this module reads (mail's) and makes.
NEW_MESSAGE = "discuss.channel/new_message"
RECORD_INSERT = "mail.record/insert"
JOINED = "discuss.channel/joined"
LEFT = ("discuss.channel/leave", "discuss.channel/delete")
DISCUSS_MESSAGE = "bus_mobile/discuss_message"
DISCUSS_TYPING = "bus_mobile/discuss_typing"
# Message ids remembered to drop one that comes twice.
MAX_SEEN = 10000


class DiscussMessageNotification(Notification):
    """A new Discuss message; ``payload`` is the message dict of
    doc/discuss.md (``thread``, ``author_id``, ``body`` as plain text,
    ``body_html``, ``attachments``, ``parent``, ``mentions``, ...)."""

    @property
    def message_id(self):
        return self.payload["id"]

    @property
    def channel_id(self):
        return self.payload["thread"]["id"]

    @property
    def author_id(self):
        return self.payload.get("author_id")

    @property
    def body(self):
        return self.payload["body"]


class DiscussTypingNotification(Notification):
    """``partner_id`` is (not) typing in the Discuss conversation ``channel_id``."""

    @property
    def channel_id(self):
        return self.payload["thread"]["id"]

    @property
    def partner_id(self):
        return self.payload["partner_id"]

    @property
    def is_typing(self):
        return self.payload["is_typing"]


def thread(channel_id):
    return {"model": "discuss.channel", "id": channel_id}


def typing_notifications(notification):
    """The typing marks of a ``mail.record/insert`` notification (mail's
    ``discuss.channel.member`` entries with ``isTyping``)."""
    members = notification.payload.get("discuss.channel.member")
    result = []
    for member in members if isinstance(members, list) else []:
        if not isinstance(member, dict) or not isinstance(member.get("isTyping"), bool):
            continue
        persona, where = member.get("persona") or {}, member.get("thread") or {}
        if persona.get("type") != "partner" or where.get("model") != "discuss.channel":
            continue
        payload = {
            "thread": thread(where.get("id")),
            "partner_id": persona.get("id"),
            "is_typing": member["isTyping"],
        }
        result.append(DiscussTypingNotification(notification.id, DISCUSS_TYPING, payload))
    return result


class Discuss:
    """The Discuss routes of one :class:`.MobileBusClient`, and its
    Discuss catch-up (``cursor``: the server's journal position)."""

    def __init__(self, client):
        self.client = client
        self.cursor = None
        # Delivered message ids, oldest first (a dict as an ordered set).
        self._seen = {}

    @property
    def available(self):
        """Whether the server has Discuss, as its ``/bus_mobile/config`` said
        (False before the config is read)."""
        config = self.client.server_config or {}
        return bool((config.get("discuss") or {}).get("available"))

    def rpc(self, route, **params):
        return self.client.rpc(PREFIX + route, **params)

    # -- conversations --------------------------------------------------

    def channels(self):
        """My conversations as the web client lists them, each with its
        ``unread_count`` and ``last_message``."""
        answer = self.rpc("channels")
        if self.cursor is None:
            self.cursor = answer["sync_cursor"]
        return answer["channels"]

    def channel(self, channel_id):
        return self.rpc("channel", channel_id=channel_id)

    def chat(self, partner_id):
        """The direct chat with ``partner_id``, made if needed; followed at once."""
        return self._followed(self.rpc("chat", partner_id=partner_id))

    def join(self, channel_id):
        return self._followed(self.rpc("channel/join", channel_id=channel_id))

    def partners(self, search, limit=None):
        """People to chat with, by name: ``[{partner_id, name, im_status}]``."""
        return self.rpc("partners", search=search, limit=limit)

    def _followed(self, channel):
        # The socket learns new conversations at subscribe.
        if self.client.connected:
            self.client.subscribe()
        return channel

    # -- messages -------------------------------------------------------

    def messages(self, channel_id, before=None, after=None, limit=None, search=None):
        """A page of history, ascending ids."""
        answer = self.rpc(
            "messages",
            channel_id=channel_id,
            before=before,
            after=after,
            limit=limit,
            search_term=search,
        )
        return answer["messages"]

    def post(self, channel_id, body, client_uuid=None, partner_ids=(), parent_id=None):
        """Post plain text (the server makes mail's HTML of it, with a
        mention link for ``@Name`` of each of ``partner_ids``); a retry with
        the same ``client_uuid`` returns the first message."""
        return self.rpc(
            "message/post",
            channel_id=channel_id,
            body=body,
            client_uuid=client_uuid or str(uuid.uuid4()),
            partner_ids=list(partner_ids) or None,
            parent_id=parent_id,
        )

    def post_reliably(self, channel_id, body, client_uuid=None, give_up_after=120.0, **kw):
        """:meth:`post`, retried with the same ``client_uuid`` through
        network errors and outages; returns ``(message, attempts)``."""
        client_uuid = client_uuid or str(uuid.uuid4())
        return self.client.retrying(
            lambda: self.post(channel_id, body, client_uuid, **kw), give_up_after
        )

    def mark_read(self, channel_id, message_id):
        return self.rpc("mark_read", channel_id=channel_id, message_id=message_id)

    def typing(self, channel_id, is_typing=True):
        return self.rpc("typing", channel_id=channel_id, is_typing=is_typing)

    def sync(self, cursor, limit=None):
        return self.rpc("sync", cursor=cursor, limit=limit)

    # -- what the socket brings -----------------------------------------

    def accept_frame(self, notifications):
        """Read a frame's Discuss notifications: ``(new notifications,
        whether to subscribe again)``. A new message makes the client read
        the journal (:meth:`catch_up`)."""
        if self.cursor is None:
            return [], False
        made, resubscribe, news = [], False, False
        for notification in notifications:
            if notification.type == NEW_MESSAGE:
                news = True
            elif notification.type == RECORD_INSERT:
                made += typing_notifications(notification)
            elif notification.type == JOINED or notification.type in LEFT:
                resubscribe = news = True
        if news:
            made += self.catch_up(SOCKET)
        return made, resubscribe

    def start(self):
        """The cursor to follow from: now (the first connection)."""
        if self.cursor is None and self.available:
            self.channels()

    def catch_up(self, source=SYNC):
        """The messages journaled after the cursor, each once, in commit order."""
        if self.cursor is None:
            return []
        made = []
        while True:
            page = self.sync(self.cursor)
            self.cursor = page["cursor"]
            for message in page["messages"]:
                if message["id"] in self._seen:
                    self.client.stats["duplicates"] += 1
                    continue
                self._seen[message["id"]] = None
                made.append(DiscussMessageNotification(None, DISCUSS_MESSAGE, message, source))
            if not page["has_more"]:
                break
        if len(self._seen) > MAX_SEEN:
            # Dicts keep insertion order: forget the oldest half.
            for message_id in list(self._seen)[: MAX_SEEN // 2]:
                del self._seen[message_id]
        return made
