"""Small helpers shared by the live tests."""

import base64
import hmac
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from bus_mobile_client.notifications import CHANNEL, MESSAGE


def bus_mobile_command():
    """The installed ``bus-mobile`` command, as the README documents it: the
    first on ``PATH``, else the one beside this interpreter (a venv's)."""
    beside = Path(sys.executable).with_name("bus-mobile")
    found = shutil.which("bus-mobile") or (str(beside) if beside.is_file() else None)
    assert found, "no bus-mobile command: pip install clients/python first"
    return [found]


def is_type(kind, **fields):
    """A predicate: a notification of ``kind`` whose payload has ``fields``."""

    def match(notification):
        return notification.type == kind and all(
            notification.payload.get(k) == v for k, v in fields.items()
        )

    return match


def channel_event(channel_id):
    return lambda n: n.type == CHANNEL and n.channel.get("id") == channel_id


def collect_messages(client, channel_id, expected_ids, timeout=20.0):
    """Every message notification of ``channel_id`` until all
    ``expected_ids`` arrived (duplicates, if any, included)."""
    got = []
    deadline = time.monotonic() + timeout
    while not set(expected_ids) <= {n.message_id for n in got}:
        missing = set(expected_ids) - {n.message_id for n in got}
        assert time.monotonic() < deadline, f"messages {missing} never arrived"
        got += [
            n
            for n in client.poll(deadline - time.monotonic())
            if n.type == MESSAGE and n.channel_id == channel_id
        ]
    return got


def record_socket_messages(client):
    """Every message notification the server sends ``client``'s sockets,
    as ``(notification id, message id)``, in order, before the client
    drops what it already has: a spy on the frames it accepts."""
    sent = []
    accept = client._accept_frame

    def spy(raw_notifications):
        sent.extend(
            (raw["id"], raw["message"]["payload"]["id"])
            for raw in raw_notifications
            if raw["message"]["type"] == MESSAGE
        )
        return accept(raw_notifications)

    client._accept_frame = spy
    return sent


def repeated(values):
    """The values that occur more than once."""
    return sorted({value for value in values if values.count(value) > 1})


def assert_sent_once(sent, message_ids):
    """Of ``sent`` (see :func:`record_socket_messages`), the notifications
    of ``message_ids`` came once each: no notification id and no message id
    twice."""
    wanted = set(message_ids)
    ours = [(nid, mid) for nid, mid in sent if mid in wanted]
    assert repeated([nid for nid, _mid in ours]) == [], f"a notification sent twice: {ours}"
    assert repeated([mid for _nid, mid in ours]) == [], f"a message sent twice: {ours}"


def poll_until_raises(client, timeout=20.0):
    """Poll ``client`` until it raises (call it under ``pytest.raises``).
    Notifications met meanwhile are dropped: on a database with mail, a new
    user's socket gets mail's own notifications first. Fails after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client.poll(1.0)
    raise AssertionError(f"the client raised nothing within {timeout} s: {client.stats}")


def wait_until(check, what, timeout=30.0):
    """Wait until ``check()`` is true; fails naming ``what`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def run_cli(*args, timeout=120):
    """``bus-mobile ARGS``; returns the completed process (``stdout``,
    ``stderr`` as text)."""
    return subprocess.run(
        [*bus_mobile_command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def totp_code(secret, at=None):
    """The 6-digit code an authenticator app shows for the base32 ``secret``
    (RFC 6238: HMAC-SHA1, 30 s steps), computed here, not by Odoo."""
    key = base64.b32decode(secret.replace(" ", "").upper())
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = mac[-1] & 0xF
    code = struct.unpack_from(">I", mac, offset)[0] & 0x7FFFFFFF
    return f"{code % 10**6:06d}"


def enable_totp(client, user):
    """Turn two-factor authentication on for ``user`` as a person does in
    Preferences (password check, then the wizard with a real code), through
    ``client`` logged in as that user; return the secret."""

    def call(model, method, *args, **kwargs):
        return client.rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            model=model,
            method=method,
            args=list(args),
            kwargs=kwargs,
        )

    action = call("res.users", "action_totp_enable_wizard", [user["id"]])
    if action.get("res_model") == "res.users.identitycheck":
        call("res.users.identitycheck", "write", [action["res_id"]], {"password": user["password"]})
        action = call("res.users.identitycheck", "run_check", [action["res_id"]])
    wizard = action["res_id"]
    secret = call("auth_totp.wizard", "read", [wizard], ["secret"])[0]["secret"]
    call("auth_totp.wizard", "write", [wizard], {"code": totp_code(secret)})
    call("auth_totp.wizard", "enable", [wizard])
    return secret


def _nginx_module():
    """scripts/nginx_proxy.py of the checkout (BUS_MOBILE_NGINX_PROXY), by path."""
    path = os.environ.get("BUS_MOBILE_NGINX_PROXY")
    if not path:
        pytest.skip("set BUS_MOBILE_NGINX_PROXY (scripts/nginx_proxy.py) to run nginx")
    spec = importlib.util.spec_from_file_location("bus_mobile_nginx_proxy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def nginx(name, http, gevent, without=(), site=None, allow=()):
    """Debian's nginx with the README's configuration (scripts/nginx/
    bus_mobile.conf) in front of these ``host:port`` upstreams, or with
    ``site`` (a configuration with ``{{LISTEN}}``); ``without``: headers
    the configuration leaves out (a misconfigured proxy). Yields the
    running :class:`Nginx` (``.url``, ``.ws``); on the way out it is stopped
    and its logs checked: an error there that no pattern of ``allow``
    names fails the test."""
    module = _nginx_module()
    proxy = module.Nginx(f"{name}-{os.getpid()}")
    proxy.start(http, gevent, without=without, site=site)
    try:
        yield proxy
    finally:
        proxy.stop()
        problems = proxy.check_logs(allow)
    assert not problems, problems
