"""One phase of ``make bench``: N WebSocket clients of one kind against one
or more running Odoo servers (prefork, websockets on the gevent port), one
JSON line out.

A phase:

1. (attack phases) fills ``bus_bus`` with rows the attacker may replay;
2. warms each gevent worker up (a few clients connect, subscribe, leave),
   then reads its RSS, descriptors and CPU, and PostgreSQL's CPU;
3. commits a ``bench/welcome`` broadcast, then connects N clients, split
   over the servers and over ``--procs`` client processes (so that the
   client side is not the bottleneck: each process reports its CPU use and
   how late its event loop ran, see "client" in the result); each client
   subscribes with ``last`` just before the welcome, so the server replays
   it: connect -> first notification is the time from the TCP connect to it;
4. reads RSS and descriptors again (per 1,000 sockets);
5. commits one ``bench/tick`` broadcast per ``--interval`` (``--ticks`` of
   them), as Odoo's ``bus.bus._sendone`` does: a ``bus_bus`` row, then
   ``pg_notify('imbus')`` after the commit. The commit time is taken before
   the commit is sent: a tick can reach a client before ``commit()``
   returns. Clients only record arrival times; latency (commit -> receive)
   is computed once every process has reported;
6. waits (bounded) for the last ticks, and reports latencies, the server's
   own fan-out time (commit -> the dispatcher handed the last frame of the
   tick to the sockets, from its debug log line, mobile sockets only),
   missing notifications, dropped clients, the close codes seen, the worker's
   and PostgreSQL's CPU per broadcast.

``--discuss-poster``: the ticks are Discuss messages instead of bus rows:
``bench tick <seq>`` posted in a channel every client's user is a member
of, by scripts/bench/discuss_poster.py (``--discuss-mode mail``: mail's
``message_post``, latency from its commit; ``app``: the app's post route,
latency from the request), and received as mail's
``discuss.channel/new_message``.

``--attack reconnect``: meanwhile one more client reconnects in a loop,
subscribing with ``last=1`` each time; ``--attack stall``: one more client
asks for the same replay and stops reading (small receive buffer), for
``STALL_SECONDS`` at a time. The N clients are then the bystanders.

The client is a small asyncio protocol (RFC 6455, text frames only): it
costs far less CPU per message than a general-purpose library. Traffic goes
to 127.0.0.1 only. Every wait is bounded.
"""

import argparse
import asyncio
import base64
import json
import math
import multiprocessing
import os
import re
import resource
import socket
import statistics
import struct
import subprocess
import sys
import time

import psycopg2

# The body of a Discuss tick (scripts/bench/discuss_poster.py).
DISCUSS_TICK = re.compile(r"bench tick (\d+)")

KINDS = {"stock": "/websocket?version={version}", "mobile": "/bus_mobile/websocket"}
HANDSHAKE_TIMEOUT = 30.0
DRAIN_TIMEOUT = 15.0
# A client process that has seen this many connections fail stops opening
# new ones (stock past its descriptor limit: each would wait for a timeout).
MAX_FAILED_CONNECTS = 50
# Rows an attacker can have replayed (the dispatcher reads at most 10,000).
ATTACK_ROWS = 10_000
ATTACK_ROW_BYTES = 200
STALL_SECONDS = 20.0
FILL_SETTLE_SECONDS = 12.0
# Sockets per client process when --procs is not given.
SOCKETS_PER_PROC = 2_500
LAG_PERIOD = 0.05
# The dispatcher's debug line (mobile_socket/dispatcher.py).
FANOUT_LINE = re.compile(r"fan-out \S+: \d+ rows, ids (\d+)-(\d+), to (\d+) sockets.* at ([\d.]+)")


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
    """One WebSocket client: records what arrives and when, nothing else."""

    def __init__(self, loop, port, path, cookie, last):
        self.port = port
        self.path = path
        self.cookie = cookie
        self.last = last
        self.transport = None
        self.buffer = bytearray()
        self.upgraded = False
        self.started_at = time.monotonic()
        self.upgraded_at = None
        self.welcome_at = None
        self.ready = loop.create_future()
        self.arrivals = {}  # tick seq -> monotonic time
        self.duplicates = 0
        self.text_frames = 0
        self.bytes_received = 0
        self.closed_with = None  # close code, or "eof"/"error"/...
        self.lost = False

    # asyncio.Protocol

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        host = f"127.0.0.1:{self.port}"
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://{host}\r\nUser-Agent: bus-mobile-bench/1\r\n"
            f"Cookie: session_id={self.cookie}\r\n\r\n"
        )
        transport.write(request.encode())

    def data_received(self, data):
        self.bytes_received += len(data)
        self.buffer.extend(data)
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            del self.buffer[: end + 4]
            if b" 101 " not in status + b" ":
                self._fail(f"http {status.decode(errors='replace')[9:12]}")
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
                self.text_frames += 1
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
        try:
            notifications = json.loads(payload)
        except ValueError:
            self.closed_with = self.closed_with or "bad json"
            return
        for notification in notifications:
            message = notification.get("message") or {}
            kind = message.get("type")
            seq = None
            if kind == "bench/tick":
                seq = message["payload"]["seq"]
            elif kind == "discuss.channel/new_message":
                posted = message["payload"]["data"]["mail.message"][0]
                match = DISCUSS_TICK.search(posted.get("body") or "")
                seq = int(match[1]) if match else None
            if seq is not None:
                if seq in self.arrivals:
                    self.duplicates += 1
                else:
                    self.arrivals[seq] = now
            elif kind == "bench/welcome" and self.welcome_at is None:
                self.welcome_at = now
                if not self.ready.done():
                    self.ready.set_result(True)
        if self.last == 1 and not self.ready.done():  # an attacker: any replay will do
            self.ready.set_result(True)

    def _fail(self, reason):
        self.closed_with = reason
        self.transport.close()

    def close(self):
        if self.transport and not self.lost:
            self.transport.write(masked_frame(0x8, struct.pack("!H", 1000)))
            self.transport.close()


async def open_client(loop, client, rcvbuf=None):
    """Connect ``client``; True once it got its first notification."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", client.port)), 10)
        except BaseException:
            sock.close()
            raise
        await loop.create_connection(lambda: client, sock=sock)
        return await asyncio.wait_for(asyncio.shield(client.ready), HANDSHAKE_TIMEOUT)
    except (OSError, asyncio.TimeoutError) as exc:
        client.closed_with = client.closed_with or type(exc).__name__
        if client.transport:
            client.transport.abort()
        return False


# ----------------------------------------------------------------------
# Client processes
# ----------------------------------------------------------------------


class ClientProcess:
    """The clients of one process, driven by the coordinator over a pipe."""

    def __init__(self, conn, path, concurrency):
        self.conn = conn
        self.path = path
        self.concurrency = concurrency
        self.loop = None
        self.clients = []
        self.lags = []
        self.cpu_mark = None

    def main(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        asyncio.run(self.serve())

    async def serve(self):
        self.loop = asyncio.get_running_loop()
        lag = asyncio.ensure_future(self.measure_lag())
        try:
            while True:
                command, *params = await self.loop.run_in_executor(None, self.conn.recv)
                if command == "stop":
                    for client in self.clients:
                        client.close()
                    await asyncio.sleep(0.2)
                    self.conn.send(None)
                    return
                self.conn.send(await getattr(self, command)(*params))
        finally:
            lag.cancel()

    async def measure_lag(self):
        """How late the event loop wakes up: a loop that is late reads late."""
        while True:
            before = time.monotonic()
            await asyncio.sleep(LAG_PERIOD)
            self.lags.append(time.monotonic() - before - LAG_PERIOD)

    async def open(self, specs, last, deadline):
        semaphore = asyncio.Semaphore(self.concurrency)
        failed = 0

        async def one(port, cookie):
            nonlocal failed
            client = Client(self.loop, port, self.path, cookie, last)
            self.clients.append(client)
            if failed >= MAX_FAILED_CONNECTS:
                client.closed_with = "not tried"
                return
            async with semaphore:
                if failed >= MAX_FAILED_CONNECTS:
                    client.closed_with = "not tried"
                    return
                client.started_at = time.monotonic()
                if not await open_client(self.loop, client):
                    failed += 1

        tasks = [asyncio.ensure_future(one(port, cookie)) for port, cookie in specs]
        _done, pending = await asyncio.wait(tasks, timeout=max(deadline - time.monotonic(), 1))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for client in self.clients:
            if client.welcome_at is None and client.closed_with is None:
                client.closed_with = "deadline"
        connected = [c for c in self.clients if c.welcome_at is not None]
        return {
            "connected": len(connected),
            "first": [c.welcome_at - c.started_at for c in connected],
            "handshake": [c.upgraded_at - c.started_at for c in connected],
        }

    async def close_all(self):
        for client in self.clients:
            client.close()
        await asyncio.sleep(0.5)
        self.clients = []

    async def mark(self):
        """The ticks start: CPU and loop lag are counted from here."""
        self.cpu_mark = (time.process_time(), time.monotonic())
        self.lags = []

    async def drain(self, ticks, timeout):
        connected = [c for c in self.clients if c.welcome_at is not None]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(
            len(c.arrivals) < ticks for c in connected if not c.lost
        ):
            await asyncio.sleep(0.1)
        cpu = time.process_time() - self.cpu_mark[0]
        wall = time.monotonic() - self.cpu_mark[1]
        codes = {}
        for client in self.clients:
            if client.closed_with is not None:
                codes[str(client.closed_with)] = codes.get(str(client.closed_with), 0) + 1
        arrivals = [[] for _ in range(ticks)]
        for client in connected:
            for seq, at in client.arrivals.items():
                if 0 <= seq < ticks:
                    arrivals[seq].append(at)
        lags = sorted(self.lags) or [0.0]
        return {
            "clients": len(self.clients),
            "connected": len(connected),
            "dropped": sum(1 for c in connected if c.lost),
            "received": sum(len(c.arrivals) for c in connected),
            "duplicates": sum(c.duplicates for c in self.clients),
            "codes": codes,
            "arrivals": arrivals,
            "cpu_pct": round(100 * cpu / wall, 1) if wall > 0 else None,
            "lag_p99_ms": round(lags[min(len(lags) - 1, int(0.99 * len(lags)))] * 1000, 1),
            "lag_max_ms": round(lags[-1] * 1000, 1),
        }


class Attacker:
    """One hostile client beside the bystanders, in a process of its own."""

    def __init__(self, conn, mode, port, path, cookie, counters):
        self.conn = conn
        self.mode = mode
        self.port = port
        self.path = path
        self.cookie = cookie
        # Shared with the coordinator (cycles, replays, bytes): read even
        # if this process is too busy to answer.
        self.counters = counters
        self.codes = {}

    def main(self):
        asyncio.run(self.serve())

    async def serve(self):
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(getattr(self, self.mode)(loop))
        await loop.run_in_executor(None, self.conn.recv)  # "stop"
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self.conn.send(self.codes)

    def _count(self, client):
        code = str(client.closed_with)
        self.codes[code] = self.codes.get(code, 0) + 1
        self.counters[0] += 1
        self.counters[2] += client.bytes_received

    async def reconnect(self, loop):
        """Connect, subscribe with last=1, wait for the replay, close, again."""
        while True:
            client = Client(loop, self.port, self.path, self.cookie, 1)
            try:
                if await open_client(loop, client):
                    self.counters[1] += 1
            finally:
                client.close()
                client.closed_with = client.closed_with or "client"
                self._count(client)
            await asyncio.sleep(0)

    async def stall(self, loop):
        """Ask for the replay with a tiny receive buffer, read nothing for
        STALL_SECONDS, then read what is left (a close code, if any)."""
        while True:
            client = Client(loop, self.port, self.path, self.cookie, 1)
            client.ready.set_result(True)  # no need to wait for anything
            try:
                await open_client(loop, client, rcvbuf=4096)
                # The handshake's answer was read; from the subscribe on,
                # nothing is.
                for _ in range(100):
                    if client.upgraded or client.lost:
                        break
                    await asyncio.sleep(0.01)
                if client.transport and not client.lost:
                    client.transport.pause_reading()
                    await asyncio.sleep(STALL_SECONDS)
                    client.transport.resume_reading()
                    for _ in range(50):
                        if client.lost:
                            break
                        await asyncio.sleep(0.1)
            finally:
                client.closed_with = client.closed_with or "open"
                self._count(client)
                client.close()


def _run_child(target, *args):
    target(*args).main()


# ----------------------------------------------------------------------
# Coordinator
# ----------------------------------------------------------------------


class Phase:
    def __init__(self, args, sessions, version):
        self.args = args
        self.sessions = sessions
        self.path = KINDS[args.kind].format(version=version)
        self.servers = [parse_server(spec) for spec in args.server]
        self.commit_at = {}  # tick seq -> monotonic time, before the commit
        self.tick_ids = {}  # tick seq -> bus_bus id
        self.procs = []  # (process, conn)
        self.attacker = None

    # bus rows, written the way bus.bus._sendone does

    def _post(self, cnx, notify_cnx, notification_type, payload, seq=None):
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
        if seq is not None:
            # Before the commit: the tick may reach a client before commit()
            # returns (a previous NOTIFY or a timer wakes the dispatcher).
            self.commit_at[seq] = time.monotonic()
            self.tick_ids[seq] = notif_id
        cnx.commit()
        with notify_cnx.cursor() as cr:
            cr.execute("SELECT pg_notify('imbus', %s)", (json.dumps([json.loads(channel)]),))
        return notif_id

    def _fill(self, cnx):
        """ATTACK_ROWS broadcast rows an attacker's ``last=1`` replays."""
        channel = json.dumps([self.args.db, "broadcast"], separators=(",", ":"))
        text = "x" * ATTACK_ROW_BYTES
        message = json.dumps({"type": "bench/filler", "payload": {"text": text}})
        with cnx.cursor() as cr:
            cr.execute(
                "INSERT INTO bus_bus (channel, message, create_date, write_date, create_uid,"
                " write_uid) SELECT %s, %s, now() at time zone 'UTC', now() at time zone 'UTC',"
                " 1, 1 FROM generate_series(1, %s)",
                (channel, message, ATTACK_ROWS),
            )
        cnx.commit()

    def _connect_db(self, dbname):
        return psycopg2.connect(
            host="127.0.0.1", port=self.args.pg_port, user="odoo", password="odoo", dbname=dbname
        )

    # client processes

    def _start_procs(self):
        ctx = multiprocessing.get_context("fork")
        count = self.args.procs or max(1, math.ceil(self.args.n / SOCKETS_PER_PROC))
        concurrency = max(1, self.args.concurrency // count)
        for _ in range(count):
            parent, child = ctx.Pipe()
            process = ctx.Process(
                target=_run_child, args=(ClientProcess, child, self.path, concurrency), daemon=True
            )
            process.start()
            self.procs.append((process, parent))

    def _ask_all(self, command, *params_per_proc):
        """Send ``command`` to every process (its own parameters), wait."""
        for index, (_process, conn) in enumerate(self.procs):
            params = params_per_proc[index] if params_per_proc else ()
            conn.send((command, *params))
        return [conn.recv() for _process, conn in self.procs]

    def _stop_procs(self):
        for process, conn in self.procs:
            try:
                conn.send(("stop",))
                if conn.poll(10):
                    conn.recv()
            except OSError:
                pass
            process.join(5)
            if process.is_alive():
                process.kill()
        self.procs = []

    def _open_all(self, count, last):
        """Open ``count`` clients, round-robin over servers and processes."""
        specs = [[] for _ in self.procs]
        for index in range(count):
            port = self.servers[index % len(self.servers)]["port"]
            cookie = self.sessions[index % len(self.sessions)]
            specs[index % len(self.procs)].append((port, cookie))
        deadline = time.monotonic() + self.args.connect_deadline
        return self._ask_all("open", *[(s, last, deadline) for s in specs])

    def _start_attacker(self):
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        cookie = self.sessions[-1]
        counters = ctx.Array("q", 3)
        process = ctx.Process(
            target=_run_child,
            args=(
                Attacker,
                child,
                self.args.attack,
                self.servers[0]["port"],
                self.path,
                cookie,
                counters,
            ),
            daemon=True,
        )
        process.start()
        self.attacker = (process, parent, counters)

    def _stop_attacker(self):
        if not self.attacker:
            return None
        process, conn, counters = self.attacker
        conn.send("stop")
        codes = conn.recv() if conn.poll(10) else {"unknown": 1}
        process.join(5)
        if process.is_alive():
            process.kill()
        self.attacker = None
        cycles, replays, received = counters[:]
        return {
            "mode": self.args.attack,
            "cycles": cycles,
            "replays": replays,
            "bytes": received,
            "codes": codes,
        }

    # phase

    def _ticks(self):
        if self.args.discuss_poster:
            return self._discuss_ticks()
        cnx = self._connect_db(self.args.db)
        notify_cnx = self._connect_db("postgres")
        notify_cnx.autocommit = True
        try:
            start = time.monotonic()
            for seq in range(self.args.ticks):
                delay = start + seq * self.args.interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._post(cnx, notify_cnx, "bench/tick", {"seq": seq}, seq=seq)
        finally:
            cnx.close()
            notify_cnx.close()

    def _discuss_ticks(self):
        """Discuss posts by the poster process, one per ``--interval``."""
        poster = subprocess.Popen(
            json.loads(self.args.discuss_poster),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            start = time.monotonic()
            for seq in range(self.args.ticks):
                delay = start + seq * self.args.interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                poster.stdin.write(f"{seq} {self.args.discuss_mode}\n")
                poster.stdin.flush()
                answer = poster.stdout.readline().split()
                if len(answer) != 2:
                    raise RuntimeError(f"the Discuss poster failed at tick {seq}")
                self.commit_at[int(answer[0])] = float(answer[1])
        finally:
            poster.stdin.close()
            poster.wait(30)

    def run(self):
        self._start_procs()
        try:
            return self._run()
        finally:
            self._stop_attacker()
            self._stop_procs()

    def _run(self):
        args = self.args
        cnx = self._connect_db(args.db)
        notify_cnx = self._connect_db("postgres")
        notify_cnx.autocommit = True
        postgres = postmaster_pid(cnx)
        filled_at = None
        if args.attack:
            self._fill(cnx)
            filled_at = time.monotonic()
        # 1. warm-up, then baseline
        welcome_id = self._post(cnx, notify_cnx, "bench/welcome", {})
        self._open_all(min(5 * len(self.servers), args.n), welcome_id - 1)
        self._ask_all("close_all")
        time.sleep(2)
        base = self._usage(postgres)
        # 2. connect N clients
        welcome_id = self._post(cnx, notify_cnx, "bench/welcome", {})
        started = time.monotonic()
        opened = self._open_all(args.n, welcome_id - 1)
        connect_seconds = time.monotonic() - started
        connected = sum(o["connected"] for o in opened)
        time.sleep(2)
        # 3. resources
        loaded = self._usage(postgres)
        stats_before = pg_stats(cnx, args.db)
        print(
            f"bench: {args.kind} N={args.n} x{len(self.servers)} node(s)"
            f"{' attack ' + args.attack if args.attack else ''}: {connected} ready in"
            f" {connect_seconds:.0f} s, {args.ticks} ticks, {len(self.procs)} client processes",
            file=sys.stderr,
            flush=True,
        )
        if filled_at is not None:
            # The filler leaves the dispatchers' 10 s history before the ticks.
            time.sleep(max(0.0, filled_at + FILL_SETTLE_SECONDS - time.monotonic()))
        if args.attack and args.attack != "calm":
            self._start_attacker()
            time.sleep(1)
        # 4. ticks
        self._ask_all("mark")
        self._ticks()
        ticked = self._usage(postgres)
        stats_after = pg_stats(cnx, args.db)
        attack = self._stop_attacker()
        # 5. last ticks
        drained = self._ask_all("drain", *[(args.ticks, DRAIN_TIMEOUT)] * len(self.procs))
        after = self._usage(postgres)
        cnx.close()
        notify_cnx.close()
        self._ask_all("close_all")
        return self._result(
            opened,
            drained,
            base,
            loaded,
            ticked,
            after,
            connect_seconds,
            stats_before,
            stats_after,
            attack,
        )

    def _usage(self, postgres):
        return {
            "servers": [server_usage(server["pid"]) for server in self.servers],
            "pg_cpu_s": tree_cpu(postgres) if postgres else None,
        }

    def _fanout(self):
        """Tick seq -> seconds from commit to the last frame handed to the
        sockets, over all servers (the slowest node's)."""
        done_at = {}
        for server in self.servers:
            if not server["log"]:
                continue
            for first, last, at in read_fanout(server["log"]):
                for seq, notif_id in self.tick_ids.items():
                    if first <= notif_id <= last:
                        per_server = done_at.setdefault(seq, {})
                        key = server["port"]
                        per_server[key] = min(per_server.get(key, at), at)
        return {
            seq: max(per_server.values()) - self.commit_at[seq]
            for seq, per_server in done_at.items()
            if len(per_server) == len([s for s in self.servers if s["log"]])
        }

    def _result(
        self,
        opened,
        drained,
        base,
        loaded,
        ticked,
        after,
        connect_seconds,
        stats_before,
        stats_after,
        attack,
    ):
        args = self.args
        ticks = args.ticks
        connected = sum(o["connected"] for o in opened)
        latencies, worst = [], []
        for seq in range(ticks):
            at = self.commit_at.get(seq)
            tick_latencies = (
                [arrival - at for d in drained for arrival in d["arrivals"][seq]]
                if at is not None
                else []
            )
            latencies.extend(tick_latencies)
            worst.append(round(max(tick_latencies, default=0.0) * 1000))
        fanout = self._fanout() if args.kind == "mobile" and not args.discuss_poster else {}
        codes = {}
        for d in drained:
            for code, count in d["codes"].items():
                codes[code] = codes.get(code, 0) + count
        received = sum(d["received"] for d in drained)
        sockets = connected or 1
        servers = []
        for index, server in enumerate(self.servers):
            b, lo, t, a = (u["servers"][index] for u in (base, loaded, ticked, after))
            servers.append(
                {
                    "port": server["port"],
                    "rss_mb_base": round(b["rss_kb"] / 1024, 1),
                    "rss_mb_loaded": round(lo["rss_kb"] / 1024, 1),
                    "rss_mb_per_1000": round(
                        (lo["rss_kb"] - b["rss_kb"])
                        / 1024
                        / max(connected / len(self.servers), 1)
                        * 1000,
                        1,
                    ),
                    "fds_base": b["fds"],
                    "fds_loaded": lo["fds"],
                    "cpu_ticks_s": round(t["cpu_s"] - lo["cpu_s"], 2),
                }
            )
        rss_delta_kb = sum(
            lo["rss_kb"] - b["rss_kb"]
            for b, lo in zip(base["servers"], loaded["servers"], strict=True)
        )
        fds_delta = sum(
            lo["fds"] - b["fds"] for b, lo in zip(base["servers"], loaded["servers"], strict=True)
        )
        worker_cpu = sum(
            t["cpu_s"] - lo["cpu_s"]
            for lo, t in zip(loaded["servers"], ticked["servers"], strict=True)
        )
        pg_cpu = (
            (ticked["pg_cpu_s"] - loaded["pg_cpu_s"]) if loaded["pg_cpu_s"] is not None else None
        )
        stats = {key: stats_after[key] - stats_before[key] for key in stats_before}
        return {
            "kind": args.kind,
            "n": args.n,
            "nodes": len(self.servers),
            "attack": args.attack or None,
            "discuss": args.discuss_mode if args.discuss_poster else None,
            "ticks": ticks,
            "connected": connected,
            "dropped": sum(d["dropped"] for d in drained),
            "failed_connect": args.n - connected,
            "expected": connected * ticks,
            "received": received,
            "missing": connected * ticks - received,
            "duplicates": sum(d["duplicates"] for d in drained),
            "latency_ms": percentiles(latencies),
            "fanout_ms": percentiles(list(fanout.values())) if fanout else None,
            "fanout_ticks": len(fanout),
            "connect_first_ms": percentiles([x for o in opened for x in o["first"]]),
            "handshake_ms": percentiles([x for o in opened for x in o["handshake"]]),
            "connect_seconds": round(connect_seconds, 2),
            "rss_mb_per_1000": round(rss_delta_kb / 1024 / sockets * 1000, 1),
            "fds_per_socket": round(fds_delta / sockets, 2),
            "server_cpu_ticks_s": round(worker_cpu, 2),
            "server_cpu_ms_per_tick": round(worker_cpu / ticks * 1000, 1),
            "pg_cpu_ticks_s": round(pg_cpu, 2) if pg_cpu is not None else None,
            "pg_cpu_ms_per_tick": round(pg_cpu / ticks * 1000, 1) if pg_cpu is not None else None,
            "pg_xacts_per_tick": round(stats["xacts"] / ticks, 1),
            "pg_rows_per_tick": round(stats["rows"] / ticks, 1),
            "servers": servers,
            "client": {
                "procs": len(drained),
                "cpu_pct_max": max((d["cpu_pct"] or 0) for d in drained),
                "lag_p99_ms": max(d["lag_p99_ms"] for d in drained),
                "lag_max_ms": max(d["lag_max_ms"] for d in drained),
            },
            "worst_ms_by_tick": worst,
            "close_codes": codes,
            "attacker": attack,
        }


def parse_server(spec):
    """``PORT:PID[:LOG]``: a gevent port, its worker's PID, its log file."""
    port, pid, *log = spec.split(":", 2)
    return {"port": int(port), "pid": int(pid), "log": log[0] if log else None}


def read_fanout(path):
    """(first id, last id, monotonic time written) of each dispatcher batch."""
    batches = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            if "fan-out" in line:
                match = FANOUT_LINE.search(line)
                if match:
                    batches.append((int(match[1]), int(match[2]), float(match[4])))
    return batches


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


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def server_usage(pid):
    """RSS (kB), open descriptors and CPU seconds of process ``pid``."""
    rss_kb = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    fields = _stat_fields(pid)
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        "rss_kb": rss_kb,
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "cpu_s": (int(fields[11]) + int(fields[12])) / ticks,
    }


def postmaster_pid(cnx):
    """PostgreSQL's postmaster (the parent of our backend), if local."""
    with cnx.cursor() as cr:
        cr.execute("SELECT pg_backend_pid()")
        backend = cr.fetchone()[0]
    cnx.commit()
    try:
        return int(_stat_fields(backend)[1])
    except OSError:
        return None


def tree_cpu(pid):
    """CPU seconds of the postmaster, its live children, and (``cutime``)
    the children it reaped: all of PostgreSQL's work."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = _stat_fields(pid)
    total = sum(int(value) for value in fields[11:15])
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            child = _stat_fields(entry)
        except OSError:
            continue
        if child[1] == str(pid):
            total += int(child[11]) + int(child[12])
    return total / ticks


def pg_stats(cnx, db):
    with cnx.cursor() as cr:
        cr.execute("SELECT pg_stat_clear_snapshot()")
        cr.execute(
            "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched"
            " FROM pg_stat_database WHERE datname = %s",
            (db,),
        )
        xacts, rows = cr.fetchone()
    cnx.commit()
    return {"xacts": xacts, "rows": rows}


def read_sessions(path):
    version, sessions = None, []
    with open(path, encoding="ascii") as sessions_file:
        for line in sessions_file:
            if line.startswith("# version "):
                version = line.split()[2]
            elif line.strip():
                sessions.append(line.split()[0])
    return version, sessions


def git_revision():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        commit = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short=10", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=sorted(KINDS), required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--ticks", type=int, default=60)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=50, help="handshakes at a time")
    parser.add_argument(
        "--procs", type=int, help=f"client processes (default: N/{SOCKETS_PER_PROC})"
    )
    parser.add_argument("--attack", choices=["calm", "reconnect", "stall"])
    parser.add_argument(
        "--discuss-poster", help="JSON argv of scripts/bench/discuss_poster.py: Discuss ticks"
    )
    parser.add_argument("--discuss-mode", choices=["mail", "app"], default="mail")
    parser.add_argument(
        "--connect-deadline", type=float, help="seconds to connect (default: max(300, N/10))"
    )
    parser.add_argument(
        "--server",
        action="append",
        required=True,
        help="PORT:PID[:LOG], a gevent port, its worker's PID and log (repeat for more nodes)",
    )
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
    result = Phase(args, sessions, version).run()
    result["commit"] = git_revision()
    result["date"] = time.strftime("%Y-%m-%d")
    with open(args.out, "a", encoding="utf-8") as out:
        out.write(json.dumps(result) + "\n")
    json.dump({k: v for k, v in result.items() if k != "worst_ms_by_tick"}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
