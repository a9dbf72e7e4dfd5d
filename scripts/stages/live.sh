# Stage: the clients' tests against live servers.
# clients/python, pip-installed into this run's own directory, and its
# pytest (no Odoo import), then the JavaScript client (scripts/stages/js.sh),
# against real Odoo servers on the private cluster, started as `make serve`
# starts one, for each database flavor (copies of common.sh's templates):
#   bus   bus_mobile_live: the addon and its dependencies only;
#   mail  bus_mobile_live_mail: with mail installed too, as users have it.
# The two flavors share nothing (databases, servers, ports, users) and run
# side by side, each with its output in .run/live-FLAVOR.out, printed when
# it ends. Per flavor:
#   live     the addon, threaded; the restart tests stop and start it
#   prefork  the same database with --workers=2 --proxy-mode, behind
#            Debian's nginx with the README's configuration
#            (scripts/nginx/bus_mobile.conf: its gevent port for both socket
#            routes, its HTTP port for the rest): the production path. A
#            socket on its HTTP port fails, its gevent port works.
#   bare     a server on a database without the addon.
# Fails on any failed, skipped, deselected or missing test (the lists of
# scripts/expected/), and on any ERROR or traceback in the servers' logs
# ($RUN_DIR/live-*.log, nginx-*/error.log) that no test named: per test in
# the Python client's tests (conftest.py, @pytest.mark.server_log), and here
# for a server's start and stop and for the JavaScript tests.
# BUS_MOBILE_LIVE=0 skips the stage; narrowed runs (BUS_MOBILE_TESTS) skip it
# unless BUS_MOBILE_LIVE=1; BUS_MOBILE_JS=0 leaves the JavaScript client's
# tests out, BUS_MOBILE_JS_TESTS ("test/x.test.js ...") narrows their live
# runs, BUS_MOBILE_EXPO=0 leaves the Expo example's out (mail flavor only,
# scripts/stages/expo.sh); BUS_MOBILE_CLIENT_TESTS (paths relative to
# clients/python) narrows the Python client's tests, BUS_MOBILE_LIVE_FLAVORS
# ("bus mail") the databases. One test pip-installs the package into an empty
# venv (requests and websocket-client come from the package index).
if [ "${BUS_MOBILE_LIVE:-}" = 0 ] || { [ -n "${BUS_MOBILE_TESTS:-}" ] && [ "${BUS_MOBILE_LIVE:-}" != 1 ]; }; then
  narrowed "clients against live servers (BUS_MOBILE_LIVE=${BUS_MOBILE_LIVE:-} BUS_MOBILE_TESTS=${BUS_MOBILE_TESTS:-}; BUS_MOBILE_LIVE=1 runs it)"
else
  log "Clients against live servers"
  live=$ROOT/scripts/live_server.sh
  nginx_proxy=$ROOT/scripts/nginx_proxy.py
  source "$ROOT/scripts/stages/js.sh"
  LIVE_FLAVORS=${BUS_MOBILE_LIVE_FLAVORS:-bus mail}
  case " $LIVE_FLAVORS " in *" bus "*) ;; *) narrowed "live tests on the bus-only database (BUS_MOBILE_LIVE_FLAVORS=\"$LIVE_FLAVORS\")" ;; esac
  case " $LIVE_FLAVORS " in *" mail "*) ;; *) narrowed "live tests on the mail database (BUS_MOBILE_LIVE_FLAVORS=\"$LIVE_FLAVORS\")" ;; esac
  [ -n "${BUS_MOBILE_CLIENT_TESTS:-}" ] && narrowed "Python client tests other than BUS_MOBILE_CLIENT_TESTS=\"$BUS_MOBILE_CLIENT_TESTS\""
  [ "${BUS_MOBILE_JS:-}" = 0 ] && narrowed "the JavaScript client's tests (BUS_MOBILE_JS=0)"
  [ -n "${BUS_MOBILE_JS_TESTS:-}" ] && narrowed "JavaScript tests other than BUS_MOBILE_JS_TESTS=\"$BUS_MOBILE_JS_TESTS\""
  live_names="live prefork bare live-mail prefork-mail bare-mail"
  live_stop_all() {
    local name
    for name in $live_names; do bash "$live" stop "$name"; done
    # Its nginx, and those of its tests (test_live_diagnose.py).
    nginx_stop_all 'prefork*' 'no-upgrade-*' 'plain-page-*'
  }
  trap 'live_stop_all' EXIT
  live_log() { echo "$RUN_DIR/live-$1.log"; }
  nginx_logs() { echo "$RUN_DIR/nginx-$1/error.log" "$RUN_DIR/nginx-$1/access.log"; }
  # live_logs_check WHAT LOGS... [--allow REGEX]: what the servers logged
  # since the last check of each log that no pattern names fails the stage.
  live_logs_check() {
    local what=$1; shift
    "$PY" "$ROOT/scripts/server_logs.py" check "$@" \
      || { log "a live server logged errors $what (above)"; return 1; }
  }
  conf_value() { sed -n "s/^$2 = //p" "$1"; }
  # Stock Odoo's stop noise (server_logs.py NOISE "odoo-stop"): only the
  # stops may log it, the stage's own
  # and the restart tests'; NGINX_RESTART_NOISE: nginx meanwhile, the
  # requests the stopping server dropped and those it could not pass on
  # while it was down (the JavaScript restart test restarts the
  # --workers=2 server behind it).
  NGINX_RESTART_NOISE='\[error\] .*(connect\(\) failed \(111: Connection refused\) while connecting to upstream|recv\(\) failed \(104: Connection reset by peer\) while reading response header from upstream|upstream prematurely closed connection while reading response header from upstream), '

  LIVE_DB=bus_mobile_live MAIL_LIVE_DB=bus_mobile_live_mail BARE_DB=bus_mobile_bare
  for name in live prefork; do
    unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$LIVE_DB" "$RUN_DIR/$name.conf"
    unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$MAIL_LIVE_DB" "$RUN_DIR/$name-mail.conf"
  done
  for name in bare bare-mail; do
    unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$BARE_DB" "$RUN_DIR/$name.conf"
  done
  unset HTTP_PORT GEVENT_PORT

  # Meanwhile: nginx, node and Chromium, npm ci, tsc and the JavaScript
  # tests without a server.
  if [ "${BUS_MOBILE_JS:-}" != 0 ]; then
    js_prepare > "$RUN_DIR/js-prepare.out" 2>&1 & js_prepare_pid=$!
  fi
  nginx_need || status=1
  # Each database with its users for the tests (the Python client's and
  # both JavaScript runs take theirs from it).
  db_templates $LIVE_FLAVORS bare
  case " $LIVE_FLAVORS " in *" bus "*)
    db_copy bus "$LIVE_DB" "$RUN_DIR/live.conf"
    user_pool "$RUN_DIR/live.conf" "$LIVE_DB" 250 ;;
  esac
  case " $LIVE_FLAVORS " in *" mail "*)
    db_copy mail "$MAIL_LIVE_DB" "$RUN_DIR/live-mail.conf"
    user_pool "$RUN_DIR/live-mail.conf" "$MAIL_LIVE_DB" 250 ;;
  esac
  db_copy bare "$BARE_DB" "$RUN_DIR/bare.conf"

  # The package as pip builds it (not the source tree), with its bus-mobile
  # command, in this run's directory: the venv is shared by every checkout.
  client_dir=$RUN_DIR/python-client
  # Their servers are the nodes stage's (scripts/stages/nodes.sh).
  NODE_TESTS_ELSEWHERE="--ignore=tests/test_live_nodes.py --ignore=tests/test_live_faults.py --ignore=tests/test_live_metrics.py"
  rm -rf "$client_dir"
  "$VENV/bin/pip" install -q --no-deps --no-build-isolation --target "$client_dir" \
    "$ROOT/clients/python" || die "pip install clients/python failed"
  if [ -n "${js_prepare_pid:-}" ]; then
    wait "$js_prepare_pid" || status=1
    cat "$RUN_DIR/js-prepare.out" >&2
  fi

  # live_flavor bus|mail: the Python client's and the JavaScript client's
  # tests against that database's servers.
  live_flavor() {
    local flavor=$1 db suffix failed=0
    case $flavor in
      bus) db=$LIVE_DB suffix= ;;
      mail) db=$MAIL_LIVE_DB suffix=-mail ;;
    esac
    local live_name=live$suffix prefork_name=prefork$suffix bare_name=bare$suffix
    local live_conf=$RUN_DIR/$live_name.conf prefork_conf=$RUN_DIR/$prefork_name.conf
    local bare_conf=$RUN_DIR/$bare_name.conf
    local odoo_logs=("$(live_log "$live_name")" "$(live_log "$prefork_name")" "$(live_log "$bare_name")")
    local proxy_logs
    read -r -a proxy_logs <<< "$(nginx_logs "$prefork_name")"
    local logs=("${odoo_logs[@]}" "${proxy_logs[@]}")
    local report=$RUN_DIR/client-report-$flavor.txt junit=$RUN_DIR/junit-client-$flavor.xml summary
    local figures=$RUN_DIR/live-figures-$flavor.txt proxy_url
    rm -f "$figures"
    log "---- live tests on $db ($flavor)"
    bash "$live" start "$live_name" "$live_conf" "$db"
    bash "$live" start "$prefork_name" "$prefork_conf" "$db" --workers=2 --proxy-mode
    bash "$live" start "$bare_name" "$bare_conf" "$BARE_DB"
    proxy_url=$("$PY" "$nginx_proxy" start "$prefork_name" \
      --http "127.0.0.1:$(conf_value "$prefork_conf" http_port)" \
      --gevent "127.0.0.1:$(conf_value "$prefork_conf" gevent_port)") \
      || { log "nginx in front of $prefork_name did not start"; return 1; }
    log "nginx (the README's configuration) on $proxy_url, in front of $prefork_name"
    live_logs_check "while starting" "${logs[@]}" || failed=1

    # The client's conftest.py checks the logs per test from here on.
    (cd "$ROOT/clients/python" && \
      PATH=$client_dir/bin:$PATH PYTHONPATH=$client_dir \
      BUS_MOBILE_URL=http://127.0.0.1:$(conf_value "$live_conf" http_port) BUS_MOBILE_DB=$db \
      BUS_MOBILE_FLAVOR=$flavor \
      BUS_MOBILE_ADMIN_LOGIN=admin BUS_MOBILE_ADMIN_PASSWORD=admin \
      BUS_MOBILE_USER_POOL="$RUN_DIR/user-pool-$db" \
      BUS_MOBILE_STOP_CMD="$(printf '%q ' bash "$live" stop "$live_name")" \
      BUS_MOBILE_START_CMD="$(printf '%q ' bash "$live" start "$live_name" "$live_conf" "$db")" \
      BUS_MOBILE_PREFORK_URL=$proxy_url BUS_MOBILE_PREFORK_WS=${proxy_url/http/ws} \
      BUS_MOBILE_PREFORK_HTTP=http://127.0.0.1:$(conf_value "$prefork_conf" http_port) \
      BUS_MOBILE_PREFORK_GEVENT=ws://127.0.0.1:$(conf_value "$prefork_conf" gevent_port) \
      BUS_MOBILE_NGINX_PROXY=$nginx_proxy \
      BUS_MOBILE_BARE_URL=http://127.0.0.1:$(conf_value "$bare_conf" http_port) \
      BUS_MOBILE_BARE_DB=$BARE_DB \
      BUS_MOBILE_SERVER_LOGS="$(IFS=:; echo "${logs[*]}")" \
      BUS_MOBILE_LOG_CHECKER=$ROOT/scripts/server_logs.py \
      BUS_MOBILE_LIVE_LOG="${logs[0]}" BUS_MOBILE_PREFORK_LOG="${logs[1]}" \
      BUS_MOBILE_FAULTS_REPORT=$figures \
      "$VENV/bin/pytest" -q -rfEs -p no:cacheprovider --durations=15 --junitxml="$junit" \
        ${BUS_MOBILE_CLIENT_TESTS:-tests $NODE_TESTS_ELSEWHERE}) > "$report" 2>&1 || failed=1
    cat "$report"
    digest_report "$report"
    cat "$figures" >&2 2>/dev/null || true
    summary=$(tail -1 "$report")
    if ! echo "$summary" | grep -q " passed"; then
      log "no client test passed on $db: $summary"; failed=1
    fi
    if echo "$summary" | grep -q -E "skipped|deselected"; then
      log "client tests were skipped or deselected on $db, which hides failures: $summary"; failed=1
    fi
    expect_tests "client-$flavor" junit "$junit" || failed=1

    live_logs_check "after the Python client's tests on $db" "${logs[@]}" || failed=1
    if [ "${BUS_MOBILE_JS:-}" != 0 ]; then
      js_flavor "$flavor" "$db" "http://127.0.0.1:$(conf_value "$live_conf" http_port)" \
        "$(printf '%q ' bash "$live" stop "$live_name")" \
        "$(printf '%q ' bash "$live" start "$live_name" "$live_conf" "$db")" \
        "$proxy_url" \
        "$(printf '%q ' bash "$live" stop "$prefork_name")" \
        "$(printf '%q ' bash "$live" start "$prefork_name" "$prefork_conf" "$db" --workers=2 --proxy-mode)" \
        || failed=1
      # restart.test.js stops and starts both servers, nginx meanwhile
      # fails to reach the --workers=2 one.
      live_logs_check "during the JavaScript client's tests on $db" "${logs[@]}" \
        --allow-noise odoo-stop --allow "$NGINX_RESTART_NOISE" || failed=1
    fi

    # The Expo example's exports and its web build (scripts/stages/expo.sh),
    # against the threaded server; its failures set status.
    if [ "$flavor" = mail ]; then
      local status=0 LIVE_PORT LIVE_DB=$db
      LIVE_PORT=$(conf_value "$live_conf" http_port)
      source "$ROOT/scripts/stages/expo.sh"
      [ "$status" = 0 ] || failed=1
      live_logs_check "during the Expo example's web test on $db" "${logs[@]}" || failed=1
    fi

    bash "$live" stop "$live_name"
    bash "$live" stop "$prefork_name"
    bash "$live" stop "$bare_name"
    "$PY" "$nginx_proxy" stop "$prefork_name" || failed=1
    live_logs_check "while stopping" "${logs[@]}" --allow-noise odoo-stop || failed=1
    return $failed
  }

  flavor_pids=() flavor_names=()
  for flavor in $LIVE_FLAVORS; do
    live_flavor "$flavor" > "$RUN_DIR/live-$flavor.out" 2>&1 &
    flavor_pids+=($!) flavor_names+=("$flavor")
  done
  for i in "${!flavor_pids[@]}"; do
    wait "${flavor_pids[i]}" || status=1
    log "==== live tests on the ${flavor_names[i]} database: $RUN_DIR/live-${flavor_names[i]}.out"
    cat "$RUN_DIR/live-${flavor_names[i]}.out" >&2
  done
fi
