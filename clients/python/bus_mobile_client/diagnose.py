"""``diagnose``: an app's-eye check of a server, one line per finding.

Each check passes or fails; a failure names its cause and its fix. The
checks run in order and a check whose prerequisite failed is skipped (and
counts as not passed): the exit code is 0 only if every check passed.
"""

import json
import time
import uuid
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import requests
import websocket

from .client import (
    AuthenticationFailed,
    BusMobileError,
    ClosedError,
    HandshakeError,
    HttpError,
    MobileBusClient,
    RpcError,
    ServerUnavailable,
    SessionExpiredError,
    TokenRefused,
    parse_close_frame,
    websocket_base,
)
from .explain import OUTDATED_VERSION, close_cause, handshake_cause
from .notifications import TYPING
from .signin import SignInImpossible, sign_in_device

BROWSER_UA = (
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)
DIAGNOSE_CHANNEL = "bus_mobile diagnose"

PASS, FAIL, SKIP = "pass", "fail", "skip"

CHECKS = [
    ("reachable", "server reachable"),
    ("websocket_health", "/websocket/health"),
    ("login", "login"),
    ("addon", "addon installed (/bus_mobile/config)"),
    ("discuss", "Discuss for apps (mail)"),
    ("stock_websocket", "stock /websocket, browser UA, no version"),
    ("mobile_socket", "mobile socket handshake"),
    ("round_trip", "subscribe + round-trip notification"),
    ("presence", "presence round trip"),
]
TITLES = dict(CHECKS)


@dataclass
class Check:
    name: str
    status: str
    detail: str = ""
    cause: str = ""
    fix: str = ""

    @property
    def title(self):
        return TITLES.get(self.name, self.name)

    def line(self):
        """The check on one line, as a person reads it."""
        text = self.detail if self.status == PASS else self.cause or self.detail
        if self.fix and self.status == FAIL:
            text = f"{text}. Fix: {self.fix}"
        return f"{self.status.upper():4}  {self.title:42} {text}"


class Diagnosis:
    """Run the checks against ``url``, signed in as an app is: with a
    ``token`` (a device token or an API key), or with ``password`` as a
    device for the run (``ask_code()`` gives a two-factor account's code;
    the device is signed out at the end), or with ``session_id`` to check
    an existing session. ``ws_base`` (``ws://host:port``) is where the
    sockets are when not next to ``url`` (e.g. Odoo's gevent port)."""

    def __init__(
        self,
        url,
        db=None,
        login=None,
        password=None,
        session_id=None,
        ws_base=None,
        timeout=10.0,
        token=None,
        ask_code=None,
    ):
        self.url = url.rstrip("/")
        self.db, self.login, self.password, self.session_id = db, login, password, session_id
        self.token, self.ask_code = token, ask_code
        self.ws_base = (ws_base or websocket_base(self.url)).rstrip("/")
        self.timeout = timeout
        self.checks = {}
        self.client = MobileBusClient(
            self.url,
            db,
            login,
            password,
            session_id=session_id,
            token=token,
            # A device token's socket is its device's (the server picks it).
            device_uuid=None if token else f"diagnose-{uuid.uuid4()}",
            ws_url=f"{self.ws_base}/bus_mobile/websocket",
            timeout=timeout,
        )
        self.worker_version = None
        self.channel_id = None
        # What the discuss check found (None: not checked).
        self.discuss_available = None
        # Whether the login check signed a device in: signed out at the end.
        self.signed_in = False

    # -- running -------------------------------------------------------

    def run(self):
        """Run every check; returns the list of :class:`Check`."""
        steps = [
            ("reachable", (), self.check_reachable),
            ("websocket_health", ("reachable",), self.check_websocket_health),
            ("login", ("reachable",), self.check_login),
            ("addon", ("login",), self.check_addon),
            ("discuss", ("addon",), self.check_discuss),
            ("stock_websocket", ("reachable",), self.check_stock_websocket),
            ("mobile_socket", ("reachable", self._session_step()), self.check_mobile_socket),
            ("round_trip", ("addon", "mobile_socket"), self.check_round_trip),
            ("presence", ("addon", "mobile_socket"), self.check_presence),
        ]
        try:
            for name, needs, method in steps:
                self.checks[name] = self._run_step(name, needs, method)
        finally:
            if self.signed_in:
                self._sign_out()
            self.client.close()
        return list(self.checks.values())

    def _sign_out(self):
        """Revoke this run's device token, the socket still open: the
        server closes it after the sign-out's commit (a close of ours
        meanwhile would write the device row that the sign-out writes)."""
        try:
            self.client.sign_out()
        except (BusMobileError, requests.RequestException):
            pass  # the checks said what is wrong with the server

    @property
    def _given_credential(self):
        """A token or a session given as it is (no sign-in of our own)."""
        return bool(self.token or (self.session_id and self.password is None))

    def _session_step(self):
        # With a given token or session the socket is checked even if it is
        # refused: its 401 or 4001 is the finding.
        return "reachable" if self._given_credential else "login"

    def _run_step(self, name, needs, method):
        missing = [n for n in needs if self.checks.get(n, Check(n, FAIL)).status != PASS]
        if missing:
            return Check(name, SKIP, f"not run: needs {', '.join(TITLES[n] for n in missing)}")
        try:
            return method()
        except BusMobileError as exc:
            return Check(name, FAIL, cause=f"{exc.__class__.__name__}: {exc}")
        except (requests.RequestException, OSError, websocket.WebSocketException) as exc:
            return Check(name, FAIL, cause=f"{exc.__class__.__name__}: {exc}")

    @property
    def ok(self):
        return bool(self.checks) and all(c.status == PASS for c in self.checks.values())

    # -- the checks ----------------------------------------------------

    def check_reachable(self):
        netloc = urlsplit(self.url).netloc
        try:
            response = requests.get(f"{self.url}/web/health", timeout=self.timeout)
        except requests.exceptions.SSLError as exc:
            return Check(
                "reachable",
                FAIL,
                cause=f"TLS error with {netloc}: {exc}",
                fix="check the certificate, or use http:// for a plain server",
            )
        except requests.ConnectionError as exc:
            return Check(
                "reachable",
                FAIL,
                cause=f"nothing answers at {netloc} (connection refused or host unknown: "
                f"{_root_cause(exc)})",
                fix="start Odoo, or correct the URL's host and port",
            )
        except requests.Timeout:
            return Check(
                "reachable",
                FAIL,
                cause=f"{netloc} did not answer within " f"{self.timeout:g}s",
                fix="check firewalls and that Odoo is up",
            )
        detail = f"HTTP {response.status_code} from /web/health"
        if response.status_code != 200:
            detail += " (the server answers, but /web/health is not Odoo's)"
        return Check("reachable", PASS, detail)

    def check_websocket_health(self):
        response = requests.get(f"{self.url}/websocket/health", timeout=self.timeout)
        if response.status_code == 200 and _json(response).get("status") == "pass":
            return Check("websocket_health", PASS, "bus is loaded: status pass")
        return Check(
            "websocket_health",
            FAIL,
            cause=f"HTTP {response.status_code} on /websocket/health: the bus module does not "
            "answer (not Odoo 16+, or several databases and no dbfilter to pick one)",
            fix="serve one database per host (--db-filter), and check the URL",
        )

    def check_login(self):
        if self.token:
            return self._check_token()
        if self.session_id and self.password is None:
            return self._check_session()
        if not (self.db and self.login and self.password is not None):
            return Check(
                "login",
                FAIL,
                cause="no --db/--login given, nor a token",
                fix="pass the database and a login (the password is asked), or a device "
                "token or an API key",
            )
        try:
            return self._device_sign_in()
        except HttpError as exc:
            if exc.status != 404:
                return self._login_http_failure(exc, "/bus_mobile/device/login")
        # No device sign-in here (the addon is missing: its check says so).
        return self._session_login()

    def _session_login(self):
        """Odoo's own login, to run the checks that need no addon."""
        try:
            info = self.client.authenticate()
        except (AuthenticationFailed, RpcError) as exc:
            return Check("login", FAIL, cause=self._login_cause(exc), fix=self._login_fix(exc))
        except HttpError as exc:
            return self._login_http_failure(exc, "/web/session/authenticate")
        self.worker_version = info.get("websocket_worker_version")
        return Check(
            "login",
            PASS,
            f"uid {info['uid']} on {self.db} (Odoo's session login: no device sign-in "
            f"here), server {info.get('server_version', '?')}",
        )

    def _device_sign_in(self):
        """The password and, for a two-factor account, the code: as an app."""
        ask_code = self.ask_code or _no_code
        try:
            sign_in_device(self.client, ask_code)
        except (AuthenticationFailed, RpcError, SignInImpossible) as exc:
            return Check("login", FAIL, cause=self._login_cause(exc), fix=self._login_fix(exc))
        self.signed_in = True
        user = self.client.sign_in_info["user"]
        return Check(
            "login",
            PASS,
            f"device sign-in of uid {user['id']} ({user['name']}) on {self.db}: "
            "a device token for this run",
        )

    @staticmethod
    def _login_http_failure(exc, route):
        return Check(
            "login",
            FAIL,
            cause=f"HTTP {exc.status} on {route}",
            fix="the URL is not an Odoo server, or a proxy blocks /web",
        )

    def _check_token(self):
        try:
            config = self.client.config()
        except TokenRefused as exc:
            return Check(
                "login",
                FAIL,
                cause=f"the token was refused: {exc.message}",
                fix="check the token: sign in again for a new device token, or make a new API "
                "key in Preferences > Account Security",
            )
        except HttpError as exc:
            if exc.status != 404:
                raise
            return Check(
                "login",
                FAIL,
                cause="HTTP 404 on /bus_mobile/config: tokens are checked by the bus_mobile "
                "addon, which does not answer here (not installed in this database?)",
                fix="Apps > Update Apps List > install 'Mobile Bus' (bus_mobile), or pass "
                "--db and --login",
            )
        user = config["user"]
        return Check("login", PASS, f"token of uid {user['id']} ({user['name']}) accepted")

    def _login_cause(self, exc):
        text = str(exc)
        if "Database not found" in text or "does not exist" in text:
            return f"database {self.db!r} does not exist or is not served by this server (dbfilter)"
        return text

    def _login_fix(self, exc):
        if "wrong login" in str(exc):
            return "check the login and password (and the database name)"
        if isinstance(exc, SignInImpossible):
            return "run it in a terminal to be asked the code, or give a device token or an API key"
        return "check the database name and the server's --db-filter"

    def _check_session(self):
        try:
            info = self.client.rpc("/web/session/get_session_info")
        except SessionExpiredError:
            cause, fix = close_cause(4001)
            return Check("login", FAIL, cause=f"the given session is not valid: {cause}", fix=fix)
        self.worker_version = info.get("websocket_worker_version")
        return Check("login", PASS, f"session of uid {info.get('uid')} is valid")

    def check_addon(self):
        try:
            config = self.client.config()
        except HttpError as exc:
            if exc.status != 404:
                raise
            return Check(
                "addon",
                FAIL,
                cause=f"HTTP 404 on /bus_mobile/config: the bus_mobile addon is not installed "
                f"in database {self.db!r}",
                fix="Apps > Update Apps List > install 'Mobile Bus' (bus_mobile)",
            )
        self.worker_version = config.get("worker_version") or self.worker_version
        return Check(
            "addon",
            PASS,
            f"bus_mobile answers: socket {config.get('websocket_url')}, Odoo "
            f"{config.get('server_version')}, worker_version {config.get('worker_version')}",
        )

    def check_discuss(self):
        """Whether the server has Discuss (``mail``), and if so that its
        conversations answer. Without mail it passes: Discuss is optional."""
        discuss = (self.client.server_config or {}).get("discuss") or {}
        self.discuss_available = bool(discuss.get("available"))
        if not self.discuss_available:
            reason = discuss.get("reason") or "the server does not say (an older bus_mobile)"
            return Check("discuss", PASS, f"not available: {reason} Apps have mobile channels only")
        try:
            channels = self.client.discuss.channels()
        except RpcError as exc:
            return Check(
                "discuss",
                FAIL,
                cause=f"the config says Discuss is available, but /bus_mobile/discuss/channels "
                f"answers {exc.name}: {exc.message}",
                fix="update the bus_mobile addon (Apps > Mobile Bus > Upgrade) and read the "
                "server's log",
            )
        return Check(
            "discuss",
            PASS,
            f"available: {len(channels)} conversation(s) of this user, uploads up to "
            f"{discuss.get('upload_max_bytes')} bytes",
        )

    def check_stock_websocket(self):
        """What apps hit: stock /websocket with a browser-like UA, no version."""
        url = f"{self.ws_base}/websocket"
        outcome = self._stock_socket_outcome(url)
        if isinstance(outcome, Check):
            return outcome
        code, reason = outcome
        if code is None:
            return Check(
                "stock_websocket",
                PASS,
                "stayed open: this server does not check " "the worker version of browser clients",
            )
        if (code, reason) != (1000, OUTDATED_VERSION):
            cause, fix = close_cause(code, reason)
            return Check("stock_websocket", FAIL, cause=cause, fix=fix)
        return Check("stock_websocket", PASS, self._outdated_detail(url))

    def _outdated_detail(self, url):
        detail = (
            "closed 1000 OUTDATED_VERSION, as stock Odoo does for a browser User-Agent "
            "without ?version= (the bus module IS installed). Apps: use /bus_mobile/websocket"
        )
        if not self.worker_version:
            return detail + ", or /websocket?version=<worker_version of /bus_mobile/config>"
        detail += f", or /websocket?version={self.worker_version}"
        versioned = self._stock_socket_outcome(f"{url}?version={self.worker_version}")
        if versioned == (None, ""):
            return detail + " (checked: it stays open)"
        if isinstance(versioned, Check):
            return detail + f" (with that version: {versioned.cause})"
        return detail + f" (with that version it was closed {versioned[0]} {versioned[1]})"

    def _stock_socket_outcome(self, url):
        """``(code, reason)`` of the close, ``(None, "")`` if the socket stayed
        open for a moment, or a failed :class:`Check` if the handshake failed."""
        cookie = f"session_id={self.client.session_id}" if self.client.session_id else None
        try:
            ws = websocket.create_connection(
                url, timeout=self.timeout, cookie=cookie, header=[f"User-Agent: {BROWSER_UA}"]
            )
        except websocket.WebSocketBadStatusException as exc:
            cause, fix = handshake_cause(
                exc.status_code, dict(exc.resp_headers or {}), exc.resp_body, "/websocket"
            )
            return Check("stock_websocket", FAIL, cause=cause, fix=fix)
        try:
            ws.send(json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": 0}}))
            deadline = time.monotonic() + min(self.timeout, 1.5)
            while time.monotonic() < deadline:
                ws.settimeout(max(deadline - time.monotonic(), 0.01))
                opcode, data = ws.recv_data()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return parse_close_frame(data)
        except websocket.WebSocketTimeoutException:
            return None, ""
        except (OSError, websocket.WebSocketException):
            return 1006, ""
        finally:
            ws.shutdown()
        return None, ""

    def check_mobile_socket(self):
        client = self.client
        try:
            client.connect()
            client.poll(1.0)  # a 4001 or any close comes at once
        except HandshakeError as exc:
            return Check("mobile_socket", FAIL, cause=exc.cause, fix=exc.fix)
        except ServerUnavailable as exc:
            if exc.handshake is not None:
                return Check(
                    "mobile_socket", FAIL, cause=exc.handshake.cause, fix=exc.handshake.fix
                )
            raise
        except (ClosedError, SessionExpiredError) as exc:
            return Check(
                "mobile_socket",
                FAIL,
                cause=str(exc).split(". Fix: ")[0],
                fix=str(exc).split(". Fix: ")[-1],
            )
        if not client.connected:
            code, reason = client.stats["closes"][-1] if client.stats["closes"] else (None, "")
            cause, fix = close_cause(code, reason)
            return Check("mobile_socket", FAIL, cause=cause, fix=fix)
        return Check(
            "mobile_socket",
            PASS,
            f"101 Switching Protocols on {client.socket_url()}, "
            "open with a native User-Agent and no Origin",
        )

    def check_round_trip(self):
        client = self.client
        self.channel_id = self._diagnose_channel()
        client.subscribe()  # again: the channel may be new
        started = time.monotonic()
        client.typing(self.channel_id, True)
        try:
            client.wait_for(
                lambda n: n.type == TYPING and n.payload.get("channel_id") == self.channel_id,
                timeout=self.timeout,
            )
        except TimeoutError:
            return Check(
                "round_trip",
                FAIL,
                cause=f"subscribed, but the typing notification did not come back within "
                f"{self.timeout:g}s",
                fix="see the server log for a subscribe error; every Odoo node must use the "
                "same PostgreSQL (bus fan-out is pg NOTIFY); no proxy buffering on the socket",
            )
        finally:
            client.typing(self.channel_id, False)
        elapsed = (time.monotonic() - started) * 1000
        return Check(
            "round_trip",
            PASS,
            f"bus_mobile/typing came back in {elapsed:.0f} ms "
            f"through channel {self.channel_id}",
        )

    def _diagnose_channel(self):
        """A private channel of this user alone, reused across runs."""
        for channel in self.client.channels_list():
            if channel.get("name") == DIAGNOSE_CHANNEL and channel.get("channel_type") == "private":
                return channel["id"]
        return self.client.create_channel(DIAGNOSE_CHANNEL, "private", [])["id"]

    def check_presence(self):
        client = self.client
        partner_id = client.server_config["user"]["partner_id"]
        client.watch_presence([partner_id])
        client.set_app_state("foreground")
        deadline = time.monotonic() + self.timeout
        status = None
        while time.monotonic() < deadline:
            client.poll(0.3)  # sends the heartbeat
            rows = client.presence([partner_id])
            status = rows[0] if rows else None
            if status and status.get("im_status") == "online":
                return Check(
                    "presence",
                    PASS,
                    f"heartbeat sent; /bus_mobile/presence says "
                    f"online, last_seen {status.get('last_seen')}",
                )
        return Check(
            "presence",
            FAIL,
            cause=f"after a heartbeat on an open socket the user is {status} instead of online",
            fix="check the server log for errors in update_presence and the presence cron",
        )


def _no_code():
    raise SignInImpossible("a two-factor account, and nobody to ask its code")


def _root_cause(exc):
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    return f"{exc.__class__.__name__}: {exc}"[:160]


def _json(response):
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def diagnose(url, db=None, login=None, password=None, **kw):
    """Run :class:`Diagnosis`; returns it (``.ok``, ``.checks``)."""
    diagnosis = Diagnosis(url, db, login, password, **kw)
    diagnosis.run()
    return diagnosis


def report_text(diagnosis):
    checks = list(diagnosis.checks.values())
    who = "a token" if diagnosis.token else f"login {diagnosis.login}"
    lines = [f"bus_mobile diagnose {diagnosis.url} (database {diagnosis.db}, {who})"]
    lines += [f"  {check.line()}" for check in checks]
    counts = {status: sum(c.status == status for c in checks) for status in (PASS, FAIL, SKIP)}
    verdict = "OK" if diagnosis.ok else "NOT OK"
    lines.append(f"{verdict}: {counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped")
    return "\n".join(lines) + "\n"


def report_json(diagnosis):
    return json.dumps(
        {
            "url": diagnosis.url,
            "db": diagnosis.db,
            "login": diagnosis.login,
            "ok": diagnosis.ok,
            "discuss_available": diagnosis.discuss_available,
            "checks": [
                {**asdict(check), "title": check.title} for check in diagnosis.checks.values()
            ],
        },
        indent=2,
    )
