"""The client's errors: what went wrong, and (for the socket's refusals and
closes) the one-line cause and fix of :mod:`.explain`, so that a failure
reads the same in an app's log, in the ``bus-mobile`` command and in
``diagnose``."""

from .explain import close_cause, handshake_cause

# The mobile socket's route: where a handshake is said to have gone when
# the caller names no other path.
MOBILE_SOCKET_PATH = "/bus_mobile/websocket"


class BusMobileError(Exception):
    """Base of the client's errors."""


class ServerUnavailable(BusMobileError):
    """Network error or HTTP 5xx: worth retrying later. ``handshake`` is the
    :class:`HandshakeError` when the socket handshake got an HTTP error."""

    def __init__(self, message, handshake=None):
        self.handshake = handshake
        super().__init__(message)


class HttpError(BusMobileError):
    """An HTTP answer that is not JSON-RPC (404: route missing, ...)."""

    def __init__(self, status, url, body=""):
        self.status, self.url, self.body = status, url, body
        super().__init__(f"HTTP {status} on {url}: {body[:200]}")


class RpcError(BusMobileError):
    """Odoo's JSON-RPC error object: ``name`` is the exception's dotted name."""

    def __init__(self, route, name, message):
        self.route, self.name, self.message = route, name, message
        super().__init__(f"{route}: {name}: {message}")

    @property
    def short_name(self):
        return self.name.rsplit(".", 1)[-1]


class AuthenticationFailed(BusMobileError):
    """Login refused: wrong login/password, unknown database, or MFA."""


class TotpRequired(AuthenticationFailed):
    """The account has two-factor authentication: call
    :meth:`MobileBusClient.device_login` again with ``totp_code``."""


class TokenRefused(BusMobileError):
    """The server refused the bearer token (HTTP 401): ``reason`` is
    ``INVALID_TOKEN``, ``TOKEN_EXPIRED``, ``TOKEN_REVOKED`` or
    ``USER_MISMATCH``. Sign in again."""

    def __init__(self, route, reason, message):
        self.route, self.reason, self.message = route, reason, message
        super().__init__(f"{route}: {message}")


class SessionExpiredError(BusMobileError):
    """The session is not valid and a new login did not help (or was not possible)."""


class HandshakeError(BusMobileError):
    """The socket handshake was refused for good (400, 403, 404, ...)."""

    def __init__(self, status, headers=None, body=None, path=MOBILE_SOCKET_PATH):
        self.status, self.headers, self.body = status, headers or {}, body
        self.cause, self.fix = handshake_cause(status, self.headers, body, path)
        super().__init__(f"{self.cause}. Fix: {self.fix}")


class ClosedError(BusMobileError):
    """The server closed the socket on purpose (1000): no reconnect."""

    def __init__(self, code, reason=""):
        self.code, self.reason = code, reason
        self.cause, self.fix = close_cause(code, reason)
        super().__init__(f"{self.cause}. Fix: {self.fix}")
