"""pytest plugin for the addon's Odoo tests: a test fails when the server it
drives logs an ERROR, a CRITICAL or a traceback that the test did not name.

With ``--odoo-http`` Odoo's HTTP server runs in the pytest process: its
records reach the root logger like the tests' own. They are collected here
and judged per test:

- during a test (setup, call and teardown), against the patterns the test
  names with ``tests.common.expect_server_log`` (on the method or its
  class);
- between two tests (a socket's close handled after the test's teardown),
  against the previous test's patterns, and reported on the next test;
- after the last test, the same way, as a failure of the whole session.

A test that expects an error may also catch it itself with ``assertLogs``
or ``mute_logger``: those records never reach the root logger.

Not counted: the ``websocket`` logger, which is websocket-client, the
tests' own client library (it logs a close with a non-1000 code, such as
a 1013 the server sent on purpose, as an ERROR). The server never logs
through it.

Loaded with ``-p server_log_check`` by scripts/stages/odoo_tests.sh.
"""

import importlib.util
import logging
import os
import re
import threading

import pytest

# Loggers of the tests' client library, not of the server.
CLIENT_LOGGERS = ("websocket",)
TRACEBACK = "Traceback (most recent call last)"
EXPECTED_ATTRIBUTE = "_bus_mobile_expected_logs"


def _load_server_logs():
    """scripts/server_logs.py (by path: scripts/ is not a package)."""
    scripts = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(scripts, "server_logs.py")
    spec = importlib.util.spec_from_file_location("bus_mobile_server_logs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_server_logs = _load_server_logs()


class _Collector(logging.Handler):
    """Keeps the server's problem records until a test's end takes them."""

    def __init__(self):
        super().__init__(logging.NOTSET)
        self._records = []
        self._guard = threading.Lock()

    def emit(self, record):
        if record.name in CLIENT_LOGGERS or record.name.startswith(
            tuple(f"{name}." for name in CLIENT_LOGGERS)
        ):
            return
        try:
            text = f"{record.name}: {record.getMessage()}"
        except Exception:  # a record whose arguments do not format
            text = f"{record.name}: {record.msg!r} % {record.args!r}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if record.levelno >= logging.ERROR or TRACEBACK in text:
            with self._guard:
                self._records.append((record.levelname, text))

    def take(self):
        with self._guard:
            records, self._records = self._records, []
        return records


_collector = _Collector()
_state = {"previous": None, "between": []}


def _expected(item):
    """The compiled patterns ``item`` names (method, then class)."""
    patterns = []
    for owner in (getattr(item, "obj", None), getattr(item, "cls", None)):
        patterns.extend(getattr(owner, EXPECTED_ATTRIBUTE, ()) or ())
    return [re.compile(p) if isinstance(p, str) else p for p in patterns]


def _unexpected(records, patterns):
    return [(level, text) for level, text in records if not any(p.search(text) for p in patterns)]


def _report_text(records, when):
    lines = [f"the server logged {len(records)} unexpected error(s) {when}:"]
    for level, text in records:
        lines.append(f"{level} {_server_logs.excerpt(text)}")
    lines.append(
        "If the test causes it on purpose, name it: @expect_server_log(regex) "
        "(tests/common.py), assertLogs or mute_logger."
    )
    return "\n".join(lines)


def pytest_configure(config):
    logging.getLogger().addHandler(_collector)


def pytest_unconfigure(config):
    logging.getLogger().removeHandler(_collector)


def pytest_runtest_logstart(nodeid, location):
    previous = _state["previous"]
    late = _collector.take()
    if previous is not None:
        late = _unexpected(late, _expected(previous))
    _state["between"] = [(previous.nodeid if previous else "session start", late)] if late else []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when == "setup" and _state["between"]:
        (after, late), _state["between"] = _state["between"][0], []
        if report.passed:
            report.outcome = "failed"
            report.longrepr = _report_text(late, f"after {after} ended, before this test")
    elif call.when == "teardown":
        found = _unexpected(_collector.take(), _expected(item))
        _state["previous"] = item
        if found and report.passed:
            report.outcome = "failed"
            report.longrepr = _report_text(found, "during this test")


def pytest_sessionfinish(session, exitstatus):
    previous = _state["previous"]
    late = _collector.take()
    if previous is not None:
        late = _unexpected(late, _expected(previous))
    if late:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = _report_text(late, "after the last test")
        if reporter is not None:
            reporter.write_sep("=", "server errors", red=True)
            reporter.write_line(text)
        session.exitstatus = 1
