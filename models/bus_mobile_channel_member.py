from collections import defaultdict

from odoo import api, fields, models


class BusMobileChannelMember(models.Model):
    _name = "bus_mobile.channel.member"
    _description = "Mobile Channel Member"
    _rec_name = "partner_id"
    _order = "channel_id, id"

    channel_id = fields.Many2one(
        "bus_mobile.channel", string="Channel", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(
        "res.partner", string="Partner", required=True, ondelete="cascade", index=True
    )
    last_read_message_id = fields.Many2one(
        "bus_mobile.message", string="Last Read Message", ondelete="set null"
    )
    muted = fields.Boolean()

    # The unique index also serves "members of a channel" (channel_id first).
    _sql_constraints = [
        (
            "channel_partner_unique",
            "UNIQUE(channel_id, partner_id)",
            "A partner can be a member of a channel only once.",
        ),
    ]

    @api.constrains("channel_id", "partner_id")
    def _check_direct_channel(self):
        self.channel_id._check_direct_members()

    @api.model_create_multi
    def create(self, vals_list):
        members = super().create(vals_list)
        # A new channel announces itself with its members ("created").
        if not self.env.context.get("bus_mobile_new_channel"):
            members._bus_mobile_notify("member_added")
        return members

    def write(self, vals):
        # A member moved to another channel leaves its old one.
        old_channels = self.channel_id if "channel_id" in vals else self.channel_id.browse()
        result = super().write(vals)
        old_channels._check_direct_members()
        return result

    def unlink(self):
        channels = self.channel_id
        self._bus_mobile_notify("member_removed")
        result = super().unlink()
        # A direct channel keeps its two members (deleting it is fine).
        channels.exists()._check_direct_members()
        return result

    def _bus_mobile_notify(self, event):
        """Tell the channel's subscribers and each added/removed partner.

        The partner channel is needed: an added member is not subscribed to
        the channel yet, a removed one no longer receives it.
        """
        partners_by_channel = defaultdict(lambda: self.env["res.partner"])
        for member in self:
            partners_by_channel[member.channel_id] |= member.partner_id
        for channel, partners in partners_by_channel.items():
            channel._bus_mobile_send_channel_event(event, partners, to_channel=True)
