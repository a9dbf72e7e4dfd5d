import logging

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tools import SQL

from .. import metrics
from ..push.expo import is_expo_token
from ..tools.bearer import DEVICE_SCOPE
from ..tools.devices import TooManyDevicesError
from ..tools.presence import APP_STATES, STATUSES, best_status, iso_utc
from ..tools.validation import (
    check_choice,
    check_device_uuid,
    check_milliseconds,
    check_text,
    excerpt,
)

_logger = logging.getLogger(__name__)

PLATFORMS = [("ios", "iOS"), ("android", "Android"), ("web", "Web"), ("other", "Other")]
PUSH_PROVIDERS = [("expo", "Expo"), ("fcm", "Firebase")]
MAX_APP_VERSION_CHARS = 64
MAX_PUSH_TOKEN_CHARS = 4096
MAX_PUSH_PROJECT_CHARS = 256
SWEEP_BATCH_SIZE = 500

# The database clock, not the transaction's start: several workers and
# nodes share it, and it keeps moving inside long transactions.
DB_NOW = SQL("(clock_timestamp() AT TIME ZONE 'UTC')")


class BusMobileDevice(models.Model):
    """One install of a mobile app (or any client) of a user.

    The status is decided by the server: the device's sockets on
    ``/bus_mobile/websocket?device_uuid=`` (see ``mobile_socket/device_presence.py``),
    heartbeats over the socket or HTTP, and the sweep cron for devices that
    went silent without any close event. State changes are atomic SQL
    statements keyed on ``(user_id, device_uuid)``, so that concurrent
    sockets, workers and nodes never lose an update.
    """

    _name = "bus_mobile.device"
    _description = "Mobile Device"
    _rec_name = "device_uuid"
    _order = "last_seen desc, id desc"

    user_id = fields.Many2one(
        "res.users",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
        default=lambda self: self.env.user,
    )
    partner_id = fields.Many2one(related="user_id.partner_id", string="Partner")
    device_uuid = fields.Char("Device UUID", required=True, readonly=True)
    platform = fields.Selection(PLATFORMS, required=True, default="other")
    app_version = fields.Char()
    # Server-side only (push delivery): no user can read it, its owner included.
    push_token = fields.Char(copy=False, groups=fields.NO_ACCESS)
    has_push_token = fields.Boolean(compute="_compute_has_push_token", compute_sudo=True)
    push_provider = fields.Selection(PUSH_PROVIDERS, readonly=True)
    push_project = fields.Char(
        readonly=True,
        help="The Expo project of the push token, as Expo named it when it refused a batch "
        "mixing projects (or as the app declared it): pushes to tokens of different projects "
        "are never sent in one batch.",
    )
    push_token_disabled_date = fields.Datetime(
        readonly=True, help="When a provider said the device's token was dead."
    )
    push_token_disabled_reason = fields.Char(readonly=True)
    # Tells a backgrounded app (push it) from an idle one (its socket is open).
    app_state = fields.Selection(
        [(state, state.capitalize()) for state in APP_STATES],
        readonly=True,
        help="As the app reported it with its last heartbeat.",
    )
    status = fields.Selection(STATUSES, required=True, default="offline", readonly=True)
    last_seen = fields.Datetime(readonly=True, help="Last open, heartbeat or pong of the device.")
    # One random token per open socket of the device: online while any is left.
    connection_tokens = fields.Json(readonly=True, copy=False, groups="base.group_system")
    connection_count = fields.Integer("Open Sockets", compute="_compute_connection_count")
    signed_in = fields.Boolean(
        compute="_compute_sign_in", help="The app holds a device token that works."
    )
    sign_in_expires = fields.Datetime(
        "Sign-in Expires", compute="_compute_sign_in", help="Unless the app uses it before."
    )

    _sql_constraints = [
        (
            "device_uuid_user_unique",
            "UNIQUE(user_id, device_uuid)",
            "A device UUID is registered once per user.",
        ),
    ]

    def init(self):
        # The sweep cron only looks at devices that are not offline yet.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS bus_mobile_device_sweep_index "
            "ON bus_mobile_device (last_seen) WHERE status != 'offline'"
        )

    @api.depends("connection_tokens")
    def _compute_connection_count(self):
        for device in self:
            device.connection_count = len(device.connection_tokens or [])

    @api.depends("push_token")
    def _compute_has_push_token(self):
        for device in self:
            device.has_push_token = bool(device.push_token)

    def _compute_sign_in(self):
        tokens = self._bus_mobile_tokens(valid_only=True)
        # sudo: bus_mobile.device.token - the device's owner and
        # administrators see whether and until when it is signed in.
        expires = {token.device_id.id: token.expiration_date for token in tokens.sudo()}
        for device in self:
            device.signed_in = device.id in expires
            device.sign_in_expires = expires.get(device.id, False)

    def unlink(self):
        # A removed device is signed out first: its sockets close.
        self._bus_mobile_tokens()._bus_mobile_revoke()
        return super().unlink()

    # ------------------------------------------------------------------
    # Sign-in (device tokens, controllers/auth.py)
    # ------------------------------------------------------------------

    def _bus_mobile_tokens(self, valid_only=False):
        """The device tokens of these devices that are not revoked (and not
        expired either with ``valid_only``), as superuser."""
        domain = [("device_id", "in", self.ids), ("scope", "=", DEVICE_SCOPE)]
        if valid_only:
            domain.append(("expiration_date", ">=", fields.Datetime.now()))
        # sudo: bus_mobile.device.token - only the methods of the device
        # model and of the token model handle tokens.
        return self.env["bus_mobile.device.token"].sudo().search(domain)

    def action_bus_mobile_sign_out(self):
        """The Sign out button of the backend."""
        self._bus_mobile_sign_out()
        return True

    def _bus_mobile_lock_rows(self):
        """Lock these devices' rows before writing them through the ORM.
        Their sockets and heartbeats write the same rows all the time: a
        write that lost the race would fail, logged as a bad query, where
        this lock fails unlogged and Odoo's ``retrying`` runs the request
        again on fresh data."""
        if self.ids:
            self.env.cr.execute(
                SQL("SELECT id FROM bus_mobile_device WHERE id IN %s FOR NO KEY UPDATE", self._ids),
                log_exceptions=False,
            )

    def _bus_mobile_sign_out(self):
        """Sign these devices out: their tokens stop working at once, their
        sockets close with 4001 on every worker and node, they go offline
        and lose their push token (a lost phone gets nothing more). Their
        owner or an administrator only."""
        if not self.env.is_system() and self.user_id != self.env.user:
            raise AccessError(self.env._("Only a device's owner or an administrator signs it out."))
        self._bus_mobile_tokens()._bus_mobile_revoke()
        self._bus_mobile_lock_rows()
        # sudo: bus_mobile.device - the push token is server-only.
        self.sudo().push_token = False
        for device in self:
            device.with_user(device.user_id)._bus_mobile_update(
                device.device_uuid,
                SQL("status = 'offline', connection_tokens = '[]'::jsonb"),
            )

    @api.model
    def _bus_mobile_sign_out_caller(self, identity, device_uuid=None):
        """``/bus_mobile/device/logout``: with a device token, its device;
        with a session, the caller's device ``device_uuid``."""
        if identity is not None and not identity.is_device_token:
            raise UserError(
                self.env._(
                    "This request is authenticated by an API key, not a device token: "
                    "API keys are removed in the user's preferences."
                )
            )
        if identity is None:
            device = self._bus_mobile_get(device_uuid)
        else:
            device = self.browse(identity.device_id)
            if device_uuid is not None and device_uuid != identity.device_uuid:
                raise ValidationError(
                    self.env._(
                        "device_uuid %(value)s is not the device this token was issued for.",
                        value=excerpt(device_uuid),
                    )
                )
        device._bus_mobile_sign_out()
        metrics.after_commit(self.env.cr, metrics.device_token, self.env.cr.dbname, "sign_out")
        return device

    # ------------------------------------------------------------------
    # Validation and API (controllers/device.py)
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_check_uuid(self, device_uuid):
        return check_device_uuid(self.env, device_uuid)

    @api.model
    def _bus_mobile_check_details(self, platform, app_version):
        """The ``platform`` and ``app_version`` values to store, checked."""
        return {
            "platform": check_choice(self.env, platform, "platform", dict(PLATFORMS)),
            "app_version": check_text(self.env, app_version, "app_version", MAX_APP_VERSION_CHARS)
            or False,
        }

    @api.model
    def _bus_mobile_get(self, device_uuid):
        """The current user's device ``device_uuid``, or MissingError."""
        device_uuid = self._bus_mobile_check_uuid(device_uuid)
        device = self.search([("user_id", "=", self.env.uid), ("device_uuid", "=", device_uuid)])
        if not device:
            raise MissingError(
                self.env._("No device %s is registered for you: register it first.", device_uuid)
            )
        return device

    @api.model
    def _bus_mobile_register(
        self,
        device_uuid,
        platform,
        app_version=None,
        push_token=None,
        push_provider=None,
        push_project_id=None,
    ):
        """Create or update the current user's device ``device_uuid``.

        ``push_token``: ``None`` keeps the stored one, ``""`` clears it.
        ``push_provider``: ``expo`` or ``fcm``; by default inferred from the
        token (``ExponentPushToken[...]`` is Expo's). ``push_project_id``:
        the app's Expo project, a hint to batch its pushes with its
        project's (what Expo says of the token wins, see
        ``_bus_mobile_learn_push_projects``).
        """
        device_uuid = self._bus_mobile_check_uuid(device_uuid)
        vals = self._bus_mobile_check_details(platform, app_version)
        push_token = check_text(self.env, push_token, "push_token", MAX_PUSH_TOKEN_CHARS)
        project = check_text(self.env, push_project_id, "push_project_id", MAX_PUSH_PROJECT_CHARS)
        if push_provider is not None:
            check_choice(self.env, push_provider, "push_provider", dict(PUSH_PROVIDERS))
        if push_token:
            vals.update(
                push_token=push_token,
                push_provider=self._bus_mobile_check_push_provider(push_token, push_provider),
                push_token_disabled_date=False,
                push_token_disabled_reason=False,
            )
        elif push_token == "":
            vals.update(push_token=False, push_provider=False, push_project=False)
        self._bus_mobile_make_room(device_uuid)
        # An upsert: the device's socket may be creating the same row.
        self.env.cr.execute(
            SQL(
                """INSERT INTO bus_mobile_device
                       (user_id, device_uuid, platform, status, create_uid, create_date,
                        write_uid, write_date)
                   VALUES (%(uid)s, %(uuid)s, 'other', 'offline', %(uid)s, %(now)s,
                           %(uid)s, %(now)s)
                   ON CONFLICT (user_id, device_uuid) DO NOTHING""",
                uid=self.env.uid,
                uuid=device_uuid,
                now=DB_NOW,
            ),
            # A concurrent insert is a serialization failure, retried by Odoo.
            log_exceptions=False,
        )
        device = self._bus_mobile_get(device_uuid)
        if push_token or project:
            vals.update(self._bus_mobile_project_vals(device, push_token, project))
        if push_token is None and push_provider is not None:
            # sudo: bus_mobile.device - the stored token is checked against
            # the new provider, never returned.
            stored = device.sudo().push_token
            if stored:
                self._bus_mobile_check_push_provider(stored, push_provider)
            vals["push_provider"] = push_provider
        device._bus_mobile_lock_rows()
        # sudo: bus_mobile.device - users only read their devices; the owner
        # sets its own device's details here, push_token is server-only.
        device.sudo().write(vals)
        return device

    @api.model
    def _bus_mobile_project_vals(self, device, push_token, project):
        """The device's ``push_project`` for a registration with
        ``push_token`` (None: unchanged) and the declared ``project``: a new
        token starts with the declared one; for the same token, the
        project already known (what Expo said) stays."""
        # sudo: bus_mobile.device - the stored token and project are
        # compared, never returned.
        stored = device.sudo()
        if push_token and push_token != stored.push_token:
            return {"push_project": project or False}
        if stored.push_token and not stored.push_project and project:
            return {"push_project": project}
        return {}

    @api.model
    def _bus_mobile_make_room(self, device_uuid):
        """Before the current user's device ``device_uuid`` is created:
        keep the user under ``max_devices_per_user`` devices (each may get a
        push for every post, and a socket per device costs the server), by
        removing the least recently seen devices without an open socket
        (signed out: an app reinstalled under a new uuid never locks its
        user out). Nothing happens for a device that exists.

        Two transactions creating devices of one user both update the
        user's partner row, as presence changes do
        (``res.partner._bus_mobile_sync_presence``): the later one fails
        with a serialization error and is retried, counting the other's.

        :raise TooManyDevicesError: every device has an open socket
        """
        cr = self.env.cr
        self.flush_model()
        cr.execute(
            "SELECT 1 FROM bus_mobile_device WHERE user_id = %s AND device_uuid = %s",
            [self.env.uid, device_uuid],
        )
        if cr.fetchone():
            return
        cr.execute(
            """UPDATE res_partner SET bus_mobile_im_status = bus_mobile_im_status
               WHERE id = (SELECT partner_id FROM res_users WHERE id = %s)""",
            [self.env.uid],
            # A concurrent change is a serialization failure: expected, retried.
            log_exceptions=False,
        )
        limit = self.env["ir.config_parameter"]._bus_mobile_settings()["max_devices_per_user"]
        cr.execute(
            """SELECT id, status = 'offline'
                      OR jsonb_array_length(COALESCE(connection_tokens, '[]'::jsonb)) = 0
                 FROM bus_mobile_device WHERE user_id = %s
             ORDER BY COALESCE(last_seen, create_date), id""",
            [self.env.uid],
        )
        rows = cr.fetchall()
        excess = len(rows) + 1 - limit
        if excess <= 0:
            return
        idle = [device_id for device_id, without_socket in rows if without_socket]
        if len(idle) < excess:
            raise TooManyDevicesError(self.env, limit)
        replaced = self.browse(idle[:excess])
        _logger.info(
            "Device(s) %s of user %s removed for the new device %s (max_devices_per_user %s)",
            replaced.ids,
            self.env.uid,
            excerpt(device_uuid),
            limit,
        )
        replaced._bus_mobile_unregister()

    @api.model
    def _bus_mobile_learn_push_projects(self, learned):
        """Expo said which project these tokens belong to (``[(push id,
        token hash, project)]``): keep it on their devices, unless the app
        registered another token meanwhile, so that later batches never mix
        them with another project's (push/expo.py)."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """UPDATE bus_mobile_device d SET push_project = v.project
                     FROM (SELECT unnest(%(ids)s::int[]) AS push_id,
                                  unnest(%(hashes)s::varchar[]) AS hash,
                                  unnest(%(projects)s::varchar[]) AS project) v
                     JOIN bus_mobile_push p ON p.id = v.push_id
                    WHERE d.id = p.device_id
                      AND d.push_project IS DISTINCT FROM v.project
                      AND encode(sha256(convert_to(d.push_token, 'UTF8')), 'hex') = v.hash""",
                ids=[push_id for push_id, _hash, _project in learned],
                hashes=[hashed for _id, hashed, _project in learned],
                projects=[project for _id, _hash, project in learned],
            )
        )
        if self.env.cr.rowcount:
            _logger.info("Push: the Expo project of %s device(s) learned", self.env.cr.rowcount)
        self.invalidate_model(["push_project"])

    @api.model
    def _bus_mobile_check_push_provider(self, push_token, push_provider=None):
        """The provider of ``push_token``: ``push_provider`` if it fits the
        token, else inferred from it. Expo only takes Expo push tokens."""
        expo_token = is_expo_token(push_token)
        if push_provider is None:
            return "expo" if expo_token else "fcm"
        if push_provider == "expo" and not expo_token:
            raise ValidationError(
                self.env._("push_provider expo takes an Expo push token (ExponentPushToken[...]).")
            )
        if push_provider == "fcm" and expo_token:
            raise ValidationError(
                self.env._("An Expo push token is sent with push_provider expo, not fcm.")
            )
        return push_provider

    def _bus_mobile_unregister(self):
        """Forget these devices (an app logging out); watchers are told if
        the owner's status changes."""
        partners = self.user_id.partner_id
        # sudo: bus_mobile.device - users only read their devices; the owner
        # removes its own device here.
        self.sudo().unlink()
        partners._bus_mobile_sync_presence()

    def _bus_mobile_to_dict(self):
        self.ensure_one()
        # sudo: bus_mobile.device - the owner learns whether a push token is
        # stored, never the token itself.
        has_push_token = bool(self.sudo().push_token)
        return {
            "id": self.id,
            "device_uuid": self.device_uuid,
            "platform": self.platform,
            "app_version": self.app_version or None,
            "status": self.status,
            "last_seen": iso_utc(self.last_seen),
            "has_push_token": has_push_token,
            "push_provider": self.push_provider or None,
            "push_project": self.push_project or None,
        }

    def action_bus_mobile_send_test_push(self):
        """Send a test push now (administrators) and show the provider's answer."""
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only administrators send test pushes."))
        if not self.has_push_token:
            raise UserError(
                self.env._(
                    "The device %s has no push token: the app registers one with "
                    "/bus_mobile/device/register.",
                    self.device_uuid,
                )
            )
        outcome = self.env["bus_mobile.push"]._bus_mobile_send_test(self)
        if outcome.state == "sent":
            message = self.env._("The provider accepted the push (%s).", outcome.provider_id or "-")
        else:
            message = self.env._(
                "The provider refused the push (%(state)s): %(reason)s",
                state=outcome.state,
                reason=outcome.reason,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Test push"),
                "message": message,
                "type": "success" if outcome.state == "sent" else "danger",
                "sticky": outcome.state != "sent",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_bus_mobile_view_pushes(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Pushes of %s", self.device_uuid),
            "res_model": "bus_mobile.push",
            "view_mode": "list,form",
            "domain": [("device_id", "=", self.id)],
        }

    # ------------------------------------------------------------------
    # Presence: sockets, heartbeats and the sweep
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_heartbeat_status(self, inactivity_ms, app_state):
        """online, or away when inactive for away_after_s or more, or in the
        background. Bad input raises ValidationError."""
        if app_state is not None:
            check_choice(self.env, app_state, "app_state", APP_STATES)
        inactivity_ms = check_milliseconds(self.env, inactivity_ms, "inactivity_ms")
        away_after_s = self.env["ir.config_parameter"]._bus_mobile_settings()["away_after_s"]
        if app_state == "background" or inactivity_ms >= away_after_s * 1000:
            return "away"
        return "online"

    @api.model
    def _bus_mobile_connection_tokens(self, device_uuid):
        """The socket tokens of the current user's device ``device_uuid``
        (``[]`` for an unknown device), as this transaction sees them."""
        self.flush_model()
        self.env.cr.execute(
            "SELECT connection_tokens FROM bus_mobile_device"
            " WHERE user_id = %s AND device_uuid = %s",
            [self.env.uid, device_uuid],
        )
        row = self.env.cr.fetchone()
        return (row and row[0]) or []

    @api.model
    def _bus_mobile_socket_opened(self, device_uuid, token, dead_tokens=()):
        """A socket of the current user's device opened: the device is
        online. An unknown device_uuid is registered for this user
        (platform ``other``); another user's device with the same uuid is
        another row and is never touched. ``dead_tokens``: tokens of the
        device's sockets known to be gone without a close (their process
        was killed), dropped.

        :raise TooManyDevicesError: a new device, and all the user's
            devices have an open socket (see ``_bus_mobile_make_room``)
        """
        self._bus_mobile_make_room(device_uuid)
        return self._bus_mobile_change(
            SQL(
                """INSERT INTO bus_mobile_device AS d
                       (user_id, device_uuid, platform, status, last_seen, connection_tokens,
                        create_uid, create_date, write_uid, write_date)
                   VALUES (%(uid)s, %(uuid)s, 'other', 'online', %(now)s,
                           jsonb_build_array(%(token)s::text), %(uid)s, %(now)s, %(uid)s, %(now)s)
                   ON CONFLICT (user_id, device_uuid) DO UPDATE
                   SET status = 'online',
                       last_seen = EXCLUDED.last_seen,
                       connection_tokens =
                           (COALESCE(d.connection_tokens, '[]'::jsonb) - %(dead)s::text[]
                            - %(token)s::text)
                           || jsonb_build_array(%(token)s::text)
                   RETURNING d.id, d.user_id, d.status""",
                uid=self.env.uid,
                uuid=device_uuid,
                token=token,
                dead=list(dead_tokens),
                now=DB_NOW,
            ),
            device_uuid,
        )

    @api.model
    def _bus_mobile_socket_closed(self, device_uuid, token, keep_status=False, dead_tokens=()):
        """A socket of the device closed: offline when it was the last one
        (``dead_tokens``, of sockets gone without a close, do not count).
        ``keep_status``: the server rotated the connection (keep-alive
        lifetime) and the app reconnects at once; if it does not, the sweep
        takes the device offline."""
        remaining = SQL(
            "(COALESCE(d.connection_tokens, '[]'::jsonb) - %(dead)s::text[] - %(token)s::text)",
            dead=list(dead_tokens),
            token=token,
        )
        return self._bus_mobile_update(
            device_uuid,
            SQL(
                """connection_tokens = %(remaining)s,
                   status = CASE
                       WHEN %(keep)s OR jsonb_array_length(%(remaining)s) > 0
                       THEN d.status ELSE 'offline' END""",
                remaining=remaining,
                keep=bool(keep_status),
            ),
        )

    @api.model
    def _bus_mobile_heartbeat(self, device_uuid, inactivity_ms, app_state=None, token=None):
        """``update_presence`` of the device: online or away, last_seen now.
        ``token``: the socket it came over (re-attached if the sweep had
        dropped it). Unknown device: MissingError."""
        device_uuid = self._bus_mobile_check_uuid(device_uuid)
        status = self._bus_mobile_heartbeat_status(inactivity_ms, app_state)
        token_sql = SQL("d.connection_tokens")
        if token:
            token_sql = _with_token(token)
        result = self._bus_mobile_update(
            device_uuid,
            SQL(
                """status = %(status)s, last_seen = %(now)s, connection_tokens = %(tokens)s,
                   app_state = %(app_state)s""",
                status=status,
                now=DB_NOW,
                tokens=token_sql,
                # No app_state: a client that only reports inactivity.
                app_state="background" if app_state == "background" else "foreground",
            ),
        )
        if result is None:
            raise MissingError(
                self.env._("No device %s is registered for you: register it first.", device_uuid)
            )
        return result

    @api.model
    def _bus_mobile_socket_alive(self, device_uuid, token):
        """A pong came back on the device's socket: refresh last_seen so
        that the sweep never takes a live socket's device offline."""
        return self._bus_mobile_update(
            device_uuid,
            SQL(
                """last_seen = %(now)s, connection_tokens = %(tokens)s,
                   status = CASE WHEN d.status = 'offline' THEN 'online' ELSE d.status END""",
                now=DB_NOW,
                tokens=_with_token(token),
            ),
        )

    @api.model
    def _bus_mobile_update(self, device_uuid, assignments):
        """UPDATE the current user's device ``device_uuid`` with the SQL
        ``assignments`` (alias ``d``); see ``_bus_mobile_change``."""
        return self._bus_mobile_change(
            SQL(
                """UPDATE bus_mobile_device d SET %(assignments)s
                   WHERE d.user_id = %(uid)s AND d.device_uuid = %(uuid)s
                   RETURNING d.id, d.user_id, d.status""",
                assignments=assignments,
                uid=self.env.uid,
                uuid=device_uuid,
            ),
            device_uuid,
        )

    @api.model
    def _bus_mobile_change(self, query, device_uuid):
        """Run ``query`` (one row of the current user's device ``device_uuid``
        ``RETURNING id, user_id, status``) and tell watchers when the owner's
        combined status changed.

        Under Odoo's REPEATABLE READ, a concurrent change of the same row
        makes this statement fail with a serialization error, which the
        callers' ``retrying`` replays on fresh data.

        :return: ``(device id, old status, new status)``, or ``None`` when
            the current user has no such device.
        """
        self.flush_model()
        self.env.cr.execute(
            "SELECT status FROM bus_mobile_device WHERE user_id = %s AND device_uuid = %s",
            [self.env.uid, device_uuid],
        )
        row = self.env.cr.fetchone()
        old_status = row[0] if row else "offline"
        # A concurrent change is a serialization failure: expected, retried.
        self.env.cr.execute(query, log_exceptions=False)
        row = self.env.cr.fetchone()
        self.invalidate_model()
        if not row:
            return None
        device_id, user_id, status = row
        if status != old_status:
            self.env["res.users"].browse(user_id).partner_id._bus_mobile_sync_presence()
        return device_id, old_status, status

    @api.model
    def _cron_sweep_offline(self, batch_size=SWEEP_BATCH_SIZE):
        """Take offline the devices not heard of for offline_after_s (a
        crashed server or a killed worker ran no close event; a phone lost
        its network). One batch per call; Odoo's cron runner calls again,
        in a new transaction, while some remain."""
        swept = self._bus_mobile_sweep(batch_size)
        remaining = self._bus_mobile_stale_count() if swept == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=swept, remaining=remaining)
        return swept

    @api.model
    def _bus_mobile_stale_condition(self):
        offline_after_s = self.env["ir.config_parameter"]._bus_mobile_settings()["offline_after_s"]
        return SQL(
            "status != 'offline' AND (last_seen IS NULL OR "
            "last_seen < %(now)s - make_interval(secs => %(secs)s))",
            now=DB_NOW,
            secs=offline_after_s,
        )

    @api.model
    def _bus_mobile_stale_count(self):
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM bus_mobile_device WHERE %s",
                self._bus_mobile_stale_condition(),
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _bus_mobile_sweep(self, batch_size=SWEEP_BATCH_SIZE):
        """One batch of the sweep: safe with several workers and nodes.
        Rows another transaction holds are skipped (SKIP LOCKED); a row
        changed since this transaction began (a heartbeat just refreshed
        it) makes the batch stop, for the next run to redo.

        :return: the number of devices taken offline
        """
        self.flush_model()
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    SQL(
                        """WITH stale AS (
                               SELECT id FROM bus_mobile_device
                               WHERE %(stale)s
                               ORDER BY id LIMIT %(limit)s
                               FOR NO KEY UPDATE SKIP LOCKED)
                           UPDATE bus_mobile_device d
                           SET status = 'offline', connection_tokens = '[]'::jsonb
                           FROM stale WHERE d.id = stale.id
                           RETURNING d.user_id""",
                        stale=self._bus_mobile_stale_condition(),
                        limit=batch_size,
                    ),
                    log_exceptions=False,
                )
                user_ids = [user_id for (user_id,) in self.env.cr.fetchall()]
                self.invalidate_model()
                self.env["res.users"].browse(set(user_ids)).partner_id._bus_mobile_sync_presence()
        except (pg_errors.SerializationFailure, pg_errors.LockNotAvailable) as exc:
            self.env.invalidate_all()
            _logger.info("Presence sweep stopped by a concurrent update, next run resumes: %s", exc)
            return 0
        if user_ids:
            _logger.info("Presence sweep: %s device(s) offline", len(user_ids))
        return len(user_ids)

    @api.model
    def _bus_mobile_status_by_user(self, user_ids):
        """{user id: best status of the user's devices} for the devices that
        are not offline."""
        # sudo: bus_mobile.device - a user's device status is public presence
        # information (im_status), unlike the devices themselves.
        groups = self.sudo()._read_group(
            [("user_id", "in", list(user_ids)), ("status", "!=", "offline")],
            ["user_id"],
            ["status:array_agg"],
        )
        return {user.id: best_status(*statuses) for user, statuses in groups}


def _with_token(token):
    """SQL: the device's connection tokens with ``token`` in them."""
    return SQL(
        """CASE WHEN COALESCE(d.connection_tokens, '[]'::jsonb) ? %(token)s
                THEN d.connection_tokens
                ELSE COALESCE(d.connection_tokens, '[]'::jsonb)
                     || jsonb_build_array(%(token)s::text) END""",
        token=token,
    )
