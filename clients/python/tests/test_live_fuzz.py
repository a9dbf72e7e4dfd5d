"""Property-based fuzzing of a live server, for a bounded time: random
JSON-RPC params on every mobile route and random frames on the mobile
socket. Whatever is sent:

- no HTTP 500, and every error is an Odoo JSON-RPC error (no traceback in it)
  or a WebSocket close code that names a client fault;
- the server logs no traceback (``BUS_MOBILE_LIVE_LOG``: the server's log);
- a bystander socket keeps receiving its messages, in time, throughout.
"""

import json
import os
import statistics
import threading
import time
import uuid

import pytest
import requests
import websocket
from bus_mobile_client.client import MobileBusClient, websocket_base
from bus_mobile_client.notifications import MessageNotification
from conftest import TEST_BACKOFF, require_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROUTES = {
    "/bus_mobile/config": [],
    "/bus_mobile/channels": [],
    "/bus_mobile/channel/create": ["name", "channel_type", "partner_ids"],
    "/bus_mobile/channel/join": ["channel_id"],
    "/bus_mobile/channel/leave": ["channel_id"],
    "/bus_mobile/channel/add_members": ["channel_id", "partner_ids"],
    "/bus_mobile/message/post": ["channel_id", "body", "client_uuid"],
    "/bus_mobile/messages": ["channel_id", "before_id", "after_id", "limit"],
    "/bus_mobile/sync": ["after_id", "limit"],
    "/bus_mobile/message/read": ["channel_id", "message_id"],
    "/bus_mobile/typing": ["channel_id", "is_typing"],
    "/bus_mobile/device/register": ["device_uuid", "platform", "app_version", "push_token"],
    "/bus_mobile/device/unregister": ["device_uuid"],
    "/bus_mobile/presence": ["partner_ids"],
    "/bus_mobile/presence/update": ["device_uuid", "inactivity_ms", "app_state"],
}
PARAM_NAMES = sorted({name for names in ROUTES.values() for name in names})
# Close codes a client fault may get (1003 bad frame, 1007 bad UTF-8,
# 1009 too big, 1002 protocol, 1013 too fast); never 1011 (server error).
CLIENT_FAULT_CODES = {1002, 1003, 1007, 1009, 1013}
BYSTANDER_BOUND_S = 10.0

text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "\x00", "\ud800", "x" * 5000, "public", "private", "direct", "ios"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=12,
)


def _encode(value):
    # allow_nan: the server must answer NaN/Infinity too (Python's json reads them).
    return json.dumps(value, allow_nan=True)


class Target:
    """The server under fuzzing: the threaded one, or the gevent worker of
    the ``--workers`` one (the production path)."""

    def __init__(self, name, url, ws_base, log_path):
        self.name, self.url, self.ws_base, self.log_path = name, url.rstrip("/"), ws_base, log_path
        self.socket_url = f"{ws_base}/bus_mobile/websocket"

    def client(self, live, user, connect=True):
        client = MobileBusClient(
            self.url,
            live.db,
            user["login"],
            user["password"],
            ws_url=self.socket_url,
            backoff=TEST_BACKOFF,
        )
        live._clients.append(client)
        client.authenticate()
        client.config()
        if connect:
            client.connect()
        return client


class Bystander:
    """A second user's socket, in a channel where a third user posts every
    0.3 s: every post must arrive, within BYSTANDER_BOUND_S."""

    def __init__(self, live, target):
        self.poster = target.client(live, live.new_user("poster"), connect=False)
        self.reader = target.client(live, live.new_user("reader"))
        channel = self.poster.create_channel(
            f"fuzz {uuid.uuid4().hex[:6]}",
            "private",
            [self.reader.server_config["user"]["partner_id"]],
        )
        self.channel_id = channel["id"]
        self.reader.subscribe()
        self.sent = {}
        self.latencies = []
        self.missing = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._post_loop, daemon=True),
            threading.Thread(target=self._read_loop, daemon=True),
        ]

    def start(self):
        for thread in self._threads:
            thread.start()

    def stop(self):
        time.sleep(1.0)
        self._stop.set()
        for thread in self._threads:
            thread.join(BYSTANDER_BOUND_S + 5)
        received = {body for body, _ in self.latencies}
        self.missing = [body for body in self.sent if body not in received]

    def _post_loop(self):
        n = 0
        while not self._stop.is_set():
            body = f"bystander {n}"
            self.sent[body] = time.monotonic()
            self.poster.post(self.channel_id, body)
            n += 1
            self._stop.wait(0.3)

    def _read_loop(self):
        deadline = None
        while True:
            if self._stop.is_set():
                deadline = deadline or time.monotonic() + BYSTANDER_BOUND_S
                if time.monotonic() > deadline or len(self.latencies) >= len(self.sent):
                    return
            for notification in self.reader.poll(timeout=0.2):
                if isinstance(notification, MessageNotification):
                    body = notification.payload["body"]
                    if body in self.sent:
                        self.latencies.append((body, time.monotonic() - self.sent[body]))


@pytest.fixture(params=["threaded", "prefork"])
def target(request):
    if request.param == "threaded":
        url, log_path = require_env("BUS_MOBILE_URL", "BUS_MOBILE_LIVE_LOG")
        return Target("threaded", url, websocket_base(url), log_path)
    # The server's own ports: it is what is fuzzed, not a proxy.
    url, ws_base, log_path = require_env(
        "BUS_MOBILE_PREFORK_HTTP", "BUS_MOBILE_PREFORK_GEVENT", "BUS_MOBILE_PREFORK_LOG"
    )
    return Target("prefork", url, ws_base, log_path)


@pytest.fixture
def fuzz_env(live, target):
    user = live.user("fuzzer")
    bystander = Bystander(live, target)
    log_offset = os.path.getsize(target.log_path)
    bystander.start()
    yield target, user
    bystander.stop()
    with open(target.log_path, encoding="utf-8", errors="replace") as log:
        log.seek(log_offset)
        new_log = log.read()
    assert "Traceback" not in new_log, new_log[-3000:]
    assert not bystander.missing, f"bystander lost {bystander.missing[:5]}"
    latencies = [latency for _body, latency in bystander.latencies]
    worst = max(latencies)
    print(
        f"bystander ({target.name}): {len(latencies)} messages, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, max {worst * 1000:.0f} ms"
    )
    assert worst < BYSTANDER_BOUND_S


def test_fuzz_json_rpc_routes(fuzz_env):
    target, user = fuzz_env
    session = requests.Session()
    session.cookies.set("session_id", user["session_id"])

    @settings(
        max_examples=250,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        route=st.sampled_from(sorted(ROUTES)),
        params=st.one_of(
            st.dictionaries(
                st.sampled_from(sorted({k for v in ROUTES.values() for k in v})),
                json_values,
                max_size=4,
            ),
            json_values,
        ),
    )
    def check(route, params):
        body = _encode({"jsonrpc": "2.0", "method": "call", "params": params, "id": 1})
        response = session.post(
            target.url + route, data=body, headers={"Content-Type": "application/json"}, timeout=30
        )
        assert response.status_code < 500, (route, body[:300], response.text[:500])
        if response.status_code != 200:
            return  # e.g. 400 for params that are not an object: a clear refusal
        answer = response.json()
        if "error" in answer:
            data = answer["error"].get("data") or {}
            assert data.get("name", "").startswith(("odoo.exceptions.", "werkzeug.exceptions.")), (
                route,
                body[:300],
                answer,
            )
            assert "Traceback" not in data.get("debug", "") or data.get("name", "").startswith(
                "odoo.exceptions."
            ), (route, body[:300])
        else:
            assert "result" in answer

    check()


def test_fuzz_socket_frames(fuzz_env):
    target, user = fuzz_env
    url = target.socket_url
    frames = st.one_of(
        json_values.map(_encode),
        st.builds(
            lambda event, data: _encode({"event_name": event, "data": data}),
            st.sampled_from(["subscribe", "update_presence", "other", ""]),
            json_values,
        ),
        st.builds(
            lambda data: _encode({"event_name": "subscribe", "data": data}),
            st.fixed_dictionaries(
                {
                    "channels": st.lists(st.one_of(text, json_values), max_size=5),
                    "last": json_values,
                }
            ),
        ),
        st.builds(
            lambda data: _encode({"event_name": "update_presence", "data": data}),
            st.fixed_dictionaries({"inactivity_period": json_values, "app_state": json_values}),
        ),
        st.binary(max_size=64).map(lambda raw: raw.decode("latin-1")),
    )

    @settings(
        max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(frame=frames, device=st.booleans())
    def check(frame, device):
        target = f"{url}?device_uuid=fuzz-{uuid.uuid4().hex[:8]}" if device else url
        ws = websocket.create_connection(
            target, cookie=f"session_id={user['session_id']}", suppress_origin=True, timeout=10
        )
        try:
            # The frame, then a valid one and a ping, at once: the socket
            # either still works (pong) or was closed for the bad frame with
            # a client-fault code (the server reads what was sent before it
            # closes, so the close frame is never lost to a reset).
            ws.send(frame)
            ws.send(_encode({"event_name": "subscribe", "data": {"channels": [], "last": 0}}))
            ws.ping()
            while True:
                opcode, payload = ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_PONG:
                    return
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                    assert code in CLIENT_FAULT_CODES, (frame[:200], code, payload[2:200])
                    return
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            pytest.fail(f"connection dropped without a close frame after {frame[:200]!r}")
        finally:
            ws.close()

    check()
