from odoo.exceptions import MissingError
from odoo.http import Controller, request, route

from ..tools.validation import (
    check_bool,
    check_id,
    check_id_list,
    check_optional_id,
    check_optional_int,
)


class BusMobileChannelController(Controller):
    """Mobile channels and messages. Thin: find the channel, check the
    types of the parameters, delegate to ``bus_mobile.channel``."""

    def _channel(self, channel_id):
        """The channel ``channel_id`` if the user may read it: ValidationError
        for a wrong type, MissingError if it does not exist, AccessError if
        it is not theirs."""
        channel_id = check_id(request.env, channel_id, "channel_id")
        channel = request.env["bus_mobile.channel"].browse(channel_id)
        if not channel_id or not channel.exists():
            raise MissingError(request.env._("The channel %s does not exist.", channel_id))
        channel.check_access("read")
        return channel

    @route(
        "/bus_mobile/channels",
        type="json",
        auth="bus_mobile",
        methods=["POST"],
        cors="*",
        readonly=True,
    )
    def channels(self):
        channels = request.env["bus_mobile.channel"]._bus_mobile_member_channels()
        return channels._bus_mobile_channel_dicts()

    @route("/bus_mobile/channel/create", type="json", auth="bus_mobile", methods=["POST"], cors="*")
    def channel_create(self, channel_type=None, name=None, partner_ids=None):
        partner_ids = check_id_list(
            request.env, [] if partner_ids is None else partner_ids, "partner_ids"
        )
        channel = request.env["bus_mobile.channel"]._bus_mobile_create(
            name, channel_type, partner_ids
        )
        return channel._bus_mobile_channel_dicts()[0]

    @route("/bus_mobile/channel/join", type="json", auth="bus_mobile", methods=["POST"], cors="*")
    def channel_join(self, channel_id=None):
        return self._channel(channel_id)._bus_mobile_join()._bus_mobile_channel_dicts()[0]

    @route("/bus_mobile/channel/leave", type="json", auth="bus_mobile", methods=["POST"], cors="*")
    def channel_leave(self, channel_id=None):
        return self._channel(channel_id)._bus_mobile_leave()

    @route(
        "/bus_mobile/channel/add_members",
        type="json",
        auth="bus_mobile",
        methods=["POST"],
        cors="*",
    )
    def channel_add_members(self, channel_id=None, partner_ids=None):
        channel = self._channel(channel_id)
        partner_ids = check_id_list(request.env, partner_ids, "partner_ids")
        return channel._bus_mobile_add_members(partner_ids)._bus_mobile_channel_dicts()[0]

    @route("/bus_mobile/message/post", type="json", auth="bus_mobile", methods=["POST"], cors="*")
    def message_post(self, channel_id=None, body=None, client_uuid=None):
        message = self._channel(channel_id)._bus_mobile_post(body, client_uuid)
        return message._bus_mobile_message_dict()

    @route(
        "/bus_mobile/messages",
        type="json",
        auth="bus_mobile",
        methods=["POST"],
        cors="*",
        readonly=True,
    )
    def messages(self, channel_id=None, before_id=None, after_id=None, limit=None):
        channel = self._channel(channel_id)
        return channel._bus_mobile_messages(
            before_id=check_optional_id(request.env, before_id, "before_id"),
            after_id=check_optional_id(request.env, after_id, "after_id"),
            limit=check_optional_int(request.env, limit, "limit"),
        )

    @route(
        "/bus_mobile/sync",
        type="json",
        auth="bus_mobile",
        methods=["POST"],
        cors="*",
        readonly=True,
    )
    def sync(self, after_id=0, limit=None):
        return request.env["bus_mobile.channel"]._bus_mobile_sync(
            after_id=check_id(request.env, after_id, "after_id"),
            limit=check_optional_int(request.env, limit, "limit"),
        )

    @route("/bus_mobile/message/read", type="json", auth="bus_mobile", methods=["POST"], cors="*")
    def message_read(self, channel_id=None, message_id=None):
        channel = self._channel(channel_id)
        channel._bus_mobile_mark_read(check_id(request.env, message_id, "message_id"))

    @route("/bus_mobile/typing", type="json", auth="bus_mobile", methods=["POST"], cors="*")
    def typing(self, channel_id=None, is_typing=None):
        channel = self._channel(channel_id)
        channel._bus_mobile_typing(check_bool(request.env, is_typing, "is_typing"))
