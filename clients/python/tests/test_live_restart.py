"""A server restart mid-conversation: every message arrives exactly once."""

import threading
import time
import uuid
from collections import Counter

import pytest
from bus_mobile_client.notifications import MESSAGE
from helpers import assert_sent_once, record_socket_messages

COUNT = 40


# Stock Odoo, stopped while a cron thread waits on its database connection,
# may log that thread's death on the closed connection.
@pytest.mark.server_log(
    r"Exception in thread odoo\.service\.cron\.cron\d+:(?s:.*)"
    r"psycopg2\.InterfaceError: connection already closed"
)
def test_server_restart_mid_conversation(pair, server_control):
    alice, bob, channel = pair
    cid = channel["id"]
    stop_server, start_server = server_control
    run = uuid.uuid4().hex[:8]
    posted, received, errors = {}, [], []
    # What the server sends, before the client drops repeated ids: the
    # client hides a duplicate, the server must not send one.
    sent = record_socket_messages(bob)
    all_received, server_down = threading.Event(), threading.Event()
    # Alice only posts (HTTP); Bob's socket receives. A socket nobody reads
    # would not answer Odoo's closing handshake and delay its shutdown.
    alice.close()

    def send():
        try:
            for seq in range(1, COUNT + 1):
                if seq == COUNT // 2 + 1:
                    # The second half is posted into the outage and after it.
                    server_down.wait(60)
                # The same client_uuid on every retry: never a duplicate.
                message, _attempts = alice.post_reliably(
                    cid, f"{run} seq {seq}", client_uuid=f"{run}-{seq}", give_up_after=120
                )
                posted[seq] = message["id"]
                time.sleep(0.05)
        except Exception as exc:
            errors.append(exc)

    def receive():
        try:
            for notification in bob.notifications():
                if notification.type == MESSAGE and notification.channel_id == cid:
                    received.append(notification)
                    if len({n.message_id for n in received}) >= COUNT:
                        all_received.set()
        except Exception as exc:
            errors.append(exc)

    sender = threading.Thread(target=send, daemon=True)
    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    sender.start()
    while len(posted) < COUNT // 2 and sender.is_alive():
        time.sleep(0.05)
    stop_server()  # Odoo closes the sockets with 1001 and goes away
    server_down.set()
    time.sleep(1.0)  # the sender keeps retrying meanwhile
    start_server()
    sender.join(180)
    all_received.wait(60)
    bob.close()
    receiver.join(10)

    assert not errors, errors
    assert sorted(posted) == list(range(1, COUNT + 1))
    seqs = [int(n.body.rsplit(" ", 1)[1]) for n in received]
    assert_sent_once(sent, posted.values())
    duplicates = [seq for seq, count in Counter(seqs).items() if count > 1]
    assert not duplicates, f"delivered more than once: {duplicates}"
    assert sorted(seqs) == list(
        range(1, COUNT + 1)
    ), f"missing: {set(range(1, COUNT + 1)) - set(seqs)}"
    # The server stored each message once, whatever the retries.
    stored = [m for m in alice.messages(cid, limit=100) if m["body"].startswith(run)]
    assert sorted(int(m["body"].rsplit(" ", 1)[1]) for m in stored) == list(range(1, COUNT + 1))
    # Bob's client really lost its connection and came back by itself.
    assert bob.stats["reconnects"] >= 1
    assert {code for code, _reason in bob.stats["closes"]} & {1001, 1006, None}
