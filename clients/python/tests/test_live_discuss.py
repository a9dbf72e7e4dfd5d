"""Odoo Discuss through the Python client and ``bus-mobile``, against the
live server: on the database with ``mail`` it lists, reads and posts; on
the bus-only one it says Discuss is not there (``BUS_MOBILE_FLAVOR``: which
database the live stage runs)."""

import json
import os
import uuid

import pytest
from bus_mobile_client.client import RpcError
from bus_mobile_client.discuss import DISCUSS_MESSAGE
from helpers import run_cli
from test_live_demo import Terminal, login_args

FLAVOR = os.environ.get("BUS_MOBILE_FLAVOR", "")
MAIL = FLAVOR == "mail"
if FLAVOR not in ("mail", "bus"):
    # Fail, not skip: these tests must know what the server should have.
    raise RuntimeError("set BUS_MOBILE_FLAVOR to mail or bus (the database the live server runs)")


def diagnose_json(live, user):
    process = run_cli(
        "diagnose", live.url, "--json", "--db", live.db, "--login", user["login"],
        "--password", user["password"],
    )  # fmt: skip
    assert process.stderr == "", process.stderr
    return process.returncode, json.loads(process.stdout)


@pytest.fixture
def two(live):
    """Two new users, their clients signed in, the first connected."""
    anna, ben = live.new_user("anna"), live.new_user("ben")
    return live.client(anna), live.client(ben, connect=False), anna, ben


# Only the tests of this database are defined: a skipped test fails the live stage.
if MAIL:

    def test_list_read_post_in_a_discuss_chat(live, two):
        anna_client, ben_client, anna, ben = two
        assert anna_client.discuss.available
        chat = anna_client.discuss.chat(ben["partner_id"])
        assert chat["thread"] == {"model": "discuss.channel", "id": chat["id"]}
        assert chat["channel_type"] == "chat"
        key = str(uuid.uuid4())
        message = anna_client.discuss.post(
            chat["id"], "hi @Ben\nsecond line", client_uuid=key, partner_ids=[ben["partner_id"]]
        )
        assert message["body"] == "hi @Ben\nsecond line"
        assert message["mentions"] == [{"partner_id": ben["partner_id"], "name": "Ben"}]
        assert 'class="o_mail_redirect"' in message["body_html"]
        again = anna_client.discuss.post(chat["id"], "hi @Ben\nsecond line", client_uuid=key)
        assert again["id"] == message["id"], "the same client_uuid posts once"

        # Ben lists his conversations (the chat shows once it has a message) and reads it.
        listed = {c["id"]: c for c in ben_client.discuss.channels()}
        assert listed[chat["id"]]["name"] == "Anna"
        assert listed[chat["id"]]["unread_count"] == 1
        assert listed[chat["id"]]["last_message"]["id"] == message["id"]
        page = ben_client.discuss.messages(chat["id"], limit=10)
        assert [m["id"] for m in page] == [message["id"]]
        read = ben_client.discuss.mark_read(chat["id"], message["id"])
        assert read["unread_count"] == 0

        # Ben is connected: Anna's next message comes once, as a typed notification.
        ben_client.connect()
        anna_client.discuss.post(chat["id"], "live one")
        received = ben_client.wait_for(
            lambda n: n.type == DISCUSS_MESSAGE and n.body == "live one", timeout=30
        )
        live_message = received[-1]
        assert live_message.channel_id == chat["id"]
        assert live_message.author_id == anna["partner_id"]
        # What the socket missed comes with the next catch-up, and nothing twice.
        ben_client.close()
        anna_client.discuss.post(chat["id"], "while away")
        ben_client.connect()
        received += ben_client.wait_for(
            lambda n: n.type == DISCUSS_MESSAGE and n.body == "while away", timeout=30
        )
        received += list(ben_client.notifications(idle_timeout=2))
        bodies = [n.body for n in received if n.type == DISCUSS_MESSAGE]
        assert bodies == ["live one", "while away"], bodies

    def test_refusals_are_rpc_errors(live, two):
        anna_client, _ben_client, _anna, _ben = two
        with pytest.raises(RpcError) as missing:
            anna_client.discuss.messages(2147483000)
        assert missing.value.short_name == "MissingError"
        with pytest.raises(RpcError) as empty:
            anna_client.discuss.post(anna_client.discuss.channels()[0]["id"], "   ")
        assert empty.value.short_name == "ValidationError"

    def test_diagnose_says_discuss_is_available(live):
        code, report = diagnose_json(live, live.user("diag"))
        check = {c["name"]: c for c in report["checks"]}["discuss"]
        assert code == 0, report
        assert check["status"] == "pass"
        assert check["detail"].startswith("available: ")
        assert report["discuss_available"] is True

    def test_bus_mobile_chat_in_a_discuss_conversation(live):
        anna, ben = live.new_user("anna"), live.new_user("ben")
        listing = run_cli("chat", *login_args(live, anna), "--list")
        assert listing.returncode == 0, listing.stderr
        assert "discuss" in listing.stdout and "'general'" in listing.stdout
        first = Terminal("chat", *login_args(live, anna), "--discuss-with", str(ben["partner_id"]))
        second = None
        try:
            intro = first.expect("in the Discuss chat")
            channel_id = intro.split("in the Discuss chat ")[1].split()[0]
            first.expect("Type a message")
            first.type("hello from anna")
            first.expect("Anna: hello from anna")
            second = Terminal("chat", *login_args(live, ben), "--discuss-channel", channel_id)
            second.expect("Type a message")
            second.expect("Anna: hello from anna")  # the history
            second.type("hello from ben")
            first.expect("Ben: hello from ben", timeout=30)
            second.expect("Ben: hello from ben")
            first.type("/quit")
            assert first.process.wait(30) == 0, first.seen
        finally:
            for terminal in (first, second):
                if terminal:
                    terminal.stop()

else:

    def test_without_mail_discuss_is_refused_and_diagnose_says_so(live):
        user = live.user("diag")
        code, report = diagnose_json(live, user)
        check = {c["name"]: c for c in report["checks"]}["discuss"]
        assert code == 0, "Discuss is optional: the server is fine"
        assert check["status"] == "pass"
        assert "not available: The mail module is not installed." in check["detail"]
        assert report["discuss_available"] is False
        client = live.client(user, connect=False)
        assert not client.discuss.available
        with pytest.raises(RpcError) as refused:
            client.discuss.channels()
        assert refused.value.short_name == "UserError"
        assert "the mail module is not installed" in refused.value.message
