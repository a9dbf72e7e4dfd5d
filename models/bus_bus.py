import datetime
import json

from odoo import api, models

from odoo.addons.bus.models.bus import channel_with_db

from ..tools.channels import CHANNEL_MODEL, mobile_channel_id

# How json_dump writes a mobile message notification (type first).
MESSAGE_PREFIX = '{"type":"bus_mobile/message","payload":'


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
        return records

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
