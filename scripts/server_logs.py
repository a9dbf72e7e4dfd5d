"""What a server logged that no test expected: ERROR and CRITICAL records
and tracebacks, in Odoo log files.

Every stage of ``make test`` that starts a server fails when that server
logs one of them, unless the test that causes it names it. Used:

- by the stages (the CLI below) for what happens outside any test: a
  server's start and stop, the JavaScript tests, the benchmark's run;
- by the Python client's live tests (``clients/python/tests/conftest.py``
  loads this file by path), per test, with the patterns a test names
  (``@pytest.mark.server_log``).

The Odoo tests' server runs inside pytest: ``scripts/pytest/server_log_check.py``
checks its log records directly.

    python scripts/server_logs.py mark OFFSETS.json FILE...
        record the current size of each FILE
    python scripts/server_logs.py check [--since OFFSETS.json] [--allow REGEX]...
            [--allow-noise NAME]... FILE...
        print what each FILE logged since the marks (whole files without
        --since) that no REGEX and no record of NOISE[NAME] matches; exit 1
        if anything
"""

import argparse
import json
import os
import re
import sys
import time

# An Odoo log line: "2024-05-01 12:00:00,123 4242 ERROR db odoo.http: ..."
RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>[^\s:]+): "
)
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
# What stock Odoo logs, whatever an addon does, when its server stops or
# its PostgreSQL restarts: exactly these records and nothing else, named by
# a test (``@pytest.mark.server_log(noise=...)``) or a stage
# (``check --allow-noise NAME``) for the moment it causes them. A route's
# error is never one of them, whatever its traceback says.
_HEAD = r"\A\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ "
# The end of a record's header line: Odoo appends its request's figures
# (queries, times), or a space.
_HEAD_END = r"(?: [\d.-]+)* ?\n"
# How a traceback ends when the database connection is lost: psycopg2's
# exception and its own continuation lines.
_LOST_CONNECTION = (
    r"\npsycopg2\.(?:OperationalError|InterfaceError): "
    r"(?:terminating connection due to administrator command"
    r"|server closed the connection unexpectedly"
    r"|connection already closed"
    r"|the database system is (?:shutting down|starting up)"
    r'|connection to server at "[^"\n]+"(?: \([^)\n]+\))?, port \d+ failed: '
    r"(?:Connection refused|server closed the connection unexpectedly"
    r"|FATAL:  the database system is (?:shutting down|starting up)))"
    r"(?:\n(?:\t.*|server closed the connection unexpectedly))*\s*\Z"
)


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
    ),
    # PostgreSQL restarting under a running server: Odoo's own loops lose
    # their connection (the bus listener, the cron threads and workers), and
    # a request that finds the database down is served without it.
    "pg-restart": (
        _record("ERROR", r"odoo\.addons\.bus\.models\.bus", r"Bus\.loop error, sleep and retry"),
        r"\AException in thread odoo\.service\.cron\.cron\d+:\n(?s:.*)" + _LOST_CONNECTION,
        _record("WARNING", r"odoo\.service\.server", r"cron\d+ encountered an Exception:"),
        _record("WARNING", r"odoo\.addons\.base\.models\.ir_cron", r"Exception in cron:"),
        _record(
            "ERROR",
            r"odoo\.service\.server",
            r"Worker(?: \w+)? \(\d+\) Exception occurred, exiting\.\.\.",
        ),
        _record("WARNING", r"odoo\.http", r"Database or registry unusable, trying without"),
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


def records(text):
    current = None
    for line in text.splitlines():
        match = RECORD.match(line)
        if match:
            if current is not None:
                yield current
            current = Record(match["level"], match["logger"], line)
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


class LogWatch:
    """The new text of several log files since the last read."""

    def __init__(self, paths, offsets=None):
        self.paths = list(paths)
        self.offsets = {path: _size(path) for path in self.paths}
        if offsets:
            self.offsets.update(offsets)

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
    mark = commands.add_parser("mark")
    mark.add_argument("offsets")
    mark.add_argument("files", nargs="+")
    check = commands.add_parser("check")
    check.add_argument("--since")
    check.add_argument("--allow", action="append", default=[])
    check.add_argument("--allow-noise", action="append", default=[], choices=sorted(NOISE))
    check.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "mark":
        with open(args.offsets, "w", encoding="utf-8") as out:
            json.dump({path: _size(path) for path in args.files}, out)
        return 0
    offsets = {}
    if args.since:
        with open(args.since, encoding="utf-8") as marks:
            offsets = json.load(marks)
    watch = LogWatch(args.files, {path: offsets.get(path, 0) for path in args.files})
    allowed = args.allow + [pattern for name in args.allow_noise for pattern in NOISE[name]]
    found = watch.problems(allowed)
    for path, bad in found:
        print(describe(bad, path), file=sys.stderr)
    add_to_digest(found)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
