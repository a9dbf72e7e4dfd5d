"""Every suite runs exactly the tests it should: the tests a run reports are
compared with the suite's committed list, scripts/expected/SUITE.txt (one
test a line). A test that went missing (a file left out of a run, a test
shadowed by another of the same name, a collection that stopped early)
fails the run, and so does a test the list lacks: adding a test is adding
its line, which the failure prints.

    python scripts/expected_tests.py [--subset] SUITE junit|tap REPORT
    python scripts/expected_tests.py --update SUITE junit|tap REPORT
        (by hand, after a run: the list becomes what REPORT ran)

REPORT is pytest's ``--junitxml`` file or node's TAP report. A test's line
is ``file_or_class::name`` for pytest (the part after the last ``tests.``
of its class path) and its name for node (a file that defines no test on
this database, such as a mail-only file on the bus-only one, is its file
name and a note). ``--subset`` (narrowed runs):
only tests the list lacks fail.
"""

import argparse
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

EXPECTED_DIR = Path(__file__).resolve().parent / "expected"
# node's TAP: a top-level test's result line.
TAP_RESULT = re.compile(r"^(?:not )?ok \d+ - (?P<name>.*?)(?: # (?:SKIP|TODO).*)?$")


def junit_tests(path):
    tests = []
    for case in ET.parse(path).getroot().iter("testcase"):
        classname = case.get("classname", "")
        tests.append(f"{classname.rsplit('tests.', 1)[-1]}::{case.get('name')}")
    # A test whose setup and teardown both failed is reported twice.
    return list(dict.fromkeys(tests))


def tap_tests(path):
    return [
        _tap_name(m["name"])
        for line in Path(path).read_text().splitlines()
        if (m := TAP_RESULT.match(line))
    ]


def _tap_name(name):
    """node names a test file that defined no test (or failed to load) by
    its absolute path: its file name, wherever the checkout is."""
    if name.endswith(".js") and (name.startswith("/") or name.startswith("file:")):
        return f"{Path(name).name} (a file without a test of its own)"
    return name


def compare(expected, ran, subset=False):
    """Lines saying what is missing and what is unlisted (none: all good)."""
    problems = []
    twice = sorted(name for name, count in Counter(ran).items() if count > 1)
    if twice:
        problems.append("tests with the same name (one hides the other's result):")
        problems.extend(f"  {name}" for name in twice)
    missing = [] if subset else sorted(set(expected) - set(ran))
    if missing:
        problems.append(f"{len(missing)} listed test(s) did not run:")
        problems.extend(f"  {name}" for name in missing)
    unlisted = sorted(set(ran) - set(expected))
    if unlisted:
        problems.append(f"{len(unlisted)} test(s) ran that the list lacks (add these lines):")
        problems.extend(f"  {name}" for name in unlisted)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subset", action="store_true")
    parser.add_argument("--update", action="store_true")
    parser.add_argument("suite")
    parser.add_argument("kind", choices=("junit", "tap"))
    parser.add_argument("report")
    args = parser.parse_args(argv)
    listed = EXPECTED_DIR / f"{args.suite}.txt"
    try:
        ran = junit_tests(args.report) if args.kind == "junit" else tap_tests(args.report)
    except (OSError, ET.ParseError) as exc:
        print(f"{args.suite}: no report of the tests that ran ({exc})", file=sys.stderr)
        return 1
    if args.update:
        listed.write_text("".join(f"{name}\n" for name in sorted(set(ran))), encoding="utf-8")
        print(f"{listed}: {len(set(ran))} tests")
        return 0
    if not listed.exists():
        print(f"{args.suite}: no list of its tests ({listed})", file=sys.stderr)
        return 1
    expected = [line for line in listed.read_text().splitlines() if line.strip()]
    problems = compare(expected, ran, args.subset)
    if problems:
        print(f"{args.suite}: the tests that ran are not {listed}:", file=sys.stderr)
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"{args.suite}: {len(ran)} tests ran, as listed in scripts/expected/{listed.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
