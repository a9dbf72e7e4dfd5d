import datetime
import gc
import secrets

from odoo import fields
from odoo.exceptions import AccessDenied, AccessError
from odoo.tests import HttpCase, tagged

from .auth_common import (
    ACCESS_DENIED,
    BEARER_ERROR,
    MISSING,
    SESSION_EXPIRED,
    USER_ERROR,
    VALIDATION,
    AuthCallsMixin,
    new_totp_secret,
    totp_code,
)
from .common import make_test_user

# Each JSON route with parameters that pass its checks where it needs any
# (a refusal must come from the auth, never from a missing parameter).
DEVICE = "phone-1"


@tagged("post_install", "-at_install")
class TestDeviceSignIn(AuthCallsMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = make_test_user(cls.env, login="auth_alice", password="auth_alice")
        cls.bob = make_test_user(cls.env, login="auth_bob", password="auth_bob")
        cls.portal = make_test_user(
            cls.env, login="auth_portal", password="auth_portal", groups="base.group_portal"
        )
        cls.admin = cls.env.ref("base.user_admin")
        cls.Token = cls.env["bus_mobile.device.token"]

    def setUp(self):
        super().setUp()
        # Odoo's login cooldown counts failures per registry and address:
        # every test starts from none and leaves none.
        self.addCleanup(self._clear_login_failures)
        self._clear_login_failures()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        # Sockets of these tests left to the garbage collector close now, not
        # in the middle of a later test that counts descriptors.
        gc.collect()

    def _clear_login_failures(self):
        failures = getattr(self.env.registry, "_login_failures", None)
        if failures is not None:
            failures.clear()

    def device(self, user, device_uuid=DEVICE):
        return self.env["bus_mobile.device"].search(
            [("user_id", "=", user.id), ("device_uuid", "=", device_uuid)]
        )

    def token_record(self, user, device_uuid=DEVICE):
        return self.Token.search(
            [
                ("device_id", "=", self.device(user, device_uuid).id),
                ("scope", "=", "bus_mobile.device"),
            ]
        )

    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------

    def _mobile_routes(self):
        """Every /bus_mobile/ route of the routing map: {path: routing}."""
        routes = {}
        for rule in self.env["ir.http"].routing_map().iter_rules():
            if rule.rule.startswith("/bus_mobile/") and "<" not in rule.rule:
                routes[rule.rule] = rule.endpoint.routing
        return routes

    def test_every_route_has_an_explicit_auth_that_takes_bearer_tokens(self):
        routes = self._mobile_routes()
        self.assertGreaterEqual(len(routes), 18)
        self.assertEqual(routes["/bus_mobile/device/login"]["auth"], "public")
        self.assertEqual(routes["/bus_mobile/websocket"]["auth"], "public")
        # Operations: scrapes carry a token of their own, probes nothing.
        self.assertEqual(routes["/bus_mobile/metrics"]["auth"], "none")
        self.assertEqual(routes["/bus_mobile/health"]["auth"], "none")
        others = {
            p: r["auth"]
            for p, r in routes.items()
            if p
            not in (
                "/bus_mobile/device/login",
                "/bus_mobile/websocket",
                "/bus_mobile/metrics",
                "/bus_mobile/health",
            )
        }
        self.assertEqual(set(others.values()), {"bus_mobile"}, others)

    def test_bearer_on_every_route_with_both_kinds_of_token(self):
        device_token = self.device_token("auth_alice")
        api_key = self.api_key(self.alice)
        routes = self._mobile_routes()
        json_routes = sorted(
            p
            for p, r in routes.items()
            if r["type"] == "json"
            and p not in ("/bus_mobile/device/login", "/bus_mobile/device/logout")
        )
        for token in (device_token, api_key):
            for route in json_routes:
                with self.subTest(route=route, token=token[:4]):
                    status, _result, error = self.call(route, {}, token=token)
                    self.assertEqual(status, 200, error)
                    # Missing parameters may be refused; the caller may not.
                    if error:
                        self.assertNotIn(
                            error["data"]["name"], (SESSION_EXPIRED, ACCESS_DENIED, BEARER_ERROR)
                        )
                    # And without any credential, the same route refuses.
                    _s, _r, anonymous = self.call(route, {})
                    self.assertEqual(anonymous["data"]["name"], SESSION_EXPIRED)
            config = self.result("/bus_mobile/config", token=token)
            self.assertEqual(config["user"]["id"], self.alice.id)
            # The playground page, an HTTP route, too.
            page = self.url_open(
                "/bus_mobile/playground",
                headers={"Authorization": f"Bearer {token}"},
                allow_redirects=False,
            )
            self.assertEqual(page.status_code, 200)
        # Logout last: it signs the device out.
        self.assertTrue(self.result("/bus_mobile/device/logout", token=device_token)["signed_out"])

    def test_calls_act_as_the_token_user(self):
        token = self.device_token("auth_alice")
        channel = self.result(
            "/bus_mobile/channel/create",
            {"name": "via token", "channel_type": "private", "partner_ids": []},
            token=token,
        )
        record = self.env["bus_mobile.channel"].browse(channel["id"])
        self.assertEqual(record.create_uid, self.alice)
        posted = self.result(
            "/bus_mobile/message/post",
            {"channel_id": channel["id"], "body": "hi", "client_uuid": "c-1"},
            token=token,
        )
        self.assertEqual(posted["author_id"], self.alice.partner_id.id)

    # ------------------------------------------------------------------
    # Login
    # ------------------------------------------------------------------

    def test_login_returns_a_token_bound_to_the_device(self):
        answer = self.device_login("auth_alice")
        self.assertFalse(answer["totp_required"])
        self.assertEqual(answer["token_type"], "Bearer")
        self.assertRegex(answer["token"], r"^[0-9a-f]{40}$")
        self.assertEqual(answer["user"]["id"], self.alice.id)
        self.assertEqual(answer["device"]["device_uuid"], DEVICE)
        self.assertEqual(answer["device"]["platform"], "ios")
        self.assertEqual(answer["device"]["app_version"], "2.0.0")
        token = self.token_record(self.alice)
        self.assertEqual(len(token), 1)
        self.assertEqual(token.user_id, self.alice)
        expected = fields.Datetime.now() + datetime.timedelta(days=90)
        self.assertAlmostEqual(token.expiration_date, expected, delta=datetime.timedelta(hours=1))
        self.assertTrue(self.device(self.alice).signed_in)

    def test_login_again_on_the_same_device_revokes_the_first_token(self):
        first = self.device_token("auth_alice")
        second = self.device_token("auth_alice")
        self.assertNotEqual(first, second)
        self.assert_error(
            BEARER_ERROR, "/bus_mobile/config", token=first, status=401, reason="TOKEN_REVOKED"
        )
        self.result("/bus_mobile/config", token=second)
        self.assertEqual(len(self.token_record(self.alice)), 1)

    def test_portal_user_signs_in(self):
        token = self.device_token("auth_portal")
        config = self.result("/bus_mobile/config", token=token)
        self.assertEqual(config["user"]["id"], self.portal.id)

    def test_wrong_password_is_access_denied(self):
        self.assert_error(
            ACCESS_DENIED,
            "/bus_mobile/device/login",
            {"login": "auth_alice", "password": "nope", "device_uuid": DEVICE, "platform": "ios"},
        )
        self.assertFalse(self.device(self.alice), "no device for a failed login")

    def test_login_checks_its_input_before_the_password(self):
        good = {
            "login": "auth_alice",
            "password": "auth_alice",
            "device_uuid": DEVICE,
            "platform": "ios",
        }
        cases = [
            {"db": "another_db"},
            {"login": 42},
            {"login": None},
            {"login": "x" * 1000},
            {"password": ["auth_alice"]},
            {"password": None},
            {"device_uuid": "bad uuid!"},
            {"device_uuid": None},
            {"platform": "symbian"},
            {"app_version": {"v": 1}},
            {"totp_code": "12ab56"},
            {"totp_code": True},
            {"totp_code": 10**12},
            {"totp_code": "1" * 100},
        ]
        for case in cases:
            with self.subTest(case=case):
                self.assert_error(VALIDATION, "/bus_mobile/device/login", dict(good, **case))
        self.assertFalse(getattr(self.env.registry, "_login_failures", {}).get("127.0.0.1"))

    def test_login_cooldown_after_repeated_failures(self):
        """Odoo's own cooldown (base.login_cooldown_after failures, then
        base.login_cooldown_duration seconds): shared with the web login,
        so neither is a faster way to guess passwords."""
        # Odoo's defaults: 10 failures, then 60 s.
        after = int(self.env["ir.config_parameter"].get_param("base.login_cooldown_after"))
        self.assertGreater(after, 0)
        wrong = {
            "login": "auth_alice",
            "password": "wrong",
            "device_uuid": DEVICE,
            "platform": "ios",
        }
        for _attempt in range(after):
            error = self.assert_error(ACCESS_DENIED, "/bus_mobile/device/login", wrong)
            self.assertNotIn("Too many", error["data"]["message"])
        # Now even the right password is refused, here and on the web login.
        error = self.assert_error(
            ACCESS_DENIED, "/bus_mobile/device/login", dict(wrong, password="auth_alice")
        )
        self.assertIn("Too many login failures", error["data"]["message"])
        _s, _result, error = self.call(
            "/web/session/authenticate",
            {"db": self.env.cr.dbname, "login": "auth_alice", "password": "auth_alice"},
        )
        self.assertIn("Too many login failures", error["data"]["message"])
        self.assertFalse(self.device(self.alice))
        # Failures on the web login count for the app login too.
        self._clear_login_failures()
        for _attempt in range(after):
            self.call(
                "/web/session/authenticate",
                {"db": self.env.cr.dbname, "login": "auth_alice", "password": "x"},
            )
        error = self.assert_error(
            ACCESS_DENIED, "/bus_mobile/device/login", dict(wrong, password="auth_alice")
        )
        self.assertIn("Too many login failures", error["data"]["message"])

    def test_two_factor_sign_in(self):
        secret = new_totp_secret()
        self.alice.sudo().totp_secret = secret
        self.assertEqual(self.alice._mfa_type(), "totp")
        first = self.device_login("auth_alice")
        self.assertEqual(first, {"totp_required": True})
        self.assertFalse(self.token_record(self.alice), "no token before the code")
        # A wrong code (the next-but-ten window's) is refused and counted.
        wrong = totp_code(secret, at=fields.Datetime.now().timestamp() + 3600)
        self.assert_error(
            ACCESS_DENIED,
            "/bus_mobile/device/login",
            {
                "db": self.env.cr.dbname,
                "login": "auth_alice",
                "password": "auth_alice",
                "device_uuid": DEVICE,
                "platform": "ios",
                "totp_code": wrong,
            },
        )
        self.assertEqual(self.env.registry._login_failures["127.0.0.1"][0], 1)
        # The right password with the right code: a token.
        answer = self.device_login("auth_alice", totp_code=totp_code(secret))
        self.assertFalse(answer["totp_required"])
        self.result("/bus_mobile/config", token=answer["token"])
        # As a number with spaces stripped too (apps send either).
        answer = self.device_login("auth_alice", totp_code=int(totp_code(secret)))
        self.assertTrue(answer["token"])
        # The code never replaces the password.
        self.assert_error(
            ACCESS_DENIED,
            "/bus_mobile/device/login",
            {
                "login": "auth_alice",
                "password": "wrong",
                "device_uuid": DEVICE,
                "platform": "ios",
                "totp_code": totp_code(secret),
            },
        )

    def totp_login(self, secret=None, code=None):
        """``/bus_mobile/device/login`` as Alice with the right password and
        ``code`` (a wrong one by default): the error's message, or None."""
        if code is None:
            code = totp_code(secret, at=fields.Datetime.now().timestamp() + 3600)
        params = {
            "login": "auth_alice",
            "password": "auth_alice",
            "device_uuid": DEVICE,
            "platform": "ios",
            "totp_code": code,
        }
        _status, _result, error = self.call("/bus_mobile/device/login", params)
        return error and error["data"]["message"]

    def test_cooldown_stops_two_factor_code_guesses(self):
        """The reported sequence: 12 wrong codes in a row from one address,
        then the right one. The right password cleared the address's
        failures before each wrong code added one, so Odoo's cooldown never
        started ("Verification failed" 12 times, then a token)."""
        after = int(self.env["ir.config_parameter"].get_param("base.login_cooldown_after"))
        self.assertTrue(0 < after < 12)
        secret = new_totp_secret()
        self.alice.sudo().totp_secret = secret
        answers = [self.totp_login(secret) for _attempt in range(12)]
        self.assertEqual(answers[:after], [answers[0]] * after)
        self.assertIn("Verification failed", answers[0])
        for answer in answers[after:]:
            self.assertIn("Too many login failures", answer)
        self.assertIn("Too many login failures", self.totp_login(code=totp_code(secret)))
        self.assertFalse(self.token_record(self.alice))

    def test_two_factor_failures_are_limited_per_user(self):
        """Odoo's cooldown counts per address and per worker process: codes
        tried from other addresses, or on other workers and nodes, are
        counted per user in the database. (Each try is counted in a
        transaction of its own, which a failed request's rollback keeps in
        production; Odoo's test cursors nest it in the request's, so the
        tries are made here as the other workers made them.)"""
        after = int(self.env["ir.config_parameter"].get_param("base.login_cooldown_after"))
        secret = new_totp_secret()
        alice = self.alice.sudo()
        alice.totp_secret = secret
        wrong = int(totp_code(secret, at=fields.Datetime.now().timestamp() + 3600))
        for attempt in range(after):
            # Not assertRaises: Odoo's rolls a savepoint back around it.
            try:
                alice._bus_mobile_totp_check(wrong)
            except AccessDenied as exc:
                self.assertIn("Verification failed", str(exc))
            else:
                self.fail("a wrong code was accepted")
            alice.invalidate_recordset()
            self.assertEqual(alice.bus_mobile_totp_failures, attempt + 1)
        self.assertFalse(getattr(self.env.registry, "_login_failures", {}))
        # A new address, on a worker that counted nothing: still refused,
        # the right code too, without checking it.
        self.assertIn("Too many login failures", self.totp_login(code=totp_code(secret)))
        self.assertIn("Too many login failures", self.totp_login(secret))
        self._clear_login_failures()
        # Once base.login_cooldown_duration has passed, the right code works
        # and clears the user's count.
        self.env.cr.execute(
            "UPDATE res_users SET bus_mobile_totp_failure_date = "
            "bus_mobile_totp_failure_date - interval '1 day' WHERE id = %s",
            [self.alice.id],
        )
        self.assertIsNone(self.totp_login(code=totp_code(secret)))
        self.assertTrue(self.token_record(self.alice))
        alice.invalidate_recordset()
        self.assertEqual(alice.bus_mobile_totp_failures, 0)

    def test_right_password_alone_does_not_clear_the_address_failures(self):
        """A two-factor user's password without a code ("totp_required")
        is no sign-in: it leaves the address's failure count as it was."""
        secret = new_totp_secret()
        self.alice.sudo().totp_secret = secret
        self.assertIn("Verification failed", self.totp_login(secret))
        self.assertEqual(self.device_login("auth_alice"), {"totp_required": True})
        self.assertEqual(self.env.registry._login_failures["127.0.0.1"][0], 1)
        self.assertIsNone(self.totp_login(code=totp_code(secret)))
        self.assertNotIn("127.0.0.1", self.env.registry._login_failures)

    def test_two_factor_user_can_use_an_api_key(self):
        self.alice.sudo().totp_secret = new_totp_secret()
        self.result("/bus_mobile/config", token=self.api_key(self.alice))

    # ------------------------------------------------------------------
    # Refusals
    # ------------------------------------------------------------------

    def assert_refused(self, reason, route="/bus_mobile/config", **kw):
        error = self.assert_error(BEARER_ERROR, route, status=401, reason=reason, **kw)
        return error

    def test_wrong_and_malformed_tokens(self):
        self.assert_refused("INVALID_TOKEN", token=secrets.token_hex(20))
        # Same index as a real token, wrong rest.
        real = self.device_token("auth_alice")
        self.assert_refused("INVALID_TOKEN", token=real[:8] + secrets.token_hex(16))
        for header in (
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer " + "a" * 300,
            "bearer \x00abc",
            "Bearer\té",
        ):
            with self.subTest(header=header):
                self.assert_refused("INVALID_TOKEN", authorization=header)
        # Another scheme is not ours: the request is simply not signed in.
        self.assert_error(SESSION_EXPIRED, "/bus_mobile/config", authorization="Basic YTpi")

    def test_refusal_is_401_with_www_authenticate(self):
        response = self.url_open(
            "/bus_mobile/config",
            data="{}",
            headers={"Content-Type": "application/json", "Authorization": "Bearer nope-nope"},
        )
        self.assertEqual(response.status_code, 401)
        self.assertIn('error="invalid_token"', response.headers["WWW-Authenticate"])
        self.assertIn("INVALID_TOKEN", response.headers["WWW-Authenticate"])
        self.assertNotIn("nope-nope", response.text, "the token is never echoed")

    def test_expired_token(self):
        token = self.device_token("auth_alice")
        self.token_record(self.alice).sudo().expiration_date = (
            fields.Datetime.now() - datetime.timedelta(minutes=1)
        )
        self.assert_refused("TOKEN_EXPIRED", token=token)
        key = self.api_key(self.alice)
        self.env.cr.execute(
            "UPDATE res_users_apikeys SET expiration_date = now() - interval '1 day'"
            " WHERE user_id = %s",
            [self.alice.id],
        )
        self.assert_refused("TOKEN_EXPIRED", token=key)

    def test_each_use_renews_a_device_token(self):
        self.env["ir.config_parameter"].sudo().set_param("bus_mobile.device_token_days", 5)
        token = self.device_token("auth_alice")
        record = self.token_record(self.alice)
        record.sudo().expiration_date = fields.Datetime.now() + datetime.timedelta(hours=2)
        record.invalidate_recordset()
        # A read-write route (read-only ones renew after their transaction,
        # which a test never commits).
        self.result(
            "/bus_mobile/device/register", {"device_uuid": DEVICE, "platform": "ios"}, token=token
        )
        record.invalidate_recordset()
        self.assertAlmostEqual(
            record.expiration_date,
            fields.Datetime.now() + datetime.timedelta(days=5),
            delta=datetime.timedelta(hours=1),
        )
        # An absurd setting neither overflows nor breaks the route.
        self.env["ir.config_parameter"].sudo().set_param("bus_mobile.device_token_days", 10**9)
        record.sudo().expiration_date = fields.Datetime.now() + datetime.timedelta(hours=2)
        self.result("/bus_mobile/config", token=token)
        self.result(
            "/bus_mobile/device/register", {"device_uuid": DEVICE, "platform": "ios"}, token=token
        )
        record.invalidate_recordset()
        self.assertGreater(
            record.expiration_date, fields.Datetime.now() + datetime.timedelta(days=3000)
        )

    def test_revoked_token(self):
        token = self.device_token("auth_alice")
        self.result("/bus_mobile/device/logout", token=token)
        self.assert_refused("TOKEN_REVOKED", token=token)
        self.assert_refused("TOKEN_REVOKED", "/bus_mobile/device/logout", token=token)
        # Odoo's autovacuum removes it: then it is simply unknown.
        self.env.cr.execute(
            "UPDATE bus_mobile_device_token"
            " SET expiration_date = expiration_date - interval '1 minute'"
        )
        self.Token._gc_user_apikeys()
        self.assert_refused("INVALID_TOKEN", token=token)

    def test_archived_user_token_is_revoked(self):
        """Archiving signs the user's devices out for good: their tokens
        stayed valid in the database and worked again once the user was
        restored, with no new sign-in (and the refusal had told the app
        they were revoked). API keys keep Odoo's behaviour, and say why
        they are refused meanwhile."""
        token = self.device_token("auth_alice")
        self.result(
            "/bus_mobile/device/register",
            {"device_uuid": DEVICE, "platform": "ios", "push_token": "fcm-alice"},
            token=token,
        )
        key = self.api_key(self.alice)
        self.alice.active = False
        self.assert_refused("TOKEN_REVOKED", token=token)
        self.assert_refused("USER_ARCHIVED", token=key)
        self.assertFalse(self.device(self.alice).has_push_token, "no push after a restore")
        self.alice.active = True
        self.assert_refused("TOKEN_REVOKED", token=token)
        self.assertFalse(self.token_record(self.alice))
        self.result("/bus_mobile/config", token=key)
        # A new sign-in gets a new token.
        self.result("/bus_mobile/config", token=self.device_token("auth_alice"))

    def test_api_key_with_a_scope_is_not_a_bearer_token(self):
        key = (
            self.env["res.users.apikeys"]
            .with_user(self.alice)
            .sudo()
            ._generate("rpc-other", "scoped", None)
        )
        self.assert_refused("INVALID_TOKEN", token=key)

    def test_device_token_is_not_an_odoo_api_key(self):
        """A device token opens the mobile routes only: not XML-RPC, nor
        Odoo's own bearer routes."""
        token = self.device_token("auth_alice")
        uid = self.env["res.users.apikeys"]._check_credentials(scope="rpc", key=token)
        self.assertFalse(uid)

    def test_cookie_and_bearer_of_different_users(self):
        token = self.device_token("auth_alice")
        bob_session = self.session_cookie("auth_bob")
        self.assert_refused("USER_MISMATCH", token=token, cookie=bob_session)
        # The same user's cookie and token agree.
        alice_session = self.session_cookie("auth_alice")
        self.assertEqual(
            self.result("/bus_mobile/config", token=token, cookie=alice_session)["user"]["id"],
            self.alice.id,
        )

    def test_another_users_device(self):
        self.device_token("auth_bob", device_uuid="bob-phone")
        alice_token = self.device_token("auth_alice")
        # Alice's token does not sign out Bob's device, with or without its uuid.
        self.assert_error(
            VALIDATION, "/bus_mobile/device/logout", {"device_uuid": "bob-phone"}, token=alice_token
        )
        self.assert_error(
            MISSING,
            "/bus_mobile/device/logout",
            {"device_uuid": "bob-phone"},
            cookie=self.session_cookie("auth_alice"),
        )
        self.assertTrue(self.device(self.bob, "bob-phone").signed_in)
        # Alice signing in with Bob's device_uuid gets a device of her own.
        self.device_token("auth_alice", device_uuid="bob-phone")
        self.assertTrue(self.device(self.bob, "bob-phone").signed_in)
        self.assertEqual(self.device(self.alice, "bob-phone").user_id, self.alice)
        # Bob's backend button is not Alice's to press.
        bob_device = self.device(self.bob, "bob-phone")
        with self.assertRaises(AccessError):
            bob_device.with_user(self.alice).action_bus_mobile_sign_out()
        self.assertTrue(bob_device.signed_in)

    # ------------------------------------------------------------------
    # Sign-out and revocation
    # ------------------------------------------------------------------

    def test_logout_with_the_device_token(self):
        token = self.device_token("auth_alice")
        self.result(
            "/bus_mobile/device/register",
            {"device_uuid": DEVICE, "platform": "ios", "push_token": "push-secret"},
            token=token,
        )
        device = self.device(self.alice)
        device.with_user(self.alice)._bus_mobile_socket_opened(DEVICE, "sock-1")
        self.assertEqual(device.status, "online")
        answer = self.result("/bus_mobile/device/logout", token=token)
        self.assertEqual(answer, {"signed_out": True, "device_uuid": DEVICE})
        device.invalidate_recordset()
        self.assertEqual(device.status, "offline")
        self.assertFalse(device.sudo().push_token, "a signed-out device gets no push")
        self.assertFalse(device.signed_in)
        self.assertTrue(device.exists(), "the device stays listed")

    def test_logout_with_an_api_key_or_a_session(self):
        key = self.api_key(self.alice)
        self.assert_error(USER_ERROR, "/bus_mobile/device/logout", token=key)
        token = self.device_token("auth_alice")
        session = self.session_cookie("auth_alice")
        self.assert_error(VALIDATION, "/bus_mobile/device/logout", cookie=session)
        self.result("/bus_mobile/device/logout", {"device_uuid": DEVICE}, cookie=session)
        self.assert_refused("TOKEN_REVOKED", token=token)

    def test_sign_out_button(self):
        token = self.device_token("auth_alice")
        device = self.device(self.alice)
        # The owner, from their preferences.
        device.with_user(self.alice).action_bus_mobile_sign_out()
        self.assert_refused("TOKEN_REVOKED", token=token)
        # An administrator, on any user.
        token = self.device_token("auth_alice")
        device.with_user(self.admin).action_bus_mobile_sign_out()
        self.assert_refused("TOKEN_REVOKED", token=token)
        self.assertFalse(device.signed_in)

    def test_user_forms_list_devices_with_a_sign_out_button(self):
        self.device_token("auth_alice")
        for view, user in (
            ("base.view_users_form", self.admin),
            ("base.view_users_form_simple_modif", self.alice),
        ):
            with self.subTest(view=view):
                views = (
                    self.env["res.users"]
                    .with_user(user)
                    .get_views([(self.env.ref(view).id, "form")])
                )
                arch = views["views"]["form"]["arch"]
                self.assertIn("action_bus_mobile_sign_out", arch)
                self.assertIn("last_seen", arch)
                self.assertIn("app_version", arch)
        # A user reads their own devices on their preferences form.
        data = self.alice.with_user(self.alice).read(["bus_mobile_my_device_ids"])
        self.assertEqual(len(data[0]["bus_mobile_my_device_ids"]), 1)
        data = self.alice.with_user(self.bob).read(["bus_mobile_my_device_ids"])
        self.assertEqual(data[0]["bus_mobile_my_device_ids"], [], "not another user's")
        with self.assertRaises(AccessError):
            self.alice.with_user(self.bob).read(["bus_mobile_device_ids"])

    def test_password_change_revokes_device_tokens(self):
        token = self.device_token("auth_alice")
        key = self.api_key(self.alice)
        self.alice.password = "a-new-password"
        self.assert_refused("TOKEN_REVOKED", token=token)
        # API keys live on (Odoo does not tie them to the password).
        self.result("/bus_mobile/config", token=key)
        self.device_token("auth_alice", password="a-new-password")

    def test_unregistered_device_token_stops_working(self):
        token = self.device_token("auth_alice")
        self.result("/bus_mobile/device/unregister", {"device_uuid": DEVICE}, token=token)
        self.assert_refused("TOKEN_REVOKED", token=token)

    # ------------------------------------------------------------------
    # No leaks
    # ------------------------------------------------------------------

    def test_tokens_and_hashes_cannot_be_read(self):
        token = self.device_token("auth_alice")
        key = self.api_key(self.alice)
        for model in ("bus_mobile.device.token", "res.users.apikeys"):
            records = self.env[model].with_user(self.admin)
            with self.subTest(model=model):
                rows = records.search_read([("user_id", "=", self.alice.id)])
                self.assertTrue(rows)
                for row in rows:
                    self.assertNotIn("key", row)
                    self.assertNotIn("index", row)
                    for value in row.values():
                        self.assertNotIn(token, str(value))
                        self.assertNotIn(key, str(value))
                        self.assertNotIn(token[:8], str(value))
                for field in ("key", "index"):
                    with self.assertRaises(ValueError):
                        records.search_read([], [field])
                self.assertNotIn("key", records.fields_get())
        # Only Odoo's hash is stored, never the token.
        self.env.cr.execute(
            "SELECT key FROM bus_mobile_device_token WHERE user_id = %s", [self.alice.id]
        )
        (stored,) = self.env.cr.fetchone()
        self.assertNotIn(token, stored)
        self.assertTrue(stored.startswith("$pbkdf2-sha512$"))
        # Not through the routes either.
        for route, params in (
            ("/bus_mobile/config", {}),
            ("/bus_mobile/device/register", {"device_uuid": DEVICE, "platform": "ios"}),
        ):
            _s, result, _e = self.call(route, params, token=token)
            self.assertNotIn(token, str(result))
