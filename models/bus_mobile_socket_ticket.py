import hashlib
import re
import secrets

from psycopg2.errors import SerializationFailure

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
# A ticket is used within seconds of being issued: a longer setting is cut
# to this (a ticket living years is a token in a URL).
MAX_LIFETIME_S = 300


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
        settings = self.env["ir.config_parameter"]._bus_mobile_settings()
        lifetime = min(settings["socket_ticket_s"], MAX_LIFETIME_S)
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
        ``MAX_LIVE_TICKETS - 1``: what one key can pile up is bounded.
        Rows another request of the key deleted meanwhile are left to it."""
        self._bus_mobile_delete(
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
    def _bus_mobile_delete(self, query):
        """Run the DELETE ``query``; its ``RETURNING`` rows, or None when a
        transaction committed since this one began deleted some of the same
        rows first (two handshakes with one ticket, two tabs of a web build
        asking at once). Under Odoo's repeatable read that is a
        serialization failure: expected here, so it is not logged as a bad
        query, and this transaction goes on."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(query, log_exceptions=False)
                return self.env.cr.fetchall() if self.env.cr.description else []
        except SerializationFailure:
            return None

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
        # commit, then finds it deleted (used).
        rows = self._bus_mobile_delete(
            SQL(
                """DELETE FROM bus_mobile_socket_ticket WHERE ticket_hash = %s
                   RETURNING key_model, key_id, user_id, expires_at >= %s""",
                ticket_hash(ticket),
                NOW_UTC,
            )
        )
        if not rows or not rows[0][3]:
            raise BearerTokenError(INVALID_TICKET)
        key_model, key_id, uid, _live = rows[0]
        keys = self.env[key_model]
        reason = keys._bus_mobile_states([key_id])[key_id]
        if reason:
            raise BearerTokenError(reason)
        return keys._bus_mobile_identity(KeyMatch(key_id, uid, None, None))

    @api.autovacuum
    def _gc_expired_tickets(self):
        self._bus_mobile_delete(
            SQL("DELETE FROM bus_mobile_socket_ticket WHERE expires_at < %s", NOW_UTC)
        )
