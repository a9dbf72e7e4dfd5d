"""Causes and fixes, and typed notifications: pure functions, no server."""

import pytest
from bus_mobile_client.client import parse_close_frame, websocket_base
from bus_mobile_client.explain import close_cause, handshake_cause
from bus_mobile_client.notifications import (
    MessageNotification,
    Notification,
    PresenceNotification,
    ReadNotification,
    TypingNotification,
    parse_notification,
)

WERKZEUG_400 = (
    b"<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n"
    b"<p>The browser (or proxy) sent a request that this server could not understand.</p>\n"
)
ODOO_400 = (
    b"<!doctype html><title>400 Bad Request</title><h1>Bad Request</h1>"
    b"<p>Empty or missing header(s): connection, upgrade</p>"
)


@pytest.mark.parametrize(
    ("status", "headers", "body", "path", "words"),
    [
        (400, {}, ODOO_400, "/bus_mobile/websocket", ["proxy", "Upgrade"]),
        (400, {}, WERKZEUG_400, "/websocket", ["proxy", "Upgrade"]),
        (400, {}, b"", "/websocket", ["HTTP 400 on the socket handshake"]),
        (200, {}, b"<html>app</html>", "/bus_mobile/websocket", ["plain page", "proxy"]),
        (500, {}, b"Internal Server Error", "/websocket", ["prefork", "Couldn't bind"]),
        (404, {}, b"", "/bus_mobile/websocket", ["bus_mobile", "not installed"]),
        (404, {}, b"", "/websocket", ["no such route"]),
        (403, {"X-Bus-Mobile-Error": "ORIGIN_NOT_ALLOWED: x"}, None, "/x", ["ORIGIN_NOT_ALLOWED"]),
        (
            429,
            {"X-Bus-Mobile-Error": "TOO_MANY_CONNECTIONS: x", "Retry-After": "3"},
            None,
            "/bus_mobile/websocket",
            ["TOO_MANY_CONNECTIONS"],
        ),
        (
            403,
            {"X-Bus-Mobile-Error": "TOO_MANY_DEVICES: every device"},
            None,
            "/bus_mobile/websocket",
            ["TOO_MANY_DEVICES"],
        ),
        (401, {"X-Bus-Mobile-Error": "USER_ARCHIVED: x"}, None, "/x", ["API key", "ARCHIVED"]),
        (401, {"X-Bus-Mobile-Error": "TOKEN_REVOKED: x"}, None, "/x", ["bearer token"]),
        (502, {}, None, "/bus_mobile/websocket", ["proxy", "cannot reach"]),
        (418, {}, "teapot", "/bus_mobile/websocket", ["HTTP 418", "teapot"]),
    ],
)
def test_handshake_cause(status, headers, body, path, words):
    cause, fix = handshake_cause(status, headers, body, path)
    assert fix
    for word in words:
        assert word in cause
    if status == 500:
        assert "gevent" in fix


def test_too_many_connections_says_to_back_off():
    _cause, fix = handshake_cause(429, {"X-Bus-Mobile-Error": "TOO_MANY_CONNECTIONS: x"})
    assert "backoff" in fix and "Retry-After" in fix


def test_too_many_sockets_says_which_setting_and_when():
    cause, fix = handshake_cause(429, {"X-Bus-Mobile-Error": "TOO_MANY_SOCKETS: x"})
    assert "TOO_MANY_SOCKETS" in cause
    assert "Retry-After" in fix and "max_sockets_per_user" in fix
    cause, fix = close_cause(1013, "TOO_MANY_SOCKETS")
    assert "max_sockets_per_user" in cause and "max_sockets_per_user" in fix
    # Another 1013 keeps its own explanation.
    assert "max_sockets_per_user" not in close_cause(1013, "SLOW_READER")[0]


def test_refusals_that_signing_in_again_does_not_fix_say_so():
    for status, refusal, words in (
        (403, "TOO_MANY_DEVICES: x", ["device_uuid", "max_devices_per_user"]),
        (401, "USER_ARCHIVED: x", ["administrator restores"]),
    ):
        _cause, fix = handshake_cause(status, {"X-Bus-Mobile-Error": refusal})
        assert "sign in again" not in fix
        for word in words:
            assert word in fix


def test_400_for_another_missing_header_is_not_blamed_on_a_proxy():
    cause, _fix = handshake_cause(400, {}, b"Empty or missing header(s): origin", "/websocket")
    assert "proxy" not in cause
    assert "origin" in cause


@pytest.mark.parametrize(
    ("code", "reason", "words"),
    [
        (1000, "OUTDATED_VERSION", ["OUTDATED_VERSION", "IS installed"]),
        (4001, "", ["4001", "session"]),
        (4001, "TOKEN_REVOKED", ["4001", "bearer token"]),
        (4001, "USER_ARCHIVED", ["4001", "archived"]),
        (1008, "TOO_MANY_DEVICES", ["1008", "TOO_MANY_DEVICES"]),
        (1013, "", ["1013", "later"]),
        (1001, "", ["restart"]),
        (None, "", ["dropped"]),
    ],
)
def test_close_cause(code, reason, words):
    cause, fix = close_cause(code, reason)
    assert fix
    for word in words:
        assert word in cause


def test_close_frame_parsing():
    assert parse_close_frame(b"\x03\xe8OUTDATED_VERSION") == (1000, "OUTDATED_VERSION")
    assert parse_close_frame(b"\x0f\xa1") == (4001, "")
    assert parse_close_frame(b"") == (1005, "")


def test_websocket_base():
    assert websocket_base("http://h:8069/odoo") == "ws://h:8069"
    assert websocket_base("https://example.com") == "wss://example.com"


def test_notifications_are_typed():
    def raw(kind, payload, nid=7):
        return {"id": nid, "message": {"type": kind, "payload": payload}}

    message = parse_notification(
        raw("bus_mobile/message", {"id": 3, "channel_id": 2, "author_id": 9, "body": "hi"})
    )
    assert isinstance(message, MessageNotification)
    assert (message.id, message.message_id, message.channel_id, message.body) == (7, 3, 2, "hi")
    typing = parse_notification(
        raw("bus_mobile/typing", {"channel_id": 2, "partner_id": 9, "is_typing": True})
    )
    assert isinstance(typing, TypingNotification)
    assert typing.is_typing
    read = parse_notification(
        raw("bus_mobile/read", {"channel_id": 2, "partner_id": 9, "message_id": 3})
    )
    assert isinstance(read, ReadNotification)
    assert read.message_id == 3
    presence = parse_notification(
        raw("bus_mobile/presence", {"partner_id": 9, "im_status": "away", "last_seen": None})
    )
    assert isinstance(presence, PresenceNotification)
    assert presence.im_status == "away"
    other = parse_notification(raw("bus.bus/im_status_updated", [1, 2]))
    assert type(other) is Notification
    assert other.payload == {"value": [1, 2]}
