"""Payload sizes: every provider refuses a notification over 4 KB (APNs'
limit, which Expo and FCM apply to the message they forward), counted in
UTF-8 bytes of its JSON. Requests are sent as that same UTF-8 JSON, so
what is measured here is what goes on the wire."""

import json
import unicodedata

MAX_PAYLOAD_BYTES = 4096
ELLIPSIS = "\u2026"
ZWJ = "\u200d"


def dumps(value):
    """The JSON the providers receive: UTF-8, no ASCII escapes."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_size(value):
    return len(dumps(value).encode())


def _extends_previous(char):
    """Whether ``char`` belongs to the character before it: a combining
    mark, a variation selector, an emoji skin tone or tag, or a zero-width
    joiner (an emoji sequence)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char == ZWJ
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _is_regional_indicator(char):
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _cut_index(text, index):
    """``index`` moved back so that ``text[:index]`` ends on a whole
    user-perceived character (no orphan accent, half flag, broken emoji)."""
    while 0 < index < len(text) and (_extends_previous(text[index]) or text[index - 1] == ZWJ):
        index -= 1
    if 0 < index < len(text) and _is_regional_indicator(text[index]):
        pairs = index
        while pairs > 0 and _is_regional_indicator(text[pairs - 1]):
            pairs -= 1
        if (index - pairs) % 2:  # a flag's first half would stay alone
            index -= 1
    return index


def cut_utf8(text, max_bytes):
    """``text`` in at most ``max_bytes`` UTF-8 bytes: cut on a character
    boundary, with an ellipsis when something was cut."""
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    budget = max_bytes - len(ELLIPSIS.encode())
    if budget <= 0:
        return ""
    # errors="ignore" drops the partial sequence a byte cut leaves at the end.
    kept = data[:budget].decode("utf-8", "ignore")
    return text[: _cut_index(text, len(kept))].rstrip() + ELLIPSIS


def fit_text(build, text, max_bytes=MAX_PAYLOAD_BYTES):
    """The longest cut of ``text`` for which ``build(text)`` (a provider's
    JSON object) stays within ``max_bytes``; the text and the object.

    JSON escapes (quotes, newlines) make an object grow faster than its
    text: measure, and cut again by what is still over.
    """
    overhead = json_size(build(""))
    budget = max_bytes - overhead
    cut = cut_utf8(text, max(budget, 0))
    payload = build(cut)
    while json_size(payload) > max_bytes and cut:
        budget -= json_size(payload) - max_bytes
        cut = cut_utf8(text, max(budget, 0))
        payload = build(cut)
    return cut, payload
