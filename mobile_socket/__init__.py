"""The mobile flavour of Odoo's bus WebSocket, one layer below the models
and controllers (they import from here; nothing here imports them):

- :mod:`.connection`: ``MobileWebsocket``, one app connection;
- :mod:`.frames`: the checks every client frame passes before shared code;
- :mod:`.handshake`: the upgrade of ``/bus_mobile/websocket`` and the loop
  serving a connection;
- :mod:`.dispatcher`: one bus reader per worker for every mobile socket;
- :mod:`.device_presence`: a device's status driven by its sockets;
- :mod:`.stock_dispatch`: stock's channel map, locked (a stock race).
"""

from .connection import MobileWebsocket
from .dispatcher import mobile_dispatch
from .frames import MobileWebsocketRequest
from .handshake import REFUSAL_HEADER, SOCKET_PATH, MobileWebsocketConnectionHandler
from .stock_dispatch import guard_channel_map

guard_channel_map()
