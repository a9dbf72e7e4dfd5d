"""When a silent connection counts as lost: pure functions, no server."""

import pytest
from bus_mobile_client.client import MobileBusClient
from bus_mobile_client.liveness import Liveness


def test_bounds_follow_the_server_keepalive():
    liveness = Liveness.from_config({"presence": {"offline_after_s": 65}})
    assert (liveness.ping_after_s, liveness.pong_timeout_s) == pytest.approx((19.5, 13.0))
    short = Liveness.from_config({"presence": {"offline_after_s": 10}})
    assert (short.ping_after_s, short.pong_timeout_s) == pytest.approx((3.0, 2.0))


@pytest.mark.parametrize(
    "config",
    [None, {}, {"presence": {}}]
    + [{"presence": {"offline_after_s": v}} for v in (0, -5, "65", True, None)],
)
def test_no_or_nonsensical_config_gives_the_defaults(config):
    assert Liveness.from_config(config) == Liveness(19.5, 13.0)


def test_silence_then_ping_then_lost():
    liveness = Liveness(ping_after_s=3.0, pong_timeout_s=2.0)
    heard = 100.0
    assert not liveness.ping_due(heard, None, 102.9)
    assert liveness.next_check(heard, None) == 103.0
    assert liveness.ping_due(heard, None, 103.0)
    ping = 103.0
    assert not liveness.ping_due(heard, ping, 104.0), "one ping at a time"
    assert not liveness.is_lost(heard, ping, 104.9)
    assert liveness.next_check(heard, ping) == 105.0
    assert liveness.is_lost(heard, ping, 105.0)


def test_anything_heard_after_the_ping_keeps_the_connection():
    liveness = Liveness(ping_after_s=3.0, pong_timeout_s=2.0)
    ping = 103.0
    heard = 103.5  # a pong, a notification, the server's own ping
    assert not liveness.is_lost(heard, ping, 200.0)
    assert liveness.next_check(heard, ping) == 106.5


def test_bounds_must_be_positive():
    for ping_after_s, pong_timeout_s in ((0, 1), (1, 0), (-1, 1)):
        with pytest.raises(ValueError):
            Liveness(ping_after_s, pong_timeout_s)


def test_client_derives_its_bounds_from_the_server_config():
    client = MobileBusClient("http://127.0.0.1:1")
    assert client._liveness() == Liveness(19.5, 13.0)
    client.server_config = {"presence": {"offline_after_s": 20}}
    assert client._liveness() == Liveness(6.0, 4.0)
    fixed = MobileBusClient("http://127.0.0.1:1", liveness=Liveness(1.0, 1.0))
    fixed.server_config = {"presence": {"offline_after_s": 20}}
    assert fixed._liveness() == Liveness(1.0, 1.0)
