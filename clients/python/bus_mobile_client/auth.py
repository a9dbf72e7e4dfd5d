"""Signing in and out, and the credentials every request carries.

Three ways, as apps do: a device token from ``/bus_mobile/device/login``
(two-factor accounts included) or an API key, sent as ``Authorization:
Bearer``; or Odoo's session cookie from ``/web/session/authenticate``. With
a stored password, an expired session or a refused token is renewed once
(:meth:`AuthMixin._relogin`). How the ``bus-mobile`` command picks its
credentials is :mod:`.signin`'s.
"""

import uuid

from ._version import __version__
from .errors import AuthenticationFailed, RpcError, TotpRequired


class AuthMixin:
    """The sign-in of :class:`.MobileBusClient` (its ``db``, ``login``,
    ``password``, ``token``, ``session_id``, ``device_uuid``)."""

    @property
    def can_login(self):
        return bool(self.db and self.login and self.password is not None)

    def authenticate(self):
        """Log in (``/web/session/authenticate``); returns Odoo's session info."""
        if not self.can_login:
            raise AuthenticationFailed("no database/login/password to log in with")
        # A stale cookie would make Odoo route the login to its database.
        self.session_id = None
        params = {"db": self.db, "login": self.login, "password": self.password}
        try:
            info = self._jsonrpc("/web/session/authenticate", params)
        except RpcError as exc:
            if exc.short_name == "AccessDenied":
                raise AuthenticationFailed(
                    f"wrong login or password for {self.login!r} on database {self.db!r}"
                ) from exc
            raise AuthenticationFailed(f"login refused: {exc.name}: {exc.message}") from exc
        if not info or not info.get("uid"):
            raise AuthenticationFailed(
                f"login of {self.login!r} returned no user (multi-factor authentication?)"
            )
        self.session_info = info
        return info

    def device_login(self, totp_code=None, platform="other", app_version=__version__):
        """Sign this device in (``/bus_mobile/device/login``): keeps the
        device token (:attr:`token`), which replaces the password and the
        cookie from then on. Store it safely; it is shown once.

        :raises TotpRequired: a two-factor account and no ``totp_code``:
            call again with the code of the user's authenticator app
        :raises AuthenticationFailed: wrong login, password or code, or
            Odoo's login cooldown after repeated failures
        """
        if not self.can_login:
            raise AuthenticationFailed("no database/login/password to sign in with")
        self.device_uuid = self.device_uuid or str(uuid.uuid4())
        params = {
            "db": self.db,
            "login": self.login,
            "password": self.password,
            "device_uuid": self.device_uuid,
            "platform": platform,
            "app_version": app_version,
        }
        if totp_code is not None:
            params["totp_code"] = str(totp_code)
        try:
            answer = self._jsonrpc("/bus_mobile/device/login", params, auth=False)
        except RpcError as exc:
            if exc.short_name == "AccessDenied":
                wrong = "login, password or code" if totp_code is not None else "login or password"
                raise AuthenticationFailed(
                    f"wrong {wrong} for {self.login!r} on database {self.db!r} "
                    f"(the server said: {exc.message})"
                ) from exc
            raise
        if answer.get("totp_required"):
            raise TotpRequired(
                f"{self.login!r} uses two-factor authentication: call device_login(totp_code=...)"
            )
        self.token, self.session_id = answer["token"], None
        self.sign_in_info = {k: v for k, v in answer.items() if k != "token"}
        return self.sign_in_info

    def sign_out(self):
        """Sign this device out (``/bus_mobile/device/logout``): its token
        stops working, its sockets close; then close this client."""
        try:
            return self._jsonrpc(
                "/bus_mobile/device/logout",
                {} if self.token else {"device_uuid": self.device_uuid},
            )
        finally:
            self.token = None
            self.close()

    def _relogin(self):
        if self.token is not None:
            self.device_login()
        else:
            self.authenticate()
        self.stats["reauths"] += 1

    def _credential(self):
        """What requests and the socket carry now: the token, else the session."""
        return self.token or self.session_id

    def _auth_headers(self):
        """The one place credentials go out: the token, else the cookie."""
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.session_id:
            return {"Cookie": f"session_id={self.session_id}"}
        return {}

    # -- this device's record (its push token) ----------------------------

    def register_device(self, platform="other", app_version=__version__, push_token=None):
        return self.rpc(
            "/bus_mobile/device/register",
            device_uuid=self.device_uuid,
            platform=platform,
            app_version=app_version,
            push_token=push_token,
        )

    def unregister_device(self):
        return self.rpc("/bus_mobile/device/unregister", device_uuid=self.device_uuid)
