"""Helpers of the sign-in tests: JSON-RPC with or without a cookie and a
bearer token, a device login, a real TOTP code."""

import base64
import json
import os
import time

import requests

from odoo.addons.auth_totp.models.totp import TIMESTEP, hotp

from .common import RpcMixin

ACCESS_DENIED = "odoo.exceptions.AccessDenied"
BEARER_ERROR = "odoo.addons.bus_mobile.tools.bearer.BearerTokenError"
SESSION_EXPIRED = "odoo.http.SessionExpiredException"
VALIDATION = "odoo.exceptions.ValidationError"
MISSING = "odoo.exceptions.MissingError"
USER_ERROR = "odoo.exceptions.UserError"
ACCESS_ERROR = "odoo.exceptions.AccessError"


def totp_code(secret, at=None):
    """The code an authenticator app shows for the base32 ``secret``."""
    key = base64.b32decode(secret.replace(" ", "").upper())
    counter = int((time.time() if at is None else at) // TIMESTEP)
    return f"{hotp(key, counter):06d}"


def new_totp_secret():
    return base64.b32encode(os.urandom(20)).decode()


class AuthCallsMixin(RpcMixin):
    """For HttpCase subclasses: calls that never reuse the test's cookies
    unless asked to (``cookie``, a ``session_cookie()``)."""

    def call(self, route, params=None, token=None, cookie=None, authorization=None):
        """POST a JSON-RPC call; return ``(status, result, error)``."""
        # The server reads the database, not this test's ORM cache.
        self.env.flush_all()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if authorization is not None:
            headers["Authorization"] = authorization
        if cookie is not None:
            headers["Cookie"] = cookie
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params or {}}
        response = requests.post(
            f"{self.base_url()}{route}", data=json.dumps(payload), headers=headers, timeout=30
        )
        body = response.json()
        return response.status_code, body.get("result"), body.get("error")

    def result(self, route, params=None, **kw):
        status, result, error = self.call(route, params, **kw)
        self.assertEqual(status, 200, error)
        self.assertIsNone(error)
        return result

    def assert_error(self, name, route, params=None, status=200, reason=None, **kw):
        """The call fails with HTTP ``status`` and Odoo's ``name`` error (see
        ``check_rpc_error``), its message starting with ``reason`` if given."""
        code, _result, error = self.call(route, params, **kw)
        self.assertEqual(code, status, error)
        message = self.check_rpc_error(error, name)
        if reason:
            self.assertTrue(message.startswith(f"{reason}: "), message)
        return error

    def device_login(self, login, password=None, device_uuid="phone-1", **kw):
        params = {
            "db": self.env.cr.dbname,
            "login": login,
            "password": login if password is None else password,
            "device_uuid": device_uuid,
            "platform": "ios",
            "app_version": "2.0.0",
        }
        params.update(kw)
        return self.result("/bus_mobile/device/login", params)

    def device_token(self, login, device_uuid="phone-1", **kw):
        answer = self.device_login(login, device_uuid=device_uuid, **kw)
        self.assertFalse(answer["totp_required"])
        return answer["token"]

    def api_key(self, user):
        """A global (scope-less) API key of ``user``, as the Preferences
        wizard makes one."""
        return self.env["res.users.apikeys"].with_user(user).sudo()._generate(None, "test", None)
