from odoo import api, fields, models, release
from odoo.exceptions import AccessError, ValidationError

from odoo.addons.bus.websocket import Websocket, WebsocketConnectionHandler

from ..tools.bearer import DEVICE_SCOPE
from ..tools.presence import best_status
from ..tools.validation import check_int, check_text

# /bus_mobile/colleagues: a page of colleagues, and the most one may ask.
COLLEAGUES_PAGE = 20
MAX_COLLEAGUES = 50
MAX_QUERY_CHARS = 100


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
            # Their keys no longer work: close the sockets they opened now.
            self._bus_mobile_device_tokens()._bus_mobile_close_sockets()
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

    @api.model
    def _bus_mobile_colleagues(self, query="", limit=COLLEAGUES_PAGE):
        """Internal users other than me whose name holds ``query``, by name:
        whom an app offers for a direct chat. For internal users only (as
        stock lets them read each other); searched with their own rights.

        :return: ``[{"partner_id", "name"}]``, at most ``limit`` (≤ 50)
        """
        env = self.env
        if not env.user._is_internal():
            raise AccessError(env._("Only internal users may search their colleagues."))
        check_text(env, query, "query", MAX_QUERY_CHARS)
        limit = COLLEAGUES_PAGE if limit is None else check_int(env, limit, "limit")
        if not 1 <= limit <= MAX_COLLEAGUES:
            raise ValidationError(env._("limit must be between 1 and %(max)s.", max=MAX_COLLEAGUES))
        domain = [("share", "=", False), ("id", "!=", env.uid)]
        if query:
            domain.append(("name", "ilike", query))
        users = self.search(domain, limit=limit, order="name, id")
        return [{"partner_id": user.partner_id.id, "name": user.name} for user in users]

    def _bus_mobile_channel_names(self):
        """String bus channels this user may subscribe to on the mobile socket:
        the channels they are a member of (sockets are subscribed to these
        anyway). Internal users may also subscribe to any public channel."""
        self.ensure_one()
        channels = self.env["bus_mobile.channel"]._bus_mobile_member_channels(self.partner_id)
        return [channel._bus_mobile_channel_name() for channel in channels]
