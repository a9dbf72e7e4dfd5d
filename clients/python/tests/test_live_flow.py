"""The app flow against a live server: two users, post, receive, read
receipt, typing, presence; and how the client handles closes."""

import socket
import uuid

import pytest
import requests
from bus_mobile_client.client import (
    AuthenticationFailed,
    ClosedError,
    HandshakeError,
    MobileBusClient,
    RpcError,
    SessionExpiredError,
)
from bus_mobile_client.diagnose import BROWSER_UA
from bus_mobile_client.notifications import (
    MESSAGE,
    PRESENCE,
    READ,
    TYPING,
    MessageNotification,
)
from faults import OFFLINE_AFTER_S
from helpers import is_type, poll_until_raises, wait_until


def test_full_app_flow(fresh_pair, server_settings):
    alice, bob, channel = fresh_pair
    # Offline after the close must come from the close (see faults.py).
    server_settings("offline_after_s", OFFLINE_AFTER_S)
    cid = channel["id"]
    alice_pid = alice.server_config["user"]["partner_id"]
    bob_pid = bob.server_config["user"]["partner_id"]
    assert set(channel["member_partner_ids"]) == {alice_pid, bob_pid}

    # post -> receive (both devices of the conversation)
    client_uuid = str(uuid.uuid4())
    posted = alice.post(cid, "hello bob", client_uuid)
    assert (posted["author_id"], posted["body"], posted["client_uuid"]) == (
        alice_pid,
        "hello bob",
        client_uuid,
    )
    received = bob.wait_for(is_type(MESSAGE, id=posted["id"]))[-1]
    assert isinstance(received, MessageNotification)
    assert (received.body, received.author_id, received.channel_id) == ("hello bob", alice_pid, cid)
    assert received.payload["author_name"] == "Alice"
    alice.wait_for(is_type(MESSAGE, id=posted["id"]))

    # read receipt
    bob.mark_read(cid, posted["id"])
    receipt = alice.wait_for(is_type(READ, partner_id=bob_pid))[-1]
    assert (receipt.channel_id, receipt.message_id) == (cid, posted["id"])
    assert [c["unread_count"] for c in bob.channels_list() if c["id"] == cid] == [0]

    # typing
    bob.typing(cid, True)
    typing = alice.wait_for(is_type(TYPING, partner_id=bob_pid))[-1]
    assert (typing.channel_id, typing.is_typing) == (cid, True)
    bob.typing(cid, False)
    assert alice.wait_for(is_type(TYPING, partner_id=bob_pid))[-1].is_typing is False

    # presence: online while connected, away in background, offline on close
    alice.watch_presence([bob_pid])
    assert alice.presence([bob_pid])[0]["im_status"] == "online"
    bob.set_app_state("background")
    bob.poll(0.5)  # the heartbeat goes out from the polling thread
    away = alice.wait_for(is_type(PRESENCE, partner_id=bob_pid))[-1]
    assert away.im_status == "away"
    bob.set_app_state("foreground")
    bob.poll(0.5)
    assert alice.wait_for(is_type(PRESENCE, partner_id=bob_pid))[-1].im_status == "online"
    bob.close()
    offline = alice.wait_for(is_type(PRESENCE, partner_id=bob_pid))[-1]
    assert offline.im_status == "offline"
    assert alice.presence([bob_pid])[0]["im_status"] == "offline"


def test_devices_and_http_heartbeat(live):
    user = live.user("dora")
    client = live.client(user, connect=False)
    device = client.register_device("android", "2.1.0", push_token="tok-1")
    assert (device["device_uuid"], device["platform"], device["app_version"]) == (
        client.device_uuid,
        "android",
        "2.1.0",
    )
    client.update_presence_http(inactivity_ms=0, app_state="foreground")
    me = client.server_config["user"]["partner_id"]
    assert client.presence([me])[0]["im_status"] == "online"
    client.unregister_device()
    with pytest.raises(RpcError) as caught:
        client.update_presence_http(inactivity_ms=0, app_state="foreground")
    assert caught.value.short_name in ("MissingError", "ValidationError")


def test_repost_with_same_client_uuid_returns_the_first_message(pair):
    alice, _bob, channel = pair
    key = str(uuid.uuid4())
    first = alice.post(channel["id"], "once", key)
    again = alice.post(channel["id"], "once", key)
    assert again["id"] == first["id"]
    history = alice.messages(channel["id"])
    assert [m["id"] for m in history if m["client_uuid"] == key] == [first["id"]]


def test_sync_pages_in_ascending_order(pair):
    alice, bob, channel = pair
    after = alice.post(channel["id"], "before the pages")["id"]
    ids = [alice.post(channel["id"], f"page {i}")["id"] for i in range(5)]
    page = bob.sync(after, limit=3)
    assert [m["id"] for m in page["messages"]] == ids[:3]
    assert page["has_more"] is True
    rest = bob.sync(ids[2], limit=3)
    assert [m["id"] for m in rest["messages"]] == ids[3:]
    assert rest["has_more"] is False


def test_errors_come_back_named(pair, live):
    alice, _bob, channel = pair
    outsider = live.client(live.user("eve"), connect=False)
    with pytest.raises(RpcError) as caught:
        outsider.post(channel["id"], "let me in")
    assert caught.value.short_name == "AccessError"
    with pytest.raises(RpcError) as caught:
        alice.post(channel["id"], "x" * (alice.server_config["limits"]["max_body_chars"] + 1))
    assert caught.value.short_name == "ValidationError"
    with pytest.raises(RpcError) as caught:
        alice.sync("nope")
    assert caught.value.short_name == "ValidationError"


def test_any_user_agent_gets_notifications_on_the_mobile_socket(live, pair):
    alice, _bob, channel = pair
    browser_like = live.client(live.user("alice"), user_agent=BROWSER_UA)
    posted = alice.post(channel["id"], "to every device")
    browser_like.wait_for(is_type(MESSAGE, id=posted["id"]))
    assert browser_like.stats["closes"] == []


def test_clean_close_is_not_reconnected(live):
    """Stock /websocket closes a browser UA without version with 1000: the
    client reports it and does not reconnect."""
    user = live.user("carl")
    stock_url = live.url.replace("http", "ws", 1) + "/websocket"
    client = live.client(
        user, connect=False, user_agent=BROWSER_UA, ws_url=stock_url, origin=live.url
    )
    client.connect()
    with pytest.raises(ClosedError) as caught:
        poll_until_raises(client)
    assert (caught.value.code, caught.value.reason) == (1000, "OUTDATED_VERSION")
    assert "/bus_mobile/websocket" in str(caught.value)
    assert client.poll(1.5) == []
    assert (client.stats["connects"], client.stats["reconnects"]) == (1, 0)


def _logout(live, client):
    response = requests.get(
        f"{live.url}/web/session/logout",
        cookies={"session_id": client.session_id},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303


def test_session_expired_reauthenticates_once_and_resumes(fresh_pair, live):
    alice, bob, channel = fresh_pair
    old_session = bob.session_id
    _logout(live, bob)
    bob.set_app_state("foreground")  # the next frame meets the dead session: 4001
    posted = alice.post(channel["id"], "after your new login")
    bob.wait_for(is_type(MESSAGE, id=posted["id"]), timeout=30)
    assert bob.stats["closes"][0] == (4001, "SESSION_EXPIRED"), bob.stats["closes"]
    assert bob.stats["reauths"] == 1
    assert bob.session_id != old_session


def test_a_request_that_signed_in_again_spares_the_socket_a_second_sign_in(fresh_pair, live):
    alice, bob, channel = fresh_pair
    _logout(live, bob)
    bob.channels_list()  # refused, signs in again, asked again
    assert bob.stats["reauths"] == 1
    posted = alice.post(channel["id"], "after the request's new login")
    bob.set_app_state("foreground")  # the socket's next frame meets the old session: 4001
    bob.wait_for(is_type(MESSAGE, id=posted["id"]), timeout=30)
    assert bob.stats["closes"][0] == (4001, "SESSION_EXPIRED"), bob.stats["closes"]
    assert bob.stats["reauths"] == 1, "the socket reconnected with the request's session"


TCP_CLOSE_WAIT = 8  # Linux's tcp_info state: the peer closed its end


def _tcp_state(sock):
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


def test_session_expired_is_read_even_when_a_send_fails_first(fresh_pair, live):
    """The server closes the socket of a logged-out session with 4001 and
    goes away. When the client's next send fails (the server's kernel
    answered an earlier frame with a reset; here the client's own end is
    shut, which fails the send the same way, at a chosen moment), the
    server's close frame still waits in the client's buffer: it is read,
    and handled as a 4001, not as a lost connection."""
    alice, bob, channel = fresh_pair
    _logout(live, bob)
    posted = alice.post(channel["id"], "the dispatcher finds the session gone")
    sock = bob.websocket.sock
    wait_until(lambda: _tcp_state(sock) == TCP_CLOSE_WAIT, "the server's close (FIN)")
    sock.shutdown(socket.SHUT_WR)
    bob.set_app_state("foreground")  # the client's next send fails: broken pipe
    bob.wait_for(is_type(MESSAGE, id=posted["id"]), timeout=30)
    assert bob.stats["closes"][0] == (4001, "SESSION_EXPIRED"), bob.stats["closes"]
    assert bob.stats["reauths"] == 1


def _connected_without_password(live, signed_in):
    """A connected client that has ``signed_in``'s session and no password."""
    client = MobileBusClient(live.url, session_id=signed_in.session_id, backoff=signed_in.backoff)
    live._clients.append(client)
    client.config()
    client.connect()
    return client


def test_session_expired_without_password_fails_clearly(live):
    client = _connected_without_password(live, live.client(live.new_user("finn"), connect=False))
    _logout(live, client)
    client.set_app_state("foreground")
    with pytest.raises(SessionExpiredError) as caught:
        poll_until_raises(client)
    assert "4001" in str(caught.value)
    assert "log in again" in str(caught.value)


def test_without_password_a_session_set_since_the_socket_opened_is_used_after_4001(live):
    user = live.new_user("hana")
    first = live.client(user, connect=False)
    client = _connected_without_password(live, first)
    old_session = client.session_id
    # The app signed in elsewhere and gave the client the new session.
    client.session_id = live.client(user, connect=False).session_id
    _logout(live, first)
    client.set_app_state("foreground")  # the next frame meets the dead session: 4001

    def reconnected():
        client.poll(0.2)
        return client.stats["reconnects"] >= 1

    wait_until(reconnected, "a reconnect with the new session")
    assert client.stats["closes"][0] == (4001, "SESSION_EXPIRED"), client.stats["closes"]
    assert client.stats["reauths"] == 0
    assert client.session_id != old_session


def test_password_changed_while_connected_fails_clearly(live):
    user = live.new_user("gina")
    client = live.client(user)
    live.call_kw("res.users", "write", [user["id"]], {"password": "changed-elsewhere"})
    # Changing the password invalidates the sessions: the socket gets 4001,
    # the re-login with the old password is refused.
    client.set_app_state("foreground")
    with pytest.raises(AuthenticationFailed) as caught:
        poll_until_raises(client)
    assert "wrong login or password" in str(caught.value)


def test_missing_addon_route_is_a_handshake_error(live):
    user = live.user("carl")
    wrong_url = live.url.replace("http", "ws", 1) + "/bus_mobile/nope"
    client = live.client(user, connect=False, ws_url=wrong_url)
    with pytest.raises(HandshakeError) as caught:
        client.connect()
    assert caught.value.status == 404
    assert "not installed" in caught.value.cause
