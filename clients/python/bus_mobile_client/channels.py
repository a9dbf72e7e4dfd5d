"""The mobile channels' routes of the wire contract (the addon's
doc/protocol.md): the user's channels, their members, messages, read
receipts and typing. Discuss's conversations are :mod:`.discuss`'s.
"""

import uuid


class MobileChannelsMixin:
    """The mobile channels of :class:`.MobileBusClient` (through its
    :meth:`~.JsonRpcMixin.rpc`)."""

    def channels_list(self):
        return self.rpc("/bus_mobile/channels")

    def create_channel(self, name, channel_type="private", partner_ids=()):
        return self.rpc(
            "/bus_mobile/channel/create",
            name=name,
            channel_type=channel_type,
            partner_ids=list(partner_ids),
        )

    def join_channel(self, channel_id):
        return self.rpc("/bus_mobile/channel/join", channel_id=channel_id)

    def leave_channel(self, channel_id):
        return self.rpc("/bus_mobile/channel/leave", channel_id=channel_id)

    def add_members(self, channel_id, partner_ids):
        return self.rpc(
            "/bus_mobile/channel/add_members", channel_id=channel_id, partner_ids=list(partner_ids)
        )

    def post(self, channel_id, body, client_uuid=None):
        """Post a message; ``client_uuid`` makes a retry return the same message."""
        return self.rpc(
            "/bus_mobile/message/post",
            channel_id=channel_id,
            body=body,
            client_uuid=client_uuid or str(uuid.uuid4()),
        )

    def post_reliably(self, channel_id, body, client_uuid=None, give_up_after=120.0):
        """Post, retrying with the same ``client_uuid`` through network errors
        and server outages until it succeeds or ``give_up_after`` seconds pass.
        Returns ``(message, attempts)``."""
        client_uuid = client_uuid or str(uuid.uuid4())
        return self.retrying(lambda: self.post(channel_id, body, client_uuid), give_up_after)

    def messages(self, channel_id, before_id=None, after_id=None, limit=None):
        return self.rpc(
            "/bus_mobile/messages",
            channel_id=channel_id,
            before_id=before_id,
            after_id=after_id,
            limit=limit,
        )

    def sync(self, after_id, limit=None):
        return self.rpc("/bus_mobile/sync", after_id=after_id, limit=limit)

    def mark_read(self, channel_id, message_id):
        """Read receipt: ``message_id`` and all before it are read."""
        return self.rpc("/bus_mobile/message/read", channel_id=channel_id, message_id=message_id)

    def typing(self, channel_id, is_typing=True):
        return self.rpc("/bus_mobile/typing", channel_id=channel_id, is_typing=is_typing)
