"""Judge Odoo's own test suites run with ``odoo-bin --test-enable`` (the
stage scripts/stages/stock_suites.sh), from their logs.

Each run is given as ``ROLE:SUITE:LOG``:

- ROLE ``addon``: Odoo's suite with bus_mobile installed. It passes when
  Odoo's summary line is there (no crash), it ran tests of every module of
  its suite, every failure is listed in the known-failures file for that
  suite, and the server logged no ERROR or traceback outside a failing
  test;
- ROLE ``stock``: the same database without the addon, running only the
  listed tests: each listed test of that suite must have run there and
  failed (so the list can only hold what stock Odoo fails too).

SUITE ``mail`` is ``--test-tags /bus,/mail`` on a database with mail,
``bus`` is ``--test-tags /bus`` on a bus-only database. The process's exit
code is read from ``LOG.rc``.

    python judge.py --known FILE --report OUT ROLE:SUITE:LOG...

Prints the report (also written to OUT); exits 1 when anything failed.
"""

import argparse
import importlib.util
import os
import re
import sys

# The modules whose tests each suite runs (its --test-tags).
SUITE_MODULES = {"mail": ("bus", "mail"), "bus": ("bus",)}

# Records of Odoo's test runner (odoo/tests/result.py, odoo/modules/loading.py),
# read as a message after the record's "<logger>: ".
STARTING = re.compile(r"Starting (?P<test>[\w.]+) \.\.\.")
SKIPPED = re.compile(r"skipped (?P<test>.+?) : (?P<reason>.*)", re.S)
RESULT = re.compile(r"(?P<kind>FAIL|ERROR): (?P<description>.+)")
SUMMARY = re.compile(
    r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<run>\d+) tests"
    r" when loading database '(?P<db>[^']+)'"
)
# Test-runner records that restate failures already counted: the judge
# reads them, the server-log check does not count them again.
RUNNER_LOGGERS = {
    "odoo.tests.result": re.compile(r".* when loading database '"),
    "odoo.modules.loading": re.compile(
        r"(?:Module \w+: \d+ failures, \d+ errors of \d+ tests"
        r"|At least one test failed when loading the modules\.)$"
    ),
}
TEST_LOGGER = re.compile(r"odoo\.addons\.(?P<module>\w+)\.tests(?:\.|$)")
SUBTEST = re.compile(r"Subtest (?P<test>[\w.]+) .*", re.S)
HEADER = re.compile(r"^\S+ \S+ \d+ [A-Z]+ \S+ (?P<logger>[^\s:]+): (?P<message>.*)$")
# Records that end the current test's span: what follows belongs to none.
BETWEEN_TESTS = {
    "odoo.modules.loading": re.compile(r"Module \w+ loaded in "),
    "odoo.service.server": re.compile(r"(?:Starting post tests|\d+ post-tests in )"),
}


def _load_server_logs():
    scripts = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(
        "bus_mobile_server_logs", os.path.join(scripts, "server_logs.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


server_logs = _load_server_logs()


def read_known(path):
    """``{(suite, test id): reason}`` from the known-failures file: one test
    a line, ``SUITE MODULE:Class.method REASON``; ``#`` starts a comment."""
    known = {}
    with open(path, encoding="utf-8") as lines:
        for number, text in enumerate(lines, 1):
            line = text.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 3 or parts[0] not in SUITE_MODULES or ":" not in parts[1]:
                raise ValueError(f"{path}:{number}: expected 'SUITE MODULE:Class.method REASON'")
            known[parts[0], parts[1]] = parts[2]
    return known


class Run:
    """What one odoo-bin test run logged."""

    def __init__(self, role, suite, log_path):
        self.role, self.suite, self.log_path = role, suite, log_path
        self.rc = None
        self.summary = None  # (failed, errors, run)
        self.started = {}  # test id -> times started
        self.failures = {}  # test id -> ["FAIL"/"ERROR", ...]
        self.skipped = {}  # test id -> reason
        # (test id or None, Record): errors and tracebacks outside the tests
        # that failed (a failing test's own are part of its failure).
        self.problems = []

    @property
    def name(self):
        return f"{self.role}:{self.suite}"

    def read(self):
        self.rc = _read_rc(f"{self.log_path}.rc")
        with open(self.log_path, encoding="utf-8", errors="replace") as log_file:
            text = log_file.read()
        current, during = None, []
        for record in server_logs.records(text):
            header = HEADER.match(record.lines[0])
            logger, message = (header["logger"], header["message"].strip()) if header else ("", "")
            if logger in BETWEEN_TESTS and BETWEEN_TESTS[logger].match(message):
                current = None
            started = self._runner_record(record.level, logger, message, current)
            if started:
                current = started
            elif started is None and record.is_problem():
                during.append((current, record))
        self.problems = [(test, record) for test, record in during if test not in self.failures]
        return self

    def _runner_record(self, level, logger, message, current):
        """Read a record of Odoo's test runner: the test id when it starts a
        test; False for its other records (a result, a skip, the summary);
        None for any other record."""
        test_logger = TEST_LOGGER.match(logger)
        starting = STARTING.fullmatch(message) if level == "INFO" and test_logger else None
        if starting:
            test = f"{test_logger['module']}:{starting['test']}"
            self.started[test] = self.started.get(test, 0) + 1
            return test
        skipped = SKIPPED.fullmatch(message) if level == "INFO" and test_logger else None
        if skipped:
            self.skipped[f"{test_logger['module']}:{skipped['test']}"] = skipped["reason"]
            return False
        result = RESULT.fullmatch(message) if level == "ERROR" else None
        if result:
            test = _test_id(logger, result["description"], current)
            self.failures.setdefault(test, []).append(result["kind"])
            return False
        if logger in RUNNER_LOGGERS and RUNNER_LOGGERS[logger].match(message):
            summary = SUMMARY.search(message)
            if summary:
                self.summary = tuple(int(summary[k]) for k in ("failed", "errors", "run"))
            return False
        return None

    def modules_run(self):
        counts = {}
        for test in self.started:
            module = test.split(":", 1)[0]
            counts[module] = counts.get(module, 0) + 1
        return counts


def _read_rc(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as rc_file:
        text = rc_file.read().strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _test_id(logger, description, current):
    """``module:Class.method`` of a FAIL/ERROR record (a subtest's is its
    test's); a class or module fixture's error keeps its description."""
    description = description.strip()
    subtest = SUBTEST.fullmatch(description)
    if subtest:
        description = subtest["test"]
    test_logger = TEST_LOGGER.match(logger)
    if test_logger and re.fullmatch(r"\w+\.\w+", description):
        return f"{test_logger['module']}:{description}"
    return f"{current or '?'} ({description})"


class Verdict:
    """The report's lines, and whether everything passed."""

    def __init__(self):
        self.lines, self.ok = [], True

    def note(self, text):
        self.lines.append(text)

    def fail(self, text):
        self.ok = False
        self.lines.append(f"  FAILED: {text}")


def judge_counts(run, verdict):
    """The run ended with Odoo's summary, ran tests, skipped none, and its
    counts, its exit code and the failures it logged agree."""
    failed, errors, ran = run.summary or (None, None, None)
    verdict.note(
        f"{run.name}: ran {ran}, failed {failed}, errors {errors}, skipped {len(run.skipped)}"
        f" (exit code {run.rc}; tests started per module {run.modules_run()};"
        f" log {run.log_path})"
    )
    if run.summary is None:
        verdict.fail("no summary line from Odoo's test runner: the run crashed or was cut short")
        return
    if ran == 0:
        verdict.fail("no test ran")
    started = sum(run.started.values())
    if started != ran:
        verdict.fail(f"{started} tests started in the log, the summary says {ran}")
    if run.rc not in (0, 1) or (run.rc == 0) != (failed + errors == 0):
        verdict.fail(f"exit code {run.rc} does not match {failed} failed, {errors} error(s)")
    for test, reason in sorted(run.skipped.items()):
        verdict.fail(f"{test} skipped, which hides its result: {reason.strip()[:200]}")
    logged = sum(len(kinds) for kinds in run.failures.values())
    if logged != failed + errors:
        verdict.fail(f"{logged} FAIL/ERROR records logged, the summary says {failed + errors}")


def judge_addon(run, known, verdict):
    """Tests of every module of the suite ran; every failure is listed."""
    for module in SUITE_MODULES[run.suite]:
        if not run.modules_run().get(module):
            verdict.fail(f"no test of {module} ran")
    for test, kinds in sorted(run.failures.items()):
        reason = known.get((run.suite, test))
        if reason is None:
            verdict.fail(f"{test} {'/'.join(kinds)} (not a known failure of stock Odoo)")
        else:
            verdict.note(f"  known failure of stock Odoo: {test} ({reason})")
    for suite, test in sorted(known):
        if suite == run.suite and test not in run.failures:
            verdict.note(f"  listed, but passed with the addon: {test}")


def judge_stock(run, known, verdict):
    """Each listed test of the suite ran without the addon, and failed."""
    for suite, test in sorted(known):
        if suite != run.suite:
            continue
        if not run.started.get(test):
            verdict.fail(f"listed {test} did not run without the addon")
        elif test not in run.failures:
            verdict.fail(f"listed {test} passed without the addon: take it off the list")
        else:
            verdict.note(f"  proven: {test} fails without the addon too")


def judge(runs, known):
    """``(lines of the report, ok)``."""
    verdict = Verdict()
    for run in runs:
        judge_counts(run, verdict)
        if run.summary is None:
            continue
        if run.role == "addon":
            judge_addon(run, known, verdict)
        else:
            judge_stock(run, known, verdict)
        for test, record in run.problems:
            verdict.fail(f"server log during {test or 'no test'}: {server_logs.summary(record)}")
            verdict.note(server_logs.excerpt(record.text))
    roles = {(run.role, run.suite) for run in runs}
    for suite in sorted({suite for suite, _test in known}):
        if ("addon", suite) in roles and ("stock", suite) not in roles:
            verdict.fail(f"no run without the addon proves the known failures of {suite}")
    return verdict.lines, verdict.ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--known", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("runs", nargs="+", help="ROLE:SUITE:LOG")
    args = parser.parse_args(argv)
    known = read_known(args.known)
    runs = []
    for spec in args.runs:
        role, suite, log_path = spec.split(":", 2)
        if role not in ("addon", "stock") or suite not in SUITE_MODULES:
            parser.error(f"bad run {spec!r}: ROLE addon|stock, SUITE {'|'.join(SUITE_MODULES)}")
        runs.append(Run(role, suite, log_path).read())
    lines, ok = judge(runs, known)
    lines.append("stock suites: passed" if ok else "stock suites: FAILED")
    text = "\n".join(lines) + "\n"
    with open(args.report, "w", encoding="utf-8") as out:
        out.write(text)
    sys.stdout.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
