# The JavaScript client (static/client, npm package odoo-bus-mobile) and its
# tests (tests/js): functions SOURCED by scripts/stages/live.sh.
#   js_prepare   node/npm (Debian's nodejs, npm) and Debian's chromium if
#                missing; npm ci (committed package-lock.json); tsc --noEmit
#                (checkJs over the package, and an app's TypeScript against
#                the shipped .d.ts); then the tests without a server
#                (JS_PURE_TESTS), once.
#   js_flavor    the live tests of one database, against both server kinds
#                side by side: every file of tests/js/test/ but the pure
#                ones and the latency one (JS_LIVE_TESTS) against the
#                threaded server AND against the --workers=2 server behind
#                nginx (its README configuration: page and socket on one
#                origin, sockets on the gevent port); the restart test
#                restarts the server it runs against. On the mail database
#                also the latency test (JS_ONCE_TESTS: 100 posts measured
#                once, on the production path). BUS_MOBILE_JS_FLAVOR tells
#                the Discuss tests which database they face: mail (they
#                talk), bus (they prove the refusal).
# A run fails on a failed, skipped, cancelled or missing test (its tests
# must be scripts/expected/js-*.txt; the live ones per database,
# js-live-bus.txt and js-live-mail.txt). Reports: $RUN_DIR/js-<run>.tap,
# js-latency.txt, playground.png, discuss-web-*.png (the web client and the
# app talking).

JS_DIR=$ROOT/tests/js
JS_PURE_TESTS="test/unit.test.js test/package.test.js test/discuss_unit.test.js test/live_list_unit.test.js"
JS_ONCE_TESTS="test/latency.test.js"
# js_live_tests: every other test file (a new one runs on both kinds), or
# those of BUS_MOBILE_JS_TESTS (e.g. "test/outbox.test.js": a narrowed run).
js_live_tests() {
  local file
  for file in ${BUS_MOBILE_JS_TESTS:-$(cd "$JS_DIR" && echo test/*.test.js)}; do
    case " $JS_PURE_TESTS $JS_ONCE_TESTS " in *" $file "*) ;; *) echo "$file" ;; esac
  done
}
# js_once_wanted: the latency test runs (always, unless BUS_MOBILE_JS_TESTS
# narrows the files and leaves it out).
js_once_wanted() {
  case " ${BUS_MOBILE_JS_TESTS:-$JS_ONCE_TESTS} " in *" $JS_ONCE_TESTS "*) return 0 ;; esac
  return 1
}

js_fail() {
  log "JS client: $*"
  digest_line "JS client: $*"
  return 1
}

# Debian packages $@ when command $1 is missing (root only, as for PostgreSQL).
js_need() {
  local command=$1; shift
  command -v "$command" >/dev/null 2>&1 && return 0
  log "installing Debian's $* (for $command)"
  apt_install "$@" || js_fail "apt-get install $* failed"
}

# The "# pass N" line of a TAP report (0 when absent).
js_count() {
  { grep -E "^# $1 [0-9]+$" "$2" 2>/dev/null || echo "# $1 0"; } | tail -1 | awk '{print $3}'
}

# js_run NAME SUITE FILES... with the server in the environment: node --test;
# fails on a failed, skipped, cancelled, missing or unlisted test.
js_run() {
  local name=$1 suite=$2; shift 2
  local tap=$RUN_DIR/js-$name.tap rc=0 flags=() failed=0
  # Older nodes (Debian's 18) lack these two options; the tests still run.
  node --test-concurrency=1 -e 0 2>/dev/null && flags+=(--test-concurrency=1)
  node --test-timeout=300000 -e 0 2>/dev/null && flags+=(--test-timeout=300000)
  log "JS client tests ($name): $*"
  rm -f "$tap"
  (cd "$JS_DIR" && BUS_MOBILE_JS_LABEL=$name BUS_MOBILE_JS_LATENCY_FILE=$RUN_DIR/js-latency.txt \
    node --preserve-symlinks --test "${flags[@]}" \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$tap" "$@") || rc=$?
  local tests pass fail skipped todo cancelled
  tests=$(js_count tests "$tap") pass=$(js_count pass "$tap") fail=$(js_count fail "$tap")
  skipped=$(js_count skipped "$tap") todo=$(js_count todo "$tap") cancelled=$(js_count cancelled "$tap")
  log "JS client ($name): $tests tests, $pass passed, $fail failed, $skipped skipped, $todo todo, $cancelled cancelled"
  [ "$rc" = 0 ] || js_fail "node --test exited with $rc ($name)" || failed=1
  { [ "$tests" -gt 0 ] && [ "$pass" = "$tests" ]; } || js_fail "not every test passed ($name)" || failed=1
  { [ "$skipped" = 0 ] && [ "$todo" = 0 ] && [ "$cancelled" = 0 ]; } \
    || js_fail "tests were skipped, todo or cancelled ($name), which hides failures" || failed=1
  expect_tests "$suite" tap "$tap" || failed=1
  return $failed
}

js_prepare() {
  js_need node nodejs || return 1
  js_need npm npm || return 1
  [ -x /usr/bin/chromium ] || js_need chromium chromium || return 1
  log "JS client: node $(node --version), npm $(npm --version), $(/usr/bin/chromium --version 2>/dev/null | head -1)"
  (cd "$JS_DIR" && npm ci --no-audit --no-fund) > "$RUN_DIR/js-npm-ci.txt" 2>&1 \
    || { tail -30 "$RUN_DIR/js-npm-ci.txt" >&2; js_fail "npm ci failed (output: $RUN_DIR/js-npm-ci.txt)"; return 1; }
  log "JS client: tsc --noEmit (checkJs over static/client; consumer.ts against the shipped .d.ts)"
  local failed=0
  (cd "$JS_DIR" && node_modules/.bin/tsc -p tsconfig.json && node_modules/.bin/tsc -p tsconfig.consumer.json) \
    || js_fail "tsc --noEmit found type errors" || failed=1
  # shellcheck disable=SC2086
  BUS_MOBILE_URL= BUS_MOBILE_DB= js_run pure js-pure $JS_PURE_TESTS || failed=1
  return $failed
}

# js_flavor FLAVOR DB THREADED_URL THREADED_STOP THREADED_START PROXY_URL
#   PREFORK_STOP PREFORK_START: both runs of one database, side by side,
#   each printed when it ends (the latency test after the prefork run).
js_flavor() {
  local flavor=$1 db=$2 threaded_url=$3 threaded_stop=$4 threaded_start=$5
  local proxy_url=$6 prefork_stop=$7 prefork_start=$8 pids=() names=() i failed=0
  local -a live_tests
  mapfile -t live_tests < <(js_live_tests)
  (
    export BUS_MOBILE_DB=$db BUS_MOBILE_ADMIN_LOGIN=admin BUS_MOBILE_ADMIN_PASSWORD=admin
    export BUS_MOBILE_RUN_DIR=$RUN_DIR BUS_MOBILE_USER_POOL=$RUN_DIR/user-pool-$db BUS_MOBILE_JS_FLAVOR=$flavor
    export BUS_MOBILE_URL=$threaded_url BUS_MOBILE_STOP_CMD=$threaded_stop BUS_MOBILE_START_CMD=$threaded_start
    js_run "threaded-$flavor" "js-live-$flavor" "${live_tests[@]}"
  ) > "$RUN_DIR/js-threaded-$flavor.out" 2>&1 &
  pids+=($!) names+=("threaded-$flavor")
  (
    export BUS_MOBILE_DB=$db BUS_MOBILE_ADMIN_LOGIN=admin BUS_MOBILE_ADMIN_PASSWORD=admin
    export BUS_MOBILE_RUN_DIR=$RUN_DIR BUS_MOBILE_USER_POOL=$RUN_DIR/user-pool-$db BUS_MOBILE_JS_FLAVOR=$flavor
    export BUS_MOBILE_URL=$proxy_url BUS_MOBILE_STOP_CMD=$prefork_stop BUS_MOBILE_START_CMD=$prefork_start
    code=0
    js_run "prefork-$flavor" "js-live-$flavor" "${live_tests[@]}" || code=1
    # shellcheck disable=SC2086
    if [ "$flavor" = mail ] && js_once_wanted; then js_run latency-prefork-mail js-latency $JS_ONCE_TESTS || code=1; fi
    exit $code
  ) > "$RUN_DIR/js-prefork-$flavor.out" 2>&1 &
  pids+=($!) names+=("prefork-$flavor")
  for i in "${!pids[@]}"; do
    wait "${pids[i]}" || failed=1
    case ${names[i]} in
      threaded-*) log "---- JS client tests, ${names[i]}: the threaded server $threaded_url" ;;
      *) log "---- JS client tests, ${names[i]}: nginx $proxy_url in front of the --workers=2 server" ;;
    esac
    cat "$RUN_DIR/js-${names[i]}.out" >&2
  done
  [ "$flavor" != mail ] || cat "$RUN_DIR/js-latency.txt" >&2 2>/dev/null || true
  return $failed
}
