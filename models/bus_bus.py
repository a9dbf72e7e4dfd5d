import datetime
import json
import logging

from odoo import api, models

from odoo.addons.bus.models.bus import channel_with_db

from ..tools.channels import CHANNEL_MODEL, mobile_channel_id

_logger = logging.getLogger(__name__)

# How json_dump writes a mobile message notification (type first).
MESSAGE_PREFIX = '{"type":"bus_mobile/message","payload":'
# ... and mail's notification of a new Discuss message.
DISCUSS_MESSAGE_PREFIX = '{"type":"discuss.channel/new_message","payload":'


class BusBus(models.Model):
    _inherit = "bus.bus"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        # The bus id of each mobile message goes into its pushes: an app
        # drops a push it already got over its socket.
        bus_ids = {}
        for record, vals in zip(records, vals_list, strict=True):
            message_id = _mobile_message_id(vals.get("message"))
            if message_id:
                bus_ids[message_id] = record.id
        if bus_ids:
            self.env["bus_mobile.push"]._bus_mobile_set_bus_ids(bus_ids)
        self._bus_mobile_discuss_posted(records, vals_list)
        return records

    def _bus_mobile_discuss_posted(self, records, vals_list):
        """Journal and push the Discuss messages of mail's ``new_message``
        notifications among ``records``. Bus rows are written at the end of
        the posting transaction (a precommit hook): whoever posted, the
        journal row is written then, under its lock until the commit
        (catch-up), and the pushes are queued for after the commit."""
        posts = []  # (channel id, message id, bus id)
        for record, vals in zip(records, vals_list, strict=True):
            post = _discuss_post(vals.get("message"))
            if post:
                posts.append((*post, record.id))
        if posts:
            # A message deleted since its notification was queued (the same
            # transaction) is neither journaled nor pushed.
            # sudo: mail.message - existence only.
            Message = self.env["mail.message"].sudo()
            existing = set(Message.browse([post[1] for post in posts]).exists().ids)
            posts = [post for post in posts if post[1] in existing]
        if posts:
            # sudo: bus_mobile.discuss.journal - written for every poster.
            self.env["bus_mobile.discuss.journal"].sudo()._bus_mobile_record(
                [(channel_id, message_id) for channel_id, message_id, _bus_id in posts]
            )
            try:
                # A failure here must not fail the post (the web user's one
                # included): the push is lost, the message is not.
                with self.env.cr.savepoint():
                    # sudo: bus_mobile.discuss - recipients are mail's,
                    # whoever posted.
                    self.env["bus_mobile.discuss"].sudo()._bus_mobile_push(posts)
            except Exception:
                _logger.exception("Push: Discuss message(s) %s not queued", [p[1] for p in posts])

    @api.model
    def _create(self, data_list):
        # Stamped when written, in the precommit where stock creates bus
        # rows, not at the transaction's start: a row's age is then the time
        # since its commit (the delivery latency metric), whatever the
        # transaction did before.
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        for data in data_list:
            data["stored"]["create_date"] = now
        return super()._create(data_list)

    @api.model
    def _poll(self, channels, last=0, ignore_ids=None):
        return super()._poll(self._bus_mobile_filter_channels(channels), last, ignore_ids)

    @api.model
    def _bus_mobile_filter_channels(self, channels):
        """``channels`` without the mobile channels the env user may no
        longer follow (left, removed, or never allowed).

        A socket keeps the channels it subscribed to until it subscribes
        again; filtering at every poll stops a channel's notifications on
        open sockets as soon as the membership ends. It costs one query per
        poll, only for sockets subscribed to mobile channels.
        """
        dbname = self.env.cr.dbname
        # per channel: its mobile channel id, or None
        mobile_ids = [mobile_channel_id(channel_with_db(dbname, channel)) for channel in channels]
        requested = {channel_id for channel_id in mobile_ids if channel_id is not None}
        if not requested:
            return channels
        readable = self.env[CHANNEL_MODEL]._bus_mobile_readable_ids(self.env.user, requested)
        return [
            channel
            for channel, channel_id in zip(channels, mobile_ids, strict=True)
            if channel_id is None or channel_id in readable
        ]


def _mobile_message_id(value):
    """The message id of a ``bus_mobile/message`` notification's JSON, or None."""
    if not isinstance(value, str) or not value.startswith(MESSAGE_PREFIX):
        return None
    message_id = json.loads(value)["payload"].get("id")
    return message_id if isinstance(message_id, int) else None


def _discuss_post(value):
    """``(channel id, message id)`` of mail's ``discuss.channel/new_message``
    notification JSON, or None. Its ``Store`` data lists the new message
    first (the message replied to comes after it)."""
    if not isinstance(value, str) or not value.startswith(DISCUSS_MESSAGE_PREFIX):
        return None
    payload = json.loads(value)["payload"]
    messages = (payload.get("data") or {}).get("mail.message") or []
    channel_id = payload.get("id")
    if not messages or not isinstance(channel_id, int):
        return None
    message_id = messages[0].get("id")
    return (channel_id, message_id) if isinstance(message_id, int) else None
