"""Command line: ``diagnose``, and the ``chat``/``watch`` demo (``chat`` also
in Odoo Discuss: ``--discuss-channel``, ``--discuss-with``, ``--list``).

The ``bus-mobile`` command of ``pip install clients/python`` (no Odoo
needed, only ``requests`` and ``websocket-client``)::

    bus-mobile diagnose http://127.0.0.1:8069 --db DB --login L    # asks the password
    BUS_MOBILE_TOKEN=... bus-mobile watch http://127.0.0.1:8069     # a device token or API key
    bus-mobile chat http://127.0.0.1:8069 --db DB --login L

How it signs in: :mod:`.signin`. ``python3 -m bus_mobile_client ...`` is
the same.
"""

import argparse
import contextlib
import json
import logging
import sys
import threading
import time

from ._version import __version__
from .client import BusMobileError, MobileBusClient, TokenRefused
from .diagnose import diagnose, report_json, report_text
from .discuss import DISCUSS_MESSAGE, DISCUSS_TYPING
from .notifications import (
    CHANNEL,
    MESSAGE,
    PRESENCE,
    READ,
    TYPING,
    Notification,
)
from .signin import (
    PASSWORD_ENV,
    TOKEN_ENV,
    Prompt,
    ask_missing_password,
    credentials,
    sign_in,
)


def _out(text=""):
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def _server_args(parser):
    parser.add_argument("url", help="the Odoo server, e.g. http://127.0.0.1:8069")
    parser.add_argument("--db", help="the database (to sign in with a password)")
    parser.add_argument("--login", help="the user's login; its password is asked at a prompt")
    parser.add_argument(
        "--token",
        help=f"a device token or an Odoo API key, instead of a login (default: ${TOKEN_ENV}; "
        "an option shows in ps and the shell's history, the variable does not)",
    )
    parser.add_argument(
        "--password",
        help=f"the password, for scripts (ps and the shell's history show it: prefer "
        f"${PASSWORD_ENV}, or the prompt)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per check/request")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="bus-mobile", description="bus_mobile mobile client: diagnose, chat, watch"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log reconnects")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("diagnose", help="check a server as a mobile app sees it")
    _server_args(check)
    check.add_argument("--session-id", help="check this session cookie instead of signing in")
    check.add_argument(
        "--ws-base",
        help="where the sockets are, when not next to URL (e.g. ws://host:8072, the gevent port)",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")

    chat = commands.add_parser(
        "chat", help="talk in a channel or a Discuss conversation (two terminals: two users)"
    )
    _server_args(chat)
    where = chat.add_mutually_exclusive_group()
    where.add_argument("--channel-id", type=int, help="join this channel (as shown by the other)")
    where.add_argument("--with-partner", type=int, help="direct conversation with this partner")
    where.add_argument(
        "--channel-name", default="demo", help="my channel of this name, created if needed"
    )
    where.add_argument(
        "--discuss-channel", type=int, help="this Discuss conversation of mine (see --list)"
    )
    where.add_argument(
        "--discuss-with",
        type=int,
        metavar="PARTNER_ID",
        help="the Discuss direct chat with this partner, made if needed",
    )
    where.add_argument(
        "--list", action="store_true", help="list my conversations (Discuss and channels) and quit"
    )

    watch = commands.add_parser("watch", help="print notifications and presence as they come")
    _server_args(watch)
    watch.add_argument(
        "--partner",
        type=int,
        action="append",
        default=[],
        help="also watch this partner's presence (repeatable)",
    )
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


# Opaque values that may begin with "-" (Odoo's session ids are URL-safe
# base64: one in 64 does), which argparse would read as an option.
SECRET_OPTIONS = ("--password", "--session-id", "--token")


def joined_secret_values(argv):
    """``--session-id -abc`` as ``--session-id=-abc``."""
    joined = []
    args = iter(argv)
    for arg in args:
        value = next(args, None) if arg in SECRET_OPTIONS else None
        joined.append(arg if value is None else f"{arg}={value}")
    return joined


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(joined_secret_values(argv))
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler = {"diagnose": run_diagnose, "chat": run_chat, "watch": run_watch}[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BusMobileError as exc:
        text = " ".join(str(exc).split())  # one line, whatever the server said
        sys.stderr.write(f"error: {text}\n")
        return 1


def run_diagnose(args):
    prompt = Prompt()
    creds = credentials(args)
    if args.db and args.login:  # else the login check says what is missing
        creds = ask_missing_password(creds, args, prompt)
    result = diagnose(
        args.url,
        args.db,
        args.login,
        creds.password,
        session_id=creds.session_id,
        token=creds.token,
        ask_code=lambda: prompt.totp_code(args.login),
        ws_base=args.ws_base,
        timeout=args.timeout,
    )
    sys.stdout.write(report_json(result) + "\n" if args.json else report_text(result))
    return 0 if result.ok else 1


def _first_call(client, creds):
    """``/bus_mobile/config``: a given token refused is named as given."""
    try:
        client.config()
    except TokenRefused as exc:
        if not creds.token:
            raise
        raise BusMobileError(f"the token of {creds.token_from} was refused: {exc.message}") from exc


@contextlib.contextmanager
def _signed_in_client(args):
    """A signed-in client with its config; at the end, the device this run
    signed in is signed out (a token that was given is left as it was)."""
    prompt = Prompt()
    creds = ask_missing_password(credentials(args), args, prompt)
    client = MobileBusClient(
        args.url, args.db, args.login, creds.password, token=creds.token, timeout=args.timeout
    )
    signed_in = sign_in(client, prompt)
    try:
        _first_call(client, creds)
        yield client
    finally:
        # Signed out with the socket still open: the server closes it after
        # the sign-out's commit (a close of ours meanwhile would write the
        # device row that the sign-out writes too).
        if signed_in:
            try:
                client.sign_out()
            except BusMobileError as exc:
                sys.stderr.write(f"warning: this device is still signed in: {exc}\n")
        client.close()


# ----------------------------------------------------------------------
# watch
# ----------------------------------------------------------------------


def describe(notification):
    """One readable line for a notification."""
    payload = notification.payload
    if notification.type == MESSAGE:
        return (
            f"#{payload['id']} [channel {payload['channel_id']}] "
            f"{payload.get('author_name')}: {payload['body']}"
        )
    if notification.type == DISCUSS_MESSAGE:
        return (
            f"#{payload['id']} [discuss {payload['thread']['id']}] "
            f"{payload.get('author_name')}: {payload['body']}"
        )
    if notification.type == TYPING:
        verb = "is typing" if payload.get("is_typing") else "stopped typing"
        return f"partner {payload['partner_id']} {verb} in channel {payload['channel_id']}"
    if notification.type == READ:
        return (
            f"partner {payload['partner_id']} read channel {payload['channel_id']} "
            f"up to #{payload['message_id']}"
        )
    if notification.type == PRESENCE:
        return (
            f"partner {payload['partner_id']} is {payload['im_status']} "
            f"(last seen {payload.get('last_seen')})"
        )
    return f"{notification.type}: {json.dumps(payload)}"


def _co_members(client):
    me = client.server_config["user"]["partner_id"]
    partners = set()
    for channel in client.channels_list():
        partners.update(channel.get("member_partner_ids") or [])
    partners.discard(me)
    return sorted(partners)


def run_watch(args):
    with _signed_in_client(args) as client:
        user = client.server_config["user"]
        client.connect()
        watched = sorted(set(args.partner) | set(_co_members(client)))
        client.watch_presence(watched)
        show = _show_json if args.json else _show_line
        if not args.json:
            _out(
                f"watching as {user['name']} (partner {user['partner_id']}, device "
                f"{client.device_uuid or 'of the token'}); presence of {watched or 'nobody'}; "
                "Ctrl-C to stop"
            )
        # Where everyone stands now, then the changes as they come.
        for row in client.presence(watched) if watched else []:
            show(Notification(None, PRESENCE, row, "query"))
        for notification in client.notifications():
            show(notification)
    return 0


def _show_json(notification):
    _out(
        json.dumps(
            {
                "id": notification.id,
                "type": notification.type,
                "payload": notification.payload,
                "source": notification.source,
            }
        )
    )


def _show_line(notification):
    _out(f"{time.strftime('%H:%M:%S')} {describe(notification)}")


# ----------------------------------------------------------------------
# chat
# ----------------------------------------------------------------------


def _chat_channel(client, args):
    if args.channel_id:
        mine = {c["id"] for c in client.channels_list()}
        if args.channel_id in mine:
            return next(c for c in client.channels_list() if c["id"] == args.channel_id)
        return client.join_channel(args.channel_id)
    if args.with_partner:
        return client.create_channel("direct", "direct", [args.with_partner])
    for channel in client.channels_list():
        if channel.get("name") == args.channel_name:
            return channel
    return client.create_channel(args.channel_name, "public", [])


def run_chat(args):
    if args.list:
        return run_list(args)
    if args.discuss_channel or args.discuss_with:
        return run_discuss_chat(args)
    with _signed_in_client(args) as client:
        user = client.server_config["user"]
        channel = _chat_channel(client, args)
        client.connect()
        chat = ChatView(client, channel["id"], user["partner_id"])
        chat.watch(channel.get("member_partner_ids", []))
        _out(
            f"You are {user['name']} (partner {user['partner_id']}) in channel {channel['id']} "
            f"'{channel.get('name')}'. Others join with --channel-id {channel['id']} or "
            f"--with-partner {user['partner_id']}."
        )
        _out("Type a message and Enter. /away, /back, /quit.")
        for message in client.messages(channel["id"], limit=10):
            chat.show_message(message)
        done = threading.Event()
        reader = threading.Thread(
            target=_read_input, args=(client, channel["id"], done), daemon=True
        )
        reader.start()
        while not done.is_set():
            for notification in client.poll(1.0):
                chat.show(notification)
    return 0


class ChatView:
    """What one chat terminal prints, by partner name once known."""

    def __init__(self, client, channel_id, me):
        self.client, self.channel_id, self.me = client, channel_id, me
        self.names = {}
        self.watched = set()

    def name(self, partner_id):
        return self.names.get(partner_id, f"partner {partner_id}")

    def watch(self, partner_ids):
        """Follow the presence of the channel's other members."""
        new = set(partner_ids) - self.watched - {self.me}
        if new:
            self.watched |= new
            self.client.watch_presence(sorted(new))
            for row in self.client.presence(sorted(new)):
                _out(f"  ({self.name(row['partner_id'])} is {row['im_status']})")

    def show_message(self, message):
        self.names[message["author_id"]] = message.get("author_name")
        stamp = (message.get("create_date") or "")[11:16]
        _out(f"[{stamp}] {message.get('author_name')}: {message['body']}")

    def show(self, notification):
        payload = notification.payload
        if payload.get("channel_id", self.channel_id) != self.channel_id:
            return
        if notification.type == MESSAGE:
            self.show_message(payload)
            if payload["author_id"] != self.me:
                self.client.mark_read(self.channel_id, payload["id"])
        elif notification.type == CHANNEL and notification.channel.get("id") == self.channel_id:
            self._show_members(notification)
        elif payload.get("partner_id") in (None, self.me):
            return
        elif notification.type == TYPING and payload["is_typing"]:
            _out(f"  ({self.name(payload['partner_id'])} is typing...)")
        elif notification.type == READ:
            _out(f"  ({self.name(payload['partner_id'])} read up to #{payload['message_id']})")
        elif notification.type == PRESENCE:
            _out(f"  ({self.name(payload['partner_id'])} is {payload['im_status']})")

    def _show_members(self, notification):
        verb = {"member_added": "joined", "member_removed": "left"}.get(notification.event)
        others = [p for p in notification.payload.get("partner_ids", []) if p != self.me]
        if verb:
            for partner_id in others:
                _out(f"  ({self.name(partner_id)} {verb})")
        self.watch(notification.channel.get("member_partner_ids", []))


def _read_input(client, channel_id, done):
    """Post what is typed until ``/quit`` or the end of the input; then set
    ``done`` (the socket stays open: the device signs out first)."""
    for line in sys.stdin:
        text = line.strip()
        if text == "/quit":
            break
        if text in ("/away", "/back"):
            client.set_app_state("background" if text == "/away" else "foreground")
            continue
        if text:
            try:
                client.typing(channel_id, True)
                client.post_reliably(channel_id, text)
            except BusMobileError as exc:
                sys.stderr.write(f"not sent: {exc}\n")
    done.set()


# ----------------------------------------------------------------------
# chat in Discuss, and the list of conversations
# ----------------------------------------------------------------------


def run_list(args):
    with _signed_in_client(args) as client:
        if client.discuss.available:
            for channel in client.discuss.channels():
                last = channel.get("last_message") or {}
                _out(
                    f"discuss {channel['id']:>6} {channel['channel_type']:8} "
                    f"{channel['name']!r} unread {channel['unread_count']}"
                    + (f" · {last.get('author_name')}: {last.get('body', '')[:60]}" if last else "")
                )
        else:
            _out("(no Discuss on this server: the mail module is not installed)")
        for channel in client.channels_list():
            _out(
                f"channel {channel['id']:>6} {channel['channel_type']:8} "
                f"{channel['name']!r} unread {channel.get('unread_count', 0)}"
            )
    return 0


def run_discuss_chat(args):
    with _signed_in_client(args) as client:
        user = client.server_config["user"]
        if args.discuss_with:
            channel = client.discuss.chat(args.discuss_with)
        else:
            channel = client.discuss.channel(args.discuss_channel)
        client.connect()
        chat = DiscussChatView(client, channel, user["partner_id"])
        _out(
            f"You are {user['name']} (partner {user['partner_id']}) in the Discuss "
            f"{channel['channel_type']} {channel['id']} '{channel['name']}'. "
            f"Others chat with --discuss-with {user['partner_id']}, or in Odoo's Discuss."
        )
        _out("Type a message and Enter. /quit.")
        for message in client.discuss.messages(channel["id"], limit=10):
            chat.show_message(message)
        done = threading.Event()
        post = lambda text: client.discuss.post_reliably(channel["id"], text)  # noqa: E731
        reader = threading.Thread(target=_read_lines, args=(post, done), daemon=True)
        reader.start()
        while not done.is_set():
            for notification in client.poll(1.0):
                chat.show(notification)
    return 0


class DiscussChatView:
    """What a Discuss chat terminal prints."""

    def __init__(self, client, channel, me):
        self.client, self.channel_id, self.me = client, channel["id"], me
        self.names = {m["partner_id"]: m["name"] for m in channel.get("members", [])}

    def show_message(self, message):
        stamp = (message.get("create_date") or "")[11:16]
        files = "".join(f" [{a['name']}]" for a in message.get("attachments", []))
        _out(f"[{stamp}] {message.get('author_name')}: {message['body']}{files}")

    def show(self, notification):
        payload = notification.payload
        if payload.get("thread", {}).get("id") != self.channel_id:
            return
        if notification.type == DISCUSS_MESSAGE:
            self.show_message(payload)
            if payload.get("author_id") != self.me:
                self.client.discuss.mark_read(self.channel_id, payload["id"])
        elif notification.type == DISCUSS_TYPING and payload["is_typing"]:
            if payload["partner_id"] != self.me:
                name = self.names.get(payload["partner_id"], f"partner {payload['partner_id']}")
                _out(f"  ({name} is typing...)")


def _read_lines(post, done):
    """Post what is typed until ``/quit`` or the end of the input."""
    for line in sys.stdin:
        text = line.strip()
        if text == "/quit":
            break
        if text:
            try:
                post(text)
            except BusMobileError as exc:
                sys.stderr.write(f"not sent: {exc}\n")
    done.set()
