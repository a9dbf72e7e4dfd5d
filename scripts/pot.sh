#!/usr/bin/env bash
# `make pot`: export i18n/bus_mobile.pot with Odoo, from a fresh database
# with the addon on the private cluster (the setup stage of `make test`
# fails when the committed file differs from a new export).
source "$(dirname "$0")/common.sh"

find_odoo
setup_venv
setup_addons_path
trap pg_stop EXIT
pg_start
DB=bus_mobile_pot
CONF=$RUN_DIR/pot.conf
write_odoo_conf "$DB" "$CONF"
create_db "$CONF" "$DB"
mkdir -p "$ROOT/i18n"
export_pot "$CONF" "$DB" "$ROOT/i18n/bus_mobile.pot"
log "wrote i18n/bus_mobile.pot"
