import hashlib
import re
import secrets

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools.bearer import INVALID_TICKET, BearerTokenError
from .res_users_apikeys import NOW_UTC, KeyMatch

# ``secrets.token_urlsafe(32)``: 43 characters; anything else is not a ticket.
TICKET_BYTES = 32
TICKET_RE = re.compile(r"[A-Za-z0-9_-]{43}")
# Unused tickets a key may hold at once: asking for more drops the oldest.
MAX_LIVE_TICKETS = 5


def ticket_hash(ticket):
    """Tickets are random and live seconds: a plain hash is enough."""
    return hashlib.sha256(ticket.encode()).hexdigest()


class BusMobileSocketTicket(models.Model):
    """A one-time ticket that opens one mobile socket for the bearer token
    that asked for it (``/bus_mobile/socket/ticket``).

    A browser cannot set headers on a WebSocket, and a cross-site cookie is
    not sent: a web build on another origin than Odoo passes this ticket in
    the socket's URL instead of its long-lived token. It lives
    ``bus_mobile.socket_ticket_s`` seconds, opens one socket, is kept only
    as a hash, and the socket it opens is the token's: the same revocation,
    handshake limit and origin rules as ``Authorization: Bearer``.
    """

    _name = "bus_mobile.socket.ticket"
    _description = "Mobile Socket Ticket"
    _log_access = False

    ticket_hash = fields.Char(required=True, readonly=True)
    # The bearer key it stands for (a device token or an API key).
    key_model = fields.Char(required=True, readonly=True)
    key_id = fields.Integer(required=True, readonly=True)
    user_id = fields.Many2one("res.users", required=True, readonly=True, ondelete="cascade")
    expires_at = fields.Datetime(required=True, readonly=True)

    _sql_constraints = [
        ("ticket_hash_unique", "unique (ticket_hash)", "A socket ticket is issued once."),
    ]

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS bus_mobile_socket_ticket_key_idx"
            " ON bus_mobile_socket_ticket (key_model, key_id)"
        )

    @api.model
    def _bus_mobile_issue(self, bearer):
        """A new ticket for the request's bearer identity.

        :return: ``{"ticket", "expires_in_s"}`` (the ticket is shown once)
        :raise UserError: the request was authenticated by a cookie only
        """
        if bearer is None:
            raise UserError(
                self.env._(
                    "A socket ticket stands for a bearer token: call this route with "
                    "Authorization: Bearer. With a session cookie, open the socket from "
                    "Odoo's own origin."
                )
            )
        lifetime = self.env["ir.config_parameter"]._bus_mobile_settings()["socket_ticket_s"]
        self._bus_mobile_trim(bearer)
        ticket = secrets.token_urlsafe(TICKET_BYTES)
        self.env.cr.execute(
            SQL(
                """INSERT INTO bus_mobile_socket_ticket
                       (ticket_hash, key_model, key_id, user_id, expires_at)
                   VALUES (%s, %s, %s, %s, %s + make_interval(secs => %s))""",
                ticket_hash(ticket),
                bearer.model,
                bearer.key_id,
                bearer.uid,
                NOW_UTC,
                lifetime,
            )
        )
        return {"ticket": ticket, "expires_in_s": lifetime}

    @api.model
    def _bus_mobile_trim(self, bearer):
        """Drop the key's expired tickets, and its oldest beyond
        ``MAX_LIVE_TICKETS - 1``: what one key can pile up is bounded."""
        self.env.cr.execute(
            SQL(
                """DELETE FROM bus_mobile_socket_ticket WHERE id IN (
                       SELECT id FROM bus_mobile_socket_ticket
                        WHERE key_model = %(model)s AND key_id = %(key)s
                          AND (expires_at < %(now)s OR id NOT IN (
                              SELECT id FROM bus_mobile_socket_ticket
                               WHERE key_model = %(model)s AND key_id = %(key)s
                               ORDER BY id DESC LIMIT %(keep)s)))""",
                model=bearer.model,
                key=bearer.key_id,
                now=NOW_UTC,
                keep=MAX_LIVE_TICKETS - 1,
            )
        )

    @api.model
    def _bus_mobile_redeem(self, ticket):
        """Use ``ticket`` (once: it is deleted) and return the
        :class:`~..tools.bearer.BearerIdentity` of its key, checked again:
        a key revoked since the ticket was issued opens nothing.

        :raise BearerTokenError: not a ticket, used, expired, or its key
            no longer works
        """
        if not isinstance(ticket, str) or not TICKET_RE.fullmatch(ticket):
            raise BearerTokenError(INVALID_TICKET)
        # Two handshakes with one ticket: the second waits for the first's
        # commit, then finds nothing (or fails to serialize and is retried).
        self.env.cr.execute(
            SQL(
                """DELETE FROM bus_mobile_socket_ticket WHERE ticket_hash = %s
                   RETURNING key_model, key_id, user_id, expires_at >= %s""",
                ticket_hash(ticket),
                NOW_UTC,
            )
        )
        row = self.env.cr.fetchone()
        if row is None or not row[3]:
            raise BearerTokenError(INVALID_TICKET)
        key_model, key_id, uid, _live = row
        keys = self.env[key_model]
        reason = keys._bus_mobile_states([key_id])[key_id]
        if reason:
            raise BearerTokenError(reason)
        return keys._bus_mobile_identity(KeyMatch(key_id, uid, None, None))

    @api.autovacuum
    def _gc_expired_tickets(self):
        self.env.cr.execute(
            SQL("DELETE FROM bus_mobile_socket_ticket WHERE expires_at < %s", NOW_UTC)
        )
