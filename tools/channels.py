"""How mobile channels appear on Odoo's bus."""

import json
import re

from .validation import MAX_ID

CHANNEL_MODEL = "bus_mobile.channel"
# String bus channel of a mobile channel, as clients subscribe to it.
CHANNEL_NAME_PREFIX = "bus_mobile.channel_"
CHANNEL_NAME_RE = re.compile(r"bus_mobile\.channel_([0-9]{1,10})")
# A partner's presence as only apps get it (``bus_mobile/presence``): a
# subchannel beside stock's ``presence``, which web clients and stock's own
# tests read, and to which only mobile sockets are subscribed.
MOBILE_PRESENCE = "bus_mobile_presence"
PRESENCE_SUBCHANNELS = ("presence", MOBILE_PRESENCE)


def channel_ids_from_names(names):
    """Ids of the ``bus_mobile.channel_<id>`` strings among ``names``."""
    ids = set()
    for name in names:
        match = isinstance(name, str) and CHANNEL_NAME_RE.fullmatch(name)
        if match and 0 < int(match[1]) <= MAX_ID:
            ids.add(int(match[1]))
    return ids


def mobile_channel_id(target):
    """The ``bus_mobile.channel`` id of a bus target ``(db, model, id[,
    subchannel])`` (as ``channel_with_db`` builds it), or None."""
    if isinstance(target, list | tuple) and len(target) >= 3 and target[1] == CHANNEL_MODEL:
        return target[2]
    return None


def mobile_channel_id_of_value(value):
    """Same, from a ``bus.bus`` ``channel`` column value (JSON)."""
    if CHANNEL_MODEL not in value:  # cheap: most rows are not ours
        return None
    return mobile_channel_id(json.loads(value))


def presence_partner_id_of_value(value):
    """The partner id of a ``bus.bus`` ``channel`` value that is a partner's
    presence channel (``[db, "res.partner", id, "presence"]``, or its
    ``MOBILE_PRESENCE`` twin), or None."""
    if 'presence"' not in value or '"res.partner"' not in value:
        return None
    target = json.loads(value)
    if len(target) == 4 and target[1] == "res.partner" and target[3] in PRESENCE_SUBCHANNELS:
        return target[2]
    return None
