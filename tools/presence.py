"""The presence scale shared by devices, partners and users."""

STATUSES = [("online", "Online"), ("away", "Away"), ("offline", "Offline")]
STATUS_RANK = {"offline": 0, "away": 1, "online": 2}
APP_STATES = ("foreground", "background")


def best_status(*statuses):
    """The best of online > away > offline among ``statuses`` (``None``
    ignored). A status outside that scale (``im_partner``, ``bot``,
    ``leave_*`` from other modules) is returned as is when it comes first:
    only ranked statuses are upgraded."""
    first, *others = statuses
    if first is not None and first not in STATUS_RANK:
        return first
    ranked = [s for s in (first, *others) if s in STATUS_RANK]
    return max(ranked, key=STATUS_RANK.get) if ranked else first


def iso_utc(value):
    """ISO 8601 UTC (``2024-05-01T12:00:00Z``) of a naive UTC datetime."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
