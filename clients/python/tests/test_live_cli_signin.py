"""The ``bus-mobile`` command signs in the ways apps do, against a live
server: the password and a two-factor code asked at a terminal, a device
token and an API key from the environment, and one-line errors."""

import json
import os
import secrets
import select
import signal
import subprocess
import time
import uuid

import pytest
from bus_mobile_client.client import MobileBusClient
from bus_mobile_client.diagnose import CHECKS
from helpers import bus_mobile_command, enable_totp, totp_code

ALL_CHECKS = [name for name, _title in CHECKS]
# Nothing of the caller's own: the command sees only what a test gives it.
SIGN_IN_VARIABLES = ("BUS_MOBILE_TOKEN", "BUS_MOBILE_PASSWORD")


def command_env(**variables):
    environ = {k: v for k, v in os.environ.items() if k not in SIGN_IN_VARIABLES}
    environ.update(variables)
    return environ


def run(*args, timeout=120, **variables):
    """``bus-mobile ARGS`` with no terminal (stdin empty), ``variables`` set."""
    return subprocess.run(
        [*bus_mobile_command(), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=command_env(**variables),
        check=False,
    )


class Terminal:
    """``bus-mobile ARGS`` in a pseudo-terminal, as a person runs it: its
    stdin, stdout and stderr are the terminal."""

    def __init__(self, *args, **variables):
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            [*bus_mobile_command(), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=command_env(**variables),
            start_new_session=True,
        )
        os.close(slave)
        self.screen = ""

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # the process ended: the terminal is gone
            return False
        self.screen += chunk.decode(errors="replace")
        return bool(chunk)

    def expect(self, text, timeout=60.0):
        """Wait until the terminal shows ``text`` (after what it showed before)."""
        start = len(self.screen)
        deadline = time.monotonic() + timeout
        while text not in self.screen[start:]:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (not self._read(remaining) and self.process.poll() is not None):
                pytest.fail(f"{text!r} never shown; the terminal showed:\n{self.screen}")
        return self.screen[start:]

    def type(self, line):
        os.write(self.master, (line + "\n").encode())

    def wait(self, timeout=120.0):
        """The exit code, once everything shown is read."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        while self._read(0.1):
            pass
        return self.process.wait(max(deadline - time.monotonic(), 1))

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        os.close(self.master)


def summary_line():
    return f"OK: {len(ALL_CHECKS)} passed, 0 failed, 0 skipped"


def devices_of(live, user):
    return live.call_kw(
        "bus_mobile.device",
        "search_read",
        [("user_id", "=", user["id"])],
        ["device_uuid", "signed_in", "status"],
    )


def user_with_password(live, name):
    """A new user whose password is not in its login (to see it not shown)."""
    user = live.new_user(name)
    user["password"] = f"pw-{secrets.token_hex(8)}"
    live.call_kw("res.users", "write", [user["id"]], {"password": user["password"]})
    return user


def api_key(live, user):
    """An API key the user makes in Preferences > Account Security (the
    identity check with the password, then the key wizard)."""
    web = MobileBusClient(live.url, live.db, user["login"], user["password"])
    web.authenticate()

    def call(model, method, *args, **kwargs):
        return web.rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            model=model,
            method=method,
            args=list(args),
            kwargs=kwargs,
        )

    # As the web client saves the wizard's form (stock's create lacks the
    # decorator that call_kw needs).
    wizard = call("res.users.apikeys.description", "web_save", [], {"name": "bus-mobile test"}, {})
    action = call("res.users.apikeys.description", "make_key", [wizard[0]["id"]])
    if action.get("res_model") == "res.users.identitycheck":
        call("res.users.identitycheck", "write", [action["res_id"]], {"password": user["password"]})
        action = call("res.users.identitycheck", "run_check", [action["res_id"]])
    return action["context"]["default_key"]


def test_a_two_factor_user_answers_the_prompts(live):
    user = user_with_password(live, "cli2fa")
    web = MobileBusClient(live.url, live.db, user["login"], user["password"])
    web.authenticate()
    secret = enable_totp(web, user)
    terminal = Terminal("diagnose", live.url, "--db", live.db, "--login", user["login"])
    try:
        terminal.expect(f"Password of {user['login']} on {live.url}: ")
        terminal.type(user["password"])
        terminal.expect(f"Two-factor code of {user['login']}")
        terminal.type(totp_code(secret))
        terminal.expect(summary_line())
        assert terminal.wait() == 0, terminal.screen
    finally:
        terminal.close()
    assert user["password"] not in terminal.screen, "the password was shown"
    assert f"device sign-in of uid {user['id']}" in terminal.screen
    # The run's device token was revoked at its end.
    devices = devices_of(live, user)
    assert devices and not any(device["signed_in"] for device in devices), devices


def test_watch_signs_in_at_the_prompt_and_its_device_out_at_the_end(live, pair):
    alice, _bob, channel = pair
    user = user_with_password(live, "cliwatch")
    alice.add_members(channel["id"], [user["partner_id"]])
    terminal = Terminal("watch", live.url, "--db", live.db, "--login", user["login"], "--json")
    try:
        terminal.expect("Password of")
        terminal.type(user["password"])
        terminal.expect('"source": "query"')  # the co-members' presence: it is connected
        assert [d["signed_in"] for d in devices_of(live, user)] == [True]
        posted = alice.post(channel["id"], "seen by a signed-in watch")
        terminal.expect(f'"id": {posted["id"]}')
        terminal.process.send_signal(signal.SIGINT)  # Ctrl-C
        assert terminal.wait() == 130, terminal.screen
    finally:
        terminal.close()
    assert user["password"] not in terminal.screen
    assert [d["signed_in"] for d in devices_of(live, user)] == [False]


def test_a_device_token_from_the_environment(live):
    user = live.new_user("clidev")
    app = MobileBusClient(
        live.url, live.db, user["login"], user["password"], device_uuid=f"app-{uuid.uuid4()}"
    )
    app.device_login(platform="ios")
    process = run("diagnose", live.url, "--json", BUS_MOBILE_TOKEN=app.token)
    report = json.loads(process.stdout)
    assert [c["name"] for c in report["checks"] if c["status"] != "pass"] == [], report
    assert process.returncode == 0
    login = next(c for c in report["checks"] if c["name"] == "login")
    assert f"token of uid {user['id']}" in login["detail"]
    # The socket was the app's device (no second device), and the token
    # still works: the command leaves a token it was given as it was.
    assert [d["device_uuid"] for d in devices_of(live, user)] == [app.device_uuid]
    assert app.config()["user"]["id"] == user["id"]


def test_an_api_key_from_the_environment_and_as_an_option(live):
    user = live.new_user("clikey")
    key = api_key(live, user)
    process = run("diagnose", live.url, "--json", BUS_MOBILE_TOKEN=key)
    report = json.loads(process.stdout)
    assert [c["name"] for c in report["checks"] if c["status"] != "pass"] == [], report
    assert process.returncode == 0
    # An API key's socket has no device: none is made for it.
    assert devices_of(live, user) == []
    process = run("diagnose", live.url, "--token", key)
    assert process.returncode == 0, process.stdout
    assert summary_line() in process.stdout
    assert "(database None, a token)" in process.stdout.splitlines()[0]


def test_a_wrong_token_is_a_one_line_error(live):
    process = run("watch", live.url, BUS_MOBILE_TOKEN=secrets.token_hex(20))
    assert process.returncode == 1
    assert process.stdout == ""
    assert process.stderr == (
        "error: the token of $BUS_MOBILE_TOKEN was refused: INVALID_TOKEN: "
        "the bearer token is not known here: sign in again\n"
    )
    process = run("chat", live.url, "--token", "nope")
    assert process.stderr.splitlines() == [
        "error: the token of --token was refused: INVALID_TOKEN: "
        "the bearer token is not known here: sign in again"
    ]
    # diagnose names it in its login check, and checks the socket anyway.
    process = run("diagnose", live.url, "--json", BUS_MOBILE_TOKEN="nope")
    checks = {c["name"]: c for c in json.loads(process.stdout)["checks"]}
    assert process.returncode == 1
    assert checks["login"]["cause"].startswith("the token was refused: INVALID_TOKEN")
    assert "INVALID_TOKEN" in checks["mobile_socket"]["cause"]


def test_no_password_and_no_terminal_is_a_one_line_error(live):
    user = live.user("clinotty")
    process = run("watch", live.url, "--db", live.db, "--login", user["login"], timeout=30)
    assert process.returncode == 1
    assert process.stderr.splitlines() == [
        "error: a password is needed and there is no terminal to ask: set "
        "$BUS_MOBILE_PASSWORD, or give a device token or an API key in $BUS_MOBILE_TOKEN"
    ]


def test_the_password_from_the_environment(live):
    user = live.new_user("clienv")
    process = run(
        "diagnose",
        live.url,
        "--db",
        live.db,
        "--login",
        user["login"],
        BUS_MOBILE_PASSWORD=user["password"],
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert summary_line() in process.stdout
    assert [d["signed_in"] for d in devices_of(live, user)] == [False]
