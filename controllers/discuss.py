from odoo.http import Controller, request, route

from ..models.bus_mobile_discuss import MAX_INVITED, MAX_POST_ATTACHMENTS
from ..tools.validation import (
    check_bool,
    check_id,
    check_id_list,
    check_optional_id,
    check_optional_int,
)

PREFIX = "/bus_mobile/discuss/"
JSON_ROUTE = {"type": "json", "auth": "bus_mobile", "methods": ["POST"], "cors": "*"}


def _discuss():
    """``bus_mobile.discuss``, once Discuss is known to be available."""
    discuss = request.env["bus_mobile.discuss"]
    discuss._bus_mobile_check_available()
    return discuss


def _id(value, name):
    return check_id(request.env, value, name)


def _optional_id(value, name):
    return check_optional_id(request.env, value, name)


def _ids(value, name, max_items=None):
    value = [] if value is None else value
    if max_items is None:
        return check_id_list(request.env, value, name)
    return check_id_list(request.env, value, name, max_items=max_items)


class BusMobileDiscussController(Controller):
    """Discuss for apps (doc/discuss.md). Thin: check the types of the
    parameters, delegate to ``bus_mobile.discuss``, which calls mail."""

    # ------------------------------------------------------------------
    # Conversations
    # ------------------------------------------------------------------

    # Not readonly: the first call creates the user's Discuss settings.
    @route(PREFIX + "channels", **JSON_ROUTE)
    def channels(self):
        return _discuss()._bus_mobile_channels()

    @route(PREFIX + "channel", **JSON_ROUTE, readonly=True)
    def channel(self, channel_id=None):
        discuss = _discuss()
        channel, _member = discuss._bus_mobile_channel(_id(channel_id, "channel_id"))
        return discuss._bus_mobile_channel_dict(channel)

    @route(PREFIX + "chat", **JSON_ROUTE)
    def chat(self, partner_id=None):
        return _discuss()._bus_mobile_chat(_id(partner_id, "partner_id"))

    @route(PREFIX + "group/create", **JSON_ROUTE)
    def group_create(self, partner_ids=None, name=None):
        discuss = _discuss()
        return discuss._bus_mobile_group_create(_ids(partner_ids, "partner_ids", MAX_INVITED), name)

    @route(PREFIX + "channel/add_members", **JSON_ROUTE)
    def channel_add_members(self, channel_id=None, partner_ids=None):
        discuss = _discuss()
        return discuss._bus_mobile_add_members(
            _id(channel_id, "channel_id"), _ids(partner_ids, "partner_ids", MAX_INVITED)
        )

    @route(PREFIX + "channel/join", **JSON_ROUTE)
    def channel_join(self, channel_id=None):
        return _discuss()._bus_mobile_join(_id(channel_id, "channel_id"))

    @route(PREFIX + "channel/leave", **JSON_ROUTE)
    def channel_leave(self, channel_id=None):
        return _discuss()._bus_mobile_leave(_id(channel_id, "channel_id"))

    @route(PREFIX + "partners", **JSON_ROUTE, readonly=True)
    def partners(self, search=None, limit=None):
        return _discuss()._bus_mobile_partners(
            search, check_optional_int(request.env, limit, "limit")
        )

    @route(PREFIX + "mute", **JSON_ROUTE)
    def mute(self, channel_id=None, minutes=None):
        return _discuss()._bus_mobile_mute(_id(channel_id, "channel_id"), minutes)

    @route(PREFIX + "notifications", **JSON_ROUTE)
    def notifications(self, channel_id=None, setting=None):
        return _discuss()._bus_mobile_set_notifications(_id(channel_id, "channel_id"), setting)

    # ------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------

    @route(PREFIX + "messages", **JSON_ROUTE)
    def messages(
        self, channel_id=None, before=None, after=None, around=None, limit=None, search_term=None
    ):
        return _discuss()._bus_mobile_messages(
            _id(channel_id, "channel_id"),
            before=_optional_id(before, "before"),
            after=_optional_id(after, "after"),
            around=_optional_id(around, "around"),
            limit=check_optional_int(request.env, limit, "limit"),
            search_term=search_term,
        )

    @route(PREFIX + "sync", **JSON_ROUTE, readonly=True)
    def sync(self, cursor=0, limit=None):
        return _discuss()._bus_mobile_sync(
            _id(cursor, "cursor"), check_optional_int(request.env, limit, "limit")
        )

    @route(PREFIX + "message/post", **JSON_ROUTE)
    def message_post(
        self,
        channel_id=None,
        body=None,
        client_uuid=None,
        partner_ids=None,
        attachment_ids=None,
        parent_id=None,
    ):
        return _discuss()._bus_mobile_post(
            _id(channel_id, "channel_id"),
            body,
            client_uuid,
            partner_ids=_ids(partner_ids, "partner_ids"),
            attachment_ids=_ids(attachment_ids, "attachment_ids", MAX_POST_ATTACHMENTS),
            parent_id=_optional_id(parent_id, "parent_id"),
        )

    @route(PREFIX + "message/edit", **JSON_ROUTE)
    def message_edit(self, message_id=None, body=None, partner_ids=None):
        return _discuss()._bus_mobile_edit(
            _id(message_id, "message_id"), body, _ids(partner_ids, "partner_ids")
        )

    @route(PREFIX + "message/delete", **JSON_ROUTE)
    def message_delete(self, message_id=None):
        return _discuss()._bus_mobile_delete(_id(message_id, "message_id"))

    @route(PREFIX + "message/react", **JSON_ROUTE)
    def message_react(self, message_id=None, content=None, action=None):
        return _discuss()._bus_mobile_react(_id(message_id, "message_id"), content, action)

    @route(PREFIX + "mark_read", **JSON_ROUTE)
    def mark_read(self, channel_id=None, message_id=None):
        return _discuss()._bus_mobile_mark_read(
            _id(channel_id, "channel_id"), _id(message_id, "message_id")
        )

    @route(PREFIX + "typing", **JSON_ROUTE)
    def typing(self, channel_id=None, is_typing=None):
        _discuss()._bus_mobile_typing(
            _id(channel_id, "channel_id"), check_bool(request.env, is_typing, "is_typing")
        )
