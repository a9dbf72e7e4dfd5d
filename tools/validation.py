"""Checks of the values apps send, shared by the routes and the models
(``env`` translates the messages). Each raises ``ValidationError`` with a message an app
developer can act on, and never echoes more than a short excerpt of the
value (an error must not carry 100,000 ids back, nor a log line a megabyte).
"""

import re

from odoo.exceptions import ValidationError

MAX_ID = 2**31 - 1  # PostgreSQL ``integer``: larger ids can only be wrong
# A list of ids from an app (partners, presences): more is abuse.
MAX_ID_LIST = 1000
# How much of a bad value an error message or a log line quotes.
EXCERPT_CHARS = 60
# fullmatch: ``$`` would accept a trailing newline.
DEVICE_UUID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# A TOTP code: 6 digits (Odoo's), up to 8 for other authenticators.
TOTP_CODE_RE = re.compile(r"[0-9]{6,8}")
# A duration in milliseconds from an app: JavaScript's largest exact
# integer (285,616 years); above, or a float that no int can be, is wrong.
MAX_MILLISECONDS = 2**53 - 1
# JSON an app sends nests a few levels (a frame or JSON-RPC params: 5 at
# most); Python's parser fails with RecursionError around 1,000 levels.
MAX_JSON_DEPTH = 32
# What changes the nesting of JSON text: a string's start or end, an
# escape inside a string (skipped whole), a bracket.
_JSON_NESTING_RE = re.compile(r'\\.|["\[\]{}]', re.S)


def excerpt(value, limit=EXCERPT_CHARS):
    """``repr(value)`` cut to ``limit`` characters, for messages and logs."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _invalid(message):
    raise ValidationError(message)


def check_int(env, value, name):
    """``value`` if it is an int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        _invalid(
            env._("%(name)s must be an integer, not %(value)s.", name=name, value=excerpt(value))
        )
    return value


def check_id(env, value, name):
    """``value`` as a record id: an int in PostgreSQL's ``integer`` range."""
    if not 0 <= check_int(env, value, name) <= MAX_ID:
        _invalid(
            env._(
                "%(name)s must be between 0 and %(max)s, not %(value)s.",
                name=name,
                max=MAX_ID,
                value=excerpt(value),
            )
        )
    return value


def check_optional_id(env, value, name):
    return None if value is None else check_id(env, value, name)


def check_id_list(env, value, name, max_items=MAX_ID_LIST):
    """A list of at most ``max_items`` ids."""
    if not isinstance(value, list):
        _invalid(
            env._(
                "%(name)s must be a list of integers, not %(value)s.",
                name=name,
                value=excerpt(value),
            )
        )
    if len(value) > max_items:
        _invalid(
            env._(
                "%(name)s may hold at most %(max)s ids, not %(count)s.",
                name=name,
                max=max_items,
                count=len(value),
            )
        )
    return [check_id(env, item, name) for item in value]


def check_bool(env, value, name):
    if not isinstance(value, bool):
        _invalid(
            env._("%(name)s must be true or false, not %(value)s.", name=name, value=excerpt(value))
        )
    return value


def check_optional_int(env, value, name):
    return None if value is None else check_int(env, value, name)


def is_milliseconds(value):
    """Whether ``value`` is a number of milliseconds from 0 to
    MAX_MILLISECONDS (int or float). Compared, never converted: a huge
    JSON integer (10**400) has no float, ``math.isfinite`` would raise
    OverflowError; NaN and infinities fail the comparison."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return is_number and 0 <= value <= MAX_MILLISECONDS


def check_milliseconds(env, value, name):
    """A number of milliseconds (see ``is_milliseconds``), as an int of at
    most MAX_ID (a longer inactivity means the same)."""
    if not is_milliseconds(value):
        _invalid(
            env._(
                "%(name)s must be a number of milliseconds from 0 to %(max)s, not %(value)s.",
                name=name,
                max=MAX_MILLISECONDS,
                value=excerpt(value),
            )
        )
    return int(min(value, MAX_ID))


def json_too_deep(text, max_depth=MAX_JSON_DEPTH):
    """Whether the JSON ``text`` nests arrays and objects deeper than
    ``max_depth``: checked before parsing it (Python's parser recurses).
    One pass over the characters that matter, whatever the text; malformed
    JSON is left to the parser."""
    depth = 0
    in_string = False
    for match in _JSON_NESTING_RE.finditer(text):
        char = match.group()
        if char == '"':
            in_string = not in_string
        elif in_string:
            continue  # an escape, or a bracket inside a string
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in "]}":
            depth -= 1
    return False


def is_storable_text(text):
    """Whether PostgreSQL can store ``text``: no NUL and no lone UTF-16
    surrogate (valid in JSON, not encodable in UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_text(env, value, name, max_chars, required=False):
    """A text of at most ``max_chars`` characters that PostgreSQL can store;
    ``None`` passes unless ``required``."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > max_chars:
        _invalid(
            env._(
                "%(name)s must be a text of at most %(max)s characters.",
                name=name,
                max=max_chars,
            )
        )
    if not is_storable_text(value):
        _invalid(
            env._(
                "%(name)s contains a character that cannot be stored (NUL or a lone surrogate).",
                name=name,
            )
        )
    return value


def is_device_uuid(value):
    return isinstance(value, str) and bool(DEVICE_UUID_RE.fullmatch(value))


def check_device_uuid(env, value):
    if not is_device_uuid(value):
        _invalid(
            env._(
                "Invalid device_uuid %(value)s: "
                "use 1 to 128 letters, digits, '.', '_', ':' or '-'.",
                value=excerpt(value),
            )
        )
    return value


def check_choice(env, value, name, choices):
    if not isinstance(value, str) or value not in choices:
        _invalid(
            env._(
                "Invalid %(name)s %(value)s: use one of %(choices)s.",
                name=name,
                value=excerpt(value),
                choices=", ".join(choices),
            )
        )
    return value


def check_totp_code(env, value):
    """A two-factor code as an int: 6 to 8 digits, as text (spaces
    ignored) or as a number."""
    text = value if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**8:
        text = f"{value:06d}"
    text = re.sub(r"\s", "", text) if text is not None else None
    if text is None or not TOTP_CODE_RE.fullmatch(text):
        _invalid(
            env._(
                "totp_code must be the 6-digit code of the authenticator app, not %(value)s.",
                value=excerpt(value, 20),
            )
        )
    return int(text)
