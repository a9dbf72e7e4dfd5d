"""Operations against live servers and a real Prometheus (the metrics
stage, scripts/stages/metrics.sh): two Odoo servers on one database, a
threaded one (BUS_MOBILE_URL) and a ``--workers=2`` one loaded server-wide
on a server with several databases (BUS_MOBILE_PREFORK_URL, its gevent port
BUS_MOBILE_PREFORK_WS); Prometheus (BUS_MOBILE_PROMETHEUS_URL) scrapes both
every second with the token BUS_MOBILE_METRICS_TOKEN. What the test does
is what Prometheus sees."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from bus_mobile_client.notifications import MESSAGE
from conftest import env, require_env
from helpers import is_type, wait_until

# The push providers' stand-in of the addon's own tests (no Odoo import).
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests"))
from fake_push_provider import FakePushProvider


class Ops:
    def __init__(self, live):
        self.live = live
        self.db = live.db
        self.threaded = live.url
        self.prefork, self.prefork_ws = require_env(
            "BUS_MOBILE_PREFORK_URL", "BUS_MOBILE_PREFORK_WS"
        )
        self.prometheus, self.token, self.promtool, self.out = require_env(
            "BUS_MOBILE_PROMETHEUS_URL",
            "BUS_MOBILE_METRICS_TOKEN",
            "BUS_MOBILE_PROMTOOL",
            "BUS_MOBILE_METRICS_OUT",
        )
        self.other_db = env("BUS_MOBILE_OTHER_DB")

    def instance(self, url):
        return url.split("://", 1)[1]

    def scrape(self, url, token=None, db=None, **kw):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(
            f"{url}/bus_mobile/metrics",
            params={"db": db or self.db},
            headers=headers,
            timeout=10,
            **kw,
        )

    def query(self, expr):
        """Prometheus's instant value of ``expr`` (summed), 0 when empty."""
        answer = requests.get(
            f"{self.prometheus}/api/v1/query", params={"query": expr}, timeout=10
        ).json()
        assert answer["status"] == "success", answer
        return sum(float(r["value"][1]) for r in answer["data"]["result"])

    def series(self, name, url, **labels):
        matchers = ",".join(
            [f'db="{self.db}"', f'instance="{self.instance(url)}"']
            + [f'{k}="{v}"' for k, v in labels.items()]
        )
        return f"sum({name}{{{matchers}}})"

    def series_all(self, name, **labels):
        """``name`` summed over the nodes."""
        matchers = ",".join([f'db="{self.db}"'] + [f'{k}="{v}"' for k, v in labels.items()])
        return f"sum({name}{{{matchers}}})"

    def wait_prometheus(self, expected, timeout=45):
        """Wait until Prometheus sees every ``{expr: value}``, then check it
        still does two scrapes later (nothing counted twice)."""
        seen = {}

        def all_seen():
            seen.update({expr: self.query(expr) for expr in expected})
            return seen == expected

        wait_until(all_seen, f"Prometheus to see {expected} (last seen {seen})", timeout)
        time.sleep(2.5)
        assert {expr: self.query(expr) for expr in expected} == expected

    def record(self, name, text):
        Path(self.out, name).write_text(text)


@pytest.fixture
def ops(live):
    return Ops(live)


def test_scrapes_pass_promtool(ops):
    for label, url in (("threaded", ops.threaded), ("prefork", ops.prefork)):
        response = ops.scrape(url, ops.token)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        ops.record(f"scrape-{ops.db}-{label}.txt", response.text)
        check = subprocess.run(
            [ops.promtool, "check", "metrics"],
            input=response.text,
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert f'bus_mobile_database_up{{db="{ops.db}"}} 1.0' in response.text


def test_prometheus_counts_what_apps_do_on_both_nodes(ops, live):
    """Sockets on the threaded node and on the prefork node's gevent worker
    (its scrapes are answered by an HTTP worker: another process), messages
    delivered, frames, closes: Prometheus's figures are the test's."""
    t, p = ops.threaded, ops.prefork
    alice, bob = live.user("alice"), live.user("bob")
    names = {
        "sockets": "bus_mobile_sockets",
        "frames": "bus_mobile_frames_sent_total",
        "delivered": "bus_mobile_notifications_delivered_total",
        "latency": "bus_mobile_delivery_latency_seconds_count",
    }

    def exprs(**labels):
        return {
            (key, node): ops.series(name, url, **labels)
            for key, name in names.items()
            for node, url in (("t", t), ("p", p))
        }

    queries = exprs()
    closes = {
        node: ops.series("bus_mobile_closes_total", url, code="client")
        for node, url in (("t", t), ("p", p))
    }
    ops.wait_prometheus({})  # a scrape of each came in
    before = {key: ops.query(expr) for key, expr in queries.items()}
    closes_before = {node: ops.query(expr) for node, expr in closes.items()}

    owner = live.client(alice, connect=False)
    channel = owner.create_channel(f"ops {uuid.uuid4().hex[:8]}", "private", [bob["partner_id"]])
    prefork_ws = f"{ops.prefork_ws}/bus_mobile/websocket"
    apps = [live.client(alice), live.client(bob)] + [
        live.client(user, url=p, ws_url=prefork_ws) for user in (alice, bob, bob)
    ]
    ops.wait_prometheus(
        {
            queries["sockets", "t"]: before["sockets", "t"] + 2,
            queries["sockets", "p"]: before["sockets", "p"] + 3,
        }
    )
    settled = {key: ops.query(expr) for key, expr in queries.items()}

    posts = 3
    for n in range(posts):
        posted = owner.post(channel["id"], f"ops {n}")
        for app in apps:
            app.wait_for(is_type(MESSAGE, id=posted["id"]), timeout=20)
    ops.wait_prometheus(
        {
            queries["delivered", "t"]: settled["delivered", "t"] + posts,
            queries["delivered", "p"]: settled["delivered", "p"] + posts,
            queries["latency", "t"]: settled["latency", "t"] + posts,
            queries["latency", "p"]: settled["latency", "p"] + posts,
            queries["frames", "t"]: settled["frames", "t"] + 2 * posts,
            queries["frames", "p"]: settled["frames", "p"] + 3 * posts,
        }
    )

    for app in apps:
        app.close()
    ops.wait_prometheus(
        {
            queries["sockets", "t"]: before["sockets", "t"],
            queries["sockets", "p"]: before["sockets", "p"],
            closes["t"]: closes_before["t"] + 2,
            closes["p"]: closes_before["p"] + 3,
        }
    )
    latency = ops.query(
        "histogram_quantile(0.99, sum by (le) "
        f'(bus_mobile_delivery_latency_seconds_bucket{{db="{ops.db}"}}))'
    )
    ops.record(
        f"prometheus-{ops.db}.json",
        json.dumps(
            {
                "sockets_during": {"threaded": 2, "prefork": 3},
                "posts": posts,
                "delivery_p99_s_all_time": latency,
                "queries": {f"{k[0]}@{k[1]}": v for k, v in queries.items()},
            },
            indent=1,
        ),
    )


def test_prometheus_counts_pushes(ops, live, server_settings):
    fake = FakePushProvider().start()
    try:
        server_settings("push_expo_base_url", fake.expo_base_url)
        alice, carol = live.user("alice"), live.new_user("carol")
        phone = live.client(carol, connect=False)
        phone.register_device("ios", push_token=f"ExponentPushToken[{uuid.uuid4().hex[:16]}]")
        sent = ops.series_all("bus_mobile_push_total", provider="expo", outcome="sent")
        answered = ops.series_all("bus_mobile_push_provider_seconds_count", provider="expo")
        ops.wait_prometheus({})
        before = {sent: ops.query(sent), answered: ops.query(answered)}
        owner = live.client(alice, connect=False)
        channel = owner.create_channel(
            f"push {uuid.uuid4().hex[:8]}", "private", [carol["partner_id"]]
        )
        owner.post(channel["id"], "a push")
        wait_until(lambda: fake.of_kind("expo_send"), "the push to reach the provider", 60)
        ops.wait_prometheus({sent: before[sent] + 1, answered: before[answered] + 1}, timeout=60)
        queued = f'max by (db) (bus_mobile_push_queue{{db="{ops.db}",scope="database"}})'
        assert ops.query(queued) == 0
    finally:
        fake.stop()


def test_scrapes_are_refused_without_the_right_credential(ops, live):
    plain = live.user("alice")
    for url in (ops.threaded, ops.prefork):
        assert ops.scrape(url).status_code == 401
        assert ops.scrape(url, "not-the-token").status_code == 403
        cookie = requests.get(
            f"{url}/bus_mobile/metrics",
            params={"db": ops.db},
            cookies={"session_id": plain["session_id"]},
            timeout=10,
        )
        assert cookie.status_code == 401
        for response in (ops.scrape(url), ops.scrape(url, "x"), cookie):
            assert "bus_mobile_sockets" not in response.text


def test_health_reveals_only_its_facts(ops):
    for url, params in ((ops.threaded, {}), (ops.prefork, {"db": ops.db}), (ops.prefork, {})):
        response = requests.get(f"{url}/bus_mobile/health", params=params, timeout=10)
        assert response.status_code == 200, response.text
        facts = response.json()
        assert set(facts) <= {"status", "database", "dispatcher", "backlog", "backlog_age_s"}
        assert facts["status"] == "pass"


def test_the_prefork_server_serves_several_databases_by_name(ops):
    """No dbfilter there and two databases: a cookie-less request has no
    database; the addon is loaded server-wide and ?db= names it."""
    assert ops.other_db and ops.other_db != ops.db
    other = ops.scrape(ops.prefork, ops.token, db=ops.other_db)
    assert other.status_code == 200, other.text
    assert f'bus_mobile_database_up{{db="{ops.other_db}"}} 1.0' in other.text
    assert f'db="{ops.db}"' not in other.text
    assert ops.scrape(ops.prefork, ops.token, db="no_such_db").status_code == 404


# Odoo's own loops and request handling while PostgreSQL restarts (the
# registry of a request cannot be opened: Odoo serves it without a
# database; Prometheus's scrape of another server, in flight, loses its
# commit): scripts/server_logs.py NOISE "pg-restart", never a route's error.
@pytest.mark.server_log(noise=["pg-restart"])
def test_scrape_during_a_postgresql_restart(ops):
    """The prefork server, loaded server-wide, answers what the node knows
    while the database restarts: never an error."""
    restart_cmd = require_env("BUS_MOBILE_PG_RESTART_CMD")[0]
    assert ops.scrape(ops.prefork, ops.token).status_code == 200  # the token is known
    answers, health = [], []
    # Down for 2 s, so that a scrape and a probe both come meanwhile,
    # whatever the machine's load.
    down_env = dict(os.environ, BUS_MOBILE_PG_DOWN_S="2")
    restart = threading.Thread(
        target=subprocess.run,
        args=(restart_cmd,),
        kwargs={"shell": True, "check": True, "env": down_env},
    )
    restart.start()
    while restart.is_alive():
        response = ops.scrape(ops.prefork, ops.token)
        answers.append((response.status_code, response.text))
        probe = requests.get(f"{ops.prefork}/bus_mobile/health", timeout=10)
        health.append((probe.status_code, probe.json()))
        time.sleep(0.02)
    restart.join()
    assert answers and all(status == 200 for status, _text in answers), answers[:3]
    down = [
        text for _status, text in answers if f'bus_mobile_database_up{{db="{ops.db}"}} 0.0' in text
    ]
    assert down, "no scrape came while the database was down"
    assert "bus_mobile_sockets" in down[0] or "bus_mobile_metrics_up" in down[0]
    assert all(status in (200, 503) for status, _facts in health)
    assert any(facts.get("database") == "fail" for _status, facts in health)
    up = f'bus_mobile_database_up{{db="{ops.db}"}} 1.0'
    wait_until(
        lambda: up in ops.scrape(ops.prefork, ops.token).text, "the database to be read again"
    )
