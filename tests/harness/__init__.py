"""A Python mobile client for bus_mobile, a ``diagnose`` command and a demo.

Built on ``requests`` and ``websocket-client`` only: it never imports Odoo,
so it runs against any server (local, dockerized or remote). See README.rst,
"Test client and diagnose".
"""

from .backoff import Backoff, close_action
from .client import (
    AuthenticationFailed,
    ClosedError,
    HandshakeError,
    HarnessError,
    HttpError,
    MobileBusClient,
    RpcError,
    ServerUnavailable,
    SessionExpiredError,
)
from .dedup import ResumeState
from .diagnose import Diagnosis, diagnose
from .notifications import Notification, parse_notification
