#!/usr/bin/env bash
# Start or stop one Odoo for the Python client's live tests, by PID file. Used
# by the live stage (scripts/stages/live.sh), and by the
# server-restart test through BUS_MOBILE_STOP_CMD / BUS_MOBILE_START_CMD.
#
#   scripts/live_server.sh start NAME CONF DB [odoo-bin args...]
#       start Odoo in the background, wait until /web/health answers;
#       PID in $RUN_DIR/live-NAME.pid, log appended to $RUN_DIR/live-NAME.log
#   scripts/live_server.sh stop NAME
#       SIGTERM (Odoo closes its sockets with 1001), SIGKILL after 20 s
source "$(dirname "$0")/common.sh"

live_start() {
  local name=$1 conf=$2 db=$3; shift 3
  local pidfile=$RUN_DIR/live-$name.pid logfile=$RUN_DIR/live-$name.log port pid
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    die "live server $name already runs (pid $(cat "$pidfile"))"
  fi
  find_odoo
  setup_venv
  port=$(sed -n 's/^http_port = //p' "$conf")
  if curl -sf -o /dev/null "http://127.0.0.1:$port/web/health"; then
    die "port $port already answers: another server runs there"
  fi
  # A --workers server serves sockets on its gevent port, whose worker
  # starts after the HTTP port answers: it is up once both do.
  local ports=("$port")
  case " $* " in *" --workers="[1-9]*) ports+=("$(sed -n 's/^gevent_port = //p' "$conf")") ;; esac
  echo "---- start $(date -Is)" >> "$logfile"
  # Not through the odoo_bin function: a backgrounded function runs in a
  # subshell, and $! would be that shell, not Odoo.
  "$PY" "$ODOO_HOME/odoo-bin" -c "$conf" -d "$db" --log-level=warn "$@" >> "$logfile" 2>&1 &
  pid=$!
  echo "$pid" > "$pidfile"
  for _ in $(seq 1 600); do
    if live_answers "${ports[@]}" && kill -0 "$pid" 2>/dev/null; then
      log "live server $name (pid $pid) on http://127.0.0.1:$port"; return 0
    fi
    kill -0 "$pid" 2>/dev/null || { tail -30 "$logfile" >&2; die "live server $name exited at start"; }
    sleep 0.1
  done
  die "live server $name did not answer on port $port within 60 s (log: $logfile)"
}

live_answers() {
  local port
  for port in "$@"; do curl -sf -o /dev/null "http://127.0.0.1:$port/web/health" || return 1; done
}

live_stop() {
  local name=$1 pidfile=$RUN_DIR/live-$1.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  rm -f "$pidfile"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  log "live server $name (pid $pid) stopped"
}

case "${1:-}" in
  start) shift; [ $# -ge 3 ] || die "usage: $0 start NAME CONF DB [odoo-bin args]"; live_start "$@" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop NAME"; live_stop "$2" ;;
  *) die "usage: $0 start NAME CONF DB [odoo-bin args] | stop NAME" ;;
esac
