#!/usr/bin/env bash
# `make test`: every stage below, on a real Odoo 18 and PostgreSQL. This is
# the one test command: `.ci/run` calls it, and so does the Docker path
# (scripts/docker-test.sh, after preparing the image).
#
# Exits 1 on any failure: a failed, skipped, deselected or missing test
# (each suite's tests are listed in scripts/expected/), an ERROR or
# traceback a server logged that no test named, or a server log that no
# check read (scripts/server_logs.py audit).
#
# Each stage is a file of scripts/stages/, sourced in a subshell of its own
# (it shares the cluster, the database templates of common.sh's db_copy,
# `narrowed` and the failure digest; its exit status is its result). The
# stages whose file says `# stage: background` run beside the others
# (their own databases, servers and ports; their own cluster if they
# restart PostgreSQL), BUS_MOBILE_JOBS of them at a time (default 2), in
# the order of ALL_STAGES; those whose file says `# stage: beside` (they
# mostly wait: Odoo's own suites) start at once, outside that count. Their
# output is kept in .run/stage-NAME.out and printed at the end. The others run one after the other, in the
# foreground. At the end each stage's wall time is printed
# (.run/stage-times.txt).
#
# Narrowing a run while developing (each is reported at the end, and a
# narrowed run exits 3 even when everything that ran passed: it never
# looks green):
#   BUS_MOBILE_STAGES="odoo_tests lint"     only these stages
#   BUS_MOBILE_TESTS="addons/bus_mobile/tests/test_x.py -k name"
#                                           the Odoo tests (paths relative
#                                           to .run/); the live and bench
#                                           stages are then left out unless
#                                           BUS_MOBILE_LIVE=1 /
#                                           BUS_MOBILE_BENCH_SMOKE=1
#   BUS_MOBILE_ODOO_DBS="mail"              the Odoo tests' databases
#                                           (default "bus mail")
#   BUS_MOBILE_LIVE=0, BUS_MOBILE_JS=0, BUS_MOBILE_NODES=0,
#   BUS_MOBILE_BENCH_SMOKE=0, BUS_MOBILE_CLIENT_TESTS=...,
#   BUS_MOBILE_JS_TESTS="test/x.test.js ..."  only these JS test files,
#   BUS_MOBILE_STOCK_SUITES="bus"           see their stage files
# BUS_MOBILE_RUN_DIR gives a run its own directory and cluster.
source "$(dirname "$0")/common.sh"

# Foreground stages (live) run in this order; background ones start in this
# order: live, the longest, starts at once; odoo_tests and nodes beside it.
# stock_suites runs after live, on a machine the other stages have mostly
# left (stock's tests are timed and racy under load).
ALL_STAGES="odoo_tests live nodes metrics bench_smoke setup lint stock_suites"
JOBS=${BUS_MOBILE_JOBS:-2}
STAGES=${BUS_MOBILE_STAGES:-$ALL_STAGES}
for stage in $STAGES; do
  [ -f "$ROOT/scripts/stages/$stage.sh" ] || die "unknown stage '$stage' in BUS_MOBILE_STAGES (stages: $ALL_STAGES)"
done

# This run's files: a previous run's logs, ledger and reports go.
find "$RUN_DIR" -name '*.log' -not -name postgresql.log -not -path "$RUN_DIR/addons/*" -delete 2>/dev/null || true
rm -rf "$RUN_DIR/log-ledger" "$RUN_DIR"/stage-*.out "$RUN_DIR"/junit-*.xml "$RUN_DIR"/js-*.tap
BUS_MOBILE_RUN_ID=$(date +%s.%N)
BUS_MOBILE_LOG_LEDGER=$RUN_DIR/log-ledger
BUS_MOBILE_RUN_DIR=$RUN_DIR
export BUS_MOBILE_RUN_ID BUS_MOBILE_LOG_LEDGER BUS_MOBILE_RUN_DIR

# What this run leaves out; a stage that skips something says it here.
NARROWED_FILE=$RUN_DIR/narrowed.txt
: > "$NARROWED_FILE"
narrowed() {
  echo "$*" >> "$NARROWED_FILE"
  log "NOT RUN: $*"
}
for stage in $ALL_STAGES; do
  case " $STAGES " in
    *" $stage "*) ;;
    *) narrowed "stage $stage (BUS_MOBILE_STAGES=\"$STAGES\")" ;;
  esac
done

# Each failure's one-line name, repeated last (a long output's tail is
# what a CI page shows): pytest's FAILED/ERROR lines (digest_report) and
# the server log problems scripts/server_logs.py finds.
export BUS_MOBILE_FAILURE_DIGEST=$RUN_DIR/failures.txt
: > "$BUS_MOBILE_FAILURE_DIGEST"
# digest_report REPORT: the FAILED/ERROR lines of a pytest report's summary
# (not its captured logs), prefixed with the report's name.
digest_report() {
  sed -n '/short test summary info/,$p' "$1" | grep -E "^(FAILED|ERROR) " \
    | sed "s|^|$(basename "$1" .txt): |" >> "$BUS_MOBILE_FAILURE_DIGEST" || true
}
digest_line() { echo "$*" >> "$BUS_MOBILE_FAILURE_DIGEST"; }

# expect_tests SUITE KIND REPORT: the tests that REPORT (pytest's junit XML
# or node's TAP) says ran are exactly scripts/expected/SUITE.txt; in a
# narrowed run, only that none ran that the list lacks.
expect_tests() {
  local args=()
  [ -s "$NARROWED_FILE" ] && args+=(--subset)
  "$PY" "$ROOT/scripts/expected_tests.py" "${args[@]}" "$1" "$2" "$3" \
    || { digest_line "tests of $1 missing or unlisted (scripts/expected/$1.txt)"; return 1; }
}

find_odoo
setup_venv
setup_addons_path

STAGE_TIMES=$RUN_DIR/stage-times.txt
: > "$STAGE_TIMES"
rm -f "$RUN_DIR"/stage-*.pid
# At the run's end (or when it is stopped): no more background stage
# starts, every stage still running is stopped by its PID (its own EXIT
# trap stops what it started), then the cluster.
stop_stages() {
  local pidfile pid
  [ -z "${BACKGROUND_PID:-}" ] || kill -TERM "$BACKGROUND_PID" 2>/dev/null || true
  for pidfile in "$RUN_DIR"/stage-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    rm -f "$pidfile"
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}
trap 'stop_stages; pg_stop' EXIT
trap 'exit 143' TERM INT
pg_start
RUN_STARTED=$(date +%s)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

# run_stage NAME: the stage in a subshell (its PID in .run/stage-NAME.pid);
# its exit status is its result. Its own EXIT trap stops what it started.
run_stage() {
  local name=$1 started code=0
  started=$(date +%s)
  (
    echo "$BASHPID" > "$RUN_DIR/stage-$name.pid"
    trap 'exit 143' TERM INT
    # stock_suites runs stock's timed tests (a tour's step waits 10 s; a
    # request of a test that lingers into the next one breaks it): every
    # other stage yields the CPU to it when it needs it.
    [ "$name" = stock_suites ] || renice -n 5 -p "$BASHPID" > /dev/null 2>&1 || true
    status=0
    source "$ROOT/scripts/stages/$name.sh"
    exit "$status"
  ) || code=$?
  rm -f "$RUN_DIR/stage-$name.pid"
  echo "$name $started $(date +%s) $code" >> "$STAGE_TIMES"
  [ "$code" = 0 ] || digest_line "stage $name failed"
  return "$code"
}

is_background() { grep -q '^# stage: background$' "$ROOT/scripts/stages/$1.sh"; }
is_beside() { grep -q '^# stage: beside$' "$ROOT/scripts/stages/$1.sh"; }

# The database templates the chosen stages copy, installed at once, side
# by side (a stage waits for the one it needs: common.sh's db_copy).
templates=""
for stage in $STAGES; do
  case $stage in
    odoo_tests) templates+=" ${BUS_MOBILE_ODOO_DBS:-bus mail}" ;;
    live) templates+=" ${BUS_MOBILE_LIVE_FLAVORS:-bus mail} bare" ;;
    setup | nodes | bench_smoke) templates+=" bus" ;;
    metrics) templates+=" bus mail" ;;
  esac
done
if [ -n "$templates" ]; then
  # shellcheck disable=SC2046
  (db_templates $(echo "$templates" | tr ' ' '\n' | sort -u)) > "$RUN_DIR/templates.out" 2>&1 &
  TEMPLATES_PID=$!
fi

status=0
BACKGROUND=() FOREGROUND=() BESIDE=() BESIDE_PIDS=()
for stage in $STAGES; do
  if is_beside "$stage"; then BESIDE+=("$stage")
  elif is_background "$stage"; then BACKGROUND+=("$stage")
  else FOREGROUND+=("$stage"); fi
done
# The stages that mostly wait: at once, beside everything else.
for stage in "${BESIDE[@]}"; do
  log "==== stage: $stage (beside the others; output in $RUN_DIR/stage-$stage.out)"
  run_stage "$stage" > "$RUN_DIR/stage-$stage.out" 2>&1 &
  BESIDE_PIDS+=($!)
done
# The background stages, JOBS at a time, beside the foreground ones.
if [ ${#BACKGROUND[@]} != 0 ]; then
  log "==== background stages, $JOBS at a time (BUS_MOBILE_JOBS): ${BACKGROUND[*]}"
  (
    trap 'exit 143' TERM INT
    for stage in "${BACKGROUND[@]}"; do
      while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
      log "==== stage: $stage (in the background; output in $RUN_DIR/stage-$stage.out)"
      run_stage "$stage" > "$RUN_DIR/stage-$stage.out" 2>&1 &
    done
    wait
  ) &
  BACKGROUND_PID=$!
fi
for stage in "${FOREGROUND[@]}"; do
  log "==== stage: $stage"
  run_stage "$stage" || status=1
done
# stage_outputs KIND STAGE...: the output of each stage that ran apart,
# printed now; fails if one of them failed.
stage_outputs() {
  local kind=$1 stage failed=0
  shift
  for stage in "$@"; do
    log "==== stage: $stage ($kind); its output:"
    cat "$RUN_DIR/stage-$stage.out" >&2
    log "==== end of $stage's output"
    grep -q "^$stage [0-9]* [0-9]* 0$" "$STAGE_TIMES" || failed=1
  done
  return "$failed"
}
if [ -n "${BACKGROUND_PID:-}" ]; then
  log "==== waiting for the background stages"
  wait "$BACKGROUND_PID" || true
  BACKGROUND_PID=
  stage_outputs background "${BACKGROUND[@]}" || status=1
fi
if [ ${#BESIDE[@]} != 0 ]; then
  log "==== waiting for the stages beside: ${BESIDE[*]}"
  for pid in "${BESIDE_PIDS[@]}"; do wait "$pid" || true; done
  BESIDE_PIDS=()
  stage_outputs beside "${BESIDE[@]}" || status=1
fi

if [ -n "${TEMPLATES_PID:-}" ]; then
  wait "$TEMPLATES_PID" || true  # a stage that needed a failed one failed
  cat "$RUN_DIR/templates.out" >&2
fi

# Every server log of the run was read by a check.
log "audit: every server log under $RUN_DIR read by a check (scripts/server_logs.py audit)"
"$PY" "$ROOT/scripts/server_logs.py" audit "$RUN_DIR" || status=1

RUN_ENDED=$(date +%s)
log "stage times (wall; background stages ran beside the others):"
while read -r name started ended code; do
  kind=""
  is_background "$name" && kind=" (background)"
  is_beside "$name" && kind=" (beside)"
  result=passed
  [ "$code" = 0 ] || result="FAILED ($code)"
  printf '[bus_mobile]   %-14s %3dm%02ds  from +%dm%02ds  %s%s\n' "$name" \
    $(((ended - started) / 60)) $(((ended - started) % 60)) \
    $(((started - RUN_STARTED) / 60)) $(((started - RUN_STARTED) % 60)) "$result" "$kind" >&2
done < "$STAGE_TIMES"
printf '[bus_mobile]   %-14s %3dm%02ds  (load average %s at the start, %s at the end; %s cores)\n' \
  total $(((RUN_ENDED - RUN_STARTED) / 60)) $(((RUN_ENDED - RUN_STARTED) % 60)) \
  "$LOAD_AT_START" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" >&2

if [ $status != 0 ]; then
  log "FAILED"
  if [ -s "$BUS_MOBILE_FAILURE_DIGEST" ]; then
    log "what failed (details above):"
    cut -c1-600 "$BUS_MOBILE_FAILURE_DIGEST" | sed 's/^/[bus_mobile]   /' >&2
  fi
elif [ -s "$NARROWED_FILE" ]; then
  status=3
fi
if [ -s "$NARROWED_FILE" ]; then
  log "************************************************************************"
  log "NOT A FULL RUN: this run left out"
  while IFS= read -r what; do log "  - $what"; done < "$NARROWED_FILE"
  log "A narrowed run never passes (exit $status). \`make test\` without the"
  log "BUS_MOBILE_* variables above runs everything (as .ci/run does)."
  log "************************************************************************"
fi
[ $status = 0 ] && log "all checks passed"
exit $status
