# Odoo's own bus and mail test suites with the addon installed, as Odoo.sh
# and most Odoo CI run them (the tests of every installed module): an addon
# must not break stock's tests. Sourced by scripts/stages/stock_suites.sh,
# after common.sh's setup (Odoo, the venv, the addons path, PostgreSQL).
#
#   stock_suites_start   starts every run in the background and returns
#   stock_suites_wait    waits for them, judges them (status=1 on failure)
#
# The runs mostly wait on sockets, browsers and timeouts (about 4 minutes
# of CPU in all for 13 to 21 of wall time, measured on a shared machine):
# they run in two chains side by side, in the background, and other stages
# may run between the two calls. Each run has its own database,
# configuration, ports and log under $RUN_DIR/stock-suites/; the report is
# $RUN_DIR/stock-suites-report.txt. The runs:
#   addon:mail  -i mail,bus_mobile --test-tags /bus,/mail (a real database)
#   addon:bus   -i bus_mobile --test-tags /bus on a bus-only database: bus's
#               tests meet our overrides without mail's (1 min of CPU)
#   stock:SUITE the same without the addon, running only the tests that
#               scripts/stock_suites/known_failures.txt lists for SUITE:
#               each must fail there too, or the stage fails (the list can
#               never hide a failure of ours)
# scripts/stock_suites/judge.py reads the logs: any failure not listed, an
# empty or crashed run, a skipped test, and any ERROR or traceback the
# server logged outside a failing test fail the stage (its own tests,
# test_judge.py, run first).
# BUS_MOBILE_STOCK_SUITES="mail" (or "bus") narrows the suites; "0" skips
# them; a run narrowed with BUS_MOBILE_TESTS skips them unless it is set.

STOCK_SUITES_DIR=$RUN_DIR/stock-suites
STOCK_SUITES_KNOWN=$ROOT/scripts/stock_suites/known_failures.txt
STOCK_SUITES_REPORT=$RUN_DIR/stock-suites-report.txt
STOCK_SUITES_PIDS=()
STOCK_SUITES_RUNS=()
STOCK_SUITES_STARTED=

stock_suites_start() {
  STOCK_SUITES_PIDS=() STOCK_SUITES_RUNS=() STOCK_SUITES_STARTED=
  local suites=${BUS_MOBILE_STOCK_SUITES:-}
  if [ "$suites" = 0 ] || { [ -z "$suites" ] && [ -n "${BUS_MOBILE_TESTS:-}" ]; }; then
    narrowed "Odoo's own test suites with the addon (BUS_MOBILE_STOCK_SUITES=$suites BUS_MOBILE_TESTS=${BUS_MOBILE_TESTS:-}; BUS_MOBILE_STOCK_SUITES=\"bus mail\" runs them)"
    return 0
  fi
  suites=${suites:-bus mail}
  local suite
  for suite in $suites; do
    case $suite in
      bus | mail) ;;
      *) die "unknown suite '$suite' in BUS_MOBILE_STOCK_SUITES (suites: bus mail)" ;;
    esac
  done
  case " $suites " in *" mail "*) ;; *) narrowed "Odoo's bus and mail suites on a database with mail (BUS_MOBILE_STOCK_SUITES=\"$suites\")" ;; esac
  case " $suites " in *" bus "*) ;; *) narrowed "Odoo's bus suite on a bus-only database (BUS_MOBILE_STOCK_SUITES=\"$suites\")" ;; esac
  # The judge's own tests first (a second, no server).
  log "stock suites: judge.py against written logs (scripts/stock_suites/test_judge.py)"
  (cd "$ROOT/scripts/stock_suites" && PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 "$PY" -m pytest \
    -q -p no:cacheprovider -c /dev/null --rootdir=. --confcutdir=. test_judge.py) || status=1
  _stock_suites_need_chromium
  rm -rf "$STOCK_SUITES_DIR" "$STOCK_SUITES_REPORT"
  mkdir -p "$STOCK_SUITES_DIR"
  STOCK_SUITES_STARTED=$(date +%s)
  log "Odoo's own suites with the addon ($suites), in the background; logs in $STOCK_SUITES_DIR"
  # Two chains side by side: the long run on mail alone, and the others one
  # after the other (three installs at once on a busy machine made stock's
  # timed tests, such as bus's 12 s for building an asset bundle, time out).
  local -a long=() short=()
  local tags
  for suite in $suites; do
    case $suite in
      mail) long+=("addon mail mail,bus_mobile /bus,/mail") ;;
      bus) short+=("addon bus bus_mobile /bus") ;;
    esac
    # Without the addon: the listed tests of this suite, which must fail.
    tags=$(awk -v suite="$suite" '$1 == suite { printf "%s/%s", sep, $2; sep = "," }' \
      "$STOCK_SUITES_KNOWN")
    [ -z "$tags" ] || short=("stock $suite $suite $tags" "${short[@]}")
  done
  _stock_suites_chain "${long[@]}"
  _stock_suites_chain "${short[@]}"
}

# _stock_suites_chain "ROLE SUITE MODULES TAGS"...: these runs one after
# the other, in the background.
_stock_suites_chain() {
  [ $# != 0 ] || return 0
  local run role suite rest
  for run in "$@"; do
    read -r role suite rest <<< "$run"
    STOCK_SUITES_RUNS+=("$role:$suite:$STOCK_SUITES_DIR/$role-$suite.log")
  done
  # Each run is four words, split on purpose.
  (for run in "$@"; do _stock_suites_odoo $run; done) &
  STOCK_SUITES_PIDS+=($!)
}

# The suites hold tours, which Odoo skips without Chrome or Chromium (and a
# skipped test fails the stage): Debian's chromium, as the JavaScript
# client's stage installs it.
_stock_suites_need_chromium() {
  local name
  for name in chromium google-chrome chromium-browser google-chrome-stable; do
    command -v "$name" > /dev/null && return 0
  done
  if [ "$(id -u)" != 0 ]; then
    log "no Chrome or Chromium: Odoo skips the suites' tours (apt-get install chromium)"
    return 0
  fi
  log "installing Debian's chromium for the suites' tours"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >&2 \
    || log "apt-get install chromium failed: Odoo skips the suites' tours"
}

# _stock_suites_odoo ROLE SUITE MODULES TAGS: one odoo-bin test run on a
# new database of its own; its exit code goes to LOG.rc.
_stock_suites_odoo() {
  local role=$1 suite=$2 modules=$3 tags=$4
  local name=$role-$suite
  local db=bus_mobile_stock_suites_${role}_$suite
  local conf=$STOCK_SUITES_DIR/$name.conf log=$STOCK_SUITES_DIR/$name.log
  (unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$db" "$conf")
  "$PY" - "$PG_PORT" "$db" <<'PYEOF'
import sys, psycopg2
cnx = psycopg2.connect(host="127.0.0.1", port=sys.argv[1], user="odoo", password="odoo", dbname="postgres")
cnx.autocommit = True
cnx.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[2])
PYEOF
  log "  $name: odoo-bin -d $db -i $modules --test-enable --test-tags $tags"
  # Odoo's default log level (info): the judge reads which test runs when.
  # No retries: a test that fails once fails (and Odoo stops retrying after
  # the first test that fails twice, such as a known failure).
  local rc=0
  ODOO_TEST_FAILURE_RETRIES=0 "$PY" "$ODOO_HOME/odoo-bin" -c "$conf" -d "$db" -i "$modules" \
    --test-enable --test-tags "$tags" --stop-after-init --log-level=info > "$log" 2>&1 || rc=$?
  echo "$rc" > "$log.rc"
}

stock_suites_wait() {
  [ -n "$STOCK_SUITES_STARTED" ] || return 0
  local pid
  for pid in "${STOCK_SUITES_PIDS[@]}"; do wait "$pid" || true; done
  log "Odoo's own suites done in $(($(date +%s) - STOCK_SUITES_STARTED)) s; report $STOCK_SUITES_REPORT"
  if ! "$PY" "$ROOT/scripts/stock_suites/judge.py" --known "$STOCK_SUITES_KNOWN" \
      --report "$STOCK_SUITES_REPORT" "${STOCK_SUITES_RUNS[@]}" >&2; then
    status=1
    if declare -F digest_line > /dev/null; then
      grep -E "FAILED: " "$STOCK_SUITES_REPORT" | sed 's/^ *//' | while IFS= read -r line; do
        digest_line "stock suites: $line"
      done
    fi
  fi
  STOCK_SUITES_STARTED=
}
