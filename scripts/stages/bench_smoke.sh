# Stage: bench smoke.
# The benchmark's own script (scripts/bench.sh) at N=20 with 3 notifications,
# stock and mobile sockets, on this cluster and database: fails unless every
# figure was produced and no notification was missing (never on times), and
# on any ERROR or traceback in its servers' log.
# BUS_MOBILE_BENCH_SMOKE=0 skips it; narrowed runs (BUS_MOBILE_TESTS) skip it
# unless BUS_MOBILE_BENCH_SMOKE=1.
if [ "${BUS_MOBILE_BENCH_SMOKE:-}" = 0 ] \
  || { [ -n "${BUS_MOBILE_TESTS:-}" ] && [ "${BUS_MOBILE_BENCH_SMOKE:-}" != 1 ]; }; then
  narrowed "bench smoke (BUS_MOBILE_BENCH_SMOKE=${BUS_MOBILE_BENCH_SMOKE:-} BUS_MOBILE_TESTS=${BUS_MOBILE_TESTS:-}; BUS_MOBILE_BENCH_SMOKE=1 runs it)"
else
  log "bench smoke (scripts/bench.sh, N=20, 3 notifications)"
  bench_log=$RUN_DIR/bench/odoo.log
  mkdir -p "$RUN_DIR/bench" && touch "$bench_log"
  "$PY" "$ROOT/scripts/server_logs.py" mark "$RUN_DIR/bench-log-marks.json" "$bench_log"
  BENCH_PG_PORT=$PG_PORT BENCH_DB=$DB BENCH_NS=20 BENCH_TICKS=3 BENCH_SMOKE=1 \
    BUS_MOBILE_RUN_DIR=$RUN_DIR bash "$ROOT/scripts/bench.sh" || status=1
  # The benchmark's servers must not log any error either, but one of stock
  # Odoo: its bus thread (ImDispatch) is started by the first subscribe, and
  # under gevent Thread.start() yields before the thread runs, so the
  # bench's sockets, subscribing at once on a fresh worker, start it several
  # times; each extra start dies with this KeyError (the thread runs once).
  "$PY" "$ROOT/scripts/server_logs.py" check --since "$RUN_DIR/bench-log-marks.json" \
    --allow 'KeyError: <ImDispatch\(odoo\.addons\.bus\.models\.bus\.Bus, ' "$bench_log" \
    || { log "bench smoke: the benchmark's server logged errors (above)"; status=1; }
fi
