#!/usr/bin/env bash
# `make serve`: a private PostgreSQL cluster, a database with bus_mobile and
# demo data, and Odoo on 127.0.0.1. Ctrl-C stops Odoo, then PostgreSQL.
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
create_db "$CONF" "$DB" demo

log "Odoo on http://127.0.0.1:$HTTP_PORT  (database $DB, login admin / admin)"
log "mobile socket: ws://127.0.0.1:$HTTP_PORT/bus_mobile/websocket   Ctrl-C to stop"
"$PY" "$ODOO_HOME/odoo-bin" -c "$CONF" -d "$DB" "$@" &
ODOO_PID=$!
trap 'kill -INT $ODOO_PID 2>/dev/null; wait $ODOO_PID 2>/dev/null; pg_stop' EXIT
wait $ODOO_PID
