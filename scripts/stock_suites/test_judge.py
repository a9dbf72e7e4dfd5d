"""judge.py against logs written the way Odoo's test runner writes them
(run by the stock suites stage before its runs; no server)."""

import judge
import pytest

DB = "bus_mobile_stock_suites_addon_mail"
LISTED = "mail:TestDiscussSubChannels.test_04_sub_channel_panel_search"
KNOWN = {("mail", LISTED): "a stock tour that fails without the addon too"}


def line(level, logger, message, db=DB):
    return f"2026-12-06 17:11:04,597 4242 {level} {db} {logger}: {message}"


def start(module, test):
    return line("INFO", f"odoo.addons.{module}.tests.test_x", f"Starting {test} ...")


def result(kind, module, test, exception="AssertionError: boom"):
    return "\n".join(
        [
            line("ERROR", f"odoo.addons.{module}.tests.test_x", f"{kind}: {test}"),
            "Traceback (most recent call last):",
            '  File "/opt/odoo/addons/x/tests/test_x.py", line 3, in test_y',
            exception,
        ]
    )


def summary(failed, errors, ran):
    level = "ERROR" if failed or errors else "INFO"
    return line(
        level,
        "odoo.tests.result",
        f"{failed} failed, {errors} error(s) of {ran} tests when loading database '{DB}'",
    )


def write_run(tmp_path, name, lines, rc):
    log = tmp_path / f"{name}.log"
    log.write_text("\n".join(lines) + "\n")
    (tmp_path / f"{name}.log.rc").write_text(f"{rc}\n")
    return str(log)


def verdict(tmp_path, addon_lines, addon_rc, stock_lines=None, stock_rc=1):
    runs = [judge.Run("addon", "mail", write_run(tmp_path, "addon", addon_lines, addon_rc)).read()]
    if stock_lines is not None:
        stock = write_run(tmp_path, "stock", stock_lines, stock_rc)
        runs.append(judge.Run("stock", "mail", stock).read())
    lines, ok = judge.judge(runs, KNOWN)
    return ok, "\n".join(lines)


# A stock run in which the listed test fails, as it must.
PROVEN = [start("mail", LISTED.split(":")[1]), result("FAIL", "mail", LISTED.split(":")[1])]
PROVEN += [summary(1, 0, 1)]


def passing_suite(*extra):
    return [
        start("bus", "TestBus.test_a"),
        start("mail", "TestMail.test_b"),
        *extra,
        summary(0, 0, 2),
    ]


def test_a_passing_suite_passes(tmp_path):
    ok, report = verdict(tmp_path, passing_suite(), 0, PROVEN)
    assert ok, report
    assert "addon:mail: ran 2, failed 0, errors 0, skipped 0" in report


def test_a_listed_failure_proven_without_the_addon_passes(tmp_path):
    test = LISTED.split(":")[1]
    lines = [start("bus", "TestBus.test_a"), start("mail", test), result("FAIL", "mail", test)]
    ok, report = verdict(tmp_path, [*lines, summary(1, 0, 2)], 1, PROVEN)
    assert ok, report
    assert f"proven: {LISTED} fails without the addon too" in report


def test_a_failure_not_listed_fails(tmp_path):
    lines = [start("bus", "TestBus.test_a"), result("ERROR", "bus", "TestBus.test_a")]
    ok, report = verdict(tmp_path, [*lines, start("mail", "TestMail.test_b"), summary(0, 1, 2)], 1)
    assert not ok
    assert "bus:TestBus.test_a ERROR (not a known failure of stock Odoo)" in report


def test_a_subtest_failure_is_its_tests(tmp_path):
    failing = line("ERROR", "odoo.addons.bus.tests.test_x", "FAIL: Subtest TestBus.test_a (n=1)")
    lines = [start("bus", "TestBus.test_a"), failing, start("mail", "TestMail.test_b")]
    ok, report = verdict(tmp_path, [*lines, summary(1, 0, 2)], 1)
    assert not ok
    assert "bus:TestBus.test_a FAIL (not a known failure" in report


def test_a_listed_test_passing_without_the_addon_fails(tmp_path):
    test = LISTED.split(":")[1]
    stock = [start("mail", test), summary(0, 0, 1)]
    ok, report = verdict(tmp_path, passing_suite(), 0, stock, stock_rc=0)
    assert not ok
    assert f"listed {LISTED} passed without the addon: take it off the list" in report


def test_a_listed_test_that_did_not_run_without_the_addon_fails(tmp_path):
    ok, report = verdict(tmp_path, passing_suite(), 0, [summary(0, 0, 0)], stock_rc=0)
    assert not ok
    assert f"listed {LISTED} did not run without the addon" in report


def test_without_a_stock_run_the_list_is_unproven(tmp_path):
    ok, report = verdict(tmp_path, passing_suite(), 0)
    assert not ok
    assert "no run without the addon proves the known failures of mail" in report


@pytest.mark.parametrize(
    ("lines", "rc", "reason"),
    [
        # Killed mid-run: no summary.
        ([start("bus", "TestBus.test_a")], -9, "no summary line"),
        ([summary(0, 0, 0)], 0, "no test ran"),
        # A crash at exit after a clean summary.
        (passing_suite(), 255, "exit code 255 does not match"),
        # The summary counts a failure no record names.
        ([start("bus", "TestBus.test_a"), start("mail", "TestMail.test_b"), summary(1, 0, 2)], 1,
         "0 FAIL/ERROR records logged, the summary says 1"),
        ([start("bus", "TestBus.test_a"), summary(0, 0, 2)], 0,
         "1 tests started in the log, the summary says 2"),
        ([start("mail", "TestMail.test_b"), start("mail", "TestMail.test_c"), summary(0, 0, 2)], 0,
         "no test of bus ran"),
    ],
)  # fmt: skip
def test_a_broken_run_fails(tmp_path, lines, rc, reason):
    ok, report = verdict(tmp_path, lines, rc, PROVEN)
    assert not ok
    assert reason in report, report


def test_a_skipped_test_fails(tmp_path):
    skipped = line(
        "INFO", "odoo.addons.mail.tests.test_x", "skipped TestMail.test_b : Chrome not found"
    )
    ok, report = verdict(tmp_path, passing_suite(skipped), 0, PROVEN)
    assert not ok
    assert "mail:TestMail.test_b skipped, which hides its result: Chrome not found" in report


def test_a_server_error_during_a_passing_test_fails(tmp_path):
    error = "\n".join(
        [
            line("ERROR", "odoo.http", "Exception during request handling."),
            "Traceback (most recent call last):",
            "psycopg2.OperationalError: server closed the connection unexpectedly",
        ]
    )
    ok, report = verdict(tmp_path, passing_suite(error), 0, PROVEN)
    assert not ok
    assert "server log during mail:TestMail.test_b: " in report
    assert "odoo.http: Exception during request handling. -> psycopg2.OperationalError" in report


def test_a_failing_tests_own_server_errors_are_its_failure(tmp_path):
    test = LISTED.split(":")[1]
    browser = line(
        "ERROR", f"odoo.addons.mail.tests.test_x.{test}.browser", "FAILED: [8/10] Tour ..."
    )
    lines = [start("bus", "TestBus.test_a"), start("mail", test), browser]
    lines += [result("FAIL", "mail", test), summary(1, 0, 2)]
    ok, report = verdict(tmp_path, lines, 1, PROVEN)
    assert ok, report


def test_a_warning_with_a_traceback_fails(tmp_path):
    warning = "\n".join(
        [
            line("WARNING", "odoo.addons.bus_mobile.x", "something odd"),
            "Traceback (most recent call last):",
            "ValueError: odd",
        ]
    )
    ok, report = verdict(tmp_path, passing_suite(warning), 0, PROVEN)
    assert not ok
    assert "server log during mail:TestMail.test_b" in report


def test_the_list_rejects_a_malformed_line(tmp_path):
    listed = tmp_path / "known.txt"
    listed.write_text("# a comment\nmail mail:TestX.test_y a reason\nmail TestX.test_z\n")
    with pytest.raises(ValueError, match=":3: expected"):
        judge.read_known(str(listed))
