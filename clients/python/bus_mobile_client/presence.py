"""Presence: whose status to follow, and what this device says of itself.

The socket's heartbeat (``update_presence``, every ``heartbeat_s`` of the
server's config) carries the app's state (foreground or background) and
the user's inactivity; ``/bus_mobile/presence/update`` says the same over
HTTP while the socket is down. Others' status changes come on the socket
from Odoo's ``odoo-presence-res.partner_<id>`` channels.
"""

import time


class PresenceMixin:
    """The presence of :class:`.MobileBusClient` (its ``app_state``,
    ``inactivity_ms``, ``channels`` and heartbeat schedule)."""

    def presence(self, partner_ids):
        return self.rpc("/bus_mobile/presence", partner_ids=list(partner_ids))

    def update_presence_http(self, inactivity_ms=0, app_state="foreground"):
        """The HTTP heartbeat, for when the socket is down."""
        return self.rpc(
            "/bus_mobile/presence/update",
            device_uuid=self.device_uuid,
            inactivity_ms=inactivity_ms,
            app_state=app_state,
        )

    def watch_presence(self, partner_ids):
        """Also receive the presence changes of ``partner_ids``."""
        for partner_id in partner_ids:
            channel = f"odoo-presence-res.partner_{partner_id}"
            if channel not in self.channels:
                self.channels.append(channel)
        self.subscribe()

    def set_app_state(self, app_state, inactivity_ms=0):
        """Change the state the next heartbeat reports, and send it now
        (from the thread that polls)."""
        self.app_state, self.inactivity_ms = app_state, inactivity_ms
        self._next_heartbeat_at = 0.0

    def _heartbeat(self):
        # im_status_ids_by_model: stock ir.websocket requires the key.
        self._send_event(
            "update_presence",
            {
                "inactivity_period": self.inactivity_ms,
                "im_status_ids_by_model": {},
                "app_state": self.app_state,
            },
        )
        self._next_heartbeat_at = time.monotonic() + self._heartbeat_interval()

    def _heartbeat_interval(self):
        if self.heartbeat_s:
            return self.heartbeat_s
        return (self.server_config or {}).get("presence", {}).get("heartbeat_s", 30)
