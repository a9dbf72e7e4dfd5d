"""What a server logged that no test expected: ERROR and CRITICAL records
and tracebacks, in Odoo log files (and nginx's error log: its error, crit,
alert and emerg lines; Prometheus's: its level=error lines).

Every stage of ``make test`` that starts a server fails when that server
logs one of them, unless the test that causes it names it. Used:

- by the stages (the CLI below) for what happens outside any test: a
  server's start and stop, the JavaScript tests, the benchmark's run;
- by the Python client's live tests (``clients/python/tests/conftest.py``
  loads this file by path), per test, with the patterns a test names
  (``@pytest.mark.server_log``).

The Odoo tests' server runs inside pytest: ``scripts/pytest/server_log_check.py``
checks its log records directly.

Nothing a server logs escapes: in ``make test`` (``BUS_MOBILE_LOG_LEDGER``
set to a directory of the run) a ledger keeps, for each log file of the run
directory, how far checks have read it. Each check reads on from there, so
no text falls between two checks, and ``audit`` fails the run when a log
file under the run directory holds text that no check read: a server whose
log nobody checks fails the run by construction.

    python scripts/server_logs.py check [--allow REGEX]... [--allow-noise NAME]... FILE...
        print what each FILE logged since the ledger's offset (the whole
        file without a ledger) that no REGEX and no record of NOISE[NAME]
        matches; exit 1 if anything
    python scripts/server_logs.py audit RUN_DIR
        exit 1, naming them, if log files (*.log) under RUN_DIR hold text
        that no check read
"""

import argparse
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

# An Odoo log line: "2024-05-01 12:00:00,123 4242 ERROR db odoo.http: ..."
RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>[^\s:]+): "
)
# nginx's error log: "2024/05/01 12:00:00 [error] 42#42: *7 connect() failed ..."
NGINX_RECORD = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(?P<level>[a-z]+)\] ")
NGINX_LEVELS = {
    "emerg": "CRITICAL",
    "alert": "CRITICAL",
    "crit": "CRITICAL",
    "error": "ERROR",
    "warn": "WARNING",
}
# Prometheus's (logfmt): "ts=2024-05-01T12:00:00.000Z caller=main.go:1 level=error msg=..."
LOGFMT_RECORD = re.compile(r"^(?:ts|time)=\S+ (?:.*? )?level=(?P<level>[A-Za-z]+) ")
BAD_LEVELS = {"ERROR", "CRITICAL"}
TRACEBACK = "Traceback (most recent call last)"
# gevent's report of a greenlet that died: it ends the traceback gevent
# printed to stderr, which is a record of its own.
GREENLET_FAILED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ <Greenlet at .*> failed with ")
# Lines without a log header that do not continue the record before them:
# what Python prints to stderr when a thread dies ("Exception in thread
# ...:") or at exit, and scripts/live_server.sh's mark of each start. Each
# begins a record of its own (level None), judged on its own.
STANDALONE = re.compile(r"^(?:Exception in thread |Exception ignored in |---- start )")
# The start mark lands mid-line when the stopped process's output was cut
# mid-line (a daemon thread printing its death at the exit).
START_MARK = "---- start "
# What stock Odoo logs, whatever an addon does, when its server stops or
# its PostgreSQL restarts: exactly these records and nothing else, named by
# a test (``@pytest.mark.server_log(noise=...)``) or a stage
# (``check --allow-noise NAME``) for the moment it causes them. A route's
# error is never one of them, whatever its traceback says.
_HEAD = r"\A\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ "
# The end of a record's header line: Odoo appends its request's figures
# (queries, times), or a space.
_HEAD_END = r"(?: [\d.-]+)* ?\n"
# What psycopg2 says when the database connection is lost, with its own
# continuation lines; _LOST_CONNECTION: a traceback ending with it.
_LOST_CONNECTION_TEXT = (
    r"(?:terminating connection due to administrator command"
    r"|server closed the connection unexpectedly"
    r"|connection already closed"
    r"|the database system is (?:shutting down|starting up)"
    r'|connection to server at "[^"\n]+"(?: \([^)\n]+\))?, port \d+ failed: '
    r"(?:Connection refused|server closed the connection unexpectedly"
    r"|FATAL:  the database system is (?:shutting down|starting up)))"
    r"(?:\n(?:\t.*|server closed the connection unexpectedly))*\s*\Z"
)
_LOST_CONNECTION = r"\npsycopg2\.(?:OperationalError|InterfaceError): " + _LOST_CONNECTION_TEXT


def _record(level, logger, message):
    """A log record of ``logger`` whose message is ``message`` (regexes) and
    whose traceback ends with a lost database connection."""
    return f"{_HEAD}{level} \\S+ {logger}: {message}{_HEAD_END}(?s:.*){_LOST_CONNECTION}"


def _prefix(text):
    """A regex of any non-empty beginning of ``text``: a line the exit cut."""
    pattern = ""
    for char in reversed(text[1:]):
        pattern = f"(?:{re.escape(char)}{pattern})?"
    return re.escape(text[0]) + pattern


_STOPPED_CRON = "psycopg2.InterfaceError: connection already closed"
# A traceback ending on a cursor or connection that the stop closed.
_CLOSED_BY_STOP = r"\npsycopg2\.InterfaceError: (?:cursor|connection) already closed\s*\Z"

NOISE = {
    # A stopped server's cron thread, waiting on its connection, dies on it
    # when the server closes it: whole, or cut short by the exit (a daemon
    # thread: its frame lines, then maybe the exception's line cut anywhere,
    # as in CI: "psycopg2").
    "odoo-stop": (
        r"\AException in thread odoo\.service\.cron\.cron\d+:\n"
        r"Traceback \(most recent call last\):\n"
        rf"(?:(?s:.*)\n{re.escape(_STOPPED_CRON)}\s*"
        rf"|(?:  .*\n)*(?:  .*|{_prefix(_STOPPED_CRON)})?\n?)\Z",
        # A cron job running at the stop (a threaded server closes every
        # connection, ThreadedServer.stop's sql_db.close_all, without
        # waiting for its cron threads, which are daemons): its next query
        # fails on the closed cursor. Odoo's cursor logs the query, ir_cron
        # the job, then its own loop: each ending on the closed cursor.
        rf"{_HEAD}ERROR \S+ odoo\.sql_db: bad query: .*\n"
        r"ERROR: (?:cursor|connection) already closed\s*\Z",
        rf"{_HEAD}ERROR \S+ odoo\.addons\.base\.models\.ir_cron: "
        rf"Job '[^'\n]*' \(\d+\) server action #\d+ failed{_HEAD_END}(?s:.*){_CLOSED_BY_STOP}",
        rf"{_HEAD}WARNING \S+ odoo\.addons\.base\.models\.ir_cron: "
        rf"Exception in cron:{_HEAD_END}(?s:.*){_CLOSED_BY_STOP}",
    ),
    # PostgreSQL restarting under a running server: Odoo's own loops lose
    # their connection (the bus listener, the cron threads and workers), and
    # a request that finds the database down is served without it.
    "pg-restart": (
        _record("ERROR", r"odoo\.addons\.bus\.models\.bus", r"Bus\.loop error, sleep and retry"),
        r"\AException in thread odoo\.service\.cron\.cron\d+:\n(?s:.*)" + _LOST_CONNECTION,
        # The same, cut short by another thread's record written meanwhile
        # (its frame lines only: the rest, ending with the lost connection,
        # is read as part of that record, which must be allowed itself).
        r"\AException in thread odoo\.service\.cron\.cron\d+:\n"
        r"Traceback \(most recent call last\):\n(?:  .*\n?)*\Z",
        _record("WARNING", r"odoo\.service\.server", r"cron\d+ encountered an Exception:"),
        _record("WARNING", r"odoo\.addons\.base\.models\.ir_cron", r"Exception in cron:"),
        # The cron loop's version check (ir.cron._check_version), logged by
        # Odoo's cursor before the cron's own record above.
        (
            rf"{_HEAD}ERROR \S+ odoo\.sql_db: bad query: "
            r"b\"\\n\s*SELECT latest_version\\n\s*FROM ir_module_module\\n"
            r"\s*WHERE name='base'\\n\s*\"\nERROR: " + _LOST_CONNECTION_TEXT
        ),
        _record(
            "ERROR",
            r"odoo\.service\.server",
            r"Worker(?: \w+)? \(\d+\) Exception occurred, exiting\.\.\.",
        ),
        _record("WARNING", r"odoo\.http", r"Database or registry unusable, trying without"),
        # A request in flight when the database stops: its route returned,
        # and Odoo's own commit after it (service.model.retrying) finds the
        # connection closed. Only frame lines before those two: an error
        # raised in a route, or chained to one, ends elsewhere.
        (
            rf"{_HEAD}ERROR \S+ odoo\.http: Exception during request handling\.{_HEAD_END}"
            r"Traceback \(most recent call last\):\n(?:  .*\n)*?"
            r'  File "[^"\n]*/odoo/service/model\.py", line \d+, in retrying\n'
            r"    env\.cr\.commit\(\).*\n(?:    .*\n)*"
            r'  File "[^"\n]*/odoo/sql_db\.py", line \d+, in commit\n'
            r"    result = self\._cnx\.commit\(\)(?:\n    .*)*" + _LOST_CONNECTION
        ),
        # A request whose route matched, when the database stops: Odoo's
        # cursor for its transaction can't connect (the route never runs).
        (
            rf"{_HEAD}ERROR \S+ odoo\.http: Exception during request handling\.{_HEAD_END}"
            r"Traceback \(most recent call last\):\n(?:  .*\n)*?"
            r'  File "[^"\n]*/odoo/http\.py", line \d+, in _transactioning\n'
            r"    with contextlib\.closing\(self\.registry\.cursor\(.*\n(?:    .*\n)*"
            r'(?:  File "[^"\n]*/(?:odoo/modules/registry|odoo/sql_db|odoo/tools/func|decorator'
            r'|psycopg2/__init__)\.py", line \d+, in \w+\n(?:    .*\n)*)+'
            r"(?:    .*)?" + _LOST_CONNECTION
        ),
    ),
}
# A log with a problem is read on until it stops growing this long, for
# this long at most (see LogWatch.problems).
SETTLE_SECONDS = 0.5
PATIENCE_SECONDS = 5.0
# A problem is shown with at most this many characters.
EXCERPT = 3000


class Record:
    """One log record: its header line and the lines after it (a
    traceback). Lines before the first header form a record of their own
    (level None): a Python crash printed to stderr, for instance."""

    __slots__ = ("level", "lines", "logger")

    def __init__(self, level, logger, line):
        self.level, self.logger, self.lines = level, logger, [line]

    def _extend(self, lines):
        self.lines.extend(lines)
        return self

    @property
    def text(self):
        return "\n".join(self.lines)

    def is_problem(self):
        return self.level in BAD_LEVELS or any(TRACEBACK in line for line in self.lines)


def _lines(text):
    """The lines of ``text``, a start mark written after a cut line on a
    line of its own."""
    for line in text.splitlines():
        mark = line.find(START_MARK, 1)
        if mark > 0:
            yield line[:mark]
        yield line[max(mark, 0) :]


def records(text):
    current = None
    for line in _lines(text):
        match = RECORD.match(line)
        nginx = None if match else NGINX_RECORD.match(line)
        logfmt = None if match or nginx else LOGFMT_RECORD.match(line)
        if match or nginx or logfmt:
            if current is not None:
                yield current
            if match:
                current = Record(match["level"], match["logger"], line)
            elif nginx:
                current = Record(NGINX_LEVELS.get(nginx["level"], "INFO"), "nginx", line)
            else:
                level = logfmt["level"].upper()
                current = Record("ERROR" if level == "ERROR" else level, "logfmt", line)
        elif GREENLET_FAILED.match(line) and current is not None:
            # The traceback before this line is gevent's, not the record's
            # it follows: split it off, so that it is judged on its own.
            starts = [i for i, text in enumerate(current.lines) if text.startswith(TRACEBACK)]
            if starts and starts[-1] > 0:
                head, current.lines = current.lines[: starts[-1]], current.lines[starts[-1] :]
                yield Record(current.level, current.logger, head[0])._extend(head[1:])
                current.level, current.logger = None, "gevent"
            current.lines.append(line)
            yield current
            current = None
        elif current is None or STANDALONE.match(line):
            if current is not None:
                yield current
            current = Record(None, None, line)
        else:
            current.lines.append(line)
    if current is not None:
        yield current


def problems(text, allowed=()):
    """The records of ``text`` that are errors or tracebacks and that no
    pattern of ``allowed`` (compiled regexes or strings) matches."""
    patterns = [re.compile(p) if isinstance(p, str) else p for p in allowed]
    return [
        record
        for record in records(text)
        if record.is_problem() and not any(p.search(record.text) for p in patterns)
    ]


def summary(record):
    """One line naming ``record``'s problem: its header and, for a
    traceback, its last line (the exception), which a cut excerpt loses."""
    head = record.lines[0].strip()[:300]
    last = next((line.strip() for line in reversed(record.lines) if line.strip()), "")
    return head if last == head else f"{head} -> {last[:300]}"


def excerpt(text, limit=EXCERPT):
    """``text``, or its start and its end (where a traceback names its
    exception) when longer than ``limit``."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters ...]\n{text[-half:]}"


def describe(found, where):
    """A report of ``found`` (records of file ``where``) for a person."""
    parts = [f"{where}: {len(found)} unexpected error(s) or traceback(s) in the server log:"]
    parts.extend(f"  * {summary(record)}" for record in found)
    parts.extend(excerpt(record.text) for record in found)
    return "\n".join(parts)


def add_to_digest(found):
    """Append each problem's summary to the run's failure digest (the file
    BUS_MOBILE_FAILURE_DIGEST names): ``make test`` repeats it last, where
    a long output's tail shows it."""
    digest = os.environ.get("BUS_MOBILE_FAILURE_DIGEST")
    if not digest:
        return
    try:
        with open(digest, "a", encoding="utf-8") as out:
            for path, records in found:
                for record in records:
                    out.write(f"{os.path.basename(path)}: {summary(record)}\n")
    except OSError as exc:  # the report above stands without it
        print(f"failure digest {digest} not written: {exc}", file=sys.stderr)


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class Ledger:
    """How far checks have read each log file under ``root``: a file per
    log in ``directory`` (its path, inode and offset). A log replaced by
    another file (another inode) or truncated is read from its start."""

    def __init__(self, directory, root):
        self.directory = Path(directory)
        self.root = Path(root).resolve()

    @classmethod
    def from_env(cls):
        """The run's ledger (``BUS_MOBILE_LOG_LEDGER``, its logs under
        ``BUS_MOBILE_RUN_DIR``), or None outside ``make test``."""
        directory = os.environ.get("BUS_MOBILE_LOG_LEDGER")
        root = os.environ.get("BUS_MOBILE_RUN_DIR")
        return cls(directory, root) if directory and root else None

    def tracks(self, path):
        return Path(path).resolve().is_relative_to(self.root)

    def _entry(self, path):
        key = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()
        return self.directory / key

    def offset(self, path):
        """Where the next check of ``path`` starts reading."""
        try:
            entry = json.loads(self._entry(path).read_text(encoding="utf-8"))
            stat = os.stat(path)
        except (OSError, ValueError):
            return 0
        if entry.get("inode") != stat.st_ino or stat.st_size < entry.get("offset", 0):
            return 0
        return entry["offset"]

    def advance(self, path, offset):
        """Record that checks read ``path`` up to ``offset``."""
        try:
            inode = os.stat(path).st_ino
        except OSError:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        entry = self._entry(path)
        tmp = entry.with_suffix(f".{os.getpid()}")
        tmp.write_text(
            json.dumps({"path": str(Path(path).resolve()), "inode": inode, "offset": offset}),
            encoding="utf-8",
        )
        tmp.replace(entry)

    def unread(self, exempt=()):
        """``[(path, unread bytes)]`` of the log files (``*.log``) under the
        root that hold text no check read; basenames in ``exempt`` aside."""
        found = []
        for path in sorted(self.root.rglob("*.log")):
            if path.name in exempt or not path.is_file():
                continue
            left = path.stat().st_size - self.offset(path)
            if left:
                found.append((path, left))
        return found


# Logs of servers that are not ours to judge, and why. Every other *.log
# under the run directory must have been read by a check.
NOT_CHECKED = {
    "postgresql.log": "PostgreSQL logs the failed statements of its clients, "
    "which Odoo retries by design (serialization failures, locks)",
    "pgbouncer.log": "PgBouncer logs each client's connect and disconnect; "
    "its pools are checked by the nodes stage",
}


class LogWatch:
    """The new text of several log files since the last read: from the
    ledger's offsets for the files it tracks, else from the start of each
    file (``from_start``) or from its current size."""

    def __init__(self, paths, offsets=None, ledger=None, from_start=False):
        self.paths = list(paths)
        self.ledger = ledger
        self.offsets = {path: self._start(path, from_start) for path in self.paths}
        if offsets:
            self.offsets.update(offsets)

    def _start(self, path, from_start):
        if self.ledger is not None and self.ledger.tracks(path):
            return self.ledger.offset(path)
        return 0 if from_start else _size(path)

    def read_new(self):
        """``{path: text}`` written since the last read (a file that was
        truncated or replaced is read from its start)."""
        new = {}
        for path in self.paths:
            start = self.offsets.get(path, 0)
            size = _size(path)
            if size < start:
                start = 0
            if size == start:
                continue
            with open(path, "rb") as log_file:
                log_file.seek(start)
                data = log_file.read(size - start)
            self.offsets[path] = start + len(data)
            if self.ledger is not None and self.ledger.tracks(path):
                self.ledger.advance(path, self.offsets[path])
            new[path] = data.decode("utf-8", "replace")
        return new

    def problems(self, allowed=(), settle=SETTLE_SECONDS, patience=PATIENCE_SECONDS):
        """``[(path, [Record])]`` of the new text, read now. A server may
        still be writing a traceback (a dying thread prints it line by
        line): when the text has a problem, read on until the files stop
        growing for ``settle`` seconds (``patience`` at most), then judge
        the whole, which an allowed pattern may then match."""
        texts = self.read_new()
        found = _judge(texts, allowed)
        deadline = time.monotonic() + patience
        while found and time.monotonic() < deadline:
            time.sleep(settle)
            more = self.read_new()
            if not more:
                break
            for path, text in more.items():
                texts[path] = texts.get(path, "") + text
            found = _judge(texts, allowed)
        return found


def _judge(texts, allowed):
    found = []
    for path, text in texts.items():
        bad = problems(text, allowed)
        if bad:
            found.append((path, bad))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check")
    check.add_argument("--allow", action="append", default=[])
    check.add_argument("--allow-noise", action="append", default=[], choices=sorted(NOISE))
    check.add_argument("files", nargs="+")
    audit = commands.add_parser("audit")
    audit.add_argument("run_dir")
    args = parser.parse_args(argv)
    ledger = Ledger.from_env()
    if args.command == "audit":
        return _audit(ledger, args.run_dir)
    watch = LogWatch(args.files, ledger=ledger, from_start=True)
    allowed = args.allow + [pattern for name in args.allow_noise for pattern in NOISE[name]]
    found = watch.problems(allowed)
    for path, bad in found:
        print(describe(bad, path), file=sys.stderr)
    add_to_digest(found)
    return 1 if found else 0


def _audit(ledger, run_dir):
    if ledger is None or Path(run_dir).resolve() != ledger.root:
        print(
            f"audit: needs BUS_MOBILE_LOG_LEDGER, and {run_dir} as BUS_MOBILE_RUN_DIR",
            file=sys.stderr,
        )
        return 2
    unread = ledger.unread(NOT_CHECKED)
    for path, left in unread:
        print(
            f"{path}: {left} bytes of this server log were never checked "
            "(start servers through the stage helpers, which check their logs)",
            file=sys.stderr,
        )
    digest = os.environ.get("BUS_MOBILE_FAILURE_DIGEST")
    if unread and digest:
        with open(digest, "a", encoding="utf-8") as out:
            for path, left in unread:
                out.write(f"log never checked: {path.relative_to(ledger.root)} ({left} bytes)\n")
    return 1 if unread else 0


if __name__ == "__main__":
    sys.exit(main())
