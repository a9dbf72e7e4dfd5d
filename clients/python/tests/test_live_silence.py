"""A network that drops the connection without closing it (no FIN, no
reset): the client notices the silence within bounds derived from the
server's keepalive, reconnects, and nothing is lost."""

import uuid
from urllib.parse import urlsplit

from blackhole_proxy import BlackholeProxy
from bus_mobile_client.liveness import Liveness
from bus_mobile_client.notifications import MESSAGE
from helpers import channel_event, collect_messages, is_type

# The client pings after 30 % of it without a frame, gives up 20 % later.
OFFLINE_AFTER_S = 8


def test_silent_drop_is_noticed_and_the_client_reconnects(live, server_settings):
    server_settings("offline_after_s", OFFLINE_AFTER_S)
    server = urlsplit(live.url)
    with BlackholeProxy(server.hostname, server.port) as proxy:
        alice = live.client(live.user("alice"))
        bob_user = live.user("bob")
        bob = live.client(bob_user, ws_url=f"ws://127.0.0.1:{proxy.port}/bus_mobile/websocket")
        assert bob._liveness() == Liveness(OFFLINE_AFTER_S * 0.3, OFFLINE_AFTER_S * 0.2)
        channel = alice.create_channel(
            f"silence {uuid.uuid4().hex[:8]}", "private", [bob_user["partner_id"]]
        )
        cid = channel["id"]
        bob.wait_for(channel_event(cid))
        first = alice.post(cid, "before the silence")
        bob.wait_for(is_type(MESSAGE, id=first["id"]))
        assert proxy.connections == 1

        proxy.blackhole()  # the network goes silent, nothing is closed
        missed = [alice.post(cid, f"while silent {i}")["id"] for i in range(3)]

        # Without a liveness check the client would wait forever.
        got = collect_messages(bob, cid, missed, timeout=40)
        assert [n.message_id for n in got] == missed
        code, reason = bob.stats["closes"][0]
        assert code is None and reason.startswith("silence:"), bob.stats["closes"]
        assert bob.stats["reconnects"] == 1
        assert proxy.connections == 2  # it came back through a new connection
        more = alice.post(cid, "after the reconnect")
        bob.wait_for(is_type(MESSAGE, id=more["id"]))
