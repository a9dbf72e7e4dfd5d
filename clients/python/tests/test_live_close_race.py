"""Sockets of one user that close at once (an app killed with several
screens open, a proxy dropping all its connections): each close writes the
user's stock web presence. The closes must wait for each other instead of
failing on a concurrent update, which the server would log as an error
(the server-log check of conftest.py fails the test on it)."""

import threading

import websocket
from bus_mobile_client.client import websocket_base
from helpers import wait_until

SOCKETS = 12
ROUNDS = 4


def _open(url, session_id):
    ws = websocket.create_connection(
        url, cookie=f"session_id={session_id}", suppress_origin=True, timeout=10
    )
    # A heartbeat, then a ping: once the pong is back the server has set
    # the presence online, so the close below has a row to write.
    ws.send('{"event_name": "update_presence", "data": {"inactivity_period": 0}}')
    ws.ping()
    while ws.recv_data(control_frame=True)[0] != websocket.ABNF.OPCODE_PONG:
        pass
    return ws


def _close(ws, barrier):
    barrier.wait()
    ws.close()


def _presence_status(live, user_id):
    rows = live.call_kw("bus.presence", "search_read", [("user_id", "=", user_id)], ["status"])
    return rows[0]["status"] if rows else None


def test_sockets_of_one_user_closing_at_once(live):
    user = live.new_user("closer")
    session_id = live.client(user, connect=False).session_id
    url = f"{websocket_base(live.url)}/bus_mobile/websocket"
    for round_ in range(ROUNDS):
        sockets = [_open(url, session_id) for _ in range(SOCKETS)]
        # Later rounds may meet a close of the round before that lost the
        # race and is retried: the user is then offline, as stock sets it
        # when any of its sockets closes.
        if round_ == 0:
            assert _presence_status(live, user["id"]) == "online"
        barrier = threading.Barrier(SOCKETS)
        threads = [threading.Thread(target=_close, args=(ws, barrier)) for ws in sockets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_until(
            lambda: _presence_status(live, user["id"]) == "offline",
            "the user's presence offline after all its sockets closed",
        )
