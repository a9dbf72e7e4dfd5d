"""A Python mobile client for bus_mobile, a ``diagnose`` command and a demo.

Built on ``requests`` and ``websocket-client`` only: it never imports Odoo,
so it runs against any server (local, dockerized or remote). The ``bus-mobile``
command (:mod:`.cli`) runs ``diagnose`` and the ``chat``/``watch`` demo. See
this package's README.rst (clients/python/README.rst in the addon).
"""

from ._version import __version__
from .backoff import Backoff, close_action
from .client import (
    AuthenticationFailed,
    BusMobileError,
    ClosedError,
    HandshakeError,
    HttpError,
    MobileBusClient,
    RpcError,
    ServerUnavailable,
    SessionExpiredError,
    TokenRefused,
    TotpRequired,
)
from .dedup import ResumeState
from .diagnose import Diagnosis, diagnose
from .liveness import Liveness
from .notifications import Notification, parse_notification
