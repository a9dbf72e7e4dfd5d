#!/usr/bin/env bash
# `make test`: the addon's Odoo tests on a real Odoo 18 and PostgreSQL, then
# ruff and pylint-odoo. Exits non-zero on any failure, skip, or empty run.
# BUS_MOBILE_TESTS="path ..." (relative to .run/) narrows the Odoo tests
# while developing; BUS_MOBILE_RUN_DIR gives a run its own cluster.
source "$(dirname "$0")/common.sh"

find_odoo
setup_venv
setup_addons_path
trap pg_stop EXIT
pg_start

DB=${BUS_MOBILE_TEST_DB:-bus_mobile_test}
CONF=$RUN_DIR/test.conf
write_odoo_conf "$DB" "$CONF"
create_db "$CONF" "$DB"

status=0
log "Odoo tests (pytest-odoo --odoo-http)"
# Run from the symlinked addon path so pytest-odoo names the modules
# odoo.addons.bus_mobile.*; cwd is the run dir, so nothing of ours shadows
# websocket-client's `websocket` package.
report=$RUN_DIR/pytest-report.txt
(cd "$RUN_DIR" && PYTHONPATH=$ODOO_HOME "$VENV/bin/pytest" -p no:cacheprovider -q -rfEs \
    --odoo-config="$CONF" --odoo-database="$DB" --odoo-http \
    --odoo-log-level="${ODOO_TEST_LOG_LEVEL:-warn}" \
    --ignore="$RUN_DIR/addons/bus_mobile/tests/harness" \
    ${BUS_MOBILE_TESTS:-"$RUN_DIR/addons/bus_mobile/tests"} "$@") 2>&1 | tee "$report" || status=1
summary=$(tail -1 "$report")
if ! echo "$summary" | grep -q " passed"; then
  log "no test passed: $summary"; status=1
fi
if echo "$summary" | grep -q -E "skipped|deselected"; then
  log "tests were skipped or deselected, which hides failures: $summary"; status=1
fi

log "ruff"
(cd "$ROOT" && "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check .) || status=1
log "pylint-odoo"
(cd "$RUN_DIR/addons" && "$VENV/bin/pylint" --rcfile="$ROOT/.pylintrc" bus_mobile) || status=1

[ $status = 0 ] && log "all checks passed" || log "FAILED"
exit $status
