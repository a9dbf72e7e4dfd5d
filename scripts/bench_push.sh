#!/usr/bin/env bash
# `make bench-push` (also run at the end of `make bench`): push
# notifications for PUSH_N offline devices, Expo then FCM, against the
# tests' fake providers on loopback (scripts/bench/push_bench.py says
# what is measured).
#
#   PUSH_N=1000          offline devices (one user each, one channel)
#   PUSH_ROUNDS=3        messages posted per provider
#   BENCH_SMOKE=1        make test's tiny run (PUSH_N=20, 1 round): fails
#                        unless every push arrived (never on times)
# With BENCH_PG_PORT it reuses that cluster (and BENCH_DB, that database);
# otherwise it starts its own cluster in the run dir.
source "$(dirname "$0")/common.sh"

find_odoo
setup_venv
setup_addons_path

if [ -n "${BENCH_SMOKE:-}" ]; then
  PUSH_N=${PUSH_N:-20} PUSH_ROUNDS=${PUSH_ROUNDS:-1}
fi
PUSH_N=${PUSH_N:-1000}
PUSH_ROUNDS=${PUSH_ROUNDS:-3}
BENCH_DIR=$RUN_DIR/bench
mkdir -p "$BENCH_DIR"

if [ -n "${BENCH_PG_PORT:-}" ]; then
  PG_PORT=$BENCH_PG_PORT
else
  trap pg_stop EXIT
  pg_start
fi
DB=${BENCH_DB:-bus_mobile_bench}
CONF=$BENCH_DIR/push.conf
HTTP_PORT= GEVENT_PORT=
write_odoo_conf "$DB" "$CONF"
if [ -z "${BENCH_DB:-}" ]; then
  create_db "$CONF" "$DB"
fi

log "bench push: $PUSH_N offline devices"
PUSH_N=$PUSH_N PUSH_SESSION_FILE=$BENCH_DIR/push-session.txt \
  "$PY" "$ODOO_HOME/odoo-bin" shell -c "$CONF" -d "$DB" --log-level=warn \
  < "$ROOT/scripts/bench/push_setup.py" >> "$BENCH_DIR/push-setup.log" 2>&1 \
  || { tail -20 "$BENCH_DIR/push-setup.log" >&2; die "bench push: setup failed"; }
grep "^bench:" "$BENCH_DIR/push-setup.log" >&2 || true
check_log "$BENCH_DIR/push-setup.log" || die "bench push: the setup logged errors (above)"

: > "$BENCH_DIR/push-results.jsonl"
# What README's push table says above it.
echo "Measured on $(date -u +%F) at commit $(git -C "$ROOT" rev-parse --short=10 HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)') by \`make bench-push\` (PUSH_N=$PUSH_N, PUSH_ROUNDS=$PUSH_ROUNDS)." \
  | tee "$BENCH_DIR/push-report.txt"
timeout 1800 "$PY" "$ROOT/scripts/bench/push_bench.py" --python "$PY" \
  --odoo-bin "$ODOO_HOME/odoo-bin" --conf "$CONF" --db "$DB" --pg-port "$PG_PORT" \
  --session-file "$BENCH_DIR/push-session.txt" --rounds "$PUSH_ROUNDS" \
  --log "$BENCH_DIR/push-odoo.log" --out "$BENCH_DIR/push-results.jsonl" \
  ${BENCH_SMOKE:+--smoke} | tee -a "$BENCH_DIR/push-report.txt" \
  || { check_log "$BENCH_DIR/push-odoo.log"; log "bench push: failed (log: $BENCH_DIR/push-odoo.log)"; exit 1; }
# The push cron ran end to end on a prefork server with a real cron
# worker: its server must not have logged any error.
check_log "$BENCH_DIR/push-odoo.log" \
  || { log "bench push: the server logged errors (above; log: $BENCH_DIR/push-odoo.log)"; exit 1; }
log "bench push: results in $BENCH_DIR/push-results.jsonl"
