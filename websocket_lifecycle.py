"""Per-device presence driven by the mobile socket's own lifecycle.

``/bus_mobile/websocket?device_uuid=<uuid>`` ties a socket to a device of
its user (``bus_mobile.device``): the device's first open socket makes it
online, its last one closing makes it offline, server-side, whatever the
client sends. Odoo calls these callbacks for every socket of the process
(stock ones too, every database): they act only on a logged-in
:class:`MobileWebsocket` of a database where this addon is installed.

Each callback runs inside ``service_model.retrying`` (it commits, then the
bus notifications go out); a failure is only logged by Odoo.
"""

import dataclasses
import functools
import logging
import threading
import time
import uuid
from contextlib import closing

from odoo import api
from odoo.exceptions import ValidationError
from odoo.service import model as service_model
from odoo.service.security import check_session

from odoo.addons.bus.websocket import Websocket, acquire_cursor

from .mobile_websocket import MobileWebsocket

_logger = logging.getLogger(__name__)

DEVICE_MODEL = "bus_mobile.device"

# Set by the CLOSE callback of a device socket, read by
# ``ir.websocket._on_websocket_closed`` which Odoo calls right after, in the
# same thread: stock would set the web client's ``bus.presence`` offline.
_closing = threading.local()


@dataclasses.dataclass
class DeviceConnection:
    """What a device socket remembers of its device (``websocket.bus_mobile_device``)."""

    user_id: int
    device_uuid: str
    # Refresh last_seen on a pong at most this often: half offline_after_s.
    refresh_after_s: float
    # Identifies this socket among the device's open sockets.
    token: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    # Last time this socket refreshed the device's last_seen (monotonic).
    touched_at: float = dataclasses.field(default_factory=time.monotonic)


def _addon_installed(env):
    return DEVICE_MODEL in env


def _logged_in(env, websocket):
    return bool(env.uid and not env.user._is_public() and check_session(websocket._session, env))


@Websocket.onopen
def _bus_mobile_socket_opened(env, websocket):
    # A socket without a device keeps the class's keepalive (offline_after_s
    # 65) and costs no query here.
    device_uuid = isinstance(websocket, MobileWebsocket) and websocket.bus_mobile_device_uuid
    if not device_uuid or not _addon_installed(env):
        return
    try:
        env[DEVICE_MODEL]._bus_mobile_check_uuid(device_uuid)
    except ValidationError:
        _logger.warning("Mobile socket of user %s: ignored invalid device_uuid", env.uid)
        return
    if not _logged_in(env, websocket):
        return
    settings = env["ir.config_parameter"]._bus_mobile_settings()
    websocket.bus_mobile_setup_keepalive(settings["offline_after_s"])
    connection = getattr(websocket, "bus_mobile_device", None) or DeviceConnection(
        env.uid, device_uuid, settings["offline_after_s"] / 2
    )
    env[DEVICE_MODEL]._bus_mobile_socket_opened(device_uuid, connection.token)
    websocket.bus_mobile_device = connection
    websocket.bus_mobile_alive_callback = _bus_mobile_socket_alive


@Websocket.onclose
def _bus_mobile_socket_closed(env, websocket):
    connection = getattr(websocket, "bus_mobile_device", None)
    if connection is None or not _addon_installed(env):
        return
    _closing.device_socket = True
    env(user=connection.user_id)[DEVICE_MODEL]._bus_mobile_socket_closed(
        connection.device_uuid,
        connection.token,
        keep_status=websocket.bus_mobile_closed_for_rotation,
    )


def pop_device_socket_closed():
    """Whether the socket being closed in this thread was a device socket
    (its close was handled by ``_bus_mobile_socket_closed``)."""
    closed = getattr(_closing, "device_socket", False)
    _closing.device_socket = False
    return closed


def _bus_mobile_socket_alive(websocket):
    """A pong came back: refresh the device's last_seen, at most every half
    offline_after_s, so that the sweep never takes a live socket's device
    offline even when its app sends no heartbeat."""
    connection = websocket.bus_mobile_device
    now = time.monotonic()
    if now - connection.touched_at < connection.refresh_after_s:
        return
    connection.touched_at = now
    try:
        with closing(acquire_cursor(websocket._db)) as cr:
            env = api.Environment(cr, connection.user_id, {})
            if not _addon_installed(env):
                return
            service_model.retrying(
                functools.partial(
                    env[DEVICE_MODEL]._bus_mobile_socket_alive,
                    connection.device_uuid,
                    connection.token,
                ),
                env,
            )
    except Exception:
        _logger.warning(
            "Could not refresh device %s on pong", connection.device_uuid, exc_info=True
        )
