#!/usr/bin/env bash
# The addon's tests inside the official odoo:18 image (docker compose run --rm test).
# The image ships Odoo and its dependencies; add the test tools, install the
# addon in a fresh database, run pytest-odoo with a live HTTP server.
set -euo pipefail
pip install --break-system-packages -q websocket-client pytest==8.3.3 pytest-odoo==2.3.0
db=bus_mobile_test
args=(--db_host="$HOST" --db_user="$USER" --db_password="$PASSWORD"
      --addons-path=/usr/lib/python3/dist-packages/odoo/addons,/mnt/extra-addons)
odoo --stop-after-init -d "$db" -i bus_mobile --without-demo=all "${args[@]}"
conf=$(mktemp)
printf '[options]\ndb_host=%s\ndb_user=%s\ndb_password=%s\naddons_path=%s\n' \
  "$HOST" "$USER" "$PASSWORD" /usr/lib/python3/dist-packages/odoo/addons,/mnt/extra-addons > "$conf"
# scripts/pytest/odoo_test_mode.py: no false "Importing test framework" error.
cd /tmp && PYTHONPATH=/mnt/extra-addons/bus_mobile/scripts/pytest pytest -p odoo_test_mode \
  -p no:cacheprovider -q --odoo-config="$conf" --odoo-database="$db" \
  --odoo-http /mnt/extra-addons/bus_mobile/tests
