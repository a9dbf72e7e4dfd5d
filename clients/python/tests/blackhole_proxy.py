"""A TCP proxy between a client and the server that can go silent.

``blackhole()`` makes every connection open at that moment stop forwarding,
both ways, without closing anything: no FIN, no reset. The client's socket
looks open and nothing ever arrives on it again, as on a phone that lost
its network or behind a proxy that dropped the connection. Connections
made afterwards are forwarded normally (the network came back).
"""

import socket
import threading


class _Pipe:
    """One proxied connection: two pumps, one flag."""

    def __init__(self, client, upstream):
        self.sockets = (client, upstream)
        self.silent = threading.Event()
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source, target):
        try:
            while True:
                data = source.recv(65536)
                if self.silent.is_set():
                    return  # swallowed; the sockets stay open
                if not data:
                    target.shutdown(socket.SHUT_WR)
                    return
                target.sendall(data)
        except OSError:
            return


class BlackholeProxy:
    """``with BlackholeProxy(host, port) as proxy: proxy.port``"""

    def __init__(self, host, port):
        self._upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._pipes = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                self._pipes.append(_Pipe(client, upstream))

    @property
    def connections(self):
        with self._lock:
            return len(self._pipes)

    def blackhole(self):
        """Stop forwarding on every connection open now, closing nothing."""
        with self._lock:
            for pipe in self._pipes:
                pipe.silent.set()

    def close(self):
        self._listener.close()
        with self._lock:
            for pipe in self._pipes:
                for sock in pipe.sockets:
                    sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
