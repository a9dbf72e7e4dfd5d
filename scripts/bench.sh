#!/usr/bin/env bash
# `make bench`: stock /websocket against /bus_mobile/websocket, in the same
# run, alternating, with the same N, the same server settings and the same
# notifications (see README.rst, "Scale and benchmark"); then the mobile
# socket split over two Odoo nodes on one database; then bystanders while
# one client attacks (a reconnect loop with last=1, a stalled reader).
#
# Each phase starts Odoo in prefork mode (--workers=2, websockets on the
# gevent port), runs scripts/bench/loadgen.py once, and stops Odoo: a fresh
# process per phase, so that RSS deltas are not skewed by the previous
# phase's heap. Then the tables (scripts/bench/report.py).
#
#   BENCH_NS="100 500 1000 2000 5000 10000"  socket counts, one node
#   BENCH_TICKS=60                 broadcasts per phase, one a second
#   BENCH_KINDS="stock mobile"     which sockets
#   BENCH_TWO_NODE_NS="1000 10000" mobile sockets split over two nodes ("" skips)
#   BENCH_ATTACK_N=1000            bystanders of the attack phases ("" skips)
#   BENCH_ATTACKS="reconnect stall" (each beside a calm run, same N and ticks)
#   BENCH_ATTACK_TICKS=60
#   BENCH_DISCUSS_NS="100 1000"    Discuss phases, on a database with mail: one
#                                  channel, N members each with a socket,
#                                  ticks posted with mail's message_post, to
#                                  stock and mobile sockets; then the app's
#                                  post route to stock sockets ("" skips; the
#                                  smoke run skips unless set)
#   BENCH_USERS=min(max N, 5000)   users; each socket has its own session
#                                  (beyond, users have several)
#   BENCH_ODOO_ARGS="..."          more odoo-bin arguments
#   BENCH_LOADGEN_ARGS="..."       more loadgen.py arguments (--procs K...)
#   BENCH_METRICS_N=10000          metrics on and off, alternating, with
#   BENCH_METRICS_ROUNDS=5         this many sockets, this many times each
#                                  ("" skips; scripts/bench/metrics_report.py)
#   BENCH_SMOKE=1                  make test's tiny run: fail unless every
#                                  figure is there and nothing is missing
#                                  (never on times)
# Only a full run (none of the variables above set) writes its tables into
# readme/USAGE.md, keeps its results in scripts/bench/readme_results.jsonl
# and regenerates README.rst: every figure there comes from `make bench`.
# With BENCH_PG_PORT and BENCH_DB it reuses that cluster and database (make
# test's); otherwise it starts its own cluster in the run dir.
source "$(dirname "$0")/common.sh"

find_odoo
setup_venv
setup_addons_path

FULL_RUN=1
for var in BENCH_NS BENCH_TICKS BENCH_KINDS BENCH_TWO_NODE_NS BENCH_ATTACK_N BENCH_ATTACKS \
  BENCH_ATTACK_TICKS BENCH_USERS BENCH_ODOO_ARGS BENCH_LOADGEN_ARGS BENCH_SMOKE BENCH_DB \
  BENCH_METRICS_N BENCH_METRICS_ROUNDS BENCH_DISCUSS_NS; do
  [ -n "${!var+x}" ] && FULL_RUN=0
done
NS=${BENCH_NS-100 500 1000 2000 5000 10000}
TICKS=${BENCH_TICKS:-60}
KINDS=${BENCH_KINDS:-stock mobile}
TWO_NODE_NS=${BENCH_TWO_NODE_NS-1000 10000}
ATTACK_N=${BENCH_ATTACK_N-1000}
ATTACKS=${BENCH_ATTACKS-reconnect stall}
ATTACK_TICKS=${BENCH_ATTACK_TICKS:-$TICKS}
if [ -n "${BENCH_SMOKE:-}" ]; then
  DISCUSS_NS=${BENCH_DISCUSS_NS-}
else
  DISCUSS_NS=${BENCH_DISCUSS_NS-100 1000}
fi
max_n=0
for n in $NS $TWO_NODE_NS $ATTACK_N ${BENCH_METRICS_N-10000}; do [ "$n" -gt "$max_n" ] && max_n=$n; done
USERS=${BENCH_USERS:-$((max_n < 5000 ? max_n : 5000))}
BENCH_DIR=$RUN_DIR/bench
RESULTS=$BENCH_DIR/results.jsonl
SESSIONS=$BENCH_DIR/sessions.txt
mkdir -p "$BENCH_DIR"
rm -f "$BENCH_DIR"/odoo-*.log
: > "$RESULTS"

# Sockets need descriptors: stock holds 3 per socket. Each client process of
# the load generator has its own limit.
ulimit -n "$(ulimit -Hn)"

SERVER_PIDS=() SERVER_CHILDREN=() GEVENT_PIDS=() LOGS=()

bench_stop_servers() {
  local i pid
  for i in "${!SERVER_PIDS[@]}"; do
    pid=${SERVER_PIDS[i]}
    if kill -TERM "$pid" 2>/dev/null; then
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    # Workers the master could not stop (it was killed): by their PIDs.
    for child in ${SERVER_CHILDREN[i]}; do
      if grep -qa -- "$BENCH_DIR/node" "/proc/$child/cmdline" 2>/dev/null; then
        kill -KILL "$child" 2>/dev/null || true
      fi
    done
    log "bench: Odoo (pid $pid) stopped"
  done
  SERVER_PIDS=() SERVER_CHILDREN=() GEVENT_PIDS=() LOGS=()
}

bench_cleanup() {
  bench_stop_servers
  pg_stop
}
trap bench_cleanup EXIT

# Start node $1 (prefork) logging to $2, on database $DB with the
# configuration $BENCH_DIR/$NODE_CONF<node>.conf; appends to SERVER_PIDS,
# GEVENT_PIDS and LOGS.
NODE_CONF=node
bench_start_server() {
  local node=$1 logfile=$2 big=$((8 * 1024 * 1024 * 1024)) pid gevent= port child
  local conf=$BENCH_DIR/$NODE_CONF$node.conf
  port=$(sed -n 's/^gevent_port = //p' "$conf")
  # Not through odoo_bin: a backgrounded function is a subshell, and $!
  # would not be Odoo's PID. The dispatcher's debug line gives the fan-out.
  "$PY" "$ODOO_HOME/odoo-bin" -c "$conf" -d "$DB" --log-level=warn --workers=2 \
    --log-handler=odoo.addons.bus_mobile.mobile_socket.dispatcher:DEBUG \
    --max-cron-threads=0 --limit-memory-soft=$big --limit-memory-hard=$big \
    --limit-memory-soft-gevent=$big --limit-memory-hard-gevent=$big ${BENCH_ODOO_ARGS:-} \
    > "$logfile" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { tail -30 "$logfile" >&2; die "bench: Odoo exited at start"; }
    if curl -sf -o /dev/null "http://127.0.0.1:$port/web/health"; then
      for child in $(pgrep -P "$pid"); do
        if tr '\0' ' ' < "/proc/$child/cmdline" | grep -q "odoo-bin gevent"; then gevent=$child; fi
      done
      if [ -n "$gevent" ]; then
        SERVER_PIDS+=("$pid") GEVENT_PIDS+=("$gevent") LOGS+=("$logfile")
        SERVER_CHILDREN+=("$(pgrep -P "$pid" | tr '\n' ' ')")
        log "bench: Odoo node $node (pid $pid, gevent worker $gevent, port $port)"
        return 0
      fi
    fi
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
  die "bench: Odoo's gevent port $port did not answer within 60 s"
}

# A cluster of the caller's (make test's), else its own; the caller's
# database, else a new one.
if [ -n "${BENCH_PG_PORT:-}" ]; then
  PG_PORT=$BENCH_PG_PORT
else
  pg_start
fi
DB=${BENCH_DB:-bus_mobile_bench}
# Two nodes: two configurations, same database, different ports.
for node in 1 2; do
  unset HTTP_PORT GEVENT_PORT
  write_odoo_conf "$DB" "$BENCH_DIR/node$node.conf"
done
if [ -z "${BENCH_DB:-}" ]; then
  create_db "$BENCH_DIR/node1.conf" "$DB"
fi

log "bench: $USERS users, $max_n sessions"
BENCH_USERS=$USERS BENCH_SESSIONS=$max_n BENCH_SESSIONS_FILE=$SESSIONS \
  "$PY" "$ODOO_HOME/odoo-bin" shell -c "$BENCH_DIR/node1.conf" -d "$DB" --log-level=warn \
  < "$ROOT/scripts/bench/setup_users.py" > "$BENCH_DIR/setup.log" 2>&1 \
  || { tail -20 "$BENCH_DIR/setup.log" >&2; die "bench: creating the users failed"; }
grep "^bench:" "$BENCH_DIR/setup.log" >&2 || true

status=0
# phase KIND N NODES TICKS [ATTACK]: one loadgen run on fresh servers
# (PHASE_NAME and PHASE_ARGS, more loadgen arguments, for Discuss phases).
PHASE_NAME= PHASE_ARGS=()
phase() {
  local kind=$1 n=$2 nodes=$3 ticks=$4 attack=${5:-} name servers=() i
  name=${PHASE_NAME}$kind-$n-x$nodes${attack:+-$attack}${PHASE_SUFFIX:-}
  log "bench: $name"
  for i in $(seq 1 "$nodes"); do bench_start_server "$i" "$BENCH_DIR/odoo-$name-node$i.log"; done
  for i in "${!GEVENT_PIDS[@]}"; do
    servers+=(--server "$(sed -n 's/^gevent_port = //p' "$BENCH_DIR/$NODE_CONF$((i + 1)).conf"):${GEVENT_PIDS[i]}:${LOGS[i]}")
  done
  # shellcheck disable=SC2086
  timeout 3600 "$PY" "$ROOT/scripts/bench/loadgen.py" --kind "$kind" --n "$n" --ticks "$ticks" \
    "${servers[@]}" --pg-port "$PG_PORT" --db "$DB" --sessions "$SESSIONS" \
    ${attack:+--attack "$attack"} "${PHASE_ARGS[@]}" ${BENCH_LOADGEN_ARGS:-} --out "$RESULTS" \
    > "$BENCH_DIR/phase-$name.json" \
    || { log "bench: $name failed (logs: $BENCH_DIR/odoo-$name-node*.log)"; status=1; }
  bench_stop_servers
}

round=0
for n in $NS; do
  kinds=($KINDS)
  if [ $((round % 2)) = 1 ]; then  # alternate which kind goes first
    reversed=()
    for ((i = ${#kinds[@]} - 1; i >= 0; i--)); do reversed+=("${kinds[i]}"); done
    kinds=("${reversed[@]}")
  fi
  for kind in "${kinds[@]}"; do phase "$kind" "$n" 1 "$TICKS"; done
  round=$((round + 1))
done
for n in $TWO_NODE_NS; do phase mobile "$n" 2 "$TICKS"; done
if [ -n "$ATTACK_N" ] && [ -n "$ATTACKS" ]; then
  phase mobile "$ATTACK_N" 1 "$ATTACK_TICKS" calm
  for attack in $ATTACKS; do phase mobile "$ATTACK_N" 1 "$ATTACK_TICKS" "$attack"; done
fi

# Discuss: a database with mail, its users and sessions, one channel of
# them all; mail's posts to stock and mobile sockets (alternating which
# goes first), then the app's posts to stock sockets (the web client's).
if [ -n "$DISCUSS_NS" ]; then
  discuss_max=0
  for n in $DISCUSS_NS; do [ "$n" -gt "$discuss_max" ] && discuss_max=$n; done
  MAIL_DB=${DB}_mail
  for node in 1 2; do
    unset HTTP_PORT GEVENT_PORT
    write_odoo_conf "$MAIL_DB" "$BENCH_DIR/mailnode$node.conf"
  done
  create_db "$BENCH_DIR/mailnode1.conf" "$MAIL_DB" "" mail
  MAIL_SESSIONS=$BENCH_DIR/sessions-mail.txt DISCUSS_FILE=$BENCH_DIR/discuss.txt
  BENCH_USERS=$((discuss_max < 5000 ? discuss_max : 5000)) BENCH_SESSIONS=$discuss_max \
    BENCH_SESSIONS_FILE=$MAIL_SESSIONS \
    "$PY" "$ODOO_HOME/odoo-bin" shell -c "$BENCH_DIR/mailnode1.conf" -d "$MAIL_DB" \
    --log-level=warn < "$ROOT/scripts/bench/setup_users.py" > "$BENCH_DIR/setup-mail.log" 2>&1 \
    || { tail -20 "$BENCH_DIR/setup-mail.log" >&2; die "bench: creating the Discuss users failed"; }
  BENCH_DISCUSS_FILE=$DISCUSS_FILE \
    "$PY" "$ODOO_HOME/odoo-bin" shell -c "$BENCH_DIR/mailnode1.conf" -d "$MAIL_DB" \
    --log-level=warn < "$ROOT/scripts/bench/discuss_setup.py" >> "$BENCH_DIR/setup-mail.log" 2>&1 \
    || { tail -20 "$BENCH_DIR/setup-mail.log" >&2; die "bench: the Discuss channel failed"; }
  grep "^bench:" "$BENCH_DIR/setup-mail.log" >&2 || true
  read -r discuss_channel discuss_key < "$DISCUSS_FILE"
  poster=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$PY" \
    "$ROOT/scripts/bench/discuss_poster.py" "$BENCH_DIR/mailnode1.conf" "$MAIL_DB" \
    "$discuss_channel" "$discuss_key" "$(sed -n 's/^http_port = //p' "$BENCH_DIR/mailnode1.conf")")
  saved=("$DB" "$SESSIONS")
  DB=$MAIL_DB SESSIONS=$MAIL_SESSIONS NODE_CONF=mailnode PHASE_NAME=discuss-
  export PYTHONPATH=$ODOO_HOME${PYTHONPATH:+:$PYTHONPATH}  # for the poster
  round=0
  for n in $DISCUSS_NS; do
    kinds=(stock mobile)
    [ $((round % 2)) = 1 ] && kinds=(mobile stock)
    PHASE_ARGS=(--discuss-poster "$poster" --discuss-mode mail)
    for kind in "${kinds[@]}"; do phase "$kind" "$n" 1 "$TICKS"; done
    PHASE_NAME=discuss-app- PHASE_ARGS=(--discuss-poster "$poster" --discuss-mode app)
    phase stock "$n" 1 "$TICKS"
    PHASE_NAME=discuss-
    round=$((round + 1))
  done
  DB=${saved[0]} SESSIONS=${saved[1]} NODE_CONF=node PHASE_NAME= PHASE_ARGS=()
fi

report=("$PY" "$ROOT/scripts/bench/report.py" "$RESULTS")
[ -n "${BENCH_SMOKE:-}" ] && report+=(--check)
"${report[@]}" | tee "$BENCH_DIR/report.md" || status=1
log "bench: results in $RESULTS, tables in $BENCH_DIR/report.md"
if [ "$FULL_RUN" = 1 ] && [ "$status" = 0 ]; then
  cp "$RESULTS" "$ROOT/scripts/bench/readme_results.jsonl"
  "$PY" "$ROOT/scripts/bench/report.py" "$RESULTS" --readme "$ROOT/readme/USAGE.md" > /dev/null
  "$PY" "$ROOT/scripts/gen_readme.py"
  log "bench: README.rst regenerated with these figures (readme/USAGE.md, scripts/bench/readme_results.jsonl)"
elif [ "$FULL_RUN" = 1 ]; then
  log "bench: a phase failed: README.rst left as it was"
else
  log "bench: a narrowed run (BENCH_* set): README.rst left as it was"
fi

# ---- metrics on and off: the same socket count, alternating (which goes
# first swaps each round), on fresh servers; medians and spreads of p99 and
# of the worker's CPU per broadcast (scripts/bench/metrics_report.py).
METRICS_N=${BENCH_METRICS_N-10000}
METRICS_ROUNDS=${BENCH_METRICS_ROUNDS:-5}
if [ -n "$METRICS_N" ]; then
  metrics_results=$BENCH_DIR/metrics.jsonl
  : > "$metrics_results"
  saved_results=$RESULTS RESULTS=$BENCH_DIR/metrics-raw.jsonl
  for round in $(seq 1 "$METRICS_ROUNDS"); do
    order="on off"
    [ $((round % 2)) = 0 ] && order="off on"
    for setting in $order; do
      sed -i '/^bus_mobile_metrics = /d' "$BENCH_DIR/node1.conf"
      [ "$setting" = off ] && echo "bus_mobile_metrics = False" >> "$BENCH_DIR/node1.conf"
      : > "$RESULTS"
      PHASE_SUFFIX=-metrics-$setting-$round phase mobile "$METRICS_N" 1 "$TICKS"
      "$PY" -c 'import json, sys; r = json.loads(open(sys.argv[1]).read().splitlines()[-1]); r["metrics"] = sys.argv[2]; print(json.dumps(r))' \
        "$RESULTS" "$setting" >> "$metrics_results" || status=1
    done
  done
  sed -i '/^bus_mobile_metrics = /d' "$BENCH_DIR/node1.conf"
  RESULTS=$saved_results
  "$PY" "$ROOT/scripts/bench/metrics_report.py" "$metrics_results" | tee "$BENCH_DIR/metrics-report.md" || status=1
fi

# ---- push notifications: scripts/bench_push.sh (`make bench-push`) -------
BENCH_PG_PORT=$PG_PORT BENCH_DB=$DB BUS_MOBILE_RUN_DIR=$RUN_DIR \
  bash "$ROOT/scripts/bench_push.sh" || status=1
exit $status
