import datetime
import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessDenied, UserError, ValidationError
from odoo.http import request
from odoo.tools import SQL

from odoo.addons.base.models.res_users import INDEX_SIZE

from .. import metrics
from ..tools.bearer import (
    DEVICE_SCOPE,
    INVALID_TOKEN,
    REVOKED_SCOPE,
    TOKEN_EXPIRED,
    TOKEN_REVOKED,
    USER_ARCHIVED,
    BearerIdentity,
)
from ..tools.presence import iso_utc
from ..tools.validation import check_text, check_totp_code, excerpt
from .res_users_apikeys import NOW_UTC

_logger = logging.getLogger(__name__)

# Each use renews a token, written at most this often (not once a request).
RENEW_EVERY = datetime.timedelta(hours=1)
MAX_NAME_CHARS = 200
# An absurd device_token_days must not overflow a date: ten years at most.
MAX_TOKEN_DAYS = 3650
MAX_LOGIN_CHARS = 256
# passlib refuses longer passwords anyway.
MAX_PASSWORD_CHARS = 4096


def _address_login_failures(env):
    """The client address's entry in Odoo's login cooldown (``(failures,
    last failure)``), or None (see ``res.users._assert_can_auth``)."""
    failures = getattr(env.registry, "_login_failures", None)
    if failures is None or not request:
        return None
    return failures.get(request.httprequest.remote_addr)


def _restore_address_login_failures(env, entry):
    """Put back the address's entry that a right password cleared."""
    failures = getattr(env.registry, "_login_failures", None)
    if entry is not None and failures is not None and request:
        failures[request.httprequest.remote_addr] = entry


class BusMobileDeviceToken(models.Model):
    """The token an app got from ``/bus_mobile/device/login`` for one of its
    user's devices: an Odoo API key of its own kind, on its own table, as
    ``auth_totp.device`` does for trusted browsers. Random, shown once, kept
    only as Odoo's hash under Odoo's index, expiring after
    ``bus_mobile.device_token_days`` days without use, cleaned up by Odoo's
    autovacuum. Never accepted by Odoo's own RPC or bearer routes.
    """

    _name = "bus_mobile.device.token"
    _inherit = "res.users.apikeys"
    _description = "Mobile Device Token"
    _auto = False

    device_id = fields.Many2one("bus_mobile.device", readonly=True, ondelete="set null")

    def init(self):
        result = super().init()  # the table of Odoo's API keys, named after this model
        table = SQL.identifier(self._table)
        self.env.cr.execute(
            SQL(
                """ALTER TABLE %(table)s ADD COLUMN IF NOT EXISTS device_id integer
                   REFERENCES bus_mobile_device(id) ON DELETE SET NULL""",
                table=table,
            )
        )
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS %s ON %s (device_id)",
                SQL.identifier(f"{self._table}_device_id_idx"),
                table,
            )
        )
        return result

    # ------------------------------------------------------------------
    # Bearer tokens (see res.users.apikeys)
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_state_sql(self):
        return SQL(
            """CASE WHEN k.scope = %(revoked_scope)s OR k.device_id IS NULL THEN %(revoked)s
                    WHEN NOT u.active THEN %(archived)s
                    WHEN k.scope IS DISTINCT FROM %(scope)s THEN %(invalid)s
                    WHEN k.expiration_date IS NULL OR k.expiration_date < %(now)s
                        THEN %(expired)s END""",
            revoked_scope=REVOKED_SCOPE,
            revoked=TOKEN_REVOKED,
            archived=USER_ARCHIVED,
            scope=DEVICE_SCOPE,
            invalid=INVALID_TOKEN,
            expired=TOKEN_EXPIRED,
            now=NOW_UTC,
        )

    @api.model
    def _bus_mobile_identity(self, match):
        self.env.cr.execute(
            SQL(
                """SELECT d.id, d.device_uuid FROM %s k
                   JOIN bus_mobile_device d ON d.id = k.device_id WHERE k.id = %s""",
                SQL.identifier(self._table),
                match.key_id,
            )
        )
        device_id, device_uuid = self.env.cr.fetchone()
        return BearerIdentity(self._name, match.key_id, match.uid, device_id, device_uuid)

    @api.model
    def _bus_mobile_used(self, match):
        """Each use renews the token for device_token_days, written at most
        once per RENEW_EVERY. A read-only transaction (a route on a read
        replica) renews it after it, in a transaction of its own."""
        renewed = self._bus_mobile_expiration()
        if match.expiration_date and match.expiration_date > renewed - RENEW_EVERY:
            return
        if not self.env.cr.readonly:
            self._bus_mobile_renew(self.env.cr, match.key_id, renewed)
            return
        registry = self.env.registry

        def renew_apart():
            try:
                with registry.cursor() as cr:
                    self._bus_mobile_renew(cr, match.key_id, renewed)
            except psycopg2.Error as exc:
                # A concurrent request of the same device renewed it.
                _logger.debug("Device token %s not renewed: %s", match.key_id, exc)

        self.env.cr.postcommit.add(renew_apart)

    def _bus_mobile_renew(self, cr, key_id, expiration):
        cr.execute(
            SQL(
                "UPDATE %s SET expiration_date = %s WHERE id = %s AND scope = %s",
                SQL.identifier(self._table),
                expiration,
                key_id,
                DEVICE_SCOPE,
            )
        )

    @api.model
    def _bus_mobile_expiration(self):
        days = self.env["ir.config_parameter"]._bus_mobile_settings()["device_token_days"]
        return fields.Datetime.now() + datetime.timedelta(days=min(days, MAX_TOKEN_DAYS))

    # ------------------------------------------------------------------
    # Sign-in (controllers/auth.py)
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_login(
        self, db, login, password, device_uuid, platform, app_version=None, totp_code=None
    ):
        """``/bus_mobile/device/login``: check the password (and the second
        factor) with Odoo's own login, register the device, issue its token.

        Everything is checked through ``res.users.authenticate`` and, for
        two-factor users, ``_totp_check`` inside ``_assert_can_auth``, as the
        web login does: failures count towards Odoo's login cooldown, wrong
        codes included (the right password does not clear them), and wrong
        codes also towards a cooldown per user (``_bus_mobile_totp_check``).

        :return: ``{"totp_required": True}`` for a two-factor user without
            ``totp_code``; else the token (shown once), its expiration, the
            device and the user
        :raise AccessDenied: wrong credentials, wrong code, or cooldown
        """
        env = self.env
        if db is not None and db != env.cr.dbname:
            raise ValidationError(
                env._(
                    "db %(value)s is not the database served at this address.",
                    value=excerpt(db),
                )
            )
        check_text(env, login, "login", MAX_LOGIN_CHARS, required=True)
        check_text(env, password, "password", MAX_PASSWORD_CHARS, required=True)
        device_model = env["bus_mobile.device"]
        device_model._bus_mobile_check_uuid(device_uuid)
        device_model._bus_mobile_check_details(platform, app_version)
        code = None if totp_code is None else check_totp_code(env, totp_code)

        credential = {"type": "password", "login": login, "password": password}
        address_failures = _address_login_failures(env)
        try:
            auth_info = env.registry["res.users"].authenticate(
                env.cr.dbname, credential, {"interactive": True}
            )
        except AccessDenied:
            metrics.device_token(env.cr.dbname, "sign_in_failed")
            raise
        user = env["res.users"].browse(auth_info["uid"])
        mfa = None if auth_info.get("mfa") == "skip" else user._mfa_type()
        if mfa:
            # The password alone is not a sign-in: it must not clear the
            # address's failures, else each wrong code would count once
            # and Odoo's cooldown would never stop a code guesser.
            _restore_address_login_failures(env, address_failures)
            if mfa != "totp":
                raise UserError(
                    env._(
                        "This account signs in with a second factor apps cannot use here (%s): "
                        "use an API key instead.",
                        mfa,
                    )
                )
            if code is None:
                return {"totp_required": True}
            with user._assert_can_auth(user=user.id):
                user._bus_mobile_totp_check(code)

        device = device_model.with_user(user)._bus_mobile_register(
            device_uuid, platform, app_version=app_version
        )
        token, expiration = self._bus_mobile_issue(device)
        metrics.after_commit(env.cr, metrics.device_token, env.cr.dbname, "sign_in")
        return {
            "totp_required": False,
            "token_type": "Bearer",
            "token": token,
            "expires_at": iso_utc(expiration),
            "device": device._bus_mobile_to_dict(),
            "user": {"id": user.id, "partner_id": user.partner_id.id, "name": user.name},
        }

    # ------------------------------------------------------------------
    # Issue and revoke
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_issue(self, device):
        """A new token for ``device`` (shown once: only its hash is kept);
        the device's earlier tokens are revoked.

        :return: ``(token, expiration datetime)``
        """
        device.ensure_one()
        device._bus_mobile_tokens()._bus_mobile_revoke()
        expiration = self._bus_mobile_expiration()
        name = f"{device.platform} {device.device_uuid}"[:MAX_NAME_CHARS]
        # sudo: bus_mobile.device.token - issued as the device's owner, with
        # the lifetime administrators set (``_check_expiration_date`` would
        # hold users to their groups' API key duration).
        tokens = self.with_user(device.user_id).sudo()
        token = tokens._generate(DEVICE_SCOPE, name, expiration)
        # ``_generate`` returns the key only: bind the row it just inserted.
        table = SQL.identifier(self._table)
        self.env.cr.execute(
            SQL(
                """UPDATE %(table)s SET device_id = %(device)s
                   WHERE id = (SELECT max(id) FROM %(table)s
                               WHERE user_id = %(uid)s AND index = %(index)s
                                 AND scope = %(scope)s AND device_id IS NULL)""",
                table=table,
                device=device.id,
                uid=device.user_id.id,
                index=token[:INDEX_SIZE],
                scope=DEVICE_SCOPE,
            )
        )
        if self.env.cr.rowcount != 1:
            raise RuntimeError("the device token just generated was not found")
        return token, expiration

    def _bus_mobile_revoke(self):
        """Revoke these tokens now: they stop working in this transaction,
        and the sockets they opened close with 4001 (TOKEN_REVOKED) on every
        worker and node once it commits."""
        if not self:
            return self
        self.env.cr.execute(
            SQL(
                """UPDATE %s SET scope = %s, expiration_date = %s
                   WHERE id = ANY(%s) AND scope = %s RETURNING id, user_id""",
                SQL.identifier(self._table),
                REVOKED_SCOPE,
                NOW_UTC,
                self.ids,
                DEVICE_SCOPE,
            )
        )
        rows = self.env.cr.fetchall()
        self.invalidate_model(["scope", "expiration_date"])
        revoked = self.browse([token_id for token_id, _uid in rows])
        revoked._bus_mobile_close_sockets()
        metrics.after_commit(
            self.env.cr, metrics.device_token, self.env.cr.dbname, "revoked", len(rows)
        )
        if rows:
            _logger.info(
                "Device token(s) %s of user(s) %s revoked by #%s",
                revoked.ids,
                sorted({uid for _id, uid in rows}),
                self.env.uid,
            )
        return revoked
