"""Backoff and close-code rules: pure functions, no server."""

import random

import pytest
from bus_mobile_client.backoff import (
    REAUTH,
    RECONNECT,
    STOP,
    TRY_LATER_ACTION,
    Backoff,
    close_action,
)


def test_delay_doubles_up_to_the_cap():
    backoff = Backoff(initial=1.0, factor=2.0, cap=30.0, jitter=0.5)
    assert [backoff.ceiling(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]


def test_jitter_stays_within_bounds_and_spreads_clients():
    backoff = Backoff(initial=1.0, factor=2.0, cap=30.0, jitter=0.5)
    rng = random.Random(4)
    delays = [backoff.delay(3, rand=rng.random) for _ in range(200)]
    assert all(4.0 <= delay <= 8.0 for delay in delays)
    # Phones cut off together must not come back together.
    assert max(delays) - min(delays) > 2.0
    assert len({round(delay, 3) for delay in delays}) > 150


def test_jitter_extremes_are_exact():
    backoff = Backoff(initial=2.0, factor=3.0, cap=100.0, jitter=0.25)
    assert backoff.delay(2, rand=lambda: 0.0) == 18.0
    assert backoff.delay(2, rand=lambda: 1.0) == 13.5


def test_no_jitter_gives_the_ceiling():
    backoff = Backoff(initial=0.5, factor=2.0, cap=10.0, jitter=0.0)
    assert backoff.delay(3, rand=random.random) == 4.0


def test_try_later_waits_at_least_its_floor():
    backoff = Backoff(initial=0.1, cap=30.0, try_later_min=5.0)
    assert backoff.delay(0, TRY_LATER_ACTION, rand=lambda: 0.0) == 5.0
    assert backoff.delay(0, RECONNECT, rand=lambda: 0.0) == pytest.approx(0.1)
    assert backoff.delay(8, TRY_LATER_ACTION, rand=lambda: 0.0) == 25.6


def test_a_client_retrying_for_days_does_not_overflow():
    assert Backoff(cap=60.0).delay(10_000, rand=lambda: 0.0) == 60.0


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": -1}, {"cap": -1}, {"factor": 0.5}, {"jitter": 1.5}, {"try_later_min": -2}],
)
def test_nonsense_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        Backoff(**kwargs)


def test_negative_attempt_is_refused():
    with pytest.raises(ValueError):
        Backoff().ceiling(-1)


@pytest.mark.parametrize(
    ("code", "reason", "action"),
    [
        (1000, "", STOP),
        (1000, "OUTDATED_VERSION", STOP),
        (4001, "SESSION_EXPIRED", REAUTH),
        (4001, "", REAUTH),
        (1013, "", TRY_LATER_ACTION),
        (1001, "", RECONNECT),  # server restart
        (1006, "", RECONNECT),
        (None, "connection reset", RECONNECT),  # no close frame at all
        (1011, "", RECONNECT),
        (1012, "", RECONNECT),
        (4002, "", RECONNECT),
    ],
)
def test_close_action(code, reason, action):
    assert close_action(code, reason) == action
