"""One-line causes and fixes for what a server answers a mobile client.

Shared by the client (its error messages) and ``diagnose`` (its report), so
that a failure reads the same wherever it shows up.
"""

import re

REFUSAL_HEADER = "x-bus-mobile-error"
OUTDATED_VERSION = "OUTDATED_VERSION"
# Why the server refuses a bearer token (HTTP 401, the socket's
# X-Bus-Mobile-Error, or the reason of a 4001 close).
TOKEN_REASONS = (
    "INVALID_TOKEN",
    "TOKEN_EXPIRED",
    "TOKEN_REVOKED",
    "USER_ARCHIVED",
    "USER_MISMATCH",
    "DEVICE_MISMATCH",
)
USER_ARCHIVED = "USER_ARCHIVED"
# A new device_uuid when every device of the user has an open socket
# (bus_mobile.max_devices_per_user): a 403 at the handshake, a 1008 close
# for a socket that lost the race, a JSON-RPC UserError at sign-in.
TOO_MANY_DEVICES = "TOO_MANY_DEVICES"
# The user holds bus_mobile.max_sockets_per_user open sockets in the worker:
# a 429 at the handshake, a 1013 close for handshakes at the same moment.
TOO_MANY_SOCKETS = "TOO_MANY_SOCKETS"


def _text(body):
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


# What Odoo answers a socket request whose Upgrade/Connection headers a proxy
# dropped: its own handshake check, or (werkzeug 2.2, Odoo 18's pin) the
# routing's WebsocketMismatch, a 400 with werkzeug's generic text. A request
# that reached Odoo with its Upgrade header gets an empty 400 body instead.
_UPGRADE_MISSING = re.compile(
    r"missing header\(s\):.*(upgrade|connection)|sent a request that this server could not",
    re.I | re.S,
)

_BY_STATUS = {
    200: (
        "HTTP 200 instead of 101: something answered the socket request as a "
        "plain page (a proxy without WebSocket support, or a catch-all route)",
        "route {path} to Odoo with the Upgrade headers passed (see README, Proxies)",
    ),
    400: (
        "HTTP 400 on the socket handshake: {text!r}",
        "send the WebSocket handshake headers; a proxy must pass them all",
    ),
    403: ("HTTP 403: the server refused the socket", "check the Origin header and proxy rules"),
    404: ("HTTP 404 on {path}: no such route", "check the URL and the database"),
    500: (
        "HTTP 500 on the socket handshake: with --workers=N the request reached a "
        "prefork HTTP worker, which 'Couldn't bind the websocket'",
        "route {path} to Odoo's gevent port (--gevent-port, 8072 by default), "
        "not to the HTTP port",
    ),
}
_GATEWAY = (
    "HTTP {status} from a proxy: it cannot reach Odoo (down, restarting, or "
    "the gevent port is not running)",
    "start Odoo, and check that the proxy's upstream for sockets is the gevent port",
)
_OTHER = (
    "HTTP {status} instead of 101 on the socket handshake: {text!r}",
    "check the URL and the proxy in front of Odoo",
)
_REFUSED = (
    "the server refused the socket: {refusal}",
    "connect without an Origin header (native apps) or list the origin "
    "in the system parameter bus_mobile.allowed_origins",
)
_TOKEN_REFUSED = (
    "the server refused the bearer token: {refusal}",
    "sign in again (/bus_mobile/device/login gives a new device token), or use "
    "another API key; send the cookie or the token of one user only",
)
_TOO_MANY_CONNECTIONS = (
    "the server refused the socket: {refusal}",
    "reconnect with a backoff (at least the Retry-After delay); many apps "
    "sharing one session or one API key open their sockets from one bucket",
)
_TOO_MANY_SOCKETS = (
    "the server refused the socket: {refusal}",
    "close the sockets this account no longer uses (one per app is enough) and "
    "retry after Retry-After, or raise bus_mobile.max_sockets_per_user for an "
    "account that many scripts share",
)
_USER_ARCHIVED = (
    "the server refused the API key: {refusal}",
    "an administrator restores the user (the key then works again), or use "
    "another account's key",
)
_TOO_MANY_DEVICES = (
    "the server refused the socket: {refusal}",
    "every device of this account has an open socket: keep one device_uuid per "
    "install across launches, close the app on another device, or remove one "
    "in the user's preferences (bus_mobile.max_devices_per_user)",
)
_PROXY_STRIPS_UPGRADE = (
    "HTTP 400 with a body: Odoo got the socket request without its "
    "Upgrade/Connection headers, so a proxy between the client and Odoo does "
    "not pass the Upgrade/Connection headers",
    "in the proxy, forward 'Upgrade' and 'Connection: upgrade' "
    "(nginx: proxy_http_version 1.1 and proxy_set_header Upgrade/Connection)",
)
_ADDON_MISSING = (
    "HTTP 404 on {path}: the bus_mobile addon is not installed in this database",
    "install 'Mobile Bus' (bus_mobile) from Apps, or check the database name",
)


def handshake_cause(status, headers=None, body=None, path="/bus_mobile/websocket"):
    """``(cause, fix)`` for a WebSocket handshake answered with HTTP
    ``status`` instead of ``101 Switching Protocols``."""
    headers = {key.lower(): value for key, value in (headers or {}).items()}
    text = _text(body)[:160]
    refusal = headers.get(REFUSAL_HEADER)
    reason = refusal.split(":", 1)[0] if refusal else None
    if reason == USER_ARCHIVED:
        template = _USER_ARCHIVED
    elif reason in TOKEN_REASONS:
        template = _TOKEN_REFUSED
    elif reason == TOO_MANY_DEVICES:
        template = _TOO_MANY_DEVICES
    elif reason == TOO_MANY_SOCKETS:
        template = _TOO_MANY_SOCKETS
    elif refusal and refusal.startswith("TOO_MANY_CONNECTIONS"):
        template = _TOO_MANY_CONNECTIONS
    elif refusal:
        template = _REFUSED
    elif status == 400 and _UPGRADE_MISSING.search(_text(body)):
        template = _PROXY_STRIPS_UPGRADE
    elif status == 404 and path.startswith("/bus_mobile/"):
        template = _ADDON_MISSING
    elif status in (502, 503, 504):
        template = _GATEWAY
    else:
        template = _BY_STATUS.get(status, _OTHER)
    values = {"status": status, "path": path, "text": text, "refusal": refusal}
    return tuple(part.format(**values) for part in template)


def _session_close_cause(reason):
    """A 4001: a session that ended, or a bearer token that stopped working."""
    if reason == USER_ARCHIVED:
        return (
            f"closed 4001 {reason}: the account of this API key was archived",
            _USER_ARCHIVED[1],
        )
    if reason in TOKEN_REASONS:
        return (
            f"closed 4001 {reason}: the bearer token no longer works (the device was "
            "signed out, the password changed, the key was removed or expired)",
            "sign in again with /bus_mobile/device/login and reconnect with the new token",
        )
    return (
        "closed 4001 SESSION_EXPIRED: the session cookie is missing, logged out or expired",
        "log in again with /web/session/authenticate and reconnect with the new cookie",
    )


_BY_CLOSE_CODE = {
    1013: (
        "closed 1013 (try again later): the server is out of database connections "
        "or the client sent frames too fast",
        "reconnect with a backoff; send fewer frames",
    ),
    1001: ("closed 1001: the server is going away (restart)", "reconnect with a backoff"),
}
# Closes whose reason says more than their code.
_BY_CLOSE_CODE_AND_REASON = {
    (1008, TOO_MANY_DEVICES): (
        f"closed 1008 {TOO_MANY_DEVICES}: another new device of this account took the "
        "last free place (bus_mobile.max_devices_per_user)",
        _TOO_MANY_DEVICES[1],
    ),
    (1013, TOO_MANY_SOCKETS): (
        f"closed 1013 {TOO_MANY_SOCKETS}: this account's open sockets reached "
        "bus_mobile.max_sockets_per_user on this server",
        _TOO_MANY_SOCKETS[1],
    ),
}


def close_cause(code, reason=""):
    """``(cause, fix)`` for a socket the server closed with ``code``."""
    if code == 1000 and reason == OUTDATED_VERSION:
        return (
            "closed 1000 OUTDATED_VERSION: stock /websocket closes clients with a "
            "browser-like User-Agent and no ?version= (the bus module IS installed)",
            "use /bus_mobile/websocket, or /websocket?version=<worker_version from "
            "/bus_mobile/config>",
        )
    if code == 4001:
        return _session_close_cause(reason)
    if (code, reason) in _BY_CLOSE_CODE_AND_REASON:
        return _BY_CLOSE_CODE_AND_REASON[code, reason]
    if code in _BY_CLOSE_CODE:
        return _BY_CLOSE_CODE[code]
    if code in (None, 1006):
        return (
            "the connection dropped without a close frame (network, proxy timeout, "
            "server killed)",
            "reconnect with a backoff; behind a proxy raise its read timeout",
        )
    return (f"closed {code} {reason}".rstrip(), "reconnect with a backoff")
