from odoo import models


class BusPresence(models.Model):
    """Stock presence (Odoo's web client) is one input of a user's combined
    status: what watchers are sent is the combined status, and only when it
    changes (see ``res.partner._bus_mobile_sync_presence``)."""

    _inherit = "bus.presence"

    def _send_presence(self, im_status=None, bus_target=None):
        user_presences = self.filtered("user_id")
        others = self - user_presences
        if others:
            # Guests (mail) have no devices: stock behaviour.
            super(BusPresence, others)._send_presence(im_status=im_status, bus_target=bus_target)
        if not user_presences:
            return
        if bus_target:
            # Missed presences replayed to a new subscriber.
            data = user_presences.user_id.partner_id._bus_mobile_presence_data()
            for presence in user_presences:
                super(BusPresence, presence)._send_presence(
                    im_status=data[presence.user_id.partner_id.id]["im_status"],
                    bus_target=bus_target,
                )
        elif im_status is None:
            # A stock status change (create/write).
            user_presences.user_id.partner_id._bus_mobile_sync_presence()
        # else: ``unlink`` announces "offline"; it syncs once the rows are gone.

    def unlink(self):
        partners = self.user_id.partner_id
        result = super().unlink()
        partners._bus_mobile_sync_presence()
        return result
