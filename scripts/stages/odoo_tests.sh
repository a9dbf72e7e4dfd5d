# Stage: the addon's Odoo tests (pytest-odoo --odoo-http: WebSocket tests
# really connect), on a fresh database with the addon.
DB=${BUS_MOBILE_TEST_DB:-bus_mobile_test}
CONF=$RUN_DIR/test.conf
write_odoo_conf "$DB" "$CONF"
create_db "$CONF" "$DB"

log "Odoo tests (pytest-odoo --odoo-http)"
# Run from the symlinked addon path so pytest-odoo names the modules
# odoo.addons.bus_mobile.*; cwd is the run dir, so nothing of ours shadows
# websocket-client's `websocket` package.
report=$RUN_DIR/pytest-report.txt
# scripts/pytest/odoo_test_mode.py: no false "Importing test framework" error.
(cd "$RUN_DIR" && PYTHONPATH=$ODOO_HOME:$ROOT/scripts/pytest "$VENV/bin/pytest" \
    -p odoo_test_mode -p no:cacheprovider -q -rfEs \
    --odoo-config="$CONF" --odoo-database="$DB" --odoo-http \
    --odoo-log-level="${ODOO_TEST_LOG_LEVEL:-warn}" \
    --ignore="$RUN_DIR/addons/bus_mobile/tests/js" \
    ${BUS_MOBILE_TESTS:-"$RUN_DIR/addons/bus_mobile/tests"}) 2>&1 | tee "$report" || status=1
summary=$(tail -1 "$report")
if ! echo "$summary" | grep -q " passed"; then
  log "no test passed: $summary"; status=1
fi
if echo "$summary" | grep -q -E "skipped|deselected"; then
  log "tests were skipped or deselected, which hides failures: $summary"; status=1
fi
