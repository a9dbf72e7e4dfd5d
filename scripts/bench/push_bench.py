"""``make bench-push``: push notifications for N offline devices.

Run by scripts/bench_push.sh once the database has the bench's users,
devices and channel (scripts/bench/push_setup.py). It:

1. starts the fake providers of the tests (tests/fake_push_provider.py) on
   loopback and points the addon's push parameters at them;
2. starts Odoo as in production (prefork, 2 HTTP workers, 1 cron worker);
3. for each provider (Expo, then FCM: every device's token is switched),
   posts one warm-up message (not measured), then ``--rounds`` messages
   through ``/bus_mobile/message/post``; each post queues N pushes, and
   the triggered cron sends them;
4. reports per provider: pushes sent per second (N over the time from the
   post's answer to the last provider request), and the time from the post
   (request sent) to each push's provider request, p50 and p99.

With ``--smoke``, it fails unless every push of every round arrived (never
on times). One JSON line per provider goes to ``--out``. Odoo is stopped by
its PID. Every wait is bounded; all traffic stays on 127.0.0.1.
"""

import argparse
import configparser
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from fake_push_provider import FakePushProvider  # noqa: E402

ROUND_TIMEOUT_S = 300


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class OdooServer:
    def __init__(self, python, odoo_bin, conf, db, log_path):
        self.args = [
            python,
            odoo_bin,
            "-c",
            conf,
            "-d",
            db,
            "--workers=2",
            "--max-cron-threads=1",
            "--log-level=warn",
        ]
        self.log_path = log_path
        parser = configparser.ConfigParser()
        parser.read(conf)
        self.port = int(parser["options"]["http_port"])
        self.process = None

    def start(self):
        with open(self.log_path, "a", encoding="utf-8") as log:
            # The child keeps its own copy of the descriptor.
            self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Odoo exited at start (log: {self.log_path})")
            try:
                if requests.get(f"{self.url}/web/health", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError("Odoo did not answer within 90 s")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def children(self):
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as file:
                return [int(pid) for pid in file.read().split()]
        except OSError:
            return []

    def stop(self):
        if not self.process or self.process.poll() is not None:
            return
        children = self.children()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        for pid in children:  # workers a killed master could not stop
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def set_params(cnx, params):
    with cnx.cursor() as cr:
        for key, value in params.items():
            cr.execute(
                """INSERT INTO ir_config_parameter (key, value, create_date, write_date)
                   VALUES (%s, %s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
                   ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value""",
                [f"bus_mobile.{key}", value],
            )
    cnx.commit()


def use_provider(cnx, provider):
    token = (
        "'ExponentPushToken[bench-' || user_id || ']'"
        if provider == "expo"
        else "'fcm-bench-' || user_id"
    )
    with cnx.cursor() as cr:
        cr.execute(
            f"UPDATE bus_mobile_device SET push_token = {token}, push_provider = %s, "
            "status = 'offline' WHERE device_uuid LIKE 'push-bench-%%'",
            [provider],
        )
        cr.execute("SELECT count(*) FROM bus_mobile_device WHERE device_uuid LIKE 'push-bench-%%'")
        count = cr.fetchone()[0]
    cnx.commit()
    return count


def queued(cnx):
    with cnx.cursor() as cr:
        cr.execute("SELECT count(*) FROM bus_mobile_push WHERE state IN ('pending', 'sending')")
        result = cr.fetchone()[0]
    cnx.commit()
    return result


def received_for(fake, kind, message_id):
    """Provider request times of the pushes of ``message_id``."""
    times = []
    for request in fake.of_kind(kind):
        body = request["body"]
        messages = body if isinstance(body, list) else [body["message"]]
        for message in messages:
            if str(message.get("data", {}).get("message_id")) == str(message_id):
                times.append(request["time"])
    return times


def run_round(server, fake, cnx, sid, channel_id, provider, expected, index):
    kind = "expo_send" if provider == "expo" else "fcm_send"
    t_post = time.time()
    response = requests.post(
        f"{server.url}/bus_mobile/message/post",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "channel_id": channel_id,
                "body": f"Push bench {provider} round {index}",
                "client_uuid": f"push-bench-{provider}-{index}-{time.time_ns()}",
            },
        },
        cookies={"session_id": sid},
        timeout=60,
    )
    t_posted = time.time()
    answer = response.json()
    if "error" in answer:
        raise RuntimeError(f"post failed: {answer['error']}")
    message_id = answer["result"]["id"]
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    times = []
    while time.monotonic() < deadline:
        times = received_for(fake, kind, message_id)
        if len(times) >= expected:
            break
        time.sleep(0.05)
    # The cron records the outcomes after the last request: let it finish.
    while queued(cnx) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {
        "post_ms": (t_posted - t_post) * 1000,
        "latencies_ms": [(t - t_post) * 1000 for t in times],
        "last_s": (max(times) - t_posted) if times else None,
        "received": len(times),
        "requests": len(fake.of_kind(kind)),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True)
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--conf", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--pg-port", type=int, required=True)
    parser.add_argument("--session-file", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--providers", default="expo,fcm")
    parser.add_argument("--log", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()

    sid, channel_id = Path(args.session_file).read_text().split()
    fake = FakePushProvider().start()
    cnx = psycopg2.connect(
        host="127.0.0.1", port=args.pg_port, user="odoo", password="odoo", dbname=args.db
    )
    set_params(
        cnx,
        {
            "push_expo_base_url": fake.expo_base_url,
            "push_fcm_base_url": fake.fcm_base_url,
            "push_fcm_service_account": json.dumps(fake.service_account("push-bench")),
            "push_data_only": "0",
            "push_receipt_delay_s": "86400",
        },
    )
    server = OdooServer(args.python, args.odoo_bin, args.conf, args.db, args.log)
    results, failed = [], False
    try:
        server.start()
        # Both HTTP workers load the registry before anything is measured.
        for _ in range(4):
            requests.post(
                f"{server.url}/bus_mobile/config",
                json={"jsonrpc": "2.0", "method": "call", "params": {}},
                cookies={"session_id": sid},
                timeout=60,
            )
        for provider in args.providers.split(","):
            devices = use_provider(cnx, provider)
            # Not measured: the cron worker's first job (registry, imports,
            # FCM access token).
            fake.reset()
            run_round(server, fake, cnx, sid, int(channel_id), provider, devices, "warmup")
            rounds = []
            for index in range(args.rounds):
                fake.reset()
                rounds.append(
                    run_round(server, fake, cnx, sid, int(channel_id), provider, devices, index)
                )
            received = [r["received"] for r in rounds]
            latencies = [ms for r in rounds for ms in r["latencies_ms"]]
            complete = [r for r in rounds if r["received"] == devices and r["last_s"]]
            rates = [devices / r["last_s"] for r in complete]
            result = {
                "provider": provider,
                "devices": devices,
                "rounds": len(rounds),
                "missing": sum(devices - n for n in received),
                "requests_per_round": [r["requests"] for r in rounds],
                "pushes_per_s": round(statistics.median(rates), 1) if rates else None,
                "post_to_provider_p50_ms": round(percentile(latencies, 0.50), 1)
                if latencies
                else None,
                "post_to_provider_p99_ms": round(percentile(latencies, 0.99), 1)
                if latencies
                else None,
                "post_request_ms": round(statistics.median(r["post_ms"] for r in rounds), 1),
                # per round, ms: the post request, then the first and the
                # last provider request after the post was sent
                "rounds_ms": [
                    (
                        round(r["post_ms"], 1),
                        round(min(r["latencies_ms"]), 1),
                        round(max(r["latencies_ms"]), 1),
                    )
                    for r in rounds
                    if r["latencies_ms"]
                ],
            }
            results.append(result)
            if result["missing"]:
                failed = True
    finally:
        server.stop()
        fake.stop()
        cnx.close()

    with open(args.out, "a", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(result) + "\n")
    print("provider  devices  rounds  missing  pushes/s  post->provider p50  p99   post request")
    for r in results:
        print(
            f"{r['provider']:<8}  {r['devices']:>7}  {r['rounds']:>6}  {r['missing']:>7}  "
            f"{r['pushes_per_s'] or '-':>8}  {r['post_to_provider_p50_ms'] or '-':>11} ms"
            f"  {r['post_to_provider_p99_ms'] or '-':>6} ms  {r['post_request_ms']} ms"
        )
    if failed:
        print("push bench: some pushes never reached the provider", file=sys.stderr)
        return 1
    if args.smoke and len(results) != len(args.providers.split(",")):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
