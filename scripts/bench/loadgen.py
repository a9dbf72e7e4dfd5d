"""One phase of ``make bench``: N WebSocket clients of one kind against a
running Odoo (prefork, websockets on the gevent port), one JSON line out.

A phase:

1. warms the gevent worker up (a few clients connect, subscribe, leave),
   then reads its RSS and its open file descriptors;
2. commits a ``bench/welcome`` broadcast, then connects N clients (at most
   ``--concurrency`` handshakes at a time); each subscribes with ``last``
   just before the welcome, so the server replays it:
   connect -> first notification is the time from the TCP connect to it;
3. reads RSS and descriptors again (per socket, per 1,000 sockets);
4. commits one ``bench/tick`` broadcast per ``--interval`` (``--ticks``
   of them), as Odoo's ``bus.bus._sendone`` does: a ``bus_bus`` row, then
   ``pg_notify('imbus')`` after the commit; latency is commit -> receive;
5. waits (bounded) for the last ticks, and reports latencies, missing
   notifications, dropped clients and the close codes seen.

The client is a small asyncio protocol (RFC 6455, text frames only): it
costs far less CPU per message than a general-purpose library, which
matters since clients, Odoo and PostgreSQL share the machine's cores.
Traffic goes to 127.0.0.1 only. Every wait is bounded.
"""

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import struct
import sys
import threading
import time

import psycopg2

KINDS = {"stock": "/websocket?version={version}", "mobile": "/bus_mobile/websocket"}
HANDSHAKE_TIMEOUT = 60.0
DRAIN_TIMEOUT = 15.0


def masked_frame(opcode, payload):
    """A client frame (masked, final)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    key = int.from_bytes((mask * (length // 4 + 1))[:length], "big")
    body = (int.from_bytes(payload, "big") ^ key).to_bytes(length, "big") if length else b""
    return header + mask + body


class Client(asyncio.Protocol):
    """One WebSocket client; the phase owns the bookkeeping."""

    def __init__(self, phase, cookie, last):
        self.phase = phase
        self.cookie = cookie
        self.last = last
        self.transport = None
        self.buffer = bytearray()
        self.upgraded = False
        self.started_at = time.monotonic()
        self.upgraded_at = None
        self.welcome_at = None
        self.ready = phase.loop.create_future()
        self.ticks = set()
        self.duplicates = 0
        self.closed_with = None  # close code, or "eof"/"error"
        self.lost = False

    # asyncio.Protocol

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        host = f"127.0.0.1:{self.phase.args.port}"
        request = (
            f"GET {self.phase.path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://{host}\r\nUser-Agent: bus-mobile-bench/1\r\n"
            f"Cookie: session_id={self.cookie}\r\n\r\n"
        )
        transport.write(request.encode())

    def data_received(self, data):
        self.buffer.extend(data)
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            del self.buffer[: end + 4]
            if b" 101 " not in status + b" ":
                self._fail(f"http {status.decode(errors='replace')}")
                return
            self.upgraded = True
            self.upgraded_at = time.monotonic()
            subscribe = {"event_name": "subscribe", "data": {"channels": [], "last": self.last}}
            self.transport.write(masked_frame(0x1, json.dumps(subscribe).encode()))
        self._read_frames()

    def connection_lost(self, exc):
        self.lost = True
        if self.closed_with is None:
            self.closed_with = "error" if exc else "eof"
        if not self.ready.done():
            self.ready.set_result(False)

    # frames

    def _read_frames(self):
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, length, pos = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, pos = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, pos = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < pos + length:
                return
            payload = bytes(buffer[pos : pos + length])
            del buffer[: pos + length]
            if opcode == 0x1:
                self._on_text(payload)
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.closed_with = code
                self.transport.close()
                return
            elif opcode == 0x9:
                self.transport.write(masked_frame(0xA, payload))

    def _on_text(self, payload):
        now = time.monotonic()
        for notification in json.loads(payload):
            message = notification["message"]
            if message["type"] == "bench/tick":
                seq = message["payload"]["seq"]
                if seq in self.ticks:
                    self.duplicates += 1
                    continue
                self.ticks.add(seq)
                self.phase.on_tick(seq, now)
            elif message["type"] == "bench/welcome" and self.welcome_at is None:
                self.welcome_at = now
                if not self.ready.done():
                    self.ready.set_result(True)

    def _fail(self, reason):
        self.closed_with = reason
        self.transport.close()

    def close(self):
        if self.transport and not self.lost:
            self.transport.write(masked_frame(0x8, struct.pack("!H", 1000)))
            self.transport.close()


class Phase:
    def __init__(self, args, sessions, version):
        self.args = args
        self.sessions = sessions
        self.path = KINDS[args.kind].format(version=version)
        self.loop = None
        self.commit_at = {}
        self.latencies = []
        self.worst_by_tick = {}
        self.clients = []

    # bus rows, written the way bus.bus._sendone does

    def _post(self, cnx, notify_cnx, notification_type, payload, on_commit=None):
        channel = json.dumps([self.args.db, "broadcast"], separators=(",", ":"))
        message = json.dumps({"type": notification_type, "payload": payload}, separators=(",", ":"))
        with cnx.cursor() as cr:
            cr.execute(
                "INSERT INTO bus_bus (channel, message, create_date, write_date, create_uid,"
                " write_uid) VALUES (%s, %s, now() at time zone 'UTC', now() at time zone 'UTC',"
                " 1, 1) RETURNING id",
                (channel, message),
            )
            notif_id = cr.fetchone()[0]
        cnx.commit()
        committed_at = time.monotonic()
        if on_commit:
            on_commit(committed_at)
        with notify_cnx.cursor() as cr:
            cr.execute("SELECT pg_notify('imbus', %s)", (json.dumps([json.loads(channel)]),))
        return notif_id, committed_at

    def _connect_db(self, dbname):
        cnx = psycopg2.connect(
            host="127.0.0.1", port=self.args.pg_port, user="odoo", password="odoo", dbname=dbname
        )
        return cnx

    def on_tick(self, seq, now):
        latency = now - self.commit_at[seq]
        self.latencies.append(latency)
        self.worst_by_tick[seq] = max(self.worst_by_tick.get(seq, 0.0), latency)

    # phase

    async def _open(self, index, last, semaphore):
        sid = self.sessions[index % len(self.sessions)]
        client = Client(self, sid, last)
        self.clients.append(client)
        async with semaphore:
            client.started_at = time.monotonic()
            try:
                await asyncio.wait_for(
                    self.loop.create_connection(lambda: client, "127.0.0.1", self.args.port),
                    HANDSHAKE_TIMEOUT,
                )
                await asyncio.wait_for(asyncio.shield(client.ready), HANDSHAKE_TIMEOUT)
            except (OSError, asyncio.TimeoutError) as exc:
                client.closed_with = client.closed_with or type(exc).__name__
        return client

    async def _connect_all(self, count, last):
        """Open ``count`` clients; the ones not ready by the deadline are
        counted as failed connections."""
        semaphore = asyncio.Semaphore(self.args.concurrency)
        first = len(self.clients)
        tasks = [asyncio.ensure_future(self._open(i, last, semaphore)) for i in range(count)]
        _done, pending = await asyncio.wait(tasks, timeout=self.args.connect_deadline)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        clients = self.clients[first:]
        for client in clients:
            if client.welcome_at is None and client.closed_with is None:
                client.closed_with = "deadline"
        return clients

    def _ticks(self, stop):
        cnx = self._connect_db(self.args.db)
        notify_cnx = self._connect_db("postgres")
        notify_cnx.autocommit = True
        try:
            start = time.monotonic()
            for seq in range(self.args.ticks):
                delay = start + seq * self.args.interval - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return
                self._post(
                    cnx,
                    notify_cnx,
                    "bench/tick",
                    {"seq": seq},
                    on_commit=lambda at, seq=seq: self.commit_at.__setitem__(seq, at),
                )
        finally:
            cnx.close()
            notify_cnx.close()

    async def run(self):
        self.loop = asyncio.get_running_loop()
        args = self.args
        # 1. warm-up, then baseline
        cnx = self._connect_db(args.db)
        notify_cnx = self._connect_db("postgres")
        notify_cnx.autocommit = True
        welcome_id, _at = self._post(cnx, notify_cnx, "bench/welcome", {})
        warm = await self._connect_all(min(5, args.n), welcome_id - 1)
        for client in warm:
            client.close()
        await asyncio.sleep(2)
        self.clients = []
        base = server_usage(args.server_pid)
        # 2. connect N clients
        welcome_id, _at = self._post(cnx, notify_cnx, "bench/welcome", {})
        cnx.close()
        notify_cnx.close()
        started = time.monotonic()
        clients = await self._connect_all(args.n, welcome_id - 1)
        connect_seconds = time.monotonic() - started
        connected = [c for c in clients if c.welcome_at is not None]
        await asyncio.sleep(2)
        # 3. resources
        loaded = server_usage(args.server_pid)
        print(
            f"bench: {args.kind} N={args.n}: {len(connected)} ready in {connect_seconds:.0f} s,"
            f" {args.ticks} ticks",
            file=sys.stderr,
            flush=True,
        )
        # 4. ticks (the commits run in a thread: psycopg2 blocks)
        stop = threading.Event()
        sender = self.loop.run_in_executor(None, self._ticks, stop)
        try:
            await sender
        finally:
            stop.set()
        # 5. last ticks
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while time.monotonic() < deadline and any(
            len(c.ticks) < args.ticks for c in connected if not c.lost
        ):
            await asyncio.sleep(0.1)
        after = server_usage(args.server_pid)
        result = self._result(clients, connected, base, loaded, after, connect_seconds)
        for client in clients:
            client.close()
        await asyncio.sleep(0.5)
        return result

    def _result(self, clients, connected, base, loaded, after, connect_seconds):
        args = self.args
        received = sum(len(c.ticks) for c in connected)
        first = sorted(c.welcome_at - c.started_at for c in connected)
        handshake = sorted(c.upgraded_at - c.started_at for c in connected)
        latencies = sorted(self.latencies)
        codes = {}
        for client in clients:
            if client.closed_with is not None:
                codes[str(client.closed_with)] = codes.get(str(client.closed_with), 0) + 1
        sockets = len(connected) or 1
        return {
            "kind": args.kind,
            "n": args.n,
            "ticks": args.ticks,
            "connected": len(connected),
            "dropped": sum(1 for c in connected if c.lost),
            "failed_connect": len(clients) - len(connected),
            "expected": len(connected) * args.ticks,
            "received": received,
            "missing": len(connected) * args.ticks - received,
            "duplicates": sum(c.duplicates for c in clients),
            "latency_ms": percentiles(latencies),
            "connect_first_ms": percentiles(first),
            "handshake_ms": percentiles(handshake),
            "connect_seconds": round(connect_seconds, 2),
            "rss_mb_base": round(base["rss_kb"] / 1024, 1),
            "rss_mb_loaded": round(loaded["rss_kb"] / 1024, 1),
            "rss_mb_after": round(after["rss_kb"] / 1024, 1),
            "rss_mb_per_1000": round(
                (loaded["rss_kb"] - base["rss_kb"]) / 1024 / sockets * 1000, 1
            ),
            "fds_base": base["fds"],
            "fds_loaded": loaded["fds"],
            "fds_per_socket": round((loaded["fds"] - base["fds"]) / sockets, 2),
            "server_cpu_s": round(after["cpu_s"] - base["cpu_s"], 1),
            "server_cpu_ticks_s": round(after["cpu_s"] - loaded["cpu_s"], 1),
            "worst_ms_by_tick": [
                round(self.worst_by_tick.get(seq, 0.0) * 1000) for seq in range(args.ticks)
            ],
            "close_codes": codes,
        }


def percentiles(values):
    if not values:
        return None
    values = sorted(values)

    def at(fraction):
        return round(values[min(len(values) - 1, int(fraction * len(values)))] * 1000, 1)

    return {
        "p50": at(0.50),
        "p99": at(0.99),
        "max": round(values[-1] * 1000, 1),
        "mean": round(statistics.fmean(values) * 1000, 1),
    }


def server_usage(pid):
    """RSS (kB), open descriptors and CPU seconds of process ``pid``."""
    rss_kb = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        "rss_kb": rss_kb,
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "cpu_s": (int(fields[11]) + int(fields[12])) / ticks,
    }


def read_sessions(path):
    version, sessions = None, []
    with open(path, encoding="ascii") as sessions_file:
        for line in sessions_file:
            if line.startswith("# version "):
                version = line.split()[2]
            elif line.strip():
                sessions.append(line.split()[0])
    return version, sessions


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=sorted(KINDS), required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--ticks", type=int, default=60)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--connect-deadline", type=float, help="seconds to connect (default: max(300, N/10))"
    )
    parser.add_argument("--port", type=int, required=True, help="Odoo's gevent port")
    parser.add_argument("--server-pid", type=int, required=True, help="the gevent worker")
    parser.add_argument("--pg-port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--sessions", required=True)
    parser.add_argument("--out", required=True, help="JSON lines file to append to")
    args = parser.parse_args()
    if args.connect_deadline is None:
        args.connect_deadline = max(300.0, args.n / 10)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    version, sessions = read_sessions(args.sessions)
    result = asyncio.run(Phase(args, sessions, version).run())
    with open(args.out, "a", encoding="utf-8") as out:
        out.write(json.dumps(result) + "\n")
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
