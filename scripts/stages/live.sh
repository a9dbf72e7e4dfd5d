# Stage: the clients' tests against live servers.
# clients/python, pip-installed into this run's own directory, and its
# pytest (no Odoo import), then the JavaScript client (scripts/stages/js.sh),
# against real Odoo servers on the private cluster, started as `make serve`
# starts one, for each database flavor:
#   bus   bus_mobile_live: the addon and its dependencies only;
#   mail  bus_mobile_live_mail: with mail installed too, as users have it.
# Per flavor:
#   live     the addon, threaded; the restart tests stop and start it
#   prefork  the same database with --workers=2 (a socket on its HTTP port
#            fails, its gevent port works: the production path)
# and, shared, bare: a database without the addon.
# Fails on any failed, skipped or deselected test, and on any ERROR or
# traceback in the servers' logs ($RUN_DIR/live-*.log) that no test named:
# per test in the Python client's tests (conftest.py, @pytest.mark.server_log),
# and here for a server's start and stop and for the JavaScript tests.
# BUS_MOBILE_LIVE=0 skips the stage; narrowed runs (BUS_MOBILE_TESTS) skip it
# unless BUS_MOBILE_LIVE=1; BUS_MOBILE_JS=0 leaves the JavaScript client's
# tests out, BUS_MOBILE_EXPO=0 the Expo example's (mail flavor only,
# scripts/stages/expo.sh); BUS_MOBILE_CLIENT_TESTS (paths relative to
# clients/python) narrows the Python client's tests, BUS_MOBILE_LIVE_FLAVORS
# ("bus mail") the databases. One test pip-installs the package into an empty
# venv (requests and websocket-client come from the package index).
if [ "${BUS_MOBILE_LIVE:-}" = 0 ] || { [ -n "${BUS_MOBILE_TESTS:-}" ] && [ "${BUS_MOBILE_LIVE:-}" != 1 ]; }; then
  narrowed "clients against live servers (BUS_MOBILE_LIVE=${BUS_MOBILE_LIVE:-} BUS_MOBILE_TESTS=${BUS_MOBILE_TESTS:-}; BUS_MOBILE_LIVE=1 runs it)"
else
  log "Clients against live servers"
  live=$ROOT/scripts/live_server.sh
  export BUS_MOBILE_RUN_DIR=$RUN_DIR
  LIVE_FLAVORS=${BUS_MOBILE_LIVE_FLAVORS:-bus mail}
  case " $LIVE_FLAVORS " in *" bus "*) ;; *) narrowed "live tests on the bus-only database (BUS_MOBILE_LIVE_FLAVORS=\"$LIVE_FLAVORS\")" ;; esac
  case " $LIVE_FLAVORS " in *" mail "*) ;; *) narrowed "live tests on the mail database (BUS_MOBILE_LIVE_FLAVORS=\"$LIVE_FLAVORS\")" ;; esac
  [ -n "${BUS_MOBILE_CLIENT_TESTS:-}" ] && narrowed "Python client tests other than BUS_MOBILE_CLIENT_TESTS=\"$BUS_MOBILE_CLIENT_TESTS\""
  live_names="live prefork live-mail prefork-mail bare"
  live_stop_all() { for name in $live_names; do bash "$live" stop "$name"; done; }
  trap 'live_stop_all; pg_stop' EXIT
  live_log() { echo "$RUN_DIR/live-$1.log"; }
  # live_logs_check MARKS WHAT LOGS...: the errors logged since MARKS fail the stage.
  live_logs_check() {
    local marks=$1 what=$2; shift 2
    "$PY" "$ROOT/scripts/server_logs.py" check --since "$marks" "$@" \
      || { log "a live server logged errors $what (above)"; status=1; }
  }
  live_logs_mark() { local marks=$1; shift; "$PY" "$ROOT/scripts/server_logs.py" mark "$marks" "$@"; }
  conf_value() { sed -n "s/^$2 = //p" "$1"; }
  # Stock Odoo's stop noise (server_logs.py NOISE "odoo-stop"): only the
  # stops may log it, the stage's own and the restart tests'.

  LIVE_DB=bus_mobile_live MAIL_LIVE_DB=bus_mobile_live_mail BARE_DB=bus_mobile_bare
  for name in live prefork; do
    unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$LIVE_DB" "$RUN_DIR/$name.conf"
    unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$MAIL_LIVE_DB" "$RUN_DIR/$name-mail.conf"
  done
  unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$BARE_DB" "$RUN_DIR/bare.conf"
  unset HTTP_PORT GEVENT_PORT
  # The databases install side by side.
  live_db_pids=()
  case " $LIVE_FLAVORS " in *" bus "*) (create_db "$RUN_DIR/live.conf" "$LIVE_DB") & live_db_pids+=($!) ;; esac
  case " $LIVE_FLAVORS " in *" mail "*) (create_db "$RUN_DIR/live-mail.conf" "$MAIL_LIVE_DB" "" mail) & live_db_pids+=($!) ;; esac
  log "installing bus (not bus_mobile) in a new database $BARE_DB"
  odoo_bin -c "$RUN_DIR/bare.conf" -d "$BARE_DB" -i bus --without-demo=all --stop-after-init \
    --log-level=warn > "$RUN_DIR/install-$BARE_DB.log" 2>&1 \
    || { tail -40 "$RUN_DIR/install-$BARE_DB.log" >&2; die "creating $BARE_DB failed"; }
  for pid in "${live_db_pids[@]}"; do wait "$pid" || die "creating the live databases failed"; done

  # The package as pip builds it (not the source tree), with its bus-mobile
  # command, in this run's directory: the venv is shared by every checkout.
  client_dir=$RUN_DIR/python-client
  # Their servers are the nodes stage's (scripts/stages/nodes.sh).
  NODE_TESTS_ELSEWHERE="--ignore=tests/test_live_nodes.py --ignore=tests/test_live_faults.py --ignore=tests/test_live_metrics.py"
  rm -rf "$client_dir"
  "$VENV/bin/pip" install -q --no-deps --no-build-isolation --target "$client_dir" \
    "$ROOT/clients/python" || die "pip install clients/python failed"

  bare_log=$(live_log bare)
  touch "$bare_log"
  live_logs_mark "$RUN_DIR/live-marks-bare.json" "$bare_log"
  bash "$live" start bare "$RUN_DIR/bare.conf" "$BARE_DB"
  live_logs_check "$RUN_DIR/live-marks-bare.json" "while starting" "$bare_log"

  # live_flavor bus|mail: the Python client's and the JavaScript client's
  # tests against that database's threaded and --workers=2 servers.
  live_flavor() {
    local flavor=$1 db suffix
    case $flavor in
      bus) db=$LIVE_DB suffix= ;;
      mail) db=$MAIL_LIVE_DB suffix=-mail ;;
    esac
    local live_name=live$suffix prefork_name=prefork$suffix
    local live_conf=$RUN_DIR/$live_name.conf prefork_conf=$RUN_DIR/$prefork_name.conf
    local logs=("$(live_log "$live_name")" "$(live_log "$prefork_name")" "$bare_log")
    local marks=$RUN_DIR/live-marks-$flavor.json
    local report=$RUN_DIR/client-report-$flavor.txt summary
    local figures=$RUN_DIR/live-figures-$flavor.txt
    rm -f "$figures"
    touch "${logs[@]}"
    log "---- live tests on $db ($flavor)"
    live_logs_mark "$marks" "${logs[@]}"
    bash "$live" start "$live_name" "$live_conf" "$db"
    bash "$live" start "$prefork_name" "$prefork_conf" "$db" --workers=2
    live_logs_check "$marks" "while starting" "${logs[@]}"

    # The client's conftest.py checks the logs per test from here on.
    (cd "$ROOT/clients/python" && \
      PATH=$client_dir/bin:$PATH PYTHONPATH=$client_dir \
      BUS_MOBILE_URL=http://127.0.0.1:$(conf_value "$live_conf" http_port) BUS_MOBILE_DB=$db \
      BUS_MOBILE_FLAVOR=$flavor \
      BUS_MOBILE_ADMIN_LOGIN=admin BUS_MOBILE_ADMIN_PASSWORD=admin \
      BUS_MOBILE_STOP_CMD="$(printf '%q ' bash "$live" stop "$live_name")" \
      BUS_MOBILE_START_CMD="$(printf '%q ' bash "$live" start "$live_name" "$live_conf" "$db")" \
      BUS_MOBILE_PREFORK_URL=http://127.0.0.1:$(conf_value "$prefork_conf" http_port) \
      BUS_MOBILE_PREFORK_WS=ws://127.0.0.1:$(conf_value "$prefork_conf" gevent_port) \
      BUS_MOBILE_BARE_URL=http://127.0.0.1:$(conf_value "$RUN_DIR/bare.conf" http_port) \
      BUS_MOBILE_BARE_DB=$BARE_DB \
      BUS_MOBILE_SERVER_LOGS="$(IFS=:; echo "${logs[*]}")" \
      BUS_MOBILE_LOG_CHECKER=$ROOT/scripts/server_logs.py \
      BUS_MOBILE_LIVE_LOG="${logs[0]}" BUS_MOBILE_PREFORK_LOG="${logs[1]}" \
      BUS_MOBILE_FAULTS_REPORT=$figures \
      "$VENV/bin/pytest" -q -rfEs -p no:cacheprovider ${BUS_MOBILE_CLIENT_TESTS:-tests $NODE_TESTS_ELSEWHERE}) 2>&1 \
      | tee "$report" || status=1
    digest_report "$report"
    cat "$figures" >&2 2>/dev/null || true
    summary=$(tail -1 "$report")
    if ! echo "$summary" | grep -q " passed"; then
      log "no client test passed on $db: $summary"; status=1
    fi
    if echo "$summary" | grep -q -E "skipped|deselected"; then
      log "client tests were skipped or deselected on $db, which hides failures: $summary"; status=1
    fi

    live_logs_mark "$marks" "${logs[@]}"
    # What js.sh reads, for this flavor.
    local LIVE_PORT LIVE_DB=$db LIVE_NAME=$live_name LIVE_CONF=$live_conf PREFORK_PORT PREFORK_GEVENT
    local JS_FLAVOR=$flavor
    LIVE_PORT=$(conf_value "$live_conf" http_port)
    PREFORK_PORT=$(conf_value "$prefork_conf" http_port)
    PREFORK_GEVENT=$(conf_value "$prefork_conf" gevent_port)
    if [ "${BUS_MOBILE_JS:-}" = 0 ]; then
      narrowed "the JavaScript client's tests on $db (BUS_MOBILE_JS=0)"
    else
      source "$ROOT/scripts/stages/js.sh"
    fi
    # The Expo example's exports and its web build (scripts/stages/expo.sh).
    if [ "$flavor" = mail ]; then source "$ROOT/scripts/stages/expo.sh"; fi
    # restart.test.js stops and starts the threaded server.
    live_logs_check "$marks" "during the JavaScript client's tests on $db" --allow-noise odoo-stop "${logs[@]}"

    live_logs_mark "$marks" "${logs[@]}"
    bash "$live" stop "$live_name"
    bash "$live" stop "$prefork_name"
    live_logs_check "$marks" "while stopping" --allow-noise odoo-stop "${logs[@]}"
  }

  for flavor in $LIVE_FLAVORS; do
    live_flavor "$flavor"
  done
  live_logs_mark "$RUN_DIR/live-marks-bare.json" "$bare_log"
  live_stop_all
  live_logs_check "$RUN_DIR/live-marks-bare.json" "while stopping" --allow-noise odoo-stop "$bare_log"
fi
