# Stage: ruff and pylint-odoo.
log "ruff"
(cd "$ROOT" && "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check .) || status=1
log "pylint-odoo"
(cd "$RUN_DIR/addons" && "$VENV/bin/pylint" --rcfile="$ROOT/.pylintrc" bus_mobile) || status=1
