"""JSON-RPC over HTTP: one POST per call, carrying the client's credentials
(:mod:`.auth`), every failure turned into one of :mod:`.errors`. What is
worth retrying (a network error, a 5xx, the server's database restarting)
is :class:`.ServerUnavailable`; :meth:`JsonRpcMixin.retrying` retries it.
"""

import http.cookiejar
import time

import requests

from .errors import (
    HttpError,
    RpcError,
    ServerUnavailable,
    SessionExpiredError,
    TokenRefused,
)

SESSION_EXPIRED_NAME = "odoo.http.SessionExpiredException"
# JSON-RPC errors of the server's database driver (a database restarting).
DATABASE_ERROR_PREFIX = "psycopg2."


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie, request):
        return False


def http_session(user_agent):
    """The ``requests`` session of one client. The session cookie is kept
    by hand (``session_id``), not by a cookie jar: a jar may hold two
    ``session_id`` for one host (set by hand and by the server), and an app
    stores it explicitly anyway."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    session.cookies.set_policy(_NoCookies())
    return session


class JsonRpcMixin:
    """The calls of :class:`.MobileBusClient` (its ``url``, ``http``,
    ``timeout``, ``session_id``, ``token``, ``backoff``)."""

    def rpc(self, route, **params):
        """Call a JSON-RPC route; ``None`` params are left out. An expired
        session is renewed once with the stored credentials."""
        params = {key: value for key, value in params.items() if value is not None}
        sent = self._credential()
        try:
            return self._jsonrpc(route, params)
        except (SessionExpiredError, TokenRefused):
            # Another thread signed in since this call left: use that session.
            if self._credential() == sent:
                if not self.can_login:
                    raise
                self._relogin()
            return self._jsonrpc(route, params)

    def retrying(self, call, give_up_after=120.0):
        """``call()`` again after network errors and server outages, with the
        backoff, until it succeeds or ``give_up_after`` seconds pass.
        Returns ``(result, attempts)``."""
        deadline = time.monotonic() + give_up_after
        attempt = 0
        while True:
            try:
                return call(), attempt + 1
            except ServerUnavailable:
                if time.monotonic() >= deadline:
                    raise
                delay = self.backoff.delay(attempt, rand=self.rand)
                attempt += 1
                time.sleep(min(delay, max(deadline - time.monotonic(), 0)))

    def _jsonrpc(self, route, params, auth=True):
        self._rpc_id += 1
        payload = {"jsonrpc": "2.0", "method": "call", "params": params, "id": self._rpc_id}
        url = self.url + route
        headers = self._auth_headers() if auth else {}
        try:
            response = self.http.post(url, json=payload, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ServerUnavailable(f"{route}: {exc.__class__.__name__}: {exc}") from exc
        # Odoo sets the cookie on login and when it rotates the session.
        if not self.token:
            self.session_id = response.cookies.get("session_id") or self.session_id
        if response.status_code >= 500:
            raise ServerUnavailable(f"{route}: HTTP {response.status_code}")
        if response.status_code == 401:
            raise self._token_refused(route, response)
        if response.status_code == 404 and self.server_config is not None:
            # The server answered /bus_mobile/config before: Odoo answers 404
            # to every route of a database it cannot reach (PostgreSQL
            # restarting), and logs the session out; both pass.
            raise ServerUnavailable(f"{route}: HTTP 404, the server's database is unreachable")
        if response.status_code != 200:
            raise HttpError(response.status_code, url, response.text)
        try:
            body = response.json()
        except ValueError as exc:
            raise HttpError(200, url, f"not JSON-RPC: {response.text[:200]}") from exc
        error = body.get("error")
        if error:
            data = error.get("data") or {}
            name = data.get("name") or error.get("message", "")
            message = data.get("message") or error.get("message", "")
            if name == SESSION_EXPIRED_NAME:
                raise SessionExpiredError(f"{route}: the session expired ({message})")
            if name.startswith(DATABASE_ERROR_PREFIX):
                # The server's database failed (restarting): worth retrying.
                raise ServerUnavailable(f"{route}: {name}: {message[:200]}")
            raise RpcError(route, name, message)
        return body.get("result")

    @staticmethod
    def _token_refused(route, response):
        try:
            message = response.json()["error"]["data"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        return TokenRefused(route, message.split(":", 1)[0], message)
