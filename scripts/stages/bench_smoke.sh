# Stage: bench smoke.
# First scripts/bench/test_report.py (seconds, no server): README's bench
# tables are exactly what scripts/bench/report.py prints for the results kept
# beside them, and the report's and load generator's parsing.
# Then the benchmark's own script (scripts/bench.sh) at N=20 with 3
# notifications: stock and mobile sockets, mobile over two nodes, the
# attack phases and metrics on and off, on this cluster and database: fails unless every figure was
# produced and no notification was missing (never on times), and on any
# ERROR or traceback in its servers' log.
# BUS_MOBILE_BENCH_SMOKE=0 skips the run (not the README test); narrowed runs
# (BUS_MOBILE_TESTS) skip it unless BUS_MOBILE_BENCH_SMOKE=1.
log "bench: README tables against report.py (scripts/bench/test_report.py)"
# Rooted in scripts/bench (--confcutdir): pytest must not import the addon's
# __init__.py as a package; no plugin (pytest-odoo would import Odoo).
(cd "$ROOT/scripts/bench" && PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 "$VENV/bin/python" -m pytest \
  -q -p no:cacheprovider -c /dev/null --rootdir=. --confcutdir=. test_report.py) || status=1
if [ "${BUS_MOBILE_BENCH_SMOKE:-}" = 0 ] \
  || { [ -n "${BUS_MOBILE_TESTS:-}" ] && [ "${BUS_MOBILE_BENCH_SMOKE:-}" != 1 ]; }; then
  narrowed "bench smoke (BUS_MOBILE_BENCH_SMOKE=${BUS_MOBILE_BENCH_SMOKE:-} BUS_MOBILE_TESTS=${BUS_MOBILE_TESTS:-}; BUS_MOBILE_BENCH_SMOKE=1 runs it)"
else
  log "bench smoke (scripts/bench.sh, N=20, 3 notifications)"
  # The metrics phases too, at the same N, once on and once off (their
  # defaults, 10,000 sockets 5 rounds and so 5,000 users, are make bench's).
  BENCH_PG_PORT=$PG_PORT BENCH_DB=${DB:-} BENCH_NS=20 BENCH_TICKS=3 BENCH_TWO_NODE_NS=20 \
    BENCH_ATTACK_N=20 BENCH_METRICS_N=20 BENCH_METRICS_ROUNDS=1 BENCH_SMOKE=1 \
    BUS_MOBILE_RUN_DIR=$RUN_DIR bash "$ROOT/scripts/bench.sh" || status=1
  # The benchmark's servers must not log any error either (stock's too:
  # its bus thread, started by the first subscribe, used to be started
  # several times by stock sockets subscribing at once on a fresh gevent
  # worker; start_once now starts it once for every socket).
  # bench.sh starts each server with a fresh log ($RUN_DIR/bench/odoo-*.log).
  "$PY" "$ROOT/scripts/server_logs.py" check "$RUN_DIR"/bench/odoo-*.log \
    || { log "bench smoke: the benchmark's server logged errors (above)"; status=1; }
fi
