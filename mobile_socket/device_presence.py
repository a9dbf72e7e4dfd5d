"""A device's presence driven by its sockets' lifecycle.

``/bus_mobile/websocket?device_uuid=<uuid>`` ties a socket to a device of
its user (``bus_mobile.device``): the device's first open socket makes it
online, its last one closing makes it offline, server-side, whatever the
client sends. ``MobileWebsocket`` calls these functions from its own
thread; stock sockets never do.

Each runs in its own transaction inside ``service_model.retrying`` (it
commits, then the bus notifications go out). A failure is logged and the
socket keeps working: the sweep cron repairs the device's status.

A socket whose worker is killed (SIGKILL, the OOM killer) runs no close:
its token names its process, and the next open or close of the device on
this host drops it, so that the device still goes offline when its last
live socket closes.
"""

import dataclasses
import functools
import hashlib
import logging
import os
import socket
import time
import uuid
from contextlib import closing

import psycopg2
from psycopg2.pool import PoolError

from odoo import api
from odoo.service import model as service_model
from odoo.service.security import check_session

from odoo.addons.bus.websocket import CloseCode, acquire_cursor

from ..tools.devices import TOO_MANY_DEVICES, TooManyDevicesError
from ..tools.processes import process_alive
from ..tools.validation import is_device_uuid

_logger = logging.getLogger(__name__)

DEVICE_MODEL = "bus_mobile.device"


def _host_key():
    """Names the processes whose PIDs this one can check: same host name
    and same PID namespace (a container beside us has its own)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return hashlib.sha256(f"{socket.gethostname()}|{namespace}".encode()).hexdigest()[:12]


HOST_KEY = _host_key()


def new_token():
    """A socket's token: random, and naming its process (``pid`` on
    ``HOST_KEY``), so that a socket whose worker was killed (SIGKILL, the
    OOM killer: no close event ran) can be recognized as gone."""
    return f"{uuid.uuid4().hex}.{os.getpid()}.{HOST_KEY}"


def dead_tokens(tokens):
    """The tokens among ``tokens`` whose socket is gone with its process:
    opened by a process of this host that no longer runs. Others (another
    host's, this process's, older formats) are left: the sweep takes care
    of devices that go silent."""
    dead = []
    for token in tokens if isinstance(tokens, list) else ():
        parts = token.split(".") if isinstance(token, str) else ()
        if len(parts) != 3 or parts[2] != HOST_KEY or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid != os.getpid() and not process_alive(pid):
            dead.append(token)
    return dead


@dataclasses.dataclass
class DeviceConnection:
    """What a device socket remembers of its device."""

    user_id: int
    device_uuid: str
    # Refresh last_seen on a pong at most this often: half offline_after_s.
    refresh_after_s: float
    # Identifies this socket among the device's open sockets.
    token: str = dataclasses.field(default_factory=new_token)
    # Last time this socket refreshed the device's last_seen (monotonic).
    touched_at: float = dataclasses.field(default_factory=time.monotonic)
    # The device's platform (the metrics count sockets by platform).
    platform: str = "other"


def socket_opened(websocket):
    """The socket opened (after the 101): its device is online. Return the
    :class:`DeviceConnection`, or None when the socket has no device (no
    valid uuid, not logged in, addon not installed in its database)."""
    if not is_device_uuid(websocket.device_uuid):
        _logger.info(
            "Mobile socket of user %s: ignored invalid device_uuid", websocket._session.uid
        )
        return None

    def open_device(env):
        if DEVICE_MODEL not in env or not _logged_in(env, websocket):
            return None
        settings = env["ir.config_parameter"]._bus_mobile_settings()
        websocket.setup_keepalive(settings["offline_after_s"])
        connection = DeviceConnection(
            env.uid, websocket.device_uuid, settings["offline_after_s"] / 2
        )
        devices = env[DEVICE_MODEL]
        try:
            opened = devices._bus_mobile_socket_opened(
                connection.device_uuid,
                connection.token,
                dead_tokens=dead_tokens(
                    devices._bus_mobile_connection_tokens(connection.device_uuid)
                ),
            )
        except TooManyDevicesError as exc:
            # Refused at the handshake; only a race with another new device
            # of the user gets here: no new device, and the socket closes.
            _logger.info("Mobile socket of user %s closed: %s", env.uid, exc)
            websocket.request_close(CloseCode.MESSAGE_VIOLATING_POLICY, TOO_MANY_DEVICES)
            return None
        if opened:
            connection.platform = devices.browse(opened[0]).platform
        return connection

    return _in_transaction(websocket, websocket._session.uid, open_device, "open")


def socket_closed(websocket):
    """The socket closed: its device is offline if it was its last socket
    (unless the server rotated the connection: the app comes right back)."""
    connection = websocket.device

    def close_device(env):
        if DEVICE_MODEL not in env:
            return None
        devices = env[DEVICE_MODEL]
        return devices._bus_mobile_socket_closed(
            connection.device_uuid,
            connection.token,
            keep_status=websocket.closed_for_rotation,
            dead_tokens=dead_tokens(devices._bus_mobile_connection_tokens(connection.device_uuid)),
        )

    _in_transaction(websocket, connection.user_id, close_device, "close")


def socket_alive(websocket):
    """A pong (or the client's ping) came: refresh the device's last_seen,
    at most every half offline_after_s, so that the sweep never takes a live
    socket's device offline even when its app sends no heartbeat."""
    connection = websocket.device
    now = time.monotonic()
    if now - connection.touched_at < connection.refresh_after_s:
        return
    connection.touched_at = now
    _in_transaction(
        websocket,
        connection.user_id,
        lambda env: env[DEVICE_MODEL]._bus_mobile_socket_alive(
            connection.device_uuid, connection.token
        )
        if DEVICE_MODEL in env
        else None,
        "pong",
    )


def heartbeat(env, websocket, inactivity_ms, app_state):
    """``update_presence`` on a device socket (in the frame's transaction)."""
    connection = websocket.device
    connection.touched_at = time.monotonic()
    env[DEVICE_MODEL].with_user(connection.user_id)._bus_mobile_heartbeat(
        connection.device_uuid, inactivity_ms, app_state, token=connection.token
    )


def _logged_in(env, websocket):
    if not env.uid or env.user._is_public():
        return False
    if websocket.bearer is not None:
        return not env["res.users.apikeys"]._bus_mobile_refusals([websocket.bearer])
    return bool(check_session(websocket._session, env))


def _in_transaction(websocket, uid, func, what):
    """``func(env)`` in a new transaction of the socket's database, retried
    on serialization failures; a failure is logged, never raised."""
    try:
        with closing(acquire_cursor(websocket._db)) as cr:
            env = api.Environment(cr, uid, {})
            return service_model.retrying(functools.partial(func, env), env)
    except (psycopg2.Error, PoolError) as exc:
        _logger.warning(
            "Device %s: %s not recorded, the sweep will repair it: %s",
            websocket.device_uuid,
            what,
            str(exc)[:200],
        )
    except Exception:
        _logger.exception("Device %s: %s not recorded", websocket.device_uuid, what)
    return None
