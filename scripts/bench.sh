#!/usr/bin/env bash
# `make bench`: stock /websocket against /bus_mobile/websocket, in the same
# run, alternating, with the same N, the same server settings and the same
# notifications (see README.rst, "Scale and benchmark").
#
# For each N and each socket kind: start Odoo in prefork mode (--workers=2,
# websockets on the gevent port), run one phase of scripts/bench/loadgen.py,
# stop Odoo (a fresh process per phase: RSS deltas are not skewed by the
# previous phase's heap). Then print the table (scripts/bench/report.py).
#
#   BENCH_NS="100 500 1000 2000 5000"   socket counts
#   BENCH_TICKS=60                       broadcasts per phase, one a second
#   BENCH_KINDS="stock mobile"           which sockets
#   BENCH_USERS=min(max N, 5000)         users; each socket has its own
#                                        session (beyond, users have several)
#   BENCH_ODOO_ARGS="--log-handler=..."  more odoo-bin arguments
#   BENCH_SMOKE=1                        make test's tiny run: fail unless
#                                        every figure is there and nothing
#                                        is missing (never on times)
# With BENCH_PG_PORT and BENCH_DB it reuses that cluster and database (make
# test's); otherwise it starts its own cluster in the run dir.
source "$(dirname "$0")/common.sh"

find_odoo
setup_venv
setup_addons_path

NS=${BENCH_NS:-100 500 1000 2000 5000}
TICKS=${BENCH_TICKS:-60}
KINDS=${BENCH_KINDS:-stock mobile}
max_n=0
for n in $NS; do [ "$n" -gt "$max_n" ] && max_n=$n; done
USERS=${BENCH_USERS:-$((max_n < 5000 ? max_n : 5000))}
BENCH_DIR=$RUN_DIR/bench
RESULTS=$BENCH_DIR/results.jsonl
SESSIONS=$BENCH_DIR/sessions.txt
SERVER_PID=
SERVER_CHILDREN=
mkdir -p "$BENCH_DIR"
: > "$RESULTS"

# Sockets need descriptors: stock holds 3 per socket.
ulimit -n "$(ulimit -Hn)"

bench_stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -TERM "$SERVER_PID" 2>/dev/null; then
    for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  # Workers the master could not stop (it was killed): by their PIDs.
  for pid in $SERVER_CHILDREN; do
    if grep -qa -- "$CONF" "/proc/$pid/cmdline" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  log "bench: Odoo (pid $SERVER_PID) stopped"
  SERVER_PID= SERVER_CHILDREN=
}

bench_cleanup() {
  bench_stop_server
  pg_stop
}
trap bench_cleanup EXIT

# Start Odoo prefork; sets SERVER_PID (the master) and GEVENT_PID.
bench_start_server() {
  local big=$((8 * 1024 * 1024 * 1024))
  # Not through odoo_bin: a backgrounded function is a subshell, and $!
  # would not be Odoo's PID.
  "$PY" "$ODOO_HOME/odoo-bin" -c "$CONF" -d "$DB" --log-level=warn --workers=2 \
    --max-cron-threads=0 --limit-memory-soft=$big --limit-memory-hard=$big \
    --limit-memory-soft-gevent=$big --limit-memory-hard-gevent=$big ${BENCH_ODOO_ARGS:-} \
    >> "$BENCH_DIR/odoo.log" 2>&1 &
  SERVER_PID=$!
  GEVENT_PID=
  for _ in $(seq 1 120); do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$BENCH_DIR/odoo.log" >&2; die "bench: Odoo exited at start"; }
    if curl -sf -o /dev/null "http://127.0.0.1:$GEVENT_PORT/web/health"; then
      SERVER_CHILDREN=$(pgrep -P "$SERVER_PID" | tr '\n' ' ')
      for pid in $SERVER_CHILDREN; do
        if tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "odoo-bin gevent"; then GEVENT_PID=$pid; fi
      done
      [ -n "$GEVENT_PID" ] && { log "bench: Odoo (pid $SERVER_PID, gevent worker $GEVENT_PID)"; return 0; }
    fi
    sleep 0.5
  done
  die "bench: Odoo's gevent port $GEVENT_PORT did not answer within 60 s"
}

if [ -n "${BENCH_PG_PORT:-}" ] && [ -n "${BENCH_DB:-}" ]; then
  PG_PORT=$BENCH_PG_PORT
  DB=$BENCH_DB
else
  pg_start
  DB=bus_mobile_bench
fi
CONF=$BENCH_DIR/bench.conf
HTTP_PORT= GEVENT_PORT=
write_odoo_conf "$DB" "$CONF"
if [ -z "${BENCH_DB:-}" ]; then
  create_db "$CONF" "$DB"
fi

log "bench: $USERS users, $max_n sessions"
BENCH_USERS=$USERS BENCH_SESSIONS=$max_n BENCH_SESSIONS_FILE=$SESSIONS \
  "$PY" "$ODOO_HOME/odoo-bin" shell -c "$CONF" -d "$DB" --log-level=warn \
  < "$ROOT/scripts/bench/setup_users.py" > "$BENCH_DIR/setup.log" 2>&1 \
  || { tail -20 "$BENCH_DIR/setup.log" >&2; die "bench: creating the users failed"; }
grep "^bench:" "$BENCH_DIR/setup.log" >&2 || true

status=0
round=0
for n in $NS; do
  kinds=($KINDS)
  if [ $((round % 2)) = 1 ]; then  # alternate which kind goes first
    reversed=()
    for ((i = ${#kinds[@]} - 1; i >= 0; i--)); do reversed+=("${kinds[i]}"); done
    kinds=("${reversed[@]}")
  fi
  for kind in "${kinds[@]}"; do
    log "bench: N=$n $kind"
    bench_start_server
    timeout 1800 "$PY" "$ROOT/scripts/bench/loadgen.py" --kind "$kind" --n "$n" --ticks "$TICKS" \
      --port "$GEVENT_PORT" --server-pid "$GEVENT_PID" --pg-port "$PG_PORT" --db "$DB" \
      --sessions "$SESSIONS" --out "$RESULTS" > "$BENCH_DIR/phase-$n-$kind.json" \
      || { log "bench: N=$n $kind failed (log: $BENCH_DIR/odoo.log)"; status=1; }
    bench_stop_server
  done
  round=$((round + 1))
done

"$PY" "$ROOT/scripts/bench/report.py" "$RESULTS" ${BENCH_SMOKE:+--check} | tee "$BENCH_DIR/report.rst" \
  || status=1
log "bench: results in $RESULTS, table in $BENCH_DIR/report.rst"

# ---- push notifications: scripts/bench_push.sh (`make bench-push`) -------
BENCH_PG_PORT=$PG_PORT BENCH_DB=$DB BUS_MOBILE_RUN_DIR=$RUN_DIR \
  bash "$ROOT/scripts/bench_push.sh" || status=1
exit $status
