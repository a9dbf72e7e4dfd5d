"""Reconnect and resume against a live server: no message lost, none twice."""

import socket
import time
from collections import Counter

from bus_mobile_client.client import MobileBusClient
from bus_mobile_client.dedup import ResumeState
from bus_mobile_client.notifications import MESSAGE
from helpers import collect_messages, is_type, record_socket_messages, repeated


def test_reconnect_and_resume_after_the_tcp_connection_is_killed(pair):
    alice, bob, channel = pair
    cid = channel["id"]
    sent = record_socket_messages(bob)  # before the client's de-duplication
    first = alice.post(cid, "before the cut")
    bob.wait_for(is_type(MESSAGE, id=first["id"]))

    bob.websocket.sock.shutdown(socket.SHUT_RDWR)  # the network goes away
    missed = [alice.post(cid, f"while cut {i}")["id"] for i in range(5)]

    got = collect_messages(bob, cid, missed)
    assert Counter(n.message_id for n in got) == Counter(missed)
    assert [n.message_id for n in got] == missed  # in order
    assert bob.stats["reconnects"] == 1
    assert bob.stats["closes"][0][0] is None  # no close frame: a dropped connection
    # The catch-up fetched them, the bus replay (subscribe with `last`)
    # brought them again: the second copies were dropped.
    assert bob.stats["synced"] == 5
    bob.poll(1.0)
    assert bob.stats["duplicates"] == 5
    more = alice.post(cid, "after the reconnect")
    assert [n.message_id for n in collect_messages(bob, cid, [more["id"]])] == [more["id"]]
    # The sockets got each message once: the bus replay after `last` holds
    # only what the first socket missed.
    assert [mid for _nid, mid in sent] == [first["id"], *missed, more["id"]]
    assert repeated([nid for nid, _mid in sent]) == []


def test_an_app_restart_resumes_from_saved_cursors(pair, live):
    alice, bob, channel = pair
    cid = channel["id"]
    seen = alice.post(cid, "seen before the app closed")
    bob.wait_for(is_type(MESSAGE, id=seen["id"]))
    saved = (bob.resume.last_notification_id, bob.resume.last_message_id)
    bob.close()
    missed = [alice.post(cid, f"while the app was closed {i}")["id"] for i in range(3)]

    again = MobileBusClient(live.url, live.db, bob.login, bob.password, resume=ResumeState(*saved))
    live._clients.append(again)
    again.authenticate()
    again.connect()
    got = collect_messages(again, cid, missed)
    assert [n.message_id for n in got] == missed
    assert seen["id"] not in [n.message_id for n in got]


def test_try_later_backs_off_longer(pair):
    alice, bob, channel = pair
    burst = bob.server_config["limits"]["rate_limit_burst"]
    for _ in range(burst + 5):  # faster than Odoo's rate limit: close 1013
        bob.websocket.send('{"event_name": "update_presence", "data": {"inactivity_period": 0}}')
    started = time.monotonic()
    while bob.stats["reconnects"] == 0:
        assert time.monotonic() - started < 15, bob.stats
        bob.poll(0.2)
    assert 1013 in [code for code, _reason in bob.stats["closes"]]
    assert time.monotonic() - started >= bob.backoff.try_later_min
    posted = alice.post(channel["id"], "after the backoff")
    bob.wait_for(is_type(MESSAGE, id=posted["id"]))
