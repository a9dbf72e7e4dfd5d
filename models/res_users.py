from odoo import api, fields, models, release

from odoo.addons.bus.websocket import Websocket, WebsocketConnectionHandler

from ..tools.bearer import DEVICE_SCOPE
from ..tools.presence import best_status


class ResUsers(models.Model):
    _inherit = "res.users"

    bus_mobile_device_ids = fields.One2many(
        "bus_mobile.device", "user_id", string="Mobile Devices", groups="base.group_system"
    )
    # What users see (and sign out) of their own devices in their preferences.
    bus_mobile_my_device_ids = fields.One2many(
        "bus_mobile.device", compute="_compute_bus_mobile_my_device_ids", string="My Mobile Devices"
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return [*super().SELF_READABLE_FIELDS, "bus_mobile_my_device_ids"]

    @api.depends_context("uid")
    def _compute_bus_mobile_my_device_ids(self):
        devices = self.env["bus_mobile.device"]
        for user in self:
            if user == self.env.user or self.env.su or self.env.user._is_system():
                # sudo: bus_mobile.device - the user's own devices (or an
                # administrator's view of them).
                devices_of_user = devices.sudo().search([("user_id", "=", user.id)])
                user.bus_mobile_my_device_ids = devices_of_user
            else:
                user.bus_mobile_my_device_ids = devices

    def write(self, vals):
        result = super().write(vals)
        if "password" in vals:
            # As a password change ends the user's other sessions.
            self._bus_mobile_device_tokens()._bus_mobile_revoke()
        if "active" in vals and not vals["active"]:
            # Signed out for good, as by a password change: unarchiving
            # brings back no device token, and no device gets pushes before
            # its app signs in again.
            # sudo: bus_mobile.device - the archived users' devices.
            devices = self.env["bus_mobile.device"].sudo().search([("user_id", "in", self.ids)])
            devices._bus_mobile_sign_out()
            # API keys keep Odoo's behaviour (they work again once the user
            # is restored): close the sockets they opened now.
            # sudo: res.users.apikeys - the archived users' API keys.
            keys = self.env["res.users.apikeys"].sudo().search([("user_id", "in", self.ids)])
            keys._bus_mobile_close_sockets()
        return result

    def _bus_mobile_device_tokens(self):
        """The device tokens of these users that are not revoked."""
        # sudo: bus_mobile.device.token - handled by its own methods only.
        return (
            self.env["bus_mobile.device.token"]
            .sudo()
            .search([("user_id", "in", self.ids), ("scope", "=", DEVICE_SCOPE)])
        )

    def _compute_im_status(self):
        """Stock im_status (``bus.presence``), raised to the best status of
        the user's mobile devices (presence)."""
        result = super()._compute_im_status()
        by_user = self.env["bus_mobile.device"]._bus_mobile_status_by_user(self.ids)
        for user in self:
            user.im_status = best_status(user.im_status, by_user.get(user.id))
        return result

    def _bus_mobile_config(self):
        """The bootstrap an app needs before it opens the mobile socket."""
        self.ensure_one()
        settings = self.env["ir.config_parameter"]._bus_mobile_settings()
        return {
            "websocket_url": "/bus_mobile/websocket",
            # Read, never hard-coded: it changes with Odoo updates.
            "worker_version": WebsocketConnectionHandler._VERSION,
            "server_version": release.version,
            "user": {"id": self.id, "partner_id": self.partner_id.id, "name": self.name},
            "channels": self._bus_mobile_channel_names(),
            "presence": {
                "heartbeat_s": settings["heartbeat_s"],
                "away_after_s": settings["away_after_s"],
                "offline_after_s": settings["offline_after_s"],
            },
            "limits": {
                "max_body_chars": settings["max_body_chars"],
                "page_max": settings["page_max"],
                "rate_limit_burst": Websocket.RL_BURST,
                "rate_limit_delay": Websocket.RL_DELAY,
            },
        }

    def _bus_mobile_channel_names(self):
        """String bus channels this user may subscribe to on the mobile socket:
        the channels they are a member of (sockets are subscribed to these
        anyway). Internal users may also subscribe to any public channel."""
        self.ensure_one()
        channels = self.env["bus_mobile.channel"]._bus_mobile_member_channels(self.partner_id)
        return [channel._bus_mobile_channel_name() for channel in channels]
