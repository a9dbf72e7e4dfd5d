"""Socket tickets (a web build's sign-in on the socket) under real
concurrency: two handshakes presenting one ticket at the same moment, on
the threaded server and on a --workers=2 server's gevent port. One gets a
socket, the other an empty 401 ``INVALID_TICKET``, and neither logs an
error (the server log check of conftest.py fails the test on one)."""

import threading

import pytest
import websocket
from bus_mobile_client.client import websocket_base
from conftest import require_env
from test_live_auth import signed_in

# Rounds per server: each round is one race; a slow machine makes some of
# them overlap inside PostgreSQL (both DELETEs of the ticket at once), the
# case this test is about, and others one after the other: both must hold.
ROUNDS = 12
WEB_ORIGIN = "http://app.example.test:8081"


def race(ws_base, ticket, device_uuid):
    """Two handshakes with ``ticket``, released together: their outcomes."""
    url = f"{ws_base}/bus_mobile/websocket?ticket={ticket}&device_uuid={device_uuid}"
    start = threading.Barrier(2)
    outcomes, sockets = [], []

    def handshake():
        start.wait()
        try:
            sockets.append(websocket.create_connection(url, origin=WEB_ORIGIN, timeout=30))
            outcomes.append("open")
        except websocket.WebSocketBadStatusException as refused:
            reason = refused.resp_headers.get("x-bus-mobile-error", "")
            outcomes.append(f"{refused.status_code} {reason.split(':')[0]}")

    threads = [threading.Thread(target=handshake) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for sock in sockets:
        sock.close()
    return sorted(outcomes)


@pytest.fixture
def web_origin_allowed(live):
    previous = live.call_kw("ir.config_parameter", "get_param", "bus_mobile.allowed_origins", "")
    allowed = ",".join(filter(None, [previous, WEB_ORIGIN]))
    live.set_param("bus_mobile.allowed_origins", allowed)
    yield
    live.set_param("bus_mobile.allowed_origins", previous or " ")


@pytest.mark.parametrize("server", ["threaded", "prefork"])
def test_one_ticket_two_handshakes_at_once(live, web_origin_allowed, server):
    if server == "threaded":
        url, ws_base = live.url, websocket_base(live.url)
    else:
        url, ws_base = require_env("BUS_MOBILE_PREFORK_URL", "BUS_MOBILE_PREFORK_WS")
    client = signed_in(live, live.new_user(f"ticket_race_{server}"), url=url)
    for _ in range(ROUNDS):
        ticket = client.rpc("/bus_mobile/socket/ticket")["ticket"]
        assert race(ws_base, ticket, client.device_uuid) == ["401 INVALID_TICKET", "open"]
