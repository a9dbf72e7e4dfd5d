# Stage: several Odoo servers (nodes) on one database, and faults, on live
# servers. Two Odoo processes on their own ports share one database, one
# PostgreSQL and one data_dir (sessions, filestore), as two nodes behind a
# load balancer would; the Python client's tests in clients/python/tests
# drive them:
#   direct     node A --workers=2 (sockets on its gevent port), node B
#              threaded; test_live_nodes.py, then test_live_faults.py on
#              node A (kill -9 of its gevent worker, a PostgreSQL restart,
#              a full restart)
#   pgbouncer  both nodes --workers=2 through PgBouncer (Debian's package):
#              the database in transaction pooling, the `postgres` alias
#              (Odoo's LISTEN/NOTIFY connection) in session pooling;
#              test_live_nodes.py again, then PgBouncer's own counters
#              prove both pools were used.
# Each node runs 2 cron workers and logs ir.cron at INFO, so that the cron
# test sees which node ran what. ODOO_NOTIFY_CRON_CHANGES=1 (Odoo's own
# switch) makes a cron's new nextcall wake every cron worker of both nodes
# at once: the worst case for a cron running twice.
# Fails on any ERROR or traceback in the nodes' logs that no test named
# (per test: clients/python/tests/conftest.py; here: starts and stops).
# BUS_MOBILE_NODES=0 skips the stage; narrowed runs (BUS_MOBILE_TESTS) skip
# it unless BUS_MOBILE_NODES=1. Everything started here is stopped by PID,
# on failure too. Reports: $RUN_DIR/nodes-*.txt.

nodes_fail() {
  log "nodes: $*"
  digest_line "nodes: $*"
  status=1
}

# Debian's pgbouncer when missing (root only, as for PostgreSQL).
nodes_need_pgbouncer() {
  PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  [ -x "$PGBOUNCER" ] && return 0
  [ "$(id -u)" = 0 ] || { nodes_fail "pgbouncer is missing: apt-get install pgbouncer"; return 1; }
  log "installing Debian's pgbouncer"
  # The package's own service is left alone: ours runs on its own port.
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgbouncer; } >&2 \
    || { nodes_fail "apt-get install pgbouncer failed"; return 1; }
  PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
}

# PgBouncer on a free loopback port in front of the private cluster, run
# by the cluster's owner (it refuses root), daemonized with a PID file.
pgbouncer_start() {
  local dir=$RUN_DIR/pgbouncer
  PGB_PORT=$(free_port)
  rm -rf "$dir"; mkdir -p "$dir"
  cat > "$dir/pgbouncer.ini" <<INI
[databases]
; The ORM: transaction pooling, a server connection per transaction.
$NODES_DB = host=127.0.0.1 port=$PG_PORT dbname=$NODES_DB pool_mode=transaction
; Odoo's bus (and cron) LISTEN and NOTIFY on the "postgres" database:
; session pooling keeps each LISTEN on its own server connection.
postgres = host=127.0.0.1 port=$PG_PORT dbname=postgres pool_mode=session pool_size=60

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = odoo
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  echo '"odoo" "odoo"' > "$dir/userlist.txt"
  chmod 600 "$dir/userlist.txt"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; fi
  as_pg "$PGBOUNCER" -d -q "$dir/pgbouncer.ini" \
    || { tail -20 "$dir/pgbouncer.log" >&2; nodes_fail "pgbouncer did not start"; return 1; }
  for _ in $(seq 1 50); do [ -s "$dir/pgbouncer.pid" ] && break; sleep 0.1; done
  PGB_PID=$(cat "$dir/pgbouncer.pid")
  log "PgBouncer (pid $PGB_PID) on 127.0.0.1:$PGB_PORT"
}

pgbouncer_stop() {
  [ -n "${PGB_PID:-}" ] || return 0
  kill -TERM "$PGB_PID" 2>/dev/null || { PGB_PID=; return 0; }
  for _ in $(seq 1 40); do kill -0 "$PGB_PID" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$PGB_PID" 2>/dev/null || true
  log "PgBouncer (pid $PGB_PID) stopped"
  PGB_PID=
}

# psql on PgBouncer's admin console.
pgbouncer_show() {
  PGPASSWORD=odoo "$(pg_bindir)/psql" -h 127.0.0.1 -p "$PGB_PORT" -U odoo -d pgbouncer \
    -X -A -F '|' -c "SHOW $1"
}

# The tests' fault restarts PostgreSQL: pg_stop must stop the new postmaster.
nodes_pg_pid() {
  local pidfile=$RUN_DIR/pg/postmaster.pid
  [ -f "$pidfile" ] && PG_PID=$(head -1 "$pidfile")
  return 0
}

nodes_stop_all() {
  local name
  nodes_logs_mark
  for name in node-a node-b; do bash "$live" stop "$name"; done
  pgbouncer_stop
  nodes_pg_pid
  nodes_logs_check "while stopping" --allow-noise odoo-stop
}

# The nodes' logs: what they log outside the tests (start, stop) fails the
# stage; conftest.py checks each test's part.
NODES_LOGS=("$RUN_DIR/live-node-a.log" "$RUN_DIR/live-node-b.log")
nodes_logs_mark() { touch "${NODES_LOGS[@]}"; "$PY" "$ROOT/scripts/server_logs.py" mark "$RUN_DIR/nodes-marks.json" "${NODES_LOGS[@]}"; }
# nodes_logs_check WHAT [--allow REGEX | --allow-noise NAME]
nodes_logs_check() {
  local what=$1; shift
  "$PY" "$ROOT/scripts/server_logs.py" check --since "$RUN_DIR/nodes-marks.json" "$@" "${NODES_LOGS[@]}" \
    || nodes_fail "a node logged errors $what (above)"
}

# nodes_conf NAME [DB_PORT]: node NAME's configuration on the shared
# data_dir, through DB_PORT (default: PostgreSQL itself).
nodes_conf() {
  local conf=$RUN_DIR/$1.conf
  unset HTTP_PORT GEVENT_PORT
  write_odoo_conf "$NODES_DB" "$conf"
  [ -z "${2:-}" ] || sed -i "s/^db_port = .*/db_port = $2/" "$conf"
  echo "$conf"
}

conf_port() { sed -n "s/^$2 = //p" "$1"; }

# Every node: 2 cron workers (threads), ir.cron's log at INFO.
NODE_ARGS=(--max-cron-threads=2 --log-handler=odoo.addons.base.models.ir_cron:INFO)

# nodes_start NAME CONF [odoo-bin args]
nodes_start() {
  local name=$1 conf=$2; shift 2
  ODOO_NOTIFY_CRON_CHANGES=1 bash "$live" start "$name" "$conf" "$NODES_DB" "${NODE_ARGS[@]}" "$@"
}

# nodes_pytest LABEL CONF_A WS_A CONF_B WS_B TESTS...: the client's tests
# against the two nodes; fails on a failure, a skip or nothing passed.
nodes_pytest() {
  local label=$1 conf_a=$2 ws_a=$3 conf_b=$4 ws_b=$5; shift 5
  local report=$RUN_DIR/nodes-pytest-$label.txt summary
  log "two nodes ($label): $*"
  (cd "$ROOT/clients/python" && \
    PATH=$client_dir/bin:$PATH PYTHONPATH=$client_dir \
    BUS_MOBILE_NODES_LABEL=$label BUS_MOBILE_NODES_DB=$NODES_DB \
    BUS_MOBILE_ADMIN_LOGIN=admin BUS_MOBILE_ADMIN_PASSWORD=admin \
    BUS_MOBILE_NODE_A_URL=http://127.0.0.1:$(conf_port "$conf_a" http_port) \
    BUS_MOBILE_NODE_A_WS=$ws_a \
    BUS_MOBILE_NODE_A_LOG=$RUN_DIR/live-node-a.log \
    BUS_MOBILE_NODE_A_PIDFILE=$RUN_DIR/live-node-a.pid \
    BUS_MOBILE_NODE_A_STOP_CMD="$(printf '%q ' bash "$live" stop node-a)" \
    BUS_MOBILE_NODE_A_START_CMD="$(printf '%q ' env ODOO_NOTIFY_CRON_CHANGES=1 bash "$live" \
      start node-a "$conf_a" "$NODES_DB" "${NODE_ARGS[@]}" "${NODE_A_ARGS[@]}")" \
    BUS_MOBILE_NODE_B_URL=http://127.0.0.1:$(conf_port "$conf_b" http_port) \
    BUS_MOBILE_NODE_B_WS=$ws_b \
    BUS_MOBILE_NODE_B_LOG=$RUN_DIR/live-node-b.log \
    BUS_MOBILE_PG_RESTART_CMD="$(printf '%q ' bash "$ROOT/scripts/pg_restart.sh")" \
    BUS_MOBILE_FAULTS_REPORT=$RUN_DIR/nodes-figures-$label.txt \
    BUS_MOBILE_SERVER_LOGS="$(IFS=:; echo "${NODES_LOGS[*]}")" \
    BUS_MOBILE_LOG_CHECKER=$ROOT/scripts/server_logs.py \
    "$VENV/bin/pytest" -q -rfEs -o faulthandler_timeout=600 "$@") 2>&1 | tee "$report" || status=1
  digest_report "$report"
  summary=$(tail -1 "$report")
  echo "$summary" | grep -q " passed" || nodes_fail "no test passed ($label): $summary"
  if echo "$summary" | grep -q -E "skipped|deselected"; then
    nodes_fail "tests were skipped or deselected ($label), which hides failures: $summary"
  fi
  cat "$RUN_DIR/nodes-figures-$label.txt" >&2 2>/dev/null || true
}

# Through PgBouncer's "postgres" alias, as Odoo's bus does it (LISTEN on
# one connection, NOTIFY after a commit on another): the notification
# arrives. In transaction pooling it never would; the nodes would still
# deliver, late, from the dispatcher's own polling.
nodes_check_listen() {
  "$PY" - "$PGB_PORT" <<'PYEOF' || nodes_fail "LISTEN/NOTIFY does not pass through PgBouncer"
import select, sys, psycopg2
dsn = dict(host="127.0.0.1", port=sys.argv[1], user="odoo", password="odoo", dbname="postgres")
listener, notifier = psycopg2.connect(**dsn), psycopg2.connect(**dsn)
listener.autocommit = True
listener.cursor().execute("LISTEN bus_mobile_probe")
with notifier, notifier.cursor() as cr:
    cr.execute("SELECT pg_notify('bus_mobile_probe', 'ping')")
if select.select([listener], [], [], 10) != ([], [], []):
    listener.poll()
payloads = [n.payload for n in listener.notifies]
print(f"PgBouncer: LISTEN/NOTIFY through the postgres alias: {payloads}")
assert payloads == ["ping"], payloads
PYEOF
}

# After the PgBouncer run: both pools served Odoo, each in its mode.
nodes_check_pgbouncer() {
  local pools stats
  pools=$(pgbouncer_show POOLS) || { nodes_fail "SHOW POOLS failed"; return; }
  stats=$(pgbouncer_show STATS) || { nodes_fail "SHOW STATS failed"; return; }
  { echo "$pools"; echo "$stats"; } > "$RUN_DIR/nodes-pgbouncer.txt"
  "$PY" - "$NODES_DB" "$RUN_DIR/nodes-pgbouncer.txt" <<'PYEOF' || nodes_fail "PgBouncer was not used as configured"
import sys
db, path = sys.argv[1], sys.argv[2]
tables, header = [], None
for line in open(path).read().splitlines():
    if line.startswith("database|"):
        header = line.split("|")
        tables.append([])
    elif header and "|" in line:
        tables[-1].append(dict(zip(header, line.split("|"))))
pools, stats = tables
modes = {p["database"]: p["pool_mode"] for p in pools if "pool_mode" in p}
xacts = {s["database"]: int(s["total_xact_count"]) for s in stats}
clients = {p["database"]: int(p["cl_active"]) + int(p["cl_waiting"]) for p in pools}
print(f"PgBouncer: pool modes {modes}, transactions {xacts}, clients now {clients}")
assert modes.get(db) == "transaction", modes
assert modes.get("postgres") == "session", modes
assert xacts.get(db, 0) > 100 and xacts.get("postgres", 0) > 0, xacts
# Every node process that listens (bus, cron) holds a session there.
assert clients.get("postgres", 0) >= 2, clients
PYEOF
}

if [ "${BUS_MOBILE_NODES:-}" = 0 ] || { [ -n "${BUS_MOBILE_TESTS:-}" ] && [ "${BUS_MOBILE_NODES:-}" != 1 ]; }; then
  narrowed "two nodes on one database (BUS_MOBILE_NODES=${BUS_MOBILE_NODES:-} BUS_MOBILE_TESTS=${BUS_MOBILE_TESTS:-}; BUS_MOBILE_NODES=1 runs it)"
else
  log "two nodes on one database, directly and through PgBouncer; faults"
  live=$ROOT/scripts/live_server.sh
  export BUS_MOBILE_RUN_DIR=$RUN_DIR
  PGB_PID=
  trap 'nodes_stop_all; pg_stop' EXIT
  NODES_DB=bus_mobile_nodes
  rm -f "$RUN_DIR"/nodes-figures-*.txt
  nodes_need_pgbouncer || true
  conf=$(nodes_conf node-a); create_db "$conf" "$NODES_DB"
  # The package as pip builds it, as the live stage does.
  client_dir=$RUN_DIR/python-client-nodes
  rm -rf "$client_dir"
  "$VENV/bin/pip" install -q --no-deps --no-build-isolation --target "$client_dir" \
    "$ROOT/clients/python" || die "pip install clients/python failed"

  # Direct: node A prefork (sockets on its gevent port), node B threaded.
  NODE_A_ARGS=(--workers=2)
  conf_a=$(nodes_conf node-a) conf_b=$(nodes_conf node-b)
  nodes_logs_mark
  nodes_start node-a "$conf_a" "${NODE_A_ARGS[@]}"
  nodes_start node-b "$conf_b"
  nodes_logs_check "while starting"
  nodes_pytest direct "$conf_a" "ws://127.0.0.1:$(conf_port "$conf_a" gevent_port)" \
    "$conf_b" "ws://127.0.0.1:$(conf_port "$conf_b" http_port)" \
    tests/test_live_nodes.py tests/test_live_faults.py
  nodes_pg_pid
  nodes_stop_all

  # PgBouncer: both nodes prefork.
  if [ -n "${PGBOUNCER:-}" ] && [ -x "$PGBOUNCER" ] && pgbouncer_start; then
    conf_a=$(nodes_conf node-a "$PGB_PORT") conf_b=$(nodes_conf node-b "$PGB_PORT")
    nodes_logs_mark
    nodes_start node-a "$conf_a" "${NODE_A_ARGS[@]}"
    nodes_start node-b "$conf_b" --workers=2
    nodes_logs_check "while starting"
    nodes_pytest pgbouncer "$conf_a" "ws://127.0.0.1:$(conf_port "$conf_a" gevent_port)" \
      "$conf_b" "ws://127.0.0.1:$(conf_port "$conf_b" gevent_port)" \
      tests/test_live_nodes.py
    nodes_check_pgbouncer
    nodes_check_listen
  else
    nodes_fail "PgBouncer did not start: its tests did not run"
  fi
  nodes_stop_all
fi
