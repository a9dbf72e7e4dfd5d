"""The handshake limit, seen by an app: a session that opens sockets too
fast is refused with 429 before the upgrade, and the client counts the
refusal, waits out its Retry-After, and is served again once the bucket
refills, nothing lost."""

import socket
import time
from itertools import pairwise

import websocket
from bus_mobile_client.notifications import MESSAGE
from conftest import make_pair
from helpers import collect_messages, is_type

# Longer than the client's first reconnect delays (0.1 to 2 s here), so that
# a client ignoring Retry-After would try again before it.
REFILL_S = 5


def raw_socket(client):
    """A socket of the client's session, outside the client."""
    return websocket.create_connection(
        client.socket_url(), cookie=f"session_id={client.session_id}", suppress_origin=True
    )


def test_a_session_reconnecting_too_fast_is_refused_then_served(live, server_settings, monkeypatch):
    server_settings("handshake_burst", 1)
    server_settings("handshake_refill_s", REFILL_S)
    alice_user, bob_user = live.new_user("alice"), live.new_user("bob")
    alice, bob, channel = make_pair(live, alice_user, bob_user, "private")
    cid = channel["id"]

    # Bob's session used its one handshake: another socket now is refused.
    try:
        raw_socket(bob).close()
        raise AssertionError("a second socket of the session was not refused")
    except websocket.WebSocketBadStatusException as refused:
        assert refused.status_code == 429
        headers = refused.resp_headers
        assert headers["x-bus-mobile-error"].startswith("TOO_MANY_CONNECTIONS:")
        assert 1 <= int(headers["retry-after"]) <= REFILL_S

    # Once the bucket refilled, a socket of the session takes its token:
    # Bob's client, reconnecting right after, meets an empty bucket.
    deadline = time.monotonic() + REFILL_S * 4
    while True:
        try:
            raw_socket(bob).close()
            break
        except websocket.WebSocketBadStatusException as refused:
            assert refused.status_code == 429
            assert time.monotonic() < deadline, "the session's bucket never refilled"
            time.sleep(0.2)

    # Every handshake Bob's client makes from here: when it began, when it
    # was answered, the status, the Retry-After.
    attempts = []
    real_create_connection = websocket.create_connection

    def spy(url, **kw):
        began = time.monotonic()
        try:
            ws = real_create_connection(url, **kw)
        except websocket.WebSocketBadStatusException as exc:
            retry_after = (exc.resp_headers or {}).get("retry-after")
            attempts.append((began, time.monotonic(), exc.status_code, retry_after))
            raise
        attempts.append((began, time.monotonic(), 101, None))
        return ws

    monkeypatch.setattr(websocket, "create_connection", spy)

    # The network drops Bob's socket: his client reconnects at once, is
    # refused (429 is not fatal), waits out the Retry-After, gets in and
    # catches up.
    first = alice.post(cid, "before the cut")
    bob.wait_for(is_type(MESSAGE, id=first["id"]))
    bob.websocket.sock.shutdown(socket.SHUT_RDWR)
    missed = [alice.post(cid, f"while cut {i}")["id"] for i in range(3)]
    got = collect_messages(bob, cid, missed, timeout=REFILL_S * 6)
    assert [n.message_id for n in got] == missed
    assert bob.stats["reconnects"] == 1

    refused = [attempt for attempt in attempts if attempt[2] == 429]
    assert refused, f"the reconnect met no 429: {attempts}"
    assert attempts[-1][2] == 101, attempts
    # Counted, with the delay each asked for...
    assert bob.stats["refusals"] == [float(attempt[3]) for attempt in refused], (
        bob.stats["refusals"],
        attempts,
    )
    # ...and waited out: no handshake before the last one's Retry-After.
    for (_began, answered, status, retry_after), following in pairwise(attempts):
        if status == 429:
            waited = following[0] - answered
            assert waited >= float(retry_after), f"retried after {waited:.2f} s: {attempts}"
