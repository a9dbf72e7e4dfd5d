import json

import websocket as ws_client

from odoo.tests.common import HOST, new_test_user

from odoo.addons.bus.tests.common import WebsocketCase

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


class MobileWebsocketCase(WebsocketCase):
    """WebsocketCase for ``/bus_mobile/websocket``, as a native app connects:
    no Origin header unless asked, any User-Agent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._MOBILE_WEBSOCKET_URL = f"ws://{HOST}:{cls.http_port()}/bus_mobile/websocket"

    def wait_remaining_websocket_connections(self):
        # A server thread may still be registering its connection: iterate
        # over a copy (the stock loop can fail with "Set changed size").
        for event in list(self._websocket_events):
            event.wait(5)

    def login_session(self, login):
        """A session cookie for ``login`` (password = login)."""
        session = self.authenticate(login, login)
        return f"session_id={session.sid}"

    def mobile_connect(self, cookie=None, user_agent=None, origin=None, device_uuid=None, **kw):
        """Open a mobile socket. ``cookie=None`` means a fresh anonymous
        session; the caller usually passes ``login_session()``."""
        if cookie is None:
            cookie = f"session_id={self.authenticate(None, None).sid}"
        url = self._MOBILE_WEBSOCKET_URL
        if device_uuid:
            url += f"?device_uuid={device_uuid}"
        header = []
        if user_agent:
            header.append(f"User-Agent: {user_agent}")
        ws = ws_client.create_connection(
            url,
            cookie=cookie,
            header=header,
            origin=origin,
            suppress_origin=origin is None,
            timeout=kw.pop("timeout", 5),
            **kw,
        )
        self._websockets.add(ws)
        return ws

    def recv_notifications(self, ws):
        """Next data frame, decoded as the list of bus notifications."""
        return json.loads(ws.recv())

    @classmethod
    def make_user(cls, login, groups="base.group_user", **kw):
        return new_test_user(cls.env, login=login, password=login, groups=groups, **kw)
