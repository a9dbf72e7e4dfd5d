import functools
import logging

from odoo import models
from odoo.exceptions import MissingError, ValidationError
from odoo.http import SessionExpiredException
from odoo.service import model as service_model
from odoo.tools import SQL

from odoo.addons.bus.models.bus import dispatch
from odoo.addons.bus.websocket import wsrequest

from ..metrics.publisher import snapshot_publisher
from ..mobile_socket import MobileWebsocket, MobileWebsocketRequest
from ..mobile_socket.device_presence import heartbeat
from ..mobile_socket.dispatcher import start_once
from ..tools.channels import MOBILE_PRESENCE

_logger = logging.getLogger(__name__)

# String channels of this addon; clients may only subscribe to the ones
# ``bus_mobile.channel`` grants.
BUS_MOBILE_PREFIX = "bus_mobile."
PRESENCE_PREFIX = "odoo-presence-"


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    # ------------------------------------------------------------------
    # Subscription authorization (mobile channels)
    # ------------------------------------------------------------------

    def _subscribe(self, og_data):
        # Stock's dispatch.subscribe starts it unlocked: web clients and apps
        # subscribing at once after a restart would start it twice.
        start_once(dispatch)
        # The process holding sockets stores the node's metrics snapshots.
        start_once(snapshot_publisher)
        return super()._subscribe(og_data)

    def _build_bus_channel_list(self, channels):
        """Turn the ``bus_mobile.channel_<id>`` strings the user may follow
        into channel records (one query for all ids) and add every channel
        the user is a member of. Other ``bus_mobile.*`` strings are dropped;
        on the mobile socket so is any other string channel (stock sockets
        keep stock behaviour)."""
        Channel = self.env["bus_mobile.channel"]
        mobile_socket = self._bus_mobile_on_mobile_socket()
        requested_ids = Channel._bus_mobile_channel_ids_from_names(channels)
        kept = [
            channel
            for channel in channels
            if not isinstance(channel, str)
            or not (mobile_socket or channel.startswith(BUS_MOBILE_PREFIX))
        ]
        kept.extend(Channel._bus_mobile_subscribable(requested_ids))
        bearer = wsrequest.ws.bearer if mobile_socket else None
        if bearer is not None:
            # The key's channel, which the socket listens to from its start.
            kept.append(self.env[bearer.model].browse(bearer.key_id))
        return super()._build_bus_channel_list(kept)

    @classmethod
    def _authenticate(cls):
        """A socket opened with a bearer token has no session to check: its
        key is checked instead, on each frame, and a key that no longer
        works closes it with 4001 and the reason (TOKEN_REVOKED...)."""
        websocket = wsrequest.ws if wsrequest else None
        bearer = getattr(websocket, "bearer", None)
        if bearer is None:
            return super()._authenticate()
        refusals = wsrequest.env["res.users.apikeys"]._bus_mobile_refusals([bearer])
        if bearer in refusals:
            raise SessionExpiredException(refusals[bearer])
        return None

    # ------------------------------------------------------------------
    # Presence (devices, heartbeats, watchers)
    # ------------------------------------------------------------------

    def _prepare_subscribe_data(self, channels, last):
        """Drop the malformed ``odoo-presence-<model>_<id>`` strings first:
        stock turns them into ``(model, id)`` and every override of
        ``_build_presence_channel_list`` (mail's too) calls ``int()`` on the
        id, so one of them would fail the whole subscription. Then, on a
        mobile socket, add the ``MOBILE_PRESENCE`` twin of each partner
        presence granted: ``bus_mobile/presence`` goes there, for apps only."""
        channels = [
            channel
            for channel in channels
            if not isinstance(channel, str)
            or not channel.startswith(PRESENCE_PREFIX)
            or self._bus_mobile_presence_partner_id(
                tuple(channel[len(PRESENCE_PREFIX) :].split("_"))
            )
            is not None
        ]
        data = super()._prepare_subscribe_data(channels, last)
        if self._bus_mobile_on_mobile_socket():
            # Every override of _build_presence_channel_list (mail's too) has
            # granted its presences by now: an app gets ours for each partner.
            partners = [
                channel[0]
                for channel in data["channels"]
                if isinstance(channel, tuple)
                and channel[1:] == ("presence",)
                and isinstance(channel[0], models.BaseModel)
                and channel[0]._name == "res.partner"
            ]
            data["channels"].update((partner, MOBILE_PRESENCE) for partner in partners)
        return data

    def _build_presence_channel_list(self, presences):
        """Stock: internal users watch any partner. Also: co-members of a
        mobile channel (portal users included) watch each other. A malformed
        partner presence (no id, not a number) is dropped: an exception would
        leave the socket subscribed to nothing."""
        presences = [
            p
            for p in presences
            if p[0] != "res.partner" or self._bus_mobile_presence_partner_id(p) is not None
        ]
        channels = super()._build_presence_channel_list(presences)
        granted = {
            target.id
            for target, *_subchannel in channels
            if isinstance(target, models.BaseModel) and target._name == "res.partner"
        }
        wanted = {int(p[1]) for p in presences if p[0] == "res.partner"} - granted
        if wanted and "bus_mobile.channel.member" in self.env:
            partners = self.env["res.partner"]._bus_mobile_co_members(wanted)
            channels.extend((partner, "presence") for partner in partners)
        return channels

    def _bus_mobile_presence_partner_id(self, presence):
        """The id of a ``(model, id)`` presence, or ``None`` when it is not
        exactly that with a database id (a positive 32-bit integer)."""
        if len(presence) != 2 or not isinstance(presence[1], str | int):
            return None
        try:
            record_id = int(presence[1])
        except ValueError:
            return None
        return record_id if 0 < record_id < 2**31 else None

    def _update_bus_presence(self, inactivity_period, im_status_ids_by_model):
        """``update_presence``: on a device socket (``?device_uuid=``), the
        device's heartbeat, with the frame's ``app_state`` (foreground or
        background, carried by the request: the stock signature, which
        ``mail`` and ``hr_presence`` override, has no such argument); bad
        data is ignored with a warning. Elsewhere stock ``bus.presence``."""
        websocket = self._bus_mobile_device_socket()
        if websocket is None:
            return super()._update_bus_presence(inactivity_period, im_status_ids_by_model)
        app_state = wsrequest.app_state if isinstance(wsrequest, MobileWebsocketRequest) else None
        try:
            heartbeat(self.env, websocket, inactivity_period, app_state)
        except (ValidationError, MissingError) as exc:
            _logger.warning("update_presence of device ignored: %s", exc)
        return None

    def _on_websocket_closed(self, cookies):
        # A device socket's close was handled by its device: stock would set
        # the user's web client presence offline.
        if self._bus_mobile_device_socket() is not None:
            return None
        # Stock runs this outside ``retrying``, and sockets of one user
        # closing at once write the same presence row: retry on a fresh
        # snapshot like any request.
        return service_model.retrying(
            functools.partial(self._bus_mobile_close_web_presence, cookies), self.env
        )

    def _bus_mobile_close_web_presence(self, cookies):
        """Stock's close, once the user's presence row is locked: closes of
        one user's sockets then wait for each other. A close that lost the
        race fails on this lock, unlogged, and ``retrying`` runs it again;
        stock's write would have failed instead, logged as a bad query."""
        if self.env.uid:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM bus_presence WHERE user_id = %s FOR NO KEY UPDATE",
                    self.env.uid,
                ),
                log_exceptions=False,
            )
        return super()._on_websocket_closed(cookies)

    def _bus_mobile_on_mobile_socket(self):
        """Whether the current frame is a mobile socket's."""
        return bool(wsrequest) and isinstance(wsrequest.ws, MobileWebsocket)

    def _bus_mobile_device_socket(self):
        """The mobile socket of the current frame or close, if it is tied
        to a device."""
        websocket = wsrequest.ws if wsrequest else None
        if isinstance(websocket, MobileWebsocket) and websocket.device:
            return websocket
        return None
