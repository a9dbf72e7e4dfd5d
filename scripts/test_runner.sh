#!/usr/bin/env bash
# Checks of the test command itself (the setup stage runs it; needs the
# venv and Odoo 18 of the calling run, given by VENV and ODOO_HOME):
#   1. .ci/run clears every variable that would narrow the run, then calls
#      `make test` and nothing else (a stand-in `make` shows what it got);
#   2. scripts/test.sh refuses an unknown stage;
#   3. scripts/docker-test.sh on a stand-in for the odoo:18 image (Odoo as
#      a Python package with its addons inside it, the addon mounted
#      elsewhere) runs scripts/test.sh with the same rules: in a narrowed
#      run (the Odoo tests of one file, on the bus-only database) where a
#      planted test makes the server log an error, the run fails, names the
#      error, and says it was not a full run, while the real test passed;
#   4. a narrowed run in which everything passed exits 3, naming what it
#      left out;
#   5. scripts/server_logs.py names a long traceback's exception in its
#      report and in the failure digest that scripts/test.sh repeats last;
#   6. it reads a thread's death that Python printed without a log header
#      as a record of its own (the stops' allowance then matches it), and
#      allows a cron job that a stop cut, never a job's own error;
#   7. it judges a traceback still being written once it is whole;
#   8. with the run's ledger, each check reads on from the previous one,
#      and the audit fails while a log holds text no check read (a server
#      whose log nobody checks fails the run); nginx's error lines count;
#   9. scripts/expected_tests.py fails on a listed test that did not run
#      and on a test the list lacks, naming them;
#  10. scripts/nginx_proxy.py renders the README's configuration: the
#      nodes in the upstreams, a header left out on demand;
#  11. the stop's and PostgreSQL restart's allowances let Odoo's own loops
#      lose their connection (a cron thread's death cut short by another
#      thread's record included, and the cron's version check logged as a
#      bad query) and a request's commit lose it after its route returned,
#      or a request whose transaction cursor cannot connect, never a
#      route's error nor another bad query.
# Prints "N passed, N failed"; exits non-zero if any failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
: "${VENV:?VENV (the venv of the calling run) is needed}"
: "${ODOO_HOME:?ODOO_HOME is needed}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() {  # check DESCRIPTION SHELL-CONDITION
  if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1" >&2; fi
}

# 1. .ci/run
mkdir -p "$work/bin"
cat > "$work/bin/make" <<'EOF'
#!/bin/sh
echo "make args: $*"
env | grep -E '^(BUS_MOBILE_|ODOO_TEST_LOG_LEVEL)' | sort
EOF
chmod +x "$work/bin/make"
PATH="$work/bin:$PATH" BUS_MOBILE_LIVE=0 BUS_MOBILE_STAGES=lint BUS_MOBILE_TESTS=x \
  BUS_MOBILE_SOMETHING_NEW=1 ODOO_TEST_LOG_LEVEL=critical BUS_MOBILE_VENV=/kept \
  bash "$root/.ci/run" > "$work/ci.out" 2>&1
cat "$work/ci.out"
check ".ci/run calls make test" 'grep -qx "make args: test" "$work/ci.out"'
check ".ci/run clears the narrowing variables" \
  '! grep -q -E "^(BUS_MOBILE_(LIVE|STAGES|TESTS|SOMETHING_NEW)|ODOO_TEST_LOG_LEVEL)=" "$work/ci.out"'
check ".ci/run keeps where the venv is" 'grep -qx "BUS_MOBILE_VENV=/kept" "$work/ci.out"'

# 2. An unknown stage
BUS_MOBILE_STAGES="odoo_tests nope" BUS_MOBILE_RUN_DIR=$work/unused \
  bash "$root/scripts/test.sh" > "$work/unknown.out" 2>&1
code=$?
check "an unknown stage is refused" '[ "$code" = 2 ] && grep -q "unknown stage .nope." "$work/unknown.out"'

# 3. The Docker path on a stand-in image.
image=$work/image
mkdir -p "$image/dist/odoo/addons"
for entry in "$ODOO_HOME"/odoo/*; do
  [ "$(basename "$entry")" = addons ] || ln -s "$entry" "$image/dist/odoo/"
done
cp "$ODOO_HOME/odoo/addons/__init__.py" "$image/dist/odoo/addons/"
for module in "$ODOO_HOME"/odoo/addons/*/ "$ODOO_HOME"/addons/*/; do
  ln -sfn "${module%/}" "$image/dist/odoo/addons/"
done
cat > "$image/python3" <<EOF
#!/bin/sh
PYTHONPATH=$image/dist exec "$VENV/bin/python" "\$@"
EOF
chmod +x "$image/python3"
# The addon as mounted: the checkout's tracked files, and a planted test
# whose server logs an error no test names.
mkdir -p "$image/mnt/bus_mobile"
git -C "$root" ls-files -z | tar -C "$root" --null -T - -cf - | tar -C "$image/mnt/bus_mobile" -xf -
cat > "$image/mnt/bus_mobile/tests/test_zz_planted.py" <<'EOF'
import logging

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestPlanted(HttpCase):
    def test_server_logs_an_error(self):
        logging.getLogger("odoo.addons.bus_mobile.planted").error("planted server error")
EOF
BUS_MOBILE_DOCKER_SOURCE=$image/mnt/bus_mobile BUS_MOBILE_DOCKER_WORK=$work/docker \
  BUS_MOBILE_DOCKER_PYTHON=$image/python3 BUS_MOBILE_VENV=$VENV \
  BUS_MOBILE_STAGES=odoo_tests BUS_MOBILE_ODOO_DBS=bus \
  BUS_MOBILE_TESTS="addons/bus_mobile/tests/test_config.py addons/bus_mobile/tests/test_zz_planted.py" \
  bash "$root/scripts/docker-test.sh" > "$work/docker.out" 2>&1
code=$?
tail -25 "$work/docker.out"
report=$work/docker/bus_mobile/.run/pytest-report-bus.txt
check "the Docker path runs from its own copy, with a source-tree ODOO_HOME" \
  '[ -x "$work/docker/odoo-home/odoo-bin" ] && [ -f "$report" ]'
check "the real tests passed in the image's layout" \
  'tail -1 "$report" | grep -q -E "^[0-9]+ passed, 1 error in" && ! grep -q "^FAILED" "$report"'
check "the server's error fails its test" \
  'grep -q "ERROR .*test_zz_planted.py::TestPlanted::test_server_logs_an_error" "$report" && grep -q "planted server error" "$report"'
check "the run fails" '[ "$code" = 1 ] && grep -q "FAILED" "$work/docker.out"'
check "the run names the failure again at its end" \
  'sed -n "/what failed/,/NOT A FULL RUN/p" "$work/docker.out" > "$work/digest.out"
   grep -q "pytest-report-bus: ERROR .*test_zz_planted.py::TestPlanted::test_server_logs_an_error" "$work/digest.out" \
   && grep -q "stage odoo_tests failed" "$work/digest.out" && [ "$(grep -c "test_zz_planted" "$work/digest.out")" = 1 ]'
check "the run says it was not a full run" \
  'grep -q "NOT A FULL RUN" "$work/docker.out" && grep -q "stage live" "$work/docker.out"'

# 4. A narrowed run where everything that ran passed still fails (exit 3)
# and says so: here one stage of nothing, through the Docker path again.
echo 'log "a stage that checks nothing"' > "$image/mnt/bus_mobile/scripts/stages/nothing.sh"
BUS_MOBILE_DOCKER_SOURCE=$image/mnt/bus_mobile BUS_MOBILE_DOCKER_WORK=$work/docker \
  BUS_MOBILE_DOCKER_PYTHON=$image/python3 BUS_MOBILE_VENV=$VENV BUS_MOBILE_STAGES=nothing \
  bash "$root/scripts/docker-test.sh" > "$work/narrowed.out" 2>&1
code=$?
tail -12 "$work/narrowed.out"
check "a narrowed run that passed exits 3" '[ "$code" = 3 ]'
check "it names every stage it left out" \
  '[ "$(grep -c -E "^\[bus_mobile\]   - stage (odoo_tests|lint|setup|live|bench_smoke) " "$work/narrowed.out")" = 5 ]'
check "it never says all checks passed" '! grep -q "all checks passed" "$work/narrowed.out"'

# 5. A server log's traceback longer than the excerpt: the report and the
# failure digest still name its exception (its last line).
log_file=$work/odoo.log
{
  echo "2026-01-01 00:00:00,000 1 ERROR db werkzeug: Error on request:"
  echo "Traceback (most recent call last):"
  for n in $(seq 200); do echo "  File \"/x/frame_$n.py\", line $n, in f"; done
  echo "BrokenPipeError: [Errno 32] Broken pipe"
} > "$log_file"
BUS_MOBILE_FAILURE_DIGEST=$work/digest.txt "$VENV/bin/python" "$root/scripts/server_logs.py" \
  check "$log_file" > "$work/logcheck.out" 2>&1
code=$?
check "a long traceback's report keeps its exception" \
  '[ "$code" = 1 ] && grep -q "^  \* .*werkzeug: Error on request: -> BrokenPipeError" "$work/logcheck.out" \
   && tail -1 "$work/logcheck.out" | grep -q "^BrokenPipeError"'
check "and the failure digest names it" 'grep -q "odoo.log: .* -> BrokenPipeError: \[Errno 32\]" "$work/digest.txt"'

# Checks a log as a stop's check does (with the stop allowance) or as any
# other check does (without): sets code; the report in $work/stopnoise.out.
stop_log_check() {  # stop_log_check with|without LOG
  local allow=()
  [ "$1" = with ] && allow=(--allow-noise odoo-stop)
  BUS_MOBILE_FAILURE_DIGEST='' "$VENV/bin/python" "$root/scripts/server_logs.py" check \
    "${allow[@]}" "$2" > "$work/stopnoise.out" 2>&1
  code=$?
}

# 6. A server stopped while its cron thread waited on the database: Python
# prints the thread's death without a log header, cut short by the exit,
# then the next start's mark follows (as CI once saw it). It is a record of
# its own, which the stops' allowance (server_logs.py NOISE "odoo-stop")
# matches; the warning before it is not a problem; without the allowance the
# traceback is one.
printf '%s\n' \
  "2026-11-30 08:29:21,847 18503 WARNING db odoo.http: The message body is empty." \
  "Exception in thread odoo.service.cron.cron0:" \
  "Traceback (most recent call last):" \
  '  File "/usr/lib/python3.11/threading.py", line 1045, in _bootstrap_inner' \
  "---- start 2026-11-30T08:29:47+00:00" \
  "Running as user 'root' is a security risk." > "$log_file"
stop_log_check with "$log_file"
check "a cron thread's death cut short at a stop is allowed as stop noise" '[ "$code" = 0 ]'
stop_log_check without "$log_file"
check "and is a problem of its own elsewhere" \
  '[ "$code" = 1 ] && grep -q "^  \* Exception in thread odoo.service.cron.cron0: -> File" "$work/stopnoise.out" \
   && ! grep -q "^  \* .*WARNING" "$work/stopnoise.out"'
# Cut inside the exception's line (CI's text: "psycopg2"), it is the same
# noise; another exception, whole, is not.
printf '%s\n' "---- start 2026-12-06T21:45:22+00:00" "Exception in thread odoo.service.cron.cron0:" \
  "Traceback (most recent call last):" '  File "/opt/odoo18/odoo/service/server.py", line 468, in cron_thread' \
  "    pg_conn.poll()" "psycopg2" > "$log_file"
stop_log_check with "$log_file"
check "a cron thread's death cut inside its exception's line is stop noise too" '[ "$code" = 0 ]'
sed -i 's/^psycopg2$/psycopg2.OperationalError: could not receive data from server/' "$log_file"
stop_log_check with "$log_file"
check "but another exception of that thread is not" '[ "$code" = 1 ]'
# Cut inside a frame's source line, the next start's mark written on that
# line (CI's text, the JS restart test): the same noise, then a start.
{ printf '%s\n' "Exception in thread odoo.service.cron.cron1:" "Traceback (most recent call last):" \
    '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/threading.py", line 1045, in _bootstrap_inner'
  printf '%s\n' "    ---- start 2026-12-07T02:13:07+00:00" "Running as user 'root' is a security risk."
} > "$log_file"
stop_log_check with "$log_file"
check "a cron thread's death cut inside a frame line, the next start's mark after it, is stop noise" '[ "$code" = 0 ]'
# A cron job running when a threaded server stops (CI's text, from the
# JavaScript restart test): the stop closed its cursor, and Odoo's cursor,
# the job and the cron loop each log that, beside an idle cron thread's
# death. All stop noise; without the allowance, 6 problems. A job that
# fails on an error of its own is no stop noise.
stop_log=$root/scripts/test_runner_data/stop_during_a_cron_job.log
stop_log_check with "$stop_log"
check "a cron job that a stop cut is stop noise" '[ "$code" = 0 ]'
stop_log_check without "$stop_log"
check "and 6 problems elsewhere" \
  '[ "$code" = 1 ] && grep -q "6 unexpected error(s)" "$work/stopnoise.out"'
# The job's record (its traceback's first ending) ends on an error of its own.
awk '/server action #89 failed/ { job = 1 } job && /cursor already closed$/ { sub(/psycopg2.InterfaceError: cursor already closed/, "KeyError: '"'"'partner_id'"'"'"); job = 0 } { print }' \
  "$stop_log" > "$log_file"
stop_log_check with "$log_file"
check "but a job's own error at a stop is reported" \
  '[ "$code" = 1 ] && grep -q "1 unexpected error(s)" "$work/stopnoise.out" \
   && grep -q "server action #89 failed -> KeyError" "$work/stopnoise.out"'

# 7. A traceback still being written when the log is read: the check reads
# on until the log stops growing, and judges the whole record (here the
# allowed exception comes 0.2 s after the traceback's first lines).
printf '%s\n' "Exception in thread odoo.service.cron.cron0:" "Traceback (most recent call last):" \
  '  File "/usr/lib/python3.11/threading.py", line 1045, in _bootstrap_inner' > "$log_file"
(sleep 0.2; printf '%s\n' "    self.run()" "psycopg2.OperationalError: terminating connection" >> "$log_file") &
BUS_MOBILE_FAILURE_DIGEST='' "$VENV/bin/python" "$root/scripts/server_logs.py" check \
  --allow "terminating connection" "$log_file" > "$work/growing.out" 2>&1
code=$?
wait
check "a traceback still being written is judged whole" '[ "$code" = 0 ]'

# 8. The ledger and the audit, in a run directory of their own.
run=$work/run
mkdir -p "$run/sub"
odoo_error="2026-01-01 00:00:00,000 1 ERROR db odoo.x: first"
printf '%s\n' "$odoo_error" > "$run/sub/a.log"
ledger() { BUS_MOBILE_RUN_DIR=$run BUS_MOBILE_LOG_LEDGER=$run/ledger BUS_MOBILE_FAILURE_DIGEST='' \
  "$VENV/bin/python" "$root/scripts/server_logs.py" "$@" > "$work/ledger.out" 2>&1; }
ledger audit "$run"; code=$?
check "the audit fails on a log no check read" '[ "$code" = 1 ] && grep -q "sub/a.log: .* never checked" "$work/ledger.out"'
ledger check "$run/sub/a.log"; code=$?
check "a check reads it (and finds its error)" '[ "$code" = 1 ] && grep -q "odoo.x: first" "$work/ledger.out"'
ledger audit "$run"; code=$?
check "then the audit passes" '[ "$code" = 0 ]'
echo "2026/01/01 00:00:01 [error] 7#7: *1 connect() failed (111: Connection refused)" >> "$run/sub/a.log"
ledger check "$run/sub/a.log"; code=$?
check "the next check reads on from there, nginx's error lines too" \
  '[ "$code" = 1 ] && grep -q "connect() failed" "$work/ledger.out" && ! grep -q "odoo.x: first" "$work/ledger.out"'
echo "more" >> "$run/sub/a.log"
ledger audit "$run"; code=$?
check "text written after the last check fails the audit" '[ "$code" = 1 ]'

# 9. Expected tests.
mkdir -p "$work/expected"
cat > "$work/tap" <<'EOF2'
TAP version 13
ok 1 - first test
not ok 2 - second test
ok 3 - a new test
EOF2
printf '%s\n' "first test" "second test" "a gone test" > "$root/scripts/expected/zz-runner-check.txt"
"$VENV/bin/python" "$root/scripts/expected_tests.py" zz-runner-check tap "$work/tap" > "$work/expected.out" 2>&1
code=$?
rm -f "$root/scripts/expected/zz-runner-check.txt"
check "a missing and an unlisted test fail, both named" \
  '[ "$code" = 1 ] && grep -q "^  a gone test" "$work/expected.out" && grep -q "^  a new test" "$work/expected.out"'

# 10. nginx's configuration.
"$VENV/bin/python" - "$root/scripts" > "$work/nginx.out" 2>&1 <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[1])
from nginx_proxy import render, upstreams
site = render("127.0.0.1:1", ["a:1", "b:1"], ["a:2", "b:2"])
assert "upstream odoo_gevent {\n    server a:2;\n    server b:2;\n}" in upstreams(site), site
assert site.count("proxy_set_header Upgrade $http_upgrade;") == 2, site
broken = render("127.0.0.1:1", ["a:1"], ["a:2"], without=("Upgrade", "Connection"))
assert "Upgrade $http_upgrade" not in broken and "Connection $connection_upgrade" not in broken
assert broken.count("proxy_set_header Host $http_host;") == 3
print("nginx configuration OK")
PYEOF
check "the README's nginx configuration renders, and breaks on demand" 'grep -q "nginx configuration OK" "$work/nginx.out"'

# 11. The stop's and PostgreSQL restart's allowances (server_logs.py NOISE)
# match the records Odoo's own loops log when they lose their connection
# (as the nodes stage's restart test logged them), and nothing else: a
# route's error with the same closed-connection traceback is reported
# whatever allowance a test or stage names.
closed=("psycopg2.OperationalError: server closed the connection unexpectedly"
  $'\tThis probably means the server terminated abnormally' $'\tbefore or while processing the request.')
frames=('Traceback (most recent call last):' '  File "/opt/odoo/odoo/sql_db.py", line 354, in execute'
  '    res = self._obj.execute(query, params)')
printf '%s\n' \
  "2026-12-06 18:06:09,964 908 ERROR ? odoo.addons.bus.models.bus: Bus.loop error, sleep and retry " \
  "${frames[@]}" "${closed[@]}" \
  "2026-12-06 18:06:09,979 31641 WARNING nodes odoo.http: Database or registry unusable, trying without " \
  "${frames[@]}" \
  'psycopg2.OperationalError: connection to server at "127.0.0.1", port 55253 failed: Connection refused' \
  $'\tIs the server running on that host and accepting TCP/IP connections?' \
  "2026-12-06 18:06:10,096 31652 WARNING nodes odoo.addons.base.models.ir_cron: Exception in cron: " \
  "${frames[@]}" \
  'psycopg2.OperationalError: connection to server at "127.0.0.1", port 55253 failed: FATAL:  the database system is shutting down' \
  "2026-12-06 18:06:10,151 31654 ERROR ? odoo.service.server: Worker WorkerCron (31654) Exception occurred, exiting... " \
  "${frames[@]}" "${closed[@]}" \
  "Exception in thread odoo.service.cron.cron0:" "${frames[@]}" "${closed[@]}" \
  "2026-12-06 18:06:10,404 31641 ERROR nodes odoo.http: Exception during request handling. " \
  "${frames[@]}" "${closed[@]}" > "$log_file"
BUS_MOBILE_FAILURE_DIGEST='' "$VENV/bin/python" "$root/scripts/server_logs.py" check \
  --allow-noise pg-restart --allow-noise odoo-stop "$log_file" > "$work/restart.out" 2>&1
code=$?
cat "$work/restart.out"
check "the restart's allowance lets Odoo's loops lose their connection" \
  '[ "$code" = 1 ] && ! grep -q -E "^  \* .*(Bus.loop|trying without|cron|WorkerCron)" "$work/restart.out"'
check "and never a route's error with a closed-connection traceback" \
  'grep -q "^  \* .*odoo.http: Exception during request handling. -> " "$work/restart.out" \
   && grep -q "^[^ ].*: 1 unexpected error" "$work/restart.out"'

# A cron thread's death cut short by another thread's record written
# meanwhile (seen in the nodes and metrics stages): its frame lines alone,
# the rest read with that record; the restart's allowance alone lets both
# pass.
printf '%s\n' \
  "Exception in thread odoo.service.cron.cron0:" 'Traceback (most recent call last):' \
  '  File "/usr/lib/python3.11/threading.py", line 1045, in _bootstrap_inner' \
  "2026-12-06 18:06:10,096 31652 WARNING nodes odoo.addons.base.models.ir_cron: Exception in cron: " \
  "${frames[@]}" \
  'psycopg2.OperationalError: connection to server at "127.0.0.1", port 55253 failed: FATAL:  the database system is shutting down' \
  '' '    self.run()' '  File "/opt/odoo/odoo/service/server.py", line 468, in cron_thread' '    pg_conn.poll()' \
  "${closed[@]}" > "$log_file"
BUS_MOBILE_FAILURE_DIGEST='' "$VENV/bin/python" "$root/scripts/server_logs.py" check \
  --allow-noise pg-restart "$log_file" > "$work/cut.out" 2>&1
code=$?
cat "$work/cut.out"
check "a cron thread's death cut short by another record passes the restart's allowance" '[ "$code" = 0 ]'

# restart_check NAME: server_logs.py's check of $work/NAME.log with the
# restart's allowance, its report in $work/NAME.out; its exit status.
restart_check() {
  BUS_MOBILE_FAILURE_DIGEST='' "$VENV/bin/python" "$root/scripts/server_logs.py" check \
    --allow-noise pg-restart "$work/$1.log" > "$work/$1.out" 2>&1
}
# restart_pair ALLOWED REPORTED: restart_check of both logs, their reports
# printed; allowed_code and reported_code get their exit statuses.
restart_pair() {
  restart_check "$1"
  allowed_code=$?
  restart_check "$2"
  reported_code=$?
  cat "$work/$1.out" "$work/$2.out"
}
# A request in flight when PostgreSQL stops (seen in the metrics stage's
# CI run: a Prometheus scrape of another server): its route returned and
# Odoo's commit after it lost the connection. The restart's allowance
# lets that pass, and not a route's own error, alone or chained before it.
commit_frames=('Traceback (most recent call last):' \
  '  File "/opt/odoo/odoo/http.py", line 1954, in _transactioning' \
  '    return service_model.retrying(func, env=self.env)' \
  '           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^' \
  '  File "/opt/odoo/odoo/service/model.py", line 176, in retrying' \
  '    env.cr.commit()  # effectively commits and execute post-commits' '    ^^^^^^^^^^^^^^^' \
  '  File "/opt/odoo/odoo/sql_db.py", line 480, in commit' '    result = self._cnx.commit()' \
  '             ^^^^^^^^^^^^^^^^^^')
route_frames=('Traceback (most recent call last):' \
  '  File "/opt/odoo/odoo/service/model.py", line 156, in retrying' '    result = func()' \
  '  File "/work/bus_mobile/controllers/metrics.py", line 16, in metrics' '    status = scrape()' \
  "${frames[@]:1}")
head="2026-12-07 03:20:23,148 10978 ERROR ops odoo.http: Exception during request handling. "
printf '%s\n' "$head" "${commit_frames[@]}" "${closed[@]}" > "$work/commit.log"
printf '%s\n' "$head" "${route_frames[@]}" "${closed[@]}" \
  "$head" "${route_frames[@]}" "${closed[@]}" '' \
  'During handling of the above exception, another exception occurred:' '' \
  "${commit_frames[@]}" "${closed[@]}" > "$work/route.log"
restart_pair commit route
check "a request whose commit lost the connection passes the restart's allowance" '[ "$allowed_code" = 0 ]'
check "a route's error, alone or chained before such a commit, does not" \
  '[ "$reported_code" = 1 ] && grep -q "^[^ ].*: 2 unexpected error" "$work/route.out"'

# The cron loop's version check losing its connection (seen in the nodes
# stage's CI run): Odoo's cursor logs the query as a bad query. Allowed for
# that query only: another query's (a route's) is reported.
bad_query() {  # bad_query SQL-LINES...
  local sql='b"' line
  for line in "$@"; do sql+="\\n$line"; done
  printf '%s\n' "2026-12-07 04:49:21,837 26231 ERROR nodes odoo.sql_db: bad query: $sql\\n        \"" \
    'ERROR: server closed the connection unexpectedly' $'\tThis probably means the server terminated abnormally' \
    $'\tbefore or while processing the request.' ' '
}
bad_query '            SELECT latest_version' '            FROM ir_module_module' "             WHERE name='base'" > "$work/version.log"
bad_query '            SELECT id FROM bus_mobile_device' '            WHERE user_id = 2' > "$work/query.log"
restart_pair version query
check "the cron's version check losing its connection passes the restart's allowance" '[ "$allowed_code" = 0 ]'
check "another query losing it does not" '[ "$reported_code" = 1 ] && grep -q "bad query" "$work/query.out"'

# A request whose route matched when PostgreSQL stopped (seen in the
# metrics stage's CI run): Odoo's cursor for its transaction can't
# connect. Allowed; a route's frame after that cursor's is not.
cursor_frames=('Traceback (most recent call last):' \
  '  File "/opt/odoo/odoo/http.py", line 1951, in _transactioning' \
  '    with contextlib.closing(self.registry.cursor(readonly=readonly_cr)) as cr:' \
  '  File "/opt/odoo/odoo/modules/registry.py", line 1007, in cursor' '    return self._db.cursor()' \
  '  File "/opt/odoo/odoo/sql_db.py", line 712, in borrow' '    result = psycopg2.connect(' \
  '  File "/venv/lib/python3.11/site-packages/psycopg2/__init__.py", line 122, in connect' \
  '    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)')
down='psycopg2.OperationalError: connection to server at "127.0.0.1", port 55471 failed: FATAL:  the database system is shutting down'
printf '%s\n' "$head" "${cursor_frames[@]}" "$down" > "$work/cursor.log"
printf '%s\n' "$head" "${cursor_frames[@]:0:5}" '  File "/work/bus_mobile/controllers/metrics.py", line 16, in metrics' \
  '    status = scrape()' "${cursor_frames[@]:5}" "$down" > "$work/cursor-route.log"
restart_pair cursor cursor-route
check "a request whose transaction's cursor can't connect passes the restart's allowance" '[ "$allowed_code" = 0 ]'
check "a route's frame in that traceback does not" '[ "$reported_code" = 1 ]'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
