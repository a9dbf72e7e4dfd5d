import collections
import functools
import os

from odoo import api, models
from odoo.tools import SQL

from odoo.addons.base.models.res_users import INDEX_SIZE, KEY_CRYPT_CONTEXT

from ..tools.bearer import (
    INVALID_TOKEN,
    TOKEN_EXPIRED,
    TOKEN_REVOKED,
    USER_ARCHIVED,
    BearerIdentity,
    BearerTokenError,
)

NOW_UTC = SQL("(now() AT TIME ZONE 'utc')")
# Sent to a key's bus channel when it stops working: its sockets, on every
# worker and node, are checked again and closed (never delivered: the key
# is invalid in the same transaction).
REVOKED_NOTIFICATION = "bus_mobile/token_revoked"


@functools.cache
def _dummy_hash():
    """A hash no token matches, to spend a verification on."""
    return KEY_CRYPT_CONTEXT.hash(os.urandom(16).hex())


KeyMatch = collections.namedtuple("KeyMatch", "key_id uid reason expiration_date")


class ResUsersApikeys(models.Model):
    """Odoo's API keys as bearer tokens of the mobile routes and socket.

    Lookups follow ``_check_credentials``: the key's index, then Odoo's
    hash (``KEY_CRYPT_CONTEXT``). Unlike it, they say why a key that
    matches is refused (expired, revoked), and which key it is, so that a
    socket can stay tied to it. Device tokens (``bus_mobile.device.token``)
    inherit all of this on their own table, as ``auth_totp.device`` does.
    """

    _inherit = "res.users.apikeys"

    def unlink(self):
        self._bus_mobile_close_sockets()
        return super().unlink()

    def _bus_mobile_close_sockets(self):
        """Have the sockets opened with these keys checked again (and so
        closed with 4001) on every worker and node, after the commit."""
        for key in self:
            self.env["bus.bus"]._sendone(key, REVOKED_NOTIFICATION, {})

    # ------------------------------------------------------------------
    # Bearer tokens
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_state_sql(self):
        """SQL over the key ``k`` and its user ``u``: NULL when the key is
        accepted as a bearer token, else the reason. A user's API key
        counts when it is global (no scope), as for Odoo's own bearer
        routes; a key of another scope is not a key here. A key of an
        archived user is refused while the user is archived (Odoo's keys
        work again once the user is restored)."""
        return SQL(
            """CASE WHEN k.scope IS NOT NULL THEN %(invalid)s
                    WHEN NOT u.active THEN %(archived)s
                    WHEN k.expiration_date < %(now)s THEN %(expired)s END""",
            invalid=INVALID_TOKEN,
            archived=USER_ARCHIVED,
            expired=TOKEN_EXPIRED,
            now=NOW_UTC,
        )

    @api.model
    def _bus_mobile_match(self, token):
        """The key of this model's table that ``token`` is, as a
        :data:`KeyMatch` (``reason`` None when it is accepted), or None.
        ``None`` also when nothing was hashed: see ``_bus_mobile_authenticate``."""
        self.env.cr.execute(
            SQL(
                """SELECT k.id, k.user_id, k.key, %(state)s, k.expiration_date
                   FROM %(table)s k JOIN res_users u ON u.id = k.user_id
                   WHERE k.index = %(index)s""",
                state=self._bus_mobile_state_sql(),
                table=SQL.identifier(self._table),
                index=token[:INDEX_SIZE],
            )
        )
        for key_id, uid, hashed, reason, expiration_date in self.env.cr.fetchall():
            if KEY_CRYPT_CONTEXT.verify(token, hashed):
                return KeyMatch(key_id, uid, reason, expiration_date)
        return None

    @api.model
    def _bus_mobile_states(self, key_ids):
        """``{key id: None or reason}`` for the keys of this model's table
        (one query); a key that is gone was revoked."""
        self.env.cr.execute(
            SQL(
                """SELECT k.id, %(state)s
                   FROM %(table)s k JOIN res_users u ON u.id = k.user_id
                   WHERE k.id = ANY(%(ids)s)""",
                state=self._bus_mobile_state_sql(),
                table=SQL.identifier(self._table),
                ids=list(key_ids),
            )
        )
        states = dict(self.env.cr.fetchall())
        return {key_id: states.get(key_id, TOKEN_REVOKED) for key_id in key_ids}

    @api.model
    def _bus_mobile_identity(self, match):
        return BearerIdentity(self._name, match.key_id, match.uid)

    @api.model
    def _bus_mobile_used(self, match):
        """A request or a socket was authenticated with ``match``."""

    @api.model
    def _bus_mobile_authenticate(self, token):
        """The :class:`BearerIdentity` of ``token``: a device token, else
        one of the user's API keys.

        :raise BearerTokenError: unknown, expired or revoked
        """
        for model in self._bus_mobile_bearer_models():
            match = model._bus_mobile_match(token)
            if match is not None:
                break
        else:
            # Hash once anyway: the answer takes as long whether an index
            # exists or not.
            KEY_CRYPT_CONTEXT.verify(token, _dummy_hash())
            raise BearerTokenError(INVALID_TOKEN)
        if match.reason:
            raise BearerTokenError(match.reason)
        model._bus_mobile_used(match)
        return model._bus_mobile_identity(match)

    @api.model
    def _bus_mobile_bearer_models(self):
        return [self.env["bus_mobile.device.token"], self.env["res.users.apikeys"]]

    @api.model
    def _bus_mobile_refusals(self, identities):
        """``{identity: reason}`` for the identities whose key no longer
        works (one query per kind of key)."""
        by_model = collections.defaultdict(list)
        for identity in identities:
            by_model[identity.model].append(identity)
        refusals = {}
        for model, group in by_model.items():
            states = self.env[model]._bus_mobile_states({i.key_id for i in group})
            for identity in group:
                if states[identity.key_id]:
                    refusals[identity] = states[identity.key_id]
        return refusals
