"""Faults on live servers, with the Python client as the app.

Node A runs with --workers=2 (the app's socket on its gevent port); the
watcher follows the app's presence from node B. For each fault, in the
middle of a burst of posts: nothing the app was sent is lost (``last``
plus ``sync``), nothing is shown twice, nor sent twice by the server
(counted before the client's de-duplication), and presence converges:
online again once the app is back, offline once it closes, by the close
itself (``offline_after_s`` is far above the watcher's wait, see
faults.py). The figures go to ``$BUS_MOBILE_FAULTS_REPORT``."""

import os
import signal
import uuid

import pytest
from faults import OFFLINE_AFTER_S, CountingClient, report, run_fault
from nodes import Cluster, gevent_worker, wait_until


@pytest.fixture(scope="module")
def cluster():
    cluster = Cluster()
    cluster.set_param("bus_mobile.offline_after_s", OFFLINE_AFTER_S)
    return cluster


@pytest.fixture
def scene(cluster):
    """``(poster, app, watcher, channel id)``: Alice posts over HTTP to
    node A, Bob's app has its socket on node A, Carol watches Bob from
    node B."""
    alice_user, bob_user = cluster.a.new_user("alice"), cluster.a.new_user("bob")
    carol_user = cluster.a.new_user("carol")
    poster = cluster.a.client(alice_user, connect=False)
    app = cluster.a.client(bob_user, cls=CountingClient, device_uuid=str(uuid.uuid4()))
    assert app.server_config["presence"]["offline_after_s"] == OFFLINE_AFTER_S
    watcher = cluster.b.client(carol_user)
    channel = poster.create_channel(
        f"faults {uuid.uuid4().hex[:8]}", "private", [bob_user["partner_id"]]
    )
    app.wait_for(
        lambda n: n.type == "bus_mobile/channel" and n.channel.get("id") == channel["id"], 20
    )
    yield poster, app, watcher, channel["id"]
    cluster.close_clients()


def check(cluster, figures):
    report(f"[{cluster.label}] {figures.line()}")
    figures.check()


def test_kill_9_of_the_gevent_worker_in_a_burst(cluster, scene):
    master = cluster.pid_a()
    killed = {}

    def kill_gevent_worker():
        pid = gevent_worker(master)
        assert pid, f"no gevent worker under node A's master {master}"
        os.kill(pid, signal.SIGKILL)
        killed["pid"] = pid
        # The master starts a new one, which listens on the same port.
        assert wait_until(lambda: gevent_worker(master) not in (None, pid), 60)
        cluster.a.wait_ready()

    poster, app, watcher, cid = scene
    figures = run_fault(
        "kill -9 of the gevent worker",
        kill_gevent_worker,
        poster=poster,
        app=app,
        watcher=watcher,
        channel_id=cid,
    )
    check(cluster, figures)
    assert app.stats["reconnects"] >= 1
    assert gevent_worker(master) != killed["pid"]


# While PostgreSQL restarts, Odoo's own loops (its bus, its cron threads and
# workers) log their lost connection, and a request that finds the database
# down is served without it: scripts/server_logs.py NOISE "pg-restart". A
# route's error is never allowed, whatever its traceback: the restart comes
# between two posts (a request in flight when PostgreSQL ends its connection
# fails in Odoo's own commit, logged as any route's error). The dispatcher
# logs none.
@pytest.mark.server_log(noise=["pg-restart"])
def test_postgresql_restart_with_open_sockets(cluster, scene):
    poster, app, watcher, cid = scene
    figures = run_fault(
        "PostgreSQL restart",
        cluster.restart_postgresql,
        poster=poster,
        app=app,
        watcher=watcher,
        channel_id=cid,
        between_posts=True,
    )
    check(cluster, figures)


def test_full_restart_of_a_node(cluster, scene):
    def restart():
        cluster.stop_a()
        cluster.start_a()

    poster, app, watcher, cid = scene
    figures = run_fault(
        "full restart of node A", restart, poster=poster, app=app, watcher=watcher, channel_id=cid
    )
    check(cluster, figures)
    assert app.stats["reconnects"] >= 1
