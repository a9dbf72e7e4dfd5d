"""A reverse proxy with the mistakes users make in front of Odoo.

- ``strip``: forwards every request but drops the hop-by-hop headers,
  ``Upgrade`` and ``Connection`` included, as nginx does without
  ``proxy_set_header Upgrade/Connection``: Odoo itself then answers the
  socket handshake with 400 "Empty or missing header(s): ...upgrade".
- ``plain200``: forwards everything except the socket routes, which it
  answers with an HTML page (a catch-all route of a web app or CDN).
"""

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}
SOCKET_PATHS = ("/websocket", "/bus_mobile/websocket")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._forward()

    def do_POST(self):
        self._forward()

    def log_message(self, *args):
        """Quiet: the tests read the diagnose report, not the proxy log."""

    def _forward(self):
        if self.server.mode == "plain200" and urlsplit(self.path).path in SOCKET_PATHS:
            self._answer(200, [("Content-Type", "text/html")], b"<html>app shell</html>")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(*self.server.upstream, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        kept = [
            (k, v)
            for k, v in response.getheaders()
            if k.lower() not in HOP_BY_HOP | {"content-length"}
        ]
        self._answer(response.status, kept, data)

    def _answer(self, status, headers, data):
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


class NaiveProxy:
    """``with NaiveProxy(upstream_url, mode) as proxy: proxy.url``"""

    def __init__(self, upstream_url, mode="strip"):
        parts = urlsplit(upstream_url)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.upstream = (parts.hostname, parts.port or 80)
        self.server.mode = mode
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
