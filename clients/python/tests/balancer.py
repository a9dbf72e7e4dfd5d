"""A TCP load balancer as in front of several Odoo nodes.

Each new connection goes to the next node in turn (round robin, no sticky
sessions); a node that refuses the connection (stopped, restarting) is
skipped for the next one. Bytes are relayed both ways untouched, so HTTP,
keep-alive and WebSocket all pass; a close on one side is passed on.
"""

import itertools
import socket
import struct
import threading
from collections import Counter

CONNECT_TIMEOUT = 2.0


class Balancer:
    """``with Balancer([(host, port), ...]) as lb: lb.port``"""

    def __init__(self, backends, host="127.0.0.1"):
        self.backends = [tuple(backend) for backend in backends]
        self.host = host
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._listener = socket.create_server((host, 0))
        self.port = self._listener.getsockname()[1]
        # The client's (host, port) as accepted here -> the node it reached.
        self.routes = {}
        # node -> connections relayed to it; refusals seen per node.
        self.connections = Counter()
        self.refusals = Counter()
        self._open = set()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def base(self, scheme="http"):
        return f"{scheme}://{self.host}:{self.port}"

    def node_of(self, sock):
        """The node a client socket (its local end) was relayed to."""
        return self.routes.get(sock.getsockname()[:2])

    def stop(self):
        self._stopped.set()
        # A shutdown wakes the thread blocked in accept(); a close does not.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock)

    def _accept_loop(self):
        while not self._stopped.is_set():
            try:
                client, address = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client, address), daemon=True).start()

    def _connect(self):
        start = next(self._turn)
        for offset in range(len(self.backends)):
            backend = self.backends[(start + offset) % len(self.backends)]
            try:
                return backend, socket.create_connection(backend, timeout=CONNECT_TIMEOUT)
            except OSError:
                with self._lock:
                    self.refusals[backend] += 1
        return None, None

    def _relay(self, client, address):
        backend, upstream = self._connect()
        if upstream is None:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            if self._stopped.is_set():
                _close(client)
                _close(upstream)
                return
            self.routes[address[:2]] = backend
            self.connections[backend] += 1
            self._open.update((client, upstream))
        back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        back.start()
        _pipe(client, upstream)
        back.join()
        with self._lock:
            self._open.difference_update((client, upstream))
        _close(client)
        _close(upstream)


def _pipe(source, target):
    """Copy ``source`` to ``target`` until EOF or an error, then pass the
    close on (a reset becomes a reset, an EOF an EOF)."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        # The other side went away abruptly: make ours abrupt too.
        _reset(target)
        return
    try:
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def _close(sock):
    try:
        sock.close()
    except OSError:
        pass
