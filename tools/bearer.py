"""``Authorization: Bearer <token>``: what a request or a socket handshake
carries, and what it proves once checked.

A token is a device token (``bus_mobile.device.token``, issued by
``/bus_mobile/device/login``) or one of the user's Odoo API keys
(``res.users.apikeys``). Both are Odoo API keys: random, shown once, kept
as a hash under an index, with an expiration date. Nothing here stores or
hashes anything; the models do, with Odoo's own machinery.

A refused token raises :class:`BearerTokenError`, whose text starts with a
reason an app can act on (``INVALID_TOKEN: ...``): HTTP answers 401 with it
in the JSON-RPC error, the socket handshake an empty 401 with it in
``X-Bus-Mobile-Error``, an open socket closes with 4001 and the reason.
"""

import dataclasses
import re

from odoo.exceptions import AccessDenied

# RFC 6750 ``b64token``; the length is bounded before any lookup or hash.
BEARER_RE = re.compile(r"bearer[ \t]+([A-Za-z0-9._~+/-]+=*)[ \t]*", re.IGNORECASE)
MAX_TOKEN_CHARS = 256

# Scopes of ``bus_mobile.device.token``: a working token, and a revoked one
# (kept, with its hash, until Odoo's daily clean-up of expired keys, so that
# an app presenting it learns it was revoked).
DEVICE_SCOPE = "bus_mobile.device"
REVOKED_SCOPE = "bus_mobile.revoked"

INVALID_TOKEN = "INVALID_TOKEN"
TOKEN_EXPIRED = "TOKEN_EXPIRED"
TOKEN_REVOKED = "TOKEN_REVOKED"
USER_ARCHIVED = "USER_ARCHIVED"
USER_MISMATCH = "USER_MISMATCH"
DEVICE_MISMATCH = "DEVICE_MISMATCH"
# Socket tickets (``bus_mobile.socket.ticket``): the bearer token of web
# builds, whose WebSocket cannot carry an Authorization header.
INVALID_TICKET = "INVALID_TICKET"
TICKET_AND_BEARER = "TICKET_AND_BEARER"

# What each reason tells the app (no token, no user name: these go to
# clients, and the handshake's end up in proxies' logs).
EXPLANATIONS = {
    INVALID_TOKEN: "the bearer token is not known here: sign in again",
    TOKEN_EXPIRED: "the bearer token expired: sign in again",
    TOKEN_REVOKED: "the bearer token was revoked (signed out, password changed, "
    "device removed or account archived): sign in again",
    USER_ARCHIVED: "the account is archived: an administrator must restore it "
    "(an API key works again then; a device token never does)",
    USER_MISMATCH: "the session cookie and the bearer token are of different users: "
    "send one of them",
    DEVICE_MISMATCH: "this device token belongs to another device_uuid: "
    "connect with the device_uuid it was issued for",
    INVALID_TICKET: "the socket ticket is unknown, already used or expired: "
    "get a new one from /bus_mobile/socket/ticket",
    TICKET_AND_BEARER: "the handshake carries a socket ticket and an Authorization header: "
    "send one of them",
}


class BearerTokenError(AccessDenied):
    """A bearer token refused. ``reason`` is one of the constants above;
    the text is ``"<REASON>: <explanation>"``."""

    def __init__(self, reason):
        super().__init__(f"{reason}: {EXPLANATIONS[reason]}")
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class BearerIdentity:
    """Who a valid bearer token is, and which key it is: a socket opened
    with it stays tied to that key (``model``, ``key_id``), checked again
    as sessions are and closed when the key is revoked."""

    model: str
    key_id: int
    uid: int
    # Device tokens only: the device row they were issued for.
    device_id: int | None = None
    device_uuid: str | None = None

    @property
    def is_device_token(self):
        return self.device_id is not None

    def channel(self, db):
        """The bus channel of the key (as ``channel_with_db`` makes it for
        the key's record): revocation notifies it, its sockets listen."""
        return (db, self.model, self.key_id)


def bearer_token(headers):
    """The token of an ``Authorization: Bearer`` header; ``None`` without
    such a header (another scheme, such as Basic, is not ours to judge).

    :raise BearerTokenError: a Bearer header that cannot hold a token
    """
    header = headers.get("Authorization")
    if not header or header.lstrip()[:6].lower() != "bearer":
        return None
    match = BEARER_RE.fullmatch(header.strip())
    if not match or len(match.group(1)) > MAX_TOKEN_CHARS:
        raise BearerTokenError(INVALID_TOKEN)
    return match.group(1)
