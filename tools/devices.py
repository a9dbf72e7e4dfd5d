"""How many devices a user may have (``bus_mobile.max_devices_per_user``),
and the refusal when all of them are in use. Shared by the device model and
the socket handshake (which imports no model)."""

from odoo.exceptions import UserError

TOO_MANY_DEVICES = "TOO_MANY_DEVICES"


class TooManyDevicesError(UserError):
    """Every device of the user has an open socket: none can make room for
    a new one. The text starts with ``TOO_MANY_DEVICES: ``, as the reasons
    of refused tokens do (tools/bearer.py)."""

    def __init__(self, env, limit):
        super().__init__(
            f"{TOO_MANY_DEVICES}: "
            + env._(
                "all %(limit)s devices of this account are connected "
                "(bus_mobile.max_devices_per_user): close the app on one of them, "
                "or remove one in your preferences, then try again.",
                limit=limit,
            )
        )
        self.reason = TOO_MANY_DEVICES
