"""nginx in front of Odoo, configured from the README's own configuration.

``scripts/nginx/bus_mobile.conf`` is the one configuration: the README
shows it with its documented values (``scripts/gen_readme.py`` writes it
into readme/*.md, ``--check`` fails when they drift), and the tests run
Debian's nginx with it, rendered with their loopback ports. Placeholders:
``{{LISTEN}}``, ``{{SERVER_NAME}}``, and ``{{HTTP_SERVERS}}`` /
``{{GEVENT_SERVERS}}`` (a ``server host:port;`` line per node).

Tests and stages start and stop it here, by PID: as an unprivileged user
(``nobody`` when run as root), on a free loopback port, with its prefix,
PID file, temporary files and logs in ``RUN_DIR/nginx-NAME/``. Its error log
(and access log) are server logs like Odoo's: checked through
``scripts/server_logs.py`` at each stop, an error nobody named fails.

    python scripts/nginx_proxy.py start NAME --http HOST:PORT... --gevent HOST:PORT...
        start nginx NAME; prints its URL (http://127.0.0.1:PORT)
    python scripts/nginx_proxy.py stop NAME [--allow REGEX]...
        stop it and check its logs
    python scripts/nginx_proxy.py render --listen 80 --http ... --gevent ...
        print the site configuration
"""

import argparse
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "nginx" / "bus_mobile.conf"
# Debian's nginx (scripts/common.sh's nginx_need installs it).
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
# What every test nginx adds to the README's configuration (in its http
# block, outside the README's server): which node served a request, for
# the tests that follow a socket through the balancer.
UPSTREAM_HEADER = "X-Bus-Mobile-Upstream"


def render(listen, http, gevent, server_name="_", without=(), template=None):
    """The site configuration: the template with its placeholders filled;
    ``http`` and ``gevent`` are lists of ``host:port``. ``without``: header
    names whose ``proxy_set_header`` lines are left out (a misconfigured
    proxy, for the tests of ``diagnose``)."""
    text = (template or TEMPLATE.read_text(encoding="utf-8")).rstrip("\n") + "\n"
    lines = []
    for line in text.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        servers = {"{{HTTP_SERVERS}}": http, "{{GEVENT_SERVERS}}": gevent}.get(line.strip())
        if servers is not None:
            lines.extend(f"{indent}server {address};" for address in servers)
            continue
        header = re.match(r"\s*proxy_set_header (\S+) ", line)
        if header and header[1] in without:
            continue
        filled = line.replace("{{LISTEN}}", str(listen))
        lines.append(filled.replace("{{SERVER_NAME}}", server_name))
    return "\n".join(lines) + "\n"


def upstreams(site):
    """The ``upstream`` blocks of a rendered site configuration."""
    return "\n".join(re.findall(r"^upstream .*?^\}", site, flags=re.MULTILINE | re.DOTALL)) + "\n"


def main_conf(site, prefix):
    """A whole nginx.conf around ``site``: everything nginx writes stays
    under ``prefix``."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix}/tmp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    indented = "".join(f"    {line}\n" if line else "\n" for line in site.splitlines())
    return f"""daemon off;
worker_processes 1;
worker_rlimit_nofile 8192;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    log_format upstream '$msec $status $request_method $request_uri $upstream_addr';
    access_log {prefix}/access.log upstream;
{temp}
    add_header {UPSTREAM_HEADER} $upstream_addr always;

{indented}}}
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unprivileged():
    """``(uid, gid)`` to run nginx as: ``nobody`` when we are root."""
    if os.geteuid() != 0:
        return None
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def _reachable(path, uid, gid):
    """Let ``uid`` reach and write ``path`` (a directory of the run)."""
    for root, dirs, files in os.walk(path):
        for name in (root, *(os.path.join(root, f) for f in dirs + files)):
            os.chown(name, uid, gid)
    parent = Path(path).resolve().parent
    while parent != parent.parent:
        os.chmod(parent, os.stat(parent).st_mode | 0o001)
        parent = parent.parent


def _children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Nginx:
    """One nginx of the run: ``RUN_DIR/nginx-NAME/``."""

    def __init__(self, name, run_dir=None):
        self.name = name
        run_dir = run_dir or os.environ.get("BUS_MOBILE_RUN_DIR")
        if not run_dir:
            raise RuntimeError("BUS_MOBILE_RUN_DIR (the run directory) is needed")
        self.prefix = Path(run_dir).resolve() / f"nginx-{name}"
        self.pidfile = self.prefix / "master.pid"
        self.error_log = self.prefix / "error.log"
        self.access_log = self.prefix / "access.log"
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self):
        return f"ws://127.0.0.1:{self.port}"

    def start(self, http, gevent, without=(), site=None):
        """Start nginx with the README's configuration for these nodes
        (or the given ``site``, a configuration with ``{{LISTEN}}``);
        returns self once its port accepts connections."""
        if not os.path.exists(NGINX):
            raise RuntimeError(
                f"no nginx at {NGINX}: make test installs Debian's nginx (apt-get install nginx)"
            )
        if self.pidfile.exists() and _alive(int(self.pidfile.read_text())):
            raise RuntimeError(f"nginx {self.name} already runs (pid {self.pidfile.read_text()})")
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            self.port = free_port()
            listen = f"127.0.0.1:{self.port}"
            text = (
                render(listen, http, gevent, without=without)
                if site is None
                else site.replace("{{LISTEN}}", listen)
            )
            conf = self.prefix / "nginx.conf"
            conf.write_text(main_conf(text, self.prefix), encoding="utf-8")
            if self._spawn(conf):
                return self
            if attempt == 2 or "Address already in use" not in self._tail():
                break
        raise RuntimeError(f"nginx {self.name} did not start:\n{self._tail()}")

    def _tail(self):
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-10:])
        except OSError:
            return ""

    def _spawn(self, conf):
        user = _unprivileged()
        if user:
            _reachable(self.prefix, *user)
        command = [NGINX, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.error_log)]
        extra = {"user": user[0], "group": user[1], "extra_groups": []} if user else {}
        check = subprocess.run(
            [*command, "-t", "-q"], capture_output=True, text=True, check=False, **extra
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx {self.name}: configuration refused:\n{check.stderr}")
        with open(self.error_log, "a", encoding="utf-8") as errors:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=errors,
                stderr=errors,
                start_new_session=True,
                **extra,
            )
        self.pidfile.write_text(str(process.pid))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pidfile.unlink()
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx {self.name} did not listen on {self.port} in {START_TIMEOUT} s")

    def stop(self):
        """Stop it by its PID (fast shutdown; its workers by theirs if they
        outlive it)."""
        if not self.pidfile.exists():
            return
        pid = int(self.pidfile.read_text())
        self.pidfile.unlink()
        workers = _children(pid)
        for target, sig in ((pid, signal.SIGTERM),):
            try:
                os.kill(target, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        for target in [pid, *workers]:
            if _alive(target):
                os.kill(target, signal.SIGKILL)

    def logs(self):
        return [str(self.error_log), str(self.access_log)]

    def check_logs(self, allow=()):
        """The problems its logs hold that no pattern of ``allow`` names,
        read on from the last check (see scripts/server_logs.py)."""
        sys.path.insert(0, str(HERE))
        import server_logs  # a sibling script: scripts/ is not a package

        watch = server_logs.LogWatch(
            self.logs(), ledger=server_logs.Ledger.from_env(), from_start=True
        )
        found = watch.problems(allow)
        server_logs.add_to_digest(found)
        return "\n".join(server_logs.describe(records, path) for path, records in found)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "render"):
        command = commands.add_parser(name)
        if name == "start":
            command.add_argument("name")
        else:
            command.add_argument("--listen", required=True)
            command.add_argument("--server-name", default="_")
        command.add_argument("--http", action="append", required=True)
        command.add_argument("--gevent", action="append", required=True)
    stop = commands.add_parser("stop")
    stop.add_argument("name")
    stop.add_argument("--allow", action="append", default=[])
    args = parser.parse_args(argv)
    if args.command == "render":
        sys.stdout.write(render(args.listen, args.http, args.gevent, args.server_name))
        return 0
    nginx = Nginx(args.name)
    if args.command == "start":
        try:
            nginx.start(args.http, args.gevent)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(nginx.url)
        return 0
    nginx.stop()
    problems = nginx.check_logs(args.allow)
    if problems:
        print(problems, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
