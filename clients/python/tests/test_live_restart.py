"""A server restart mid-conversation: every message arrives exactly once,
the server sends none twice, and presence converges (see faults.py)."""

import time
import uuid

import pytest
from faults import OFFLINE_AFTER_S, CountingClient, report, run_fault
from helpers import channel_event


# Stock Odoo, stopped while a cron thread waits on its database connection,
# may log that thread's death on the closed connection (scripts/server_logs.py).
@pytest.mark.server_log(noise=["odoo-stop"])
def test_server_restart_mid_conversation(live, server_control, server_settings):
    stop_server, start_server = server_control
    # Offline after the close must come from the close (see faults.py).
    server_settings("offline_after_s", OFFLINE_AFTER_S)
    alice_user, bob_user = live.new_user("alice"), live.new_user("bob")
    # Alice only posts (HTTP); Bob's app receives; Carol watches Bob. A
    # socket nobody reads would not answer Odoo's closing handshake and
    # delay its shutdown: every socket here is read.
    alice = live.client(alice_user, connect=False)
    bob = live.client(bob_user, cls=CountingClient)
    carol = live.client(live.new_user("carol"))
    channel = alice.create_channel(
        f"restart {uuid.uuid4().hex[:8]}", "private", [bob_user["partner_id"]]
    )
    cid = channel["id"]
    bob.wait_for(channel_event(cid))

    def restart():
        stop_server()  # Odoo closes the sockets with 1001 and goes away
        time.sleep(1.0)  # the poster keeps retrying meanwhile
        start_server()

    figures = run_fault(
        "full restart of the threaded server",
        restart,
        poster=alice,
        app=bob,
        watcher=carol,
        channel_id=cid,
    )
    report(figures.line())
    figures.check()
    # The server stored each message once, whatever the retries.
    stored = [m for m in alice.messages(cid, limit=100) if "seq" in m["body"]]
    assert len(stored) == figures.posted == len({m["client_uuid"] for m in stored})
    # Bob's client really lost its connection and came back by itself.
    assert bob.stats["reconnects"] >= 1
    assert {code for code, _reason in bob.stats["closes"]} & {1001, 1006, None}
