"""Two Odoo nodes on one database, as behind a load balancer (see nodes.py
for the servers; scripts/stages/nodes.sh runs them directly and through
PgBouncer). Fan-out between nodes is Odoo's own ``pg_notify``; these tests
count what each node's server sent, before any client de-duplication."""

import functools
import re
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from bus_mobile_client.client import RpcError
from bus_mobile_client.notifications import CHANNEL
from conftest import TEST_BACKOFF
from faults import (
    DELIVERY_TIMEOUT,
    OFFLINE_AFTER_S,
    PRESENCE_TIMEOUT,
    CountingClient,
    Inbox,
    Poster,
    PresenceWatch,
    report,
)
from helpers import channel_event, nginx
from nodes import Cluster, log_size, read_log, wait_until

# A node's sockets get the messages of the other node within this long:
# a bound for a lost message, not a latency measurement.
CROSS_NODE_TIMEOUT = 30.0
# After the last expected copy: any duplicate would be here by then.
SETTLE_S = 2.0
CRON_ROUNDS = 3


@pytest.fixture(scope="module")
def cluster():
    return Cluster()


@pytest.fixture
def nodes(cluster):
    yield cluster
    cluster.close_clients()


@pytest.fixture
def offline_by_close_only(cluster):
    """offline_after_s far above the test's waits, for this test: only a
    close can take a device offline in time (see faults.py)."""
    param = "bus_mobile.offline_after_s"
    saved = cluster.a.call_kw("ir.config_parameter", "get_param", param) or None
    cluster.set_param(param, OFFLINE_AFTER_S)
    yield
    cluster.set_param(param, saved)


def subscribed(client, channel_id):
    """Wait for the channel's ``created`` event: the socket subscribed to it."""
    client.wait_for(lambda n: n.type == CHANNEL and channel_event(channel_id)(n), timeout=20)


def new_channel(nodes, poster_user, member_users, clients):
    poster = nodes.a.client(poster_user, connect=False)
    channel = poster.create_channel(
        f"nodes {uuid.uuid4().hex[:8]}", "private", [u["partner_id"] for u in member_users]
    )
    for client in clients:
        subscribed(client, channel["id"])
    return poster, channel


def latencies(inbox, posted_at):
    values = sorted(
        inbox.arrivals[mid] - at for mid, at in posted_at.items() if mid in inbox.arrivals
    )
    return values[len(values) // 2], values[-1]


def test_a_post_through_one_node_reaches_the_other_nodes_sockets_once(nodes):
    alice_user, bob_user = nodes.a.user("alice"), nodes.a.user("bob")
    # Bob: two devices on node B, one on node A.
    bob_b1, bob_b2, bob_a = (
        nodes.b.client(bob_user),
        nodes.b.client(bob_user),
        nodes.a.client(bob_user),
    )
    alice_a, channel = new_channel(nodes, alice_user, [bob_user], [bob_b1, bob_b2, bob_a])
    cid = channel["id"]
    alice_b = nodes.b.client(alice_user, connect=False)
    inboxes = {name: Inbox(c, cid) for name, c in (("B1", bob_b1), ("B2", bob_b2), ("A", bob_a))}
    for inbox in inboxes.values():
        inbox.start()
    posted_at = {}
    try:
        for poster, node in ((alice_a, "A"), (alice_b, "B")):
            for seq in range(20):
                before = time.monotonic()
                message = poster.post(cid, f"via {node} {seq}")
                posted_at[message["id"]] = before
        for name, inbox in inboxes.items():
            assert inbox.wait_for(posted_at, CROSS_NODE_TIMEOUT), f"socket {name} misses messages"
        # A sentinel through each node: a copy of an earlier message would
        # come before them.
        sentinels = [poster.post(cid, "sentinel")["id"] for poster in (alice_a, alice_b)]
        for name, inbox in inboxes.items():
            assert inbox.wait_for(sentinels, CROSS_NODE_TIMEOUT), f"socket {name} misses a sentinel"
    finally:
        for inbox in inboxes.values():
            inbox.stop()
    for name, client in (("B1", bob_b1), ("B2", bob_b2), ("A", bob_a)):
        inbox = inboxes[name]
        assert not inbox.errors, inbox.errors
        # What the server sent: each message once on each socket.
        sent = Counter({mid: client.socket_messages[mid] for mid in posted_at})
        assert set(sent.values()) == {1}, f"socket {name}: sent {sent}"
        assert client.sent_twice()[1] == {}, f"socket {name}: a bus id twice"
        assert client.stats["reconnects"] == 0 and client.stats["synced"] == 0
        assert set(inbox.shown.values()) == {1}
    p50, worst = latencies(inboxes["B1"], posted_at)
    report(
        f"[{nodes.label}] 40 posts (20 through node A, 20 through node B) to 3 sockets "
        f"(2 on B, 1 on A): each message sent once to each socket; post call to socket "
        f"p50 {p50 * 1000:.0f} ms, max {worst * 1000:.0f} ms"
    )


def test_a_device_with_a_socket_on_each_node(nodes, offline_by_close_only):
    carol_user, bob_user = nodes.a.new_user("carol"), nodes.a.new_user("bob")
    carol = nodes.a.client(carol_user)
    bob_partner = bob_user["partner_id"]
    watch = PresenceWatch(carol, bob_partner).start()
    try:
        device = str(uuid.uuid4())
        started = time.monotonic()
        on_a = nodes.a.client(bob_user, device_uuid=device)
        on_b = nodes.b.client(bob_user, device_uuid=device)
        assert watch.wait("online", started, PRESENCE_TIMEOUT) is not None
        assert wait_until(lambda: device_row(nodes, device)["connection_count"] == 2, 20)

        closed_a = time.monotonic()
        on_a.close()
        # The socket on B still holds the device: no offline, as seen by
        # the watcher and as stored.
        assert wait_until(lambda: device_row(nodes, device)["connection_count"] == 1, 20)
        time.sleep(SETTLE_S)
        assert watch.count("offline", since=closed_a) == 0, watch.events
        assert watch.asked() == "online"
        assert device_row(nodes, device)["status"] == "online"

        closed_b = time.monotonic()
        on_b.close()
        assert watch.wait("offline", closed_b, PRESENCE_TIMEOUT) is not None, watch.events
        time.sleep(SETTLE_S)
    finally:
        watch.stop()
    assert not watch.errors, watch.errors
    statuses = [status for at, status in watch.events if at >= started]
    assert statuses.count("offline") == 1, watch.events
    assert statuses.count("online") == 1, watch.events
    assert statuses[-1] == "offline"
    assert device_row(nodes, device)["status"] == "offline"


def device_row(nodes, device_uuid):
    rows = nodes.a.call_kw(
        "bus_mobile.device",
        "search_read",
        [("device_uuid", "=", device_uuid)],
        ["status", "connection_count"],
    )
    assert len(rows) == 1, rows
    return rows[0]


def addon_crons(nodes):
    """The addon's active crons: ``[{id, cron_name}]``."""
    data = nodes.a.call_kw(
        "ir.model.data",
        "search_read",
        [("module", "=", "bus_mobile"), ("model", "=", "ir.cron")],
        ["res_id"],
    )
    return nodes.a.call_kw(
        "ir.cron",
        "search_read",
        [("id", "in", [d["res_id"] for d in data]), ("active", "=", True)],
        ["cron_name"],
    )


def cron_runs(nodes, cron_id):
    return nodes.a.call_kw("ir.cron.progress", "search_count", [("cron_id", "=", cron_id)])


def make_due(nodes, cron_id):
    """Make the cron due now; every cron worker of both nodes is woken
    (Odoo's ODOO_NOTIFY_CRON_CHANGES, set by the stage) and races for it."""
    now = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=1)
    deadline = time.monotonic() + 30
    while True:
        try:
            return nodes.a.call_kw(
                "ir.cron", "write", [cron_id], {"nextcall": now.strftime("%Y-%m-%d %H:%M:%S")}
            )
        except RpcError as exc:
            # The cron is running right now (its row is locked): try again.
            if "UserError" not in exc.name or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_each_cron_runs_once_not_once_per_node(nodes):
    crons = addon_crons(nodes)
    names = {cron["cron_name"] for cron in crons}
    assert "Mobile Bus: take silent devices offline" in names, names
    logs = nodes.logs()
    for cron in crons:
        cron_id = cron["id"]
        line = re.compile(rf"Job '.*' \({cron_id}\) starting")
        by_node = Counter()
        for _round in range(CRON_ROUNDS):
            before = cron_runs(nodes, cron_id)
            offsets = {node: log_size(path) for node, path in logs.items()}
            make_due(nodes, cron_id)
            # A cron worker wakes at once when notified, else within ~70 s.
            ran = functools.partial(lambda cid, runs: cron_runs(nodes, cid) > runs, cron_id, before)
            assert wait_until(ran, 90), cron
            time.sleep(SETTLE_S * 2)  # the other node's workers had their chance
            assert cron_runs(nodes, cron_id) == before + 1, f"{cron} ran more than once"
            starts = {
                node: len(line.findall(read_log(path, offsets[node])))
                for node, path in logs.items()
            }
            assert sum(starts.values()) == 1, f"{cron}: runs per node {starts}"
            by_node.update({node: n for node, n in starts.items() if n})
        report(
            f"[{nodes.label}] cron {cron['cron_name']!r}: made due {CRON_ROUNDS} times with every "
            f"cron worker of both nodes woken (2 per node): ran {sum(by_node.values())} times "
            f"(node A {by_node['A']}, node B {by_node['B']})"
        )


def balanced_client(nodes, user, proxy, connect=True):
    """A client that reaches the nodes only through the balancer."""
    client = CountingClient(
        proxy.url,
        nodes.db,
        user["login"],
        user["password"],
        session_id=user["session_id"],
        ws_url=proxy.ws + "/bus_mobile/websocket",
        backoff=TEST_BACKOFF,
    )
    nodes.a._clients.append(client)  # closed after the test
    client.config()
    if connect:
        client.connect()
    return client


def node_of(client):
    """The node (``host:port``) nginx passed the client's socket to: its
    handshake's answer says so (``X-Bus-Mobile-Upstream``, added by the
    tests' nginx around the README's configuration). nginx lists every
    node it tried (``A, B`` when A refused): the last one took it."""
    tried = client.websocket.getheaders().get("x-bus-mobile-upstream") or ""
    return tried.split(",")[-1].strip()


# nginx's own account of node A going away under it: connections it could
# not open, requests and sockets cut while it relayed them.
NODE_STOPPED = (
    r"connect\(\) failed \(111: Connection refused\) while connecting to upstream",
    r"recv\(\) failed \(104: Connection reset by peer\) while "
    r"(reading response header from upstream|proxying upgraded connection)",
    r"upstream prematurely closed connection while reading response header from upstream",
)


def test_stopping_a_node_moves_its_clients_to_the_other(nodes):
    """Through Debian's nginx with both nodes in the README's upstreams
    (round robin, no sticky sessions): node A stops in the middle of a
    burst; its sockets reconnect through nginx to node B and catch up
    (``last`` plus ``sync``), nothing lost, nothing sent twice."""
    alice_user = nodes.a.user("alice")
    bob_users = [nodes.a.user(f"bob{i}") for i in range(4)]
    a_ws, b_ws = ("{}:{}".format(*node.address()) for node in (nodes.a, nodes.b))
    http = ["{}:{}".format(*node.address("http")) for node in (nodes.a, nodes.b)]
    with nginx("nodes", http, [a_ws, b_ws], allow=NODE_STOPPED) as proxy:
        poster = balanced_client(nodes, alice_user, proxy, connect=False)
        bobs = [balanced_client(nodes, u, proxy) for u in bob_users]
        _poster, channel = new_channel(nodes, alice_user, bob_users, bobs)
        cid = channel["id"]
        on_a = [b for b in bobs if node_of(b) == a_ws]
        assert on_a and len(on_a) < len(bobs), [node_of(b) for b in bobs]
        assert {node_of(b) for b in bobs} == {a_ws, b_ws}
        inboxes = [Inbox(b, cid) for b in bobs]
        for inbox in inboxes:
            inbox.start()
        sender = Poster(poster, cid, label="node A stops")
        stopped_a = False
        try:
            sender.start()
            assert sender.half.wait(DELIVERY_TIMEOUT)
            nodes.stop_a()
            stopped_a = True
            sender.join(DELIVERY_TIMEOUT * 2)
            assert not sender.errors, sender.errors
            for inbox in inboxes:
                inbox.wait_for(sender.ids)
            # A sentinel after them: a copy of an earlier message would come
            # before it.
            sentinel = poster.post(cid, "sentinel")["id"]
            for inbox in inboxes:
                assert inbox.wait_for([sentinel]), "a socket misses the sentinel"
        finally:
            for inbox in inboxes:
                inbox.stop()
            if stopped_a:
                nodes.start_a()
    ids = sender.ids
    assert len(ids) == sender.count
    moved = 0
    for bob, inbox in zip(bobs, inboxes, strict=True):
        assert not inbox.errors, inbox.errors
        assert ids <= set(inbox.shown), f"lost: {sorted(ids - set(inbox.shown))}"
        assert {inbox.shown[mid] for mid in ids} == {1}
        sent_twice, bus_ids_twice = bob.sent_twice(ids)
        assert sent_twice == {} and bus_ids_twice == {}, (sent_twice, bus_ids_twice)
        if bob in on_a:
            # It lost node A and came back through nginx to B.
            assert bob.stats["reconnects"] >= 1, bob.stats
            assert node_of(bob) == b_ws
            moved += 1
    report(
        f"[{nodes.label}] node A stopped mid-burst behind nginx (both nodes in its upstreams): "
        f"{len(ids)} posted, {moved} of {len(bobs)} sockets moved from A to B, 0 lost, "
        f"0 sent twice, {sum(b.stats['synced'] for b in bobs)} caught up by sync, "
        f"{sender.retries} post retries"
    )
