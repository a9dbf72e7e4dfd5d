from odoo.exceptions import MissingError, ValidationError
from odoo.http import Controller, request, route

MAX_ID = 2**31 - 1  # PostgreSQL ``integer``


def _check_int(value, name):
    """``value`` if it is an int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            request.env._("%(name)s must be an integer, not %(value)r.", name=name, value=value)
        )
    return value


def _check_id(value, name):
    """``value`` as a record id: an int in PostgreSQL's ``integer`` range."""
    if not 0 <= _check_int(value, name) <= MAX_ID:
        raise ValidationError(
            request.env._(
                "%(name)s must be between 0 and %(max)s, not %(value)s.",
                name=name,
                max=MAX_ID,
                value=value,
            )
        )
    return value


def _check_optional_id(value, name):
    return None if value is None else _check_id(value, name)


def _check_id_list(value, name):
    if not isinstance(value, list):
        raise ValidationError(
            request.env._(
                "%(name)s must be a list of integers, not %(value)r.", name=name, value=value
            )
        )
    return [_check_id(item, name) for item in value]


def _check_bool(value, name):
    if not isinstance(value, bool):
        raise ValidationError(
            request.env._("%(name)s must be true or false, not %(value)r.", name=name, value=value)
        )
    return value


def _check_optional_limit(value):
    """The range (1..page_max) is checked by ``bus_mobile.channel``."""
    return None if value is None else _check_int(value, "limit")


class BusMobileChannelController(Controller):
    """Mobile channels and messages. Thin: find the channel, check the
    types of the parameters, delegate to ``bus_mobile.channel``."""

    def _channel(self, channel_id):
        """The channel ``channel_id`` if the user may read it: ValidationError
        for a wrong type, MissingError if it does not exist, AccessError if
        it is not theirs."""
        channel_id = _check_id(channel_id, "channel_id")
        channel = request.env["bus_mobile.channel"].browse(channel_id)
        if not channel_id or not channel.exists():
            raise MissingError(request.env._("The channel %s does not exist.", channel_id))
        channel.check_access("read")
        return channel

    @route("/bus_mobile/channels", type="json", auth="user", methods=["POST"], cors="*")
    def channels(self):
        channels = request.env["bus_mobile.channel"]._bus_mobile_member_channels()
        return channels._bus_mobile_channel_dicts()

    @route("/bus_mobile/channel/create", type="json", auth="user", methods=["POST"], cors="*")
    def channel_create(self, channel_type=None, name=None, partner_ids=None):
        partner_ids = _check_id_list([] if partner_ids is None else partner_ids, "partner_ids")
        channel = request.env["bus_mobile.channel"]._bus_mobile_create(
            name, channel_type, partner_ids
        )
        return channel._bus_mobile_channel_dicts()[0]

    @route("/bus_mobile/channel/join", type="json", auth="user", methods=["POST"], cors="*")
    def channel_join(self, channel_id=None):
        return self._channel(channel_id)._bus_mobile_join()._bus_mobile_channel_dicts()[0]

    @route("/bus_mobile/channel/leave", type="json", auth="user", methods=["POST"], cors="*")
    def channel_leave(self, channel_id=None):
        return self._channel(channel_id)._bus_mobile_leave()

    @route("/bus_mobile/channel/add_members", type="json", auth="user", methods=["POST"], cors="*")
    def channel_add_members(self, channel_id=None, partner_ids=None):
        channel = self._channel(channel_id)
        partner_ids = _check_id_list(partner_ids, "partner_ids")
        return channel._bus_mobile_add_members(partner_ids)._bus_mobile_channel_dicts()[0]

    @route("/bus_mobile/message/post", type="json", auth="user", methods=["POST"], cors="*")
    def message_post(self, channel_id=None, body=None, client_uuid=None):
        message = self._channel(channel_id)._bus_mobile_post(body, client_uuid)
        return message._bus_mobile_message_dict()

    @route("/bus_mobile/messages", type="json", auth="user", methods=["POST"], cors="*")
    def messages(self, channel_id=None, before_id=None, after_id=None, limit=None):
        channel = self._channel(channel_id)
        return channel._bus_mobile_messages(
            before_id=_check_optional_id(before_id, "before_id"),
            after_id=_check_optional_id(after_id, "after_id"),
            limit=_check_optional_limit(limit),
        )

    @route("/bus_mobile/sync", type="json", auth="user", methods=["POST"], cors="*")
    def sync(self, after_id=0, limit=None):
        return request.env["bus_mobile.channel"]._bus_mobile_sync(
            after_id=_check_id(after_id, "after_id"), limit=_check_optional_limit(limit)
        )

    @route("/bus_mobile/message/read", type="json", auth="user", methods=["POST"], cors="*")
    def message_read(self, channel_id=None, message_id=None):
        channel = self._channel(channel_id)
        channel._bus_mobile_mark_read(_check_id(message_id, "message_id"))

    @route("/bus_mobile/typing", type="json", auth="user", methods=["POST"], cors="*")
    def typing(self, channel_id=None, is_typing=None):
        channel = self._channel(channel_id)
        channel._bus_mobile_typing(_check_bool(is_typing, "is_typing"))
