"""De-duplication and resume cursors: pure bookkeeping, no server."""

import pytest
from bus_mobile_client.dedup import ResumeState, advance, unseen


def msg(message_id, body=""):
    return {"id": message_id, "body": body or f"m{message_id}"}


def test_unseen_drops_known_and_repeated_ids_in_order():
    batch = [msg(5), msg(3), msg(5), msg(7), msg(3)]
    assert [m["id"] for m in unseen({7}, batch)] == [5, 3]


def test_unseen_does_not_change_its_input():
    seen = {1}
    unseen(seen, [msg(2)])
    assert seen == {1}


def test_advance_only_moves_forward():
    assert advance(10, [3, 12, None, 11]) == 12
    assert advance(10, [3, None]) == 10
    assert advance(0, []) == 0


def test_replay_then_sync_delivers_each_message_once():
    """After a reconnect the bus replays 4-6 and sync returns 5-8."""
    state = ResumeState(last_notification_id=100, last_message_id=3)
    replayed = state.accept([msg(4), msg(5), msg(6)])
    synced = state.accept([msg(5), msg(6), msg(7), msg(8)])
    assert [m["id"] for m in replayed] == [4, 5, 6]
    assert [m["id"] for m in synced] == [7, 8]
    assert state.last_message_id == 8
    assert state.accept([msg(8), msg(4)]) == []


def test_a_late_lower_id_is_still_delivered():
    # Two transactions can commit out of id order.
    state = ResumeState()
    state.accept([msg(11)])
    assert [m["id"] for m in state.accept([msg(10)])] == [10]
    assert state.last_message_id == 11


def test_bus_cursor():
    state = ResumeState(last_notification_id=40)
    state.note_notifications([41, 43, 42])
    assert state.last_notification_id == 43
    state.note_notifications([None, 12])
    assert state.last_notification_id == 43


def test_memory_is_bounded_and_keeps_the_newest_ids():
    state = ResumeState(max_seen=3)
    state.accept([msg(i) for i in range(1, 7)])
    assert [state.seen(i) for i in range(1, 7)] == [False, False, False, True, True, True]
    assert state.accept([msg(6)]) == []


def test_max_seen_must_be_positive():
    with pytest.raises(ValueError):
        ResumeState(max_seen=0)
