# Stage: the Python client's tests against live servers.
# clients/python, pip-installed into this run's own directory, and its
# pytest (no Odoo import) against real Odoo servers on the private cluster,
# started as `make serve` starts one:
#   live     the addon, threaded; the restart test stops and starts it
#   prefork  the same database with --workers=2 (a socket on its HTTP port
#            fails, its gevent port works)
#   bare     a database without the addon
# BUS_MOBILE_LIVE=0 skips the stage; narrowed runs (BUS_MOBILE_TESTS) skip it
# unless BUS_MOBILE_LIVE=1; BUS_MOBILE_CLIENT_TESTS (paths relative to
# clients/python) narrows it. One test pip-installs the package into an empty
# venv (requests and websocket-client come from the package index).
if [ "${BUS_MOBILE_LIVE:-}" = 0 ] || { [ -n "${BUS_MOBILE_TESTS:-}" ] && [ "${BUS_MOBILE_LIVE:-}" != 1 ]; }; then
  log "Python client against a live server: skipped (BUS_MOBILE_LIVE=1 runs it)"
else
  log "Python client against a live server"
  live=$ROOT/scripts/live_server.sh
  export BUS_MOBILE_RUN_DIR=$RUN_DIR
  live_stop_all() { for name in live prefork bare; do bash "$live" stop "$name"; done; }
  trap 'live_stop_all; pg_stop' EXIT
  LIVE_DB=bus_mobile_live BARE_DB=bus_mobile_bare
  unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$LIVE_DB" "$RUN_DIR/live.conf"; LIVE_PORT=$HTTP_PORT
  unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$LIVE_DB" "$RUN_DIR/prefork.conf"
  PREFORK_PORT=$HTTP_PORT PREFORK_GEVENT=$GEVENT_PORT
  unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$BARE_DB" "$RUN_DIR/bare.conf"; BARE_PORT=$HTTP_PORT
  # The two databases install side by side.
  (create_db "$RUN_DIR/live.conf" "$LIVE_DB") & live_db_pid=$!
  log "installing bus (not bus_mobile) in a new database $BARE_DB"
  odoo_bin -c "$RUN_DIR/bare.conf" -d "$BARE_DB" -i bus --without-demo=all --stop-after-init \
    --log-level=warn > "$RUN_DIR/install-$BARE_DB.log" 2>&1 \
    || { tail -40 "$RUN_DIR/install-$BARE_DB.log" >&2; die "creating $BARE_DB failed"; }
  wait "$live_db_pid" || die "creating $LIVE_DB failed"
  bash "$live" start live "$RUN_DIR/live.conf" "$LIVE_DB"
  bash "$live" start prefork "$RUN_DIR/prefork.conf" "$LIVE_DB" --workers=2
  bash "$live" start bare "$RUN_DIR/bare.conf" "$BARE_DB"
  # The package as pip builds it (not the source tree), with its bus-mobile
  # command, in this run's directory: the venv is shared by every checkout.
  client_dir=$RUN_DIR/python-client
  rm -rf "$client_dir"
  "$VENV/bin/pip" install -q --no-deps --no-build-isolation --target "$client_dir" \
    "$ROOT/clients/python" || die "pip install clients/python failed"
  client_report=$RUN_DIR/client-report.txt
  rm -f "$RUN_DIR/live-figures.txt"
  # Their servers are the nodes stage's (scripts/stages/nodes.sh).
  NODE_TESTS_ELSEWHERE="--ignore=tests/test_live_nodes.py --ignore=tests/test_live_faults.py"
  (cd "$ROOT/clients/python" && \
    PATH=$client_dir/bin:$PATH PYTHONPATH=$client_dir \
    BUS_MOBILE_URL=http://127.0.0.1:$LIVE_PORT BUS_MOBILE_DB=$LIVE_DB \
    BUS_MOBILE_ADMIN_LOGIN=admin BUS_MOBILE_ADMIN_PASSWORD=admin \
    BUS_MOBILE_STOP_CMD="$(printf '%q ' bash "$live" stop live)" \
    BUS_MOBILE_START_CMD="$(printf '%q ' bash "$live" start live "$RUN_DIR/live.conf" "$LIVE_DB")" \
    BUS_MOBILE_PREFORK_URL=http://127.0.0.1:$PREFORK_PORT \
    BUS_MOBILE_PREFORK_WS=ws://127.0.0.1:$PREFORK_GEVENT \
    BUS_MOBILE_BARE_URL=http://127.0.0.1:$BARE_PORT BUS_MOBILE_BARE_DB=$BARE_DB \
    BUS_MOBILE_LIVE_LOG=$RUN_DIR/live-live.log BUS_MOBILE_PREFORK_LOG=$RUN_DIR/live-prefork.log \
    BUS_MOBILE_FAULTS_REPORT=$RUN_DIR/live-figures.txt \
    "$VENV/bin/pytest" -q -rfEs ${BUS_MOBILE_CLIENT_TESTS:-tests $NODE_TESTS_ELSEWHERE}) 2>&1 \
    | tee "$client_report" || status=1
  summary=$(tail -1 "$client_report")
  cat "$RUN_DIR/live-figures.txt" >&2 2>/dev/null || true
  if ! echo "$summary" | grep -q " passed"; then
    log "no client test passed: $summary"; status=1
  fi
  if echo "$summary" | grep -q -E "skipped|deselected"; then
    log "client tests were skipped or deselected, which hides failures: $summary"; status=1
  fi
  source "$ROOT/scripts/stages/js.sh"
  live_stop_all
fi
