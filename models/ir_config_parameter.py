from odoo import api, models

# Integer settings of the addon, as ``bus_mobile.<key>`` system parameters.
# Timers follow Odoo's bus.presence (heartbeat 30 s, offline after 65 s,
# away after 30 min).
SETTING_DEFAULTS = {
    "heartbeat_s": 30,
    "away_after_s": 1800,
    "offline_after_s": 65,
    "max_body_chars": 4000,
    "page_max": 100,
    # A device token unused this many days expires (each use renews it).
    "device_token_days": 90,
    # Mobile sockets a session (or bearer key) may open at once, then one
    # more every handshake_refill_s: a client reconnecting in a loop is
    # refused (429) before it costs the others anything.
    "handshake_burst": 20,
    "handshake_refill_s": 3,
    # A socket ticket (web builds' sign-in on the socket) lives this long.
    "socket_ticket_s": 15,
    # Discuss (doc/discuss.md): the largest upload, and how long the
    # catch-up journal keeps its rows.
    "discuss_upload_max_bytes": 25 * 1024 * 1024,
    "discuss_journal_days": 30,
    # Devices a user may have; a new one replaces the least recently seen
    # one without an open socket (see bus_mobile.device._bus_mobile_make_room).
    "max_devices_per_user": 20,
    # Mobile sockets a user may hold open at once in one worker, whatever
    # their sessions, keys and devices: past it a handshake is refused
    # (429), so that one account can't take the worker's sockets.
    "max_sockets_per_user": 50,
}
# A larger value is a mistake (and 10**400 would overflow a float).
MAX_SETTING = 2**31 - 1


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.model
    def _bus_mobile_settings(self):
        """Return the addon's integer settings; a bad value falls back to the
        default rather than breaking every mobile request."""
        # sudo: ir.config_parameter - settings are read by every mobile user.
        params = self.sudo()
        settings = {}
        for key, default in SETTING_DEFAULTS.items():
            try:
                value = int(params.get_param(f"bus_mobile.{key}", default))
            except ValueError:
                value = default
            settings[key] = value if 0 < value <= MAX_SETTING else default
        return settings
