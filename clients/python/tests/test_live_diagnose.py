"""``diagnose`` against real servers, through the documented command line."""

import json
import socket
from urllib.parse import urlsplit

import pytest
from bus_mobile_client.client import MobileBusClient
from bus_mobile_client.diagnose import CHECKS
from conftest import require_env
from helpers import nginx, run_cli

ALL_CHECKS = [name for name, _title in CHECKS]


def diagnose_json(url, *args):
    process = run_cli("diagnose", url, "--json", *args)
    assert process.stderr == "", process.stderr
    return process.returncode, json.loads(process.stdout)


def checks_of(report):
    return {check["name"]: check for check in report["checks"]}


def credentials(user):
    return ["--login", user["login"], "--password", user["password"]]


@pytest.fixture
def user(live):
    return live.user("diag")


@pytest.fixture(scope="module")
def healthy(live_server):
    """One diagnose run against the healthy server: ``(code, report)``."""
    user = live_server.user("diag")
    return diagnose_json(live_server.url, "--db", live_server.db, *credentials(user))


def test_healthy_server_passes_every_check(healthy):
    code, report = healthy
    assert [c["name"] for c in report["checks"]] == ALL_CHECKS
    assert [c["name"] for c in report["checks"] if c["status"] != "pass"] == [], report
    assert report["ok"] is True
    assert code == 0


def test_human_output_has_one_line_per_check(live, user):
    process = run_cli("diagnose", live.url, "--db", live.db, *credentials(user))
    lines = process.stdout.splitlines()
    assert process.returncode == 0, process.stdout
    assert [line.split()[0] for line in lines[1:-1]] == ["PASS"] * len(ALL_CHECKS)
    assert lines[-1] == f"OK: {len(ALL_CHECKS)} passed, 0 failed, 0 skipped"


def test_browser_user_agent_case_names_outdated_version_and_the_version(healthy, live, user):
    worker_version = live.client(user, connect=False).server_config["worker_version"]
    _code, report = healthy
    stock = checks_of(report)["stock_websocket"]
    assert stock["status"] == "pass"
    assert "OUTDATED_VERSION" in stock["detail"]
    assert "IS installed" in stock["detail"]
    assert f"/websocket?version={worker_version} (checked: it stays open)" in stock["detail"]


def test_wrong_password(live, user):
    code, report = diagnose_json(
        live.url, "--db", live.db, "--login", user["login"], "--password", "not-it"
    )
    checks = checks_of(report)
    assert code == 1
    assert checks["reachable"]["status"] == "pass"
    assert checks["login"]["status"] == "fail"
    assert "wrong login or password" in checks["login"]["cause"]
    assert checks["login"]["fix"]
    assert {checks[n]["status"] for n in ("addon", "mobile_socket", "round_trip")} == {"skip"}


def test_unknown_database(live, user):
    code, report = diagnose_json(live.url, "--db", "no_such_db", *credentials(user))
    login = checks_of(report)["login"]
    assert code == 1
    assert login["status"] == "fail"
    assert "no_such_db" in login["cause"]


def test_closed_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there any more
    code, report = diagnose_json(
        f"http://127.0.0.1:{port}", "--db", "x", "--login", "a", "--password", "b"
    )
    reachable = checks_of(report)["reachable"]
    assert code == 1
    assert reachable["status"] == "fail"
    assert f"nothing answers at 127.0.0.1:{port}" in reachable["cause"]
    assert "start Odoo" in reachable["fix"]
    assert [c["status"] for c in report["checks"][1:]] == ["skip"] * (len(ALL_CHECKS) - 1)


def test_server_without_the_addon_names_it():
    url, db = require_env("BUS_MOBILE_BARE_URL", "BUS_MOBILE_BARE_DB")
    code, report = diagnose_json(url, "--db", db, "--login", "admin", "--password", "admin")
    checks = checks_of(report)
    assert code == 1
    assert checks["login"]["status"] == "pass"
    assert checks["addon"]["status"] == "fail"
    assert "bus_mobile addon is not installed" in checks["addon"]["cause"]
    assert "Mobile Bus" in checks["addon"]["fix"]
    assert checks["mobile_socket"]["status"] == "fail"
    assert "bus_mobile addon is not installed" in checks["mobile_socket"]["cause"]
    # Stock /websocket is there (bus is installed); the version comes from the login.
    assert checks["stock_websocket"]["status"] == "pass"
    assert "/websocket?version=18.0-" in checks["stock_websocket"]["detail"]


def test_expired_session_is_explained(live, user):
    client = MobileBusClient(live.url, live.db, user["login"], user["password"])
    client.authenticate()
    session_id = client.session_id
    client.http.get(
        f"{live.url}/web/session/logout",
        cookies={"session_id": session_id},
        allow_redirects=False,
        timeout=10,
    )
    code, report = diagnose_json(live.url, "--db", live.db, "--session-id", session_id)
    checks = checks_of(report)
    assert code == 1
    assert checks["login"]["status"] == "fail"
    assert "4001" in checks["login"]["cause"]
    assert checks["mobile_socket"]["status"] == "fail"
    assert "4001 SESSION_EXPIRED" in checks["mobile_socket"]["cause"]
    assert "log in again" in checks["mobile_socket"]["fix"]


def prefork_upstreams():
    """``(http, gevent)``: the --workers server's own ports, ``host:port``."""
    http, gevent = require_env("BUS_MOBILE_PREFORK_HTTP", "BUS_MOBILE_PREFORK_GEVENT")
    return [urlsplit(http).netloc], [urlsplit(gevent).netloc]


def test_proxy_without_upgrade_headers(live, user):
    """Debian's nginx with the README's configuration but for its two
    ``proxy_set_header Upgrade/Connection`` lines: nginx then drops both
    hop-by-hop headers and Odoo answers the handshake with 400."""
    http, gevent = prefork_upstreams()
    with nginx("no-upgrade", http, gevent, without=("Upgrade", "Connection")) as proxy:
        code, report = diagnose_json(proxy.url, "--db", live.db, *credentials(user))
    checks = checks_of(report)
    assert code == 1
    assert checks["login"]["status"] == checks["addon"]["status"] == "pass"
    for name in ("stock_websocket", "mobile_socket"):
        assert checks[name]["status"] == "fail"
        assert "does not pass the Upgrade/Connection headers" in checks[name]["cause"]
        assert "proxy_set_header" in checks[name]["fix"]


# A catch-all of a web app or CDN in front of the socket routes.
PLAIN_PAGE_SITE = """
upstream odoo_http {
    server %s;
}
server {
    listen {{LISTEN}};
    location /websocket {
        default_type text/html;
        return 200 "<html>app shell</html>";
    }
    location /bus_mobile/websocket {
        default_type text/html;
        return 200 "<html>app shell</html>";
    }
    location / {
        proxy_pass http://odoo_http;
        proxy_set_header Host $http_host;
    }
}
"""


def test_proxy_answering_a_plain_page(live, user):
    http, gevent = prefork_upstreams()
    with nginx("plain-page", http, gevent, site=PLAIN_PAGE_SITE % http[0]) as proxy:
        code, report = diagnose_json(proxy.url, "--db", live.db, *credentials(user))
    mobile = checks_of(report)["mobile_socket"]
    assert code == 1
    assert mobile["status"] == "fail"
    assert "HTTP 200 instead of 101" in mobile["cause"]


# The prefork HTTP worker cannot serve a socket: Odoo logs the request's
# failure (stock /websocket and the mobile socket), which this test causes.
@pytest.mark.server_log(r"RuntimeError: Couldn't bind the websocket")
def test_prefork_http_port_and_its_gevent_port(live, user):
    url, ws_base = require_env("BUS_MOBILE_PREFORK_HTTP", "BUS_MOBILE_PREFORK_GEVENT")
    code, report = diagnose_json(url, "--db", live.db, *credentials(user))
    mobile = checks_of(report)["mobile_socket"]
    assert code == 1
    assert mobile["status"] == "fail"
    assert "prefork" in mobile["cause"]
    assert "gevent port" in mobile["fix"]
    # The fix works: sockets on the gevent port, everything passes.
    code, report = diagnose_json(url, "--db", live.db, "--ws-base", ws_base, *credentials(user))
    assert [c["name"] for c in report["checks"] if c["status"] != "pass"] == [], report
    assert code == 0


def test_the_readme_proxy_passes_every_check(live, user):
    """The same server behind nginx with the README's configuration: one
    URL for everything, every check passes."""
    (url,) = require_env("BUS_MOBILE_PREFORK_URL")
    code, report = diagnose_json(url, "--db", live.db, *credentials(user))
    assert [c["name"] for c in report["checks"] if c["status"] != "pass"] == [], report
    assert code == 0
