# Stage: operations (metrics, health, the live view) against live servers
# and a real Prometheus. Two databases (bus only, and with mail), and per
# database two nodes:
#   ops-BUS / ops-MAIL  threaded, one database each (dbfilter);
#   ops-prefork         --workers=2, serving both databases with no
#                       dbfilter, the addon loaded server-wide
#                       (--load=base,web,bus_mobile): requests name their
#                       database with ?db=.
# Prometheus (Debian's package, installed when missing without starting its
# service, run here as an unprivileged user on a loopback port, data under
# $RUN_DIR/prometheus) scrapes the four targets every second with the
# token of bus_mobile.metrics_token. Then, per database:
#   - clients/python/tests/test_live_metrics.py: promtool check metrics,
#     what apps do as Prometheus sees it, access, health, ?db=, a scrape
#     while PostgreSQL restarts;
#   - tests/live_view: Mobile Bus > Live in headless Chromium
#     (playwright-core, Debian's chromium).
# Scrapes, query results and screenshots: $RUN_DIR/metrics/.
# BUS_MOBILE_METRICS=0 skips the stage; narrowed runs (BUS_MOBILE_TESTS)
# skip it unless BUS_MOBILE_METRICS=1. Everything started here is stopped by
# PID, on failure too.

metrics_fail() {
  log "metrics: $*"
  digest_line "metrics: $*"
  status=1
}

# metrics_apt PACKAGE: Debian's package, its services never started.
metrics_apt() {
  [ "$(id -u)" = 0 ] || { metrics_fail "$1 is missing: apt-get install $1"; return 1; }
  log "installing Debian's $1 (its service is not started)"
  local policy=/usr/sbin/policy-rc.d made=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made=1
  fi
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$1"; } >&2
  local rc=$?
  [ -z "$made" ] || rm -f "$policy"
  [ $rc = 0 ] || metrics_fail "apt-get install $1 failed"
  return $rc
}

# As the cluster's owner (unprivileged) when root, exec'ed: $! is the program.
metrics_unprivileged() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"; else "$@"; fi
}

metrics_prometheus_start() {
  local dir=$RUN_DIR/prometheus db
  rm -rf "$dir"; mkdir -p "$dir/data"
  PROM_PORT=$(free_port)
  printf '%s' "$METRICS_TOKEN" > "$dir/token"
  {
    echo "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}"
    echo "scrape_configs:"
    for db in "${!METRICS_NODES[@]}"; do
      cat <<YML
  - job_name: bus_mobile_$db
    metrics_path: /bus_mobile/metrics
    params: {db: [$db]}
    authorization: {credentials_file: $dir/token}
    static_configs:
      - targets: [${METRICS_NODES[$db]}]
YML
    done
  } > "$dir/prometheus.yml"
  [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
  metrics_unprivileged "$PROMETHEUS" --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$PROM_PORT" \
    > "$dir/prometheus.log" 2>&1 &
  PROM_PID=$!
  for _ in $(seq 1 60); do
    curl -sf -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready" && break
    kill -0 "$PROM_PID" 2>/dev/null || break
    sleep 0.5
  done
  if ! curl -sf -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready"; then
    tail -20 "$dir/prometheus.log" >&2
    metrics_fail "Prometheus did not start"; return 1
  fi
  log "Prometheus (pid $PROM_PID) on 127.0.0.1:$PROM_PORT, $("$PROMETHEUS" --version 2>&1 | head -1)"
}

metrics_prometheus_stop() {
  [ -n "${PROM_PID:-}" ] || return 0
  kill -TERM "$PROM_PID" 2>/dev/null || { PROM_PID=; return 0; }
  for _ in $(seq 1 40); do kill -0 "$PROM_PID" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$PROM_PID" 2>/dev/null || true
  log "Prometheus (pid $PROM_PID) stopped"
  PROM_PID=
}

METRICS_LOGS=()
metrics_logs_mark() { touch "${METRICS_LOGS[@]}"; "$PY" "$ROOT/scripts/server_logs.py" mark "$RUN_DIR/metrics-marks.json" "${METRICS_LOGS[@]}"; }
metrics_logs_check() {
  local what=$1; shift
  "$PY" "$ROOT/scripts/server_logs.py" check --since "$RUN_DIR/metrics-marks.json" "$@" "${METRICS_LOGS[@]}" \
    || metrics_fail "a server logged errors $what (above)"
}

metrics_stop_all() {
  local name
  metrics_logs_mark
  for name in $METRICS_SERVERS; do bash "$live" stop "$name"; done
  metrics_prometheus_stop
  # The restart test gave PostgreSQL a new PID.
  [ -f "$RUN_DIR/pg/postmaster.pid" ] && PG_PID=$(head -1 "$RUN_DIR/pg/postmaster.pid")
  metrics_logs_check "while stopping" --allow-noise odoo-stop
}

if [ "${BUS_MOBILE_METRICS:-}" = 0 ] || { [ -n "${BUS_MOBILE_TESTS:-}" ] && [ "${BUS_MOBILE_METRICS:-}" != 1 ]; }; then
  narrowed "metrics, health and the live view with Prometheus (BUS_MOBILE_METRICS=${BUS_MOBILE_METRICS:-} BUS_MOBILE_TESTS=${BUS_MOBILE_TESTS:-}; BUS_MOBILE_METRICS=1 runs it)"
else
  metrics_started=$SECONDS
  live=$ROOT/scripts/live_server.sh
  export BUS_MOBILE_RUN_DIR=$RUN_DIR
  PROM_PID= METRICS_SERVERS=
  trap 'metrics_stop_all; pg_stop' EXIT
  OUT=$RUN_DIR/metrics
  rm -rf "$OUT"; mkdir -p "$OUT"
  PROMETHEUS=$(command -v prometheus || echo /usr/bin/prometheus)
  PROMTOOL=$(command -v promtool || echo /usr/bin/promtool)
  [ -x "$PROMETHEUS" ] || metrics_apt prometheus || true
  [ -x /usr/bin/chromium ] || metrics_apt chromium || true
  METRICS_TOKEN=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
  BUS_DB=bus_mobile_ops MAIL_DB=bus_mobile_ops_mail

  unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$BUS_DB" "$RUN_DIR/ops-bus.conf"
  unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$MAIL_DB" "$RUN_DIR/ops-mail.conf"
  unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$BUS_DB" "$RUN_DIR/ops-prefork.conf"
  unset HTTP_PORT GEVENT_PORT
  sed -i '/^dbfilter = /d' "$RUN_DIR/ops-prefork.conf"
  (create_db "$RUN_DIR/ops-bus.conf" "$BUS_DB") & bus_pid=$!
  (create_db "$RUN_DIR/ops-mail.conf" "$MAIL_DB" "" mail) & mail_pid=$!
  wait "$bus_pid" || die "creating $BUS_DB failed"
  wait "$mail_pid" || die "creating $MAIL_DB failed"
  for db in "$BUS_DB" "$MAIL_DB"; do
    as_pg "$(pg_bindir)/psql" -h 127.0.0.1 -p "$PG_PORT" -U odoo -q -d "$db" -v ON_ERROR_STOP=1 -c \
      "INSERT INTO ir_config_parameter (key, value) VALUES ('bus_mobile.metrics_token', '$METRICS_TOKEN')
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value" >/dev/null
  done

  port_of() { sed -n "s/^$2 = //p" "$RUN_DIR/$1.conf"; }
  declare -A METRICS_NODES=(
    [$BUS_DB]="'127.0.0.1:$(port_of ops-bus http_port)', '127.0.0.1:$(port_of ops-prefork http_port)'"
    [$MAIL_DB]="'127.0.0.1:$(port_of ops-mail http_port)', '127.0.0.1:$(port_of ops-prefork http_port)'"
  )
  METRICS_SERVERS="ops-bus ops-mail ops-prefork"
  METRICS_LOGS=("$RUN_DIR/live-ops-bus.log" "$RUN_DIR/live-ops-mail.log" "$RUN_DIR/live-ops-prefork.log")
  metrics_logs_mark
  bash "$live" start ops-bus "$RUN_DIR/ops-bus.conf" "$BUS_DB"
  bash "$live" start ops-mail "$RUN_DIR/ops-mail.conf" "$MAIL_DB"
  bash "$live" start ops-prefork "$RUN_DIR/ops-prefork.conf" "$BUS_DB,$MAIL_DB" \
    --workers=2 --load=base,web,bus_mobile
  metrics_logs_check "while starting"
  metrics_prometheus_start || true

  client_dir=$RUN_DIR/python-client-ops
  rm -rf "$client_dir"
  "$VENV/bin/pip" install -q --no-deps --no-build-isolation --target "$client_dir" \
    "$ROOT/clients/python" || die "pip install clients/python failed"
  if [ -d "$ROOT/tests/live_view" ]; then
    (cd "$ROOT/tests/live_view" && npm ci --no-audit --no-fund --silent >&2) \
      || metrics_fail "npm ci in tests/live_view failed"
  fi

  for flavor in bus mail; do
    case $flavor in bus) db=$BUS_DB name=ops-bus other=$MAIL_DB ;; mail) db=$MAIL_DB name=ops-mail other=$BUS_DB ;; esac
    report=$RUN_DIR/metrics-pytest-$flavor.txt
    log "---- metrics on $db ($flavor)"
    export BUS_MOBILE_URL=http://127.0.0.1:$(port_of "$name" http_port) BUS_MOBILE_DB=$db \
      BUS_MOBILE_ADMIN_LOGIN=admin BUS_MOBILE_ADMIN_PASSWORD=admin \
      BUS_MOBILE_PREFORK_URL=http://127.0.0.1:$(port_of ops-prefork http_port) \
      BUS_MOBILE_PREFORK_WS=ws://127.0.0.1:$(port_of ops-prefork gevent_port) \
      BUS_MOBILE_OTHER_DB=$other \
      BUS_MOBILE_PROMETHEUS_URL=http://127.0.0.1:${PROM_PORT:-0} \
      BUS_MOBILE_METRICS_TOKEN=$METRICS_TOKEN BUS_MOBILE_PROMTOOL=$PROMTOOL \
      BUS_MOBILE_METRICS_OUT=$OUT \
      BUS_MOBILE_PG_RESTART_CMD="$(printf '%q ' bash "$ROOT/scripts/pg_restart.sh")"
    (cd "$ROOT/clients/python" && \
      PATH=$client_dir/bin:$PATH PYTHONPATH=$client_dir \
      BUS_MOBILE_SERVER_LOGS="$(IFS=:; echo "${METRICS_LOGS[*]}")" \
      BUS_MOBILE_LOG_CHECKER=$ROOT/scripts/server_logs.py \
      "$VENV/bin/pytest" -q -rfEs -p no:cacheprovider tests/test_live_metrics.py) 2>&1 \
      | tee "$report" || status=1
    digest_report "$report"
    summary=$(tail -1 "$report")
    echo "$summary" | grep -q " passed" || metrics_fail "no metrics test passed on $db: $summary"
    if echo "$summary" | grep -q -E "skipped|deselected"; then
      metrics_fail "metrics tests were skipped or deselected on $db: $summary"
    fi
    metrics_logs_mark
    log "live view in headless Chromium on $db"
    (cd "$ROOT/tests/live_view" && node --test --test-concurrency=1 live_view.test.js) 2>&1 \
      | tee "$RUN_DIR/metrics-live-view-$flavor.txt" || metrics_fail "the live view tests failed on $db"
    metrics_logs_check "during the live view tests on $db"
  done
  unset BUS_MOBILE_URL BUS_MOBILE_DB BUS_MOBILE_PREFORK_URL BUS_MOBILE_PREFORK_WS BUS_MOBILE_OTHER_DB \
    BUS_MOBILE_PROMETHEUS_URL BUS_MOBILE_METRICS_TOKEN BUS_MOBILE_PROMTOOL BUS_MOBILE_METRICS_OUT \
    BUS_MOBILE_PG_RESTART_CMD
  metrics_stop_all
  trap pg_stop EXIT
  log "metrics stage: $((SECONDS - metrics_started)) s; scrapes, queries and screenshots in $OUT"
fi
