#!/usr/bin/env bash
# `make serve`: a private PostgreSQL cluster, a database with bus_mobile,
# mail and demo data (Discuss and mobile conversations between the demo
# users), and Odoo on 127.0.0.1. Ctrl-C stops Odoo, then PostgreSQL.
source "$(dirname "$0")/common.sh"

find_odoo
setup_venv
setup_addons_path
trap pg_stop EXIT
pg_start

DB=${BUS_MOBILE_DB:-bus_mobile}
CONF=$RUN_DIR/serve.conf
HTTP_PORT=${HTTP_PORT:-8069}
GEVENT_PORT=${GEVENT_PORT:-8072}
write_odoo_conf "$DB" "$CONF"
# With mail, as real databases are, and demo conversations of both kinds
# (mail's demo channels, a chat, a group, a mobile channel).
create_db "$CONF" "$DB" demo mail
odoo_bin shell -c "$CONF" -d "$DB" --log-level=warn --no-http < "$ROOT/scripts/serve_demo.py" \
  > "$RUN_DIR/serve-demo.log" 2>&1 || { tail -20 "$RUN_DIR/serve-demo.log" >&2; die "demo conversations failed"; }

log "Odoo on http://127.0.0.1:$HTTP_PORT  (database $DB, login admin / admin)"
log "mobile socket: ws://127.0.0.1:$HTTP_PORT/bus_mobile/websocket   Ctrl-C to stop"
"$PY" "$ODOO_HOME/odoo-bin" -c "$CONF" -d "$DB" "$@" &
ODOO_PID=$!
# `|| true`: under `set -e` a failing command ends a trap, and Odoo may
# have stopped already (a signal to it alone): PostgreSQL must stop too.
trap 'kill -INT $ODOO_PID 2>/dev/null || true; wait $ODOO_PID 2>/dev/null || true; pg_stop' EXIT
wait $ODOO_PID
