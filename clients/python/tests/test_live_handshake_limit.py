"""The handshake limit, seen by an app: a session that opens sockets too
fast is refused with 429 before the upgrade, and the client, backing off,
is served again once the bucket refills, nothing lost."""

import socket

import websocket
from bus_mobile_client.notifications import MESSAGE
from conftest import make_pair
from helpers import collect_messages, is_type

REFILL_S = 2


def test_a_session_reconnecting_too_fast_is_refused_then_served(live, server_settings):
    server_settings("handshake_burst", 1)
    server_settings("handshake_refill_s", REFILL_S)
    alice_user, bob_user = live.new_user("alice"), live.new_user("bob")
    alice, bob, channel = make_pair(live, alice_user, bob_user, "private")
    cid = channel["id"]

    # Bob's session used its one handshake: another socket now is refused.
    try:
        websocket.create_connection(
            bob.socket_url(), cookie=f"session_id={bob.session_id}", suppress_origin=True
        ).close()
        raise AssertionError("a second socket of the session was not refused")
    except websocket.WebSocketBadStatusException as refused:
        assert refused.status_code == 429
        headers = refused.resp_headers
        assert headers["x-bus-mobile-error"].startswith("TOO_MANY_CONNECTIONS:")
        assert 1 <= int(headers["retry-after"]) <= REFILL_S

    # The network drops Bob's socket: his client retries (refused at first,
    # 429 is not fatal), gets in after the refill and catches up.
    first = alice.post(cid, "before the cut")
    bob.wait_for(is_type(MESSAGE, id=first["id"]))
    bob.websocket.sock.shutdown(socket.SHUT_RDWR)
    missed = [alice.post(cid, f"while cut {i}")["id"] for i in range(3)]
    got = collect_messages(bob, cid, missed, timeout=30)
    assert [n.message_id for n in got] == missed
    assert bob.stats["reconnects"] == 1
