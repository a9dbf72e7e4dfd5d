# stage: background
# Stage: bench smoke.
# First scripts/bench/test_report.py (seconds, no server): README's bench
# tables are exactly what scripts/bench/report.py prints for the results kept
# beside them, and the report's and load generator's parsing.
# Then the benchmark's own script (scripts/bench.sh) at N=20 with 3
# notifications: stock and mobile sockets, mobile over two nodes, the
# attack phases, and metrics on and off, on this cluster and database: fails unless every figure was
# produced and no notification was missing (never on times), and on any
# ERROR or traceback in its servers' logs, the push server's included (the
# one place the push cron runs end to end on a prefork server with a real
# cron worker).
# BUS_MOBILE_BENCH_SMOKE=0 skips the run (not the README test); narrowed runs
# (BUS_MOBILE_TESTS) skip it unless BUS_MOBILE_BENCH_SMOKE=1.
log "bench: README tables against report.py (scripts/bench/test_report.py)"
# Rooted in scripts/bench (--confcutdir): pytest must not import the addon's
# __init__.py as a package; no plugin (pytest-odoo would import Odoo).
(cd "$ROOT/scripts/bench" && PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 "$VENV/bin/python" -m pytest \
  -q -p no:cacheprovider -c /dev/null --rootdir=. --confcutdir=. \
  --junitxml="$RUN_DIR/junit-bench-report.xml" test_report.py) || status=1
expect_tests bench-report junit "$RUN_DIR/junit-bench-report.xml" || status=1
if [ "${BUS_MOBILE_BENCH_SMOKE:-}" = 0 ] \
  || { [ -n "${BUS_MOBILE_TESTS:-}" ] && [ "${BUS_MOBILE_BENCH_SMOKE:-}" != 1 ]; }; then
  narrowed "bench smoke (BUS_MOBILE_BENCH_SMOKE=${BUS_MOBILE_BENCH_SMOKE:-} BUS_MOBILE_TESTS=${BUS_MOBILE_TESTS:-}; BUS_MOBILE_BENCH_SMOKE=1 runs it)"
else
  log "bench smoke (scripts/bench.sh, N=20, 3 notifications)"
  # Its own copy of the bus template: the benchmark adds its users.
  BENCH_SMOKE_DB=bus_mobile_bench BENCH_SMOKE_CONF=$RUN_DIR/bench-smoke.conf
  unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$BENCH_SMOKE_DB" "$BENCH_SMOKE_CONF"; unset HTTP_PORT GEVENT_PORT
  db_copy bus "$BENCH_SMOKE_DB" "$BENCH_SMOKE_CONF"
  # bench.sh and bench_push.sh fail on any error their servers logged
  # ($RUN_DIR/bench/odoo-*.log, push-odoo.log) and their setups.
  # The metrics phases too, at the same N, once on and once off (their
  # defaults are 10,000 sockets, 5 rounds: make bench's).
  BENCH_PG_PORT=$PG_PORT BENCH_DB=$BENCH_SMOKE_DB BENCH_NS=20 BENCH_TICKS=3 BENCH_TWO_NODE_NS=20 \
    BENCH_ATTACK_N=20 BENCH_METRICS_N=20 BENCH_METRICS_ROUNDS=1 BENCH_SMOKE=1 \
    BUS_MOBILE_RUN_DIR=$RUN_DIR bash "$ROOT/scripts/bench.sh" || status=1
fi
