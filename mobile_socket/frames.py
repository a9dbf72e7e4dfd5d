"""What a client may send on the mobile socket, checked before any shared
code sees it: the worker's dispatcher serves every mobile socket, so one
client's ``"last": true`` must never reach its SQL.

A frame that breaks these rules closes its socket with 1003 and a reason
naming the field (logged once, as the socket closes). Unknown keys are
ignored, so that older servers accept newer clients.
"""

import json

from odoo.addons.bus.websocket import WebsocketRequest

from ..tools.presence import APP_STATES
from ..tools.validation import (
    MAX_JSON_DEPTH,
    MAX_MILLISECONDS,
    excerpt,
    is_milliseconds,
    json_too_deep,
)

EVENTS = ("subscribe", "update_presence")
# A subscribe names at most this many channels (the member channels of the
# user are added by the server, whatever their number).
MAX_CHANNELS = 500
MAX_CHANNEL_CHARS = 256
MAX_LAST = 2**63 - 1  # bus.bus ids are PostgreSQL integers; bigint to be safe
# Frames are small JSON objects: stock accepts 1 MiB.
MAX_FRAME_BYTES = 64 * 1024


class InvalidFrame(Exception):
    """A client frame the server will not serve; ``str()`` is the close
    reason (short enough for a close frame: 123 bytes)."""

    def __init__(self, reason):
        super().__init__(f"INVALID_FRAME: {reason}"[:123])


def parse_frame(message):
    """Check a client frame.

    :return: ``(event_name, data, app_state)`` where ``data`` holds only
        what stock ``ir.websocket`` expects, with the right types.
    :raise InvalidFrame:
    """
    if not isinstance(message, str):
        raise InvalidFrame("binary frames are not accepted, send JSON text")
    if json_too_deep(message):
        # Python's parser would fail with RecursionError (a traceback).
        raise InvalidFrame(f"the frame nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        frame = json.loads(message)
    except ValueError:
        raise InvalidFrame("the frame is not JSON") from None
    if not isinstance(frame, dict):
        raise InvalidFrame("the frame must be a JSON object")
    event_name = frame.get("event_name")
    if event_name not in EVENTS:
        raise InvalidFrame(
            f"event_name {excerpt(event_name, 30)} is not one of {', '.join(EVENTS)}"
        )
    data = frame.get("data")
    if not isinstance(data, dict):
        raise InvalidFrame("data must be a JSON object")
    if event_name == "subscribe":
        return event_name, _subscribe_data(data), None
    return (event_name, *_presence_data(data))


def _subscribe_data(data):
    channels = data.get("channels", [])
    if not isinstance(channels, list) or len(channels) > MAX_CHANNELS:
        raise InvalidFrame(f"channels must be a list of at most {MAX_CHANNELS} strings")
    for channel in channels:
        if not isinstance(channel, str) or not 0 < len(channel) <= MAX_CHANNEL_CHARS:
            raise InvalidFrame(f"each channel must be a string of 1 to {MAX_CHANNEL_CHARS} chars")
    last = data.get("last", 0)
    if isinstance(last, bool) or not isinstance(last, int) or not 0 <= last <= MAX_LAST:
        raise InvalidFrame(f"last must be a non-negative integer, not {excerpt(last, 30)}")
    return {"channels": channels, "last": last}


def _presence_data(data):
    inactivity = data.get("inactivity_period", 0)
    if not is_milliseconds(inactivity):
        raise InvalidFrame(
            f"inactivity_period must be a number of milliseconds from 0 to {MAX_MILLISECONDS}"
        )
    app_state = data.get("app_state")
    if app_state is not None and app_state not in APP_STATES:
        raise InvalidFrame(f"app_state must be one of {', '.join(APP_STATES)}")
    # Stock ir.websocket requires the key; Odoo 18's bus does not use it.
    im_status_ids_by_model = data.get("im_status_ids_by_model") or {}
    if not isinstance(im_status_ids_by_model, dict):
        raise InvalidFrame("im_status_ids_by_model must be a JSON object")
    stock_data = {
        "inactivity_period": int(min(inactivity, 2**31 - 1)),
        "im_status_ids_by_model": im_status_ids_by_model,
    }
    return stock_data, app_state


class MobileWebsocketRequest(WebsocketRequest):
    """A client frame of a mobile socket, served by stock ``ir.websocket``
    once checked. ``app_state`` is not a stock argument of
    ``_update_bus_presence`` (``mail`` and ``hr_presence`` override it with
    the stock signature): the request carries it instead, and
    ``ir.websocket`` reads it from ``wsrequest``."""

    app_state = None

    def _get_session(self):
        # A bearer socket's session is a stand-in, never in the store: its
        # key is checked instead, by ``ir.websocket._authenticate``.
        if self.ws.bearer is not None:
            return self.ws._session
        return super()._get_session()

    def serve_websocket_message(self, message):
        event_name, data, self.app_state = parse_frame(message)
        return super().serve_websocket_message(json.dumps({"event_name": event_name, "data": data}))
