"""The demo: two terminals talk through the server and see each other's
presence (``chat``), and ``watch`` prints what arrives."""

import json
import queue
import subprocess
import threading
import time
import uuid

import pytest
from helpers import bus_mobile_command


class Terminal:
    """A ``bus-mobile ...`` process we type into and read."""

    def __init__(self, *args):
        self.process = subprocess.Popen(
            [*bus_mobile_command(), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def type(self, text):
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def expect(self, text, timeout=15.0):
        """The first new line containing ``text``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                pytest.fail(f"{text!r} never printed; got {self.seen}")
            self.seen.append(line)
            if text in line:
                return line

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(10)


def login_args(live, user):
    return [live.url, "--db", live.db, "--login", user["login"], "--password", user["password"]]


def test_two_terminals_chat_and_see_presence(live):
    alice, bob = live.new_user("alice"), live.new_user("bob")
    room = f"demo-{uuid.uuid4().hex[:6]}"
    first = Terminal("chat", *login_args(live, alice), "--channel-name", room)
    second = None
    try:
        banner = first.expect(f"'{room}'")
        channel_id = banner.split("--channel-id ")[1].split()[0]
        second = Terminal("chat", *login_args(live, bob), "--channel-id", channel_id)
        second.expect("Type a message")
        first.expect(f"partner {bob['partner_id']} is online")

        first.type("hello bob")
        second.expect("Alice: hello bob")
        first.expect(f"partner {bob['partner_id']} read up to")
        second.type("hi alice")
        first.expect("Bob: hi alice")

        second.type("/away")
        first.expect("Bob is away")
        second.type("/quit")
        assert second.process.wait(15) == 0
        first.expect("Bob is offline")
        first.type("/quit")
        assert first.process.wait(15) == 0
    finally:
        for terminal in (first, second):
            if terminal:
                terminal.stop()


def test_watch_prints_notifications_as_json(live, pair):
    alice, _bob, channel = pair
    watcher = Terminal("watch", *login_args(live, live.user("bob")), "--json")
    try:
        # First where the other members stand (Alice among them).
        watcher.expect(f'"partner_id": {alice.server_config["user"]["partner_id"]}')
        posted = alice.post(channel["id"], "seen by watch")
        event = json.loads(watcher.expect("seen by watch"))
        assert event["type"] == "bus_mobile/message"
        assert event["payload"]["id"] == posted["id"]
        assert event["source"] == "socket"
        first = json.loads(watcher.seen[0])
        assert (first["type"], first["source"]) == ("bus_mobile/presence", "query")
        assert all(json.loads(line) for line in watcher.seen)  # nothing but JSON
    finally:
        watcher.stop()
