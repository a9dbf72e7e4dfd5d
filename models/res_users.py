import datetime
import logging

from odoo import api, fields, models, release
from odoo.exceptions import AccessDenied, AccessError, ValidationError

from odoo.addons.bus.websocket import Websocket, WebsocketConnectionHandler

from ..tools.bearer import DEVICE_SCOPE
from ..tools.presence import best_status
from ..tools.validation import check_int, check_text

# /bus_mobile/colleagues: a page of colleagues, and the most one may ask.
COLLEAGUES_PAGE = 20
MAX_COLLEAGUES = 50
MAX_QUERY_CHARS = 100

_logger = logging.getLogger(__name__)


class ResUsers(models.Model):
    _inherit = "res.users"

    bus_mobile_device_ids = fields.One2many(
        "bus_mobile.device", "user_id", string="Mobile Devices", groups="base.group_system"
    )
    # What users see (and sign out) of their own devices in their preferences.
    bus_mobile_my_device_ids = fields.One2many(
        "bus_mobile.device", compute="_compute_bus_mobile_my_device_ids", string="My Mobile Devices"
    )
    # Two-factor codes tried at /bus_mobile/device/login since the last
    # right one, whatever the address, worker or node (see _bus_mobile_totp_check).
    bus_mobile_totp_failures = fields.Integer(
        "Failed App Sign-in Codes", readonly=True, copy=False, groups="base.group_system"
    )
    bus_mobile_totp_failure_date = fields.Datetime(
        "Last Failed App Sign-in Code", readonly=True, copy=False, groups="base.group_system"
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

    def _bus_mobile_totp_check(self, code):
        """Odoo's ``_totp_check``, limited per user as Odoo limits logins
        (``_on_login_cooldown``: ``base.login_cooldown_after`` failures,
        then one try per ``base.login_cooldown_duration``). Odoo's own
        cooldown counts per address and per worker process: another
        address, worker or node would give more guesses. Each try is counted
        in the database before the code is checked, in a transaction of its
        own (a refused sign-in rolls the request's back), so that parallel
        tries count too; a right code clears the count.

        :raise AccessDenied: on cooldown, or a wrong code
        """
        self.ensure_one()
        with self.env.registry.cursor() as cr:
            cr.execute(
                """SELECT bus_mobile_totp_failures, bus_mobile_totp_failure_date
                   FROM res_users WHERE id = %s FOR NO KEY UPDATE""",
                [self.id],
            )
            failures, previous = cr.fetchone()
            if self._on_login_cooldown(failures or 0, previous or datetime.datetime.min):
                _logger.warning(
                    "App sign-in code ignored for user %s: %s failed codes, the last at %s",
                    self.id,
                    failures,
                    previous,
                )
                raise AccessDenied(
                    self.env._("Too many login failures, please wait a bit before trying again.")
                )
            cr.execute(
                """UPDATE res_users SET bus_mobile_totp_failures = %s,
                          bus_mobile_totp_failure_date = %s
                   WHERE id = %s""",
                [(failures or 0) + 1, fields.Datetime.now(), self.id],
            )
        self._totp_check(code)
        with self.env.registry.cursor() as cr:
            cr.execute("UPDATE res_users SET bus_mobile_totp_failures = 0 WHERE id = %s", [self.id])

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
            "discuss": self.env["bus_mobile.discuss"]._bus_mobile_config(),
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
