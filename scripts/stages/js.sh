# Stage: the JavaScript client (static/client, npm package odoo-bus-mobile)
# and its tests (tests/js). SOURCED by scripts/stages/live.sh while its
# servers run: it uses that stage's LIVE_PORT, PREFORK_PORT, PREFORK_GEVENT,
# LIVE_DB, LIVE_NAME and LIVE_CONF (the threaded server's live_server.sh
# name and configuration), JS_FLAVOR (bus or mail: which database) and
# $live, and sets status=1 on any failure, skip or empty run. Sourced once
# per flavor: npm ci and tsc run the first time only.
#   - node/npm (Debian's nodejs, npm) and Debian's chromium if missing;
#   - npm ci (committed package-lock.json), tsc --noEmit (checkJs over the
#     package, and an app's TypeScript against the shipped .d.ts);
#   - node --test against the threaded server (all tests, with the server
#     restart, the playground and Odoo's web client Discuss in headless
#     Chromium), then against the --workers=2 server (sockets on its gevent
#     port). BUS_MOBILE_JS_FLAVOR tells the Discuss tests which database
#     they face: mail (they talk), bus (they prove the refusal).
# Reports: $RUN_DIR/js-<server>-<flavor>.tap, js-latency-*.txt, playground.png,
# discuss-web-*.png (the web client and the app talking).

js_fail() {
  log "JS client: $*"
  digest_line "JS client: $*"
  status=1
}

# Debian packages $@ when command $1 is missing (root only, as for PostgreSQL).
js_need() {
  local command=$1; shift
  command -v "$command" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    js_fail "$command is missing: apt-get install $*"; return 1
  fi
  log "installing Debian's $* (for $command)"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; } >&2 \
    || { js_fail "apt-get install $* failed"; return 1; }
}

# The "# pass N" line of a TAP report (0 when absent).
js_count() {
  { grep -E "^# $1 [0-9]+$" "$2" 2>/dev/null || echo "# $1 0"; } | tail -1 | awk '{print $3}'
}

# js_run NAME FILES... with the server in the environment: runs node --test,
# fails on a failed, skipped, cancelled or missing test.
js_run() {
  local name=$1; shift
  local tap=$RUN_DIR/js-$name.tap rc=0 flags=()
  # Older nodes (Debian's 18) lack these two options; the tests still run.
  node --test-concurrency=1 -e 0 2>/dev/null && flags+=(--test-concurrency=1)
  node --test-timeout=300000 -e 0 2>/dev/null && flags+=(--test-timeout=300000)
  log "JS client tests against the $name server"
  rm -f "$tap"
  (cd "$ROOT/tests/js" && BUS_MOBILE_JS_LABEL=$name BUS_MOBILE_JS_LATENCY_FILE=$RUN_DIR/js-latency-$name.txt \
    node --preserve-symlinks --test "${flags[@]}" \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$tap" "$@") || rc=$?
  local tests pass fail skipped todo cancelled
  tests=$(js_count tests "$tap") pass=$(js_count pass "$tap") fail=$(js_count fail "$tap")
  skipped=$(js_count skipped "$tap") todo=$(js_count todo "$tap") cancelled=$(js_count cancelled "$tap")
  log "JS client ($name): $tests tests, $pass passed, $fail failed, $skipped skipped, $todo todo, $cancelled cancelled"
  [ "$rc" = 0 ] || js_fail "node --test exited with $rc against the $name server"
  [ "$tests" -gt 0 ] && [ "$pass" = "$tests" ] || js_fail "not every test passed against the $name server"
  [ "$skipped" = 0 ] && [ "$todo" = 0 ] && [ "$cancelled" = 0 ] \
    || js_fail "tests were skipped, todo or cancelled against the $name server, which hides failures"
}

js_stage() {
  local dir=$ROOT/tests/js
  if [ -z "${LIVE_PORT:-}" ] || [ -z "${PREFORK_PORT:-}" ] || [ -z "${PREFORK_GEVENT:-}" ] || [ -z "${LIVE_DB:-}" ] || [ -z "${live:-}" ]; then
    js_fail "sourced without the live servers' variables (LIVE_PORT, PREFORK_PORT, PREFORK_GEVENT, LIVE_DB, live)"; return
  fi
  if [ -z "${JS_PREPARED:-}" ]; then
    js_need node nodejs || return
    js_need npm npm || return
    [ -x /usr/bin/chromium ] || js_need chromium chromium || return
    log "JS client: node $(node --version), npm $(npm --version), $(/usr/bin/chromium --version 2>/dev/null | head -1)"
    (cd "$dir" && npm ci --no-audit --no-fund) > "$RUN_DIR/js-npm-ci.log" 2>&1 \
      || { tail -30 "$RUN_DIR/js-npm-ci.log" >&2; js_fail "npm ci failed (log: $RUN_DIR/js-npm-ci.log)"; return; }
    log "JS client: tsc --noEmit (checkJs over static/client; consumer.ts against the shipped .d.ts)"
    (cd "$dir" && node_modules/.bin/tsc -p tsconfig.json && node_modules/.bin/tsc -p tsconfig.consumer.json) \
      || js_fail "tsc --noEmit found type errors"
    JS_PREPARED=1
  fi
  local flavor=${JS_FLAVOR:-bus} live_name=${LIVE_NAME:-live} live_conf=${LIVE_CONF:-$RUN_DIR/live.conf}

  BUS_MOBILE_URL=http://127.0.0.1:$LIVE_PORT BUS_MOBILE_DB=$LIVE_DB BUS_MOBILE_JS_FLAVOR=$flavor \
    BUS_MOBILE_ADMIN_LOGIN=admin BUS_MOBILE_ADMIN_PASSWORD=admin \
    BUS_MOBILE_STOP_CMD="$(printf '%q ' bash "$live" stop "$live_name")" \
    BUS_MOBILE_START_CMD="$(printf '%q ' bash "$live" start "$live_name" "$live_conf" "$LIVE_DB")" \
    BUS_MOBILE_RUN_DIR=$RUN_DIR \
    js_run "threaded-$flavor" $(cd "$dir" && echo test/*.test.js)

  # The --workers=2 server: HTTP on its port, sockets on the gevent port.
  # No restart (its commands drive the threaded server), no playground (a
  # page on one port and a socket on another are two origins without a
  # proxy), no pure tests twice.
  BUS_MOBILE_URL=http://127.0.0.1:$PREFORK_PORT BUS_MOBILE_WS=ws://127.0.0.1:$PREFORK_GEVENT \
    BUS_MOBILE_DB=$LIVE_DB BUS_MOBILE_JS_FLAVOR=$flavor BUS_MOBILE_ADMIN_LOGIN=admin BUS_MOBILE_ADMIN_PASSWORD=admin \
    BUS_MOBILE_STOP_CMD= BUS_MOBILE_START_CMD= BUS_MOBILE_RUN_DIR=$RUN_DIR \
    js_run "prefork-$flavor" test/login.test.js test/roundtrip.test.js test/resume.test.js test/outbox.test.js \
      test/session.test.js test/presence.test.js test/hooks.test.js test/auth.test.js \
      test/discuss.test.js
  cat "$RUN_DIR"/js-latency-*.txt >&2 2>/dev/null || true
}

js_stage
