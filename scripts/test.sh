#!/usr/bin/env bash
# `make test`: every stage below, on a real Odoo 18 and PostgreSQL. This is
# the one test command: `.ci/run` calls it, and so does the Docker path
# (scripts/docker-test.sh, after preparing the image).
#
# Exits 1 on any failure: a failed, skipped, deselected or missing test, or
# an ERROR or traceback a server logged that no test named. Each stage is a
# file of scripts/stages/ sourced here (they share the cluster, `status`
# and `narrowed`).
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
#   BUS_MOBILE_STOCK_SUITES="bus"           see their stage files
# BUS_MOBILE_RUN_DIR gives a run its own directory and cluster.
source "$(dirname "$0")/common.sh"

ALL_STAGES="odoo_tests lint setup live nodes metrics bench_smoke stock_suites"
STAGES=${BUS_MOBILE_STAGES:-$ALL_STAGES}
for stage in $STAGES; do
  [ -f "$ROOT/scripts/stages/$stage.sh" ] || die "unknown stage '$stage' in BUS_MOBILE_STAGES (stages: $ALL_STAGES)"
done

# What this run leaves out; a stage that skips something says it here.
NARROWED=()
narrowed() {
  NARROWED+=("$*")
  log "NOT RUN: $*"
}
for stage in $ALL_STAGES; do
  case " $STAGES " in
    *" $stage "*) ;;
    *) narrowed "stage $stage (BUS_MOBILE_STAGES=\"$STAGES\")" ;;
  esac
done

find_odoo
setup_venv
setup_addons_path
trap pg_stop EXIT
pg_start

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

status=0
for stage in $STAGES; do
  log "==== stage: $stage"
  failed_before=$status status=0
  source "$ROOT/scripts/stages/$stage.sh"
  [ "$status" = 0 ] || digest_line "stage $stage failed"
  [ "$failed_before" = 0 ] || status=$failed_before
done

if [ $status != 0 ]; then
  log "FAILED"
  if [ -s "$BUS_MOBILE_FAILURE_DIGEST" ]; then
    log "what failed (details above):"
    cut -c1-600 "$BUS_MOBILE_FAILURE_DIGEST" | sed 's/^/[bus_mobile]   /' >&2
  fi
elif [ ${#NARROWED[@]} != 0 ]; then
  status=3
fi
if [ ${#NARROWED[@]} != 0 ]; then
  log "************************************************************************"
  log "NOT A FULL RUN: this run left out"
  for what in "${NARROWED[@]}"; do log "  - $what"; done
  log "A narrowed run never passes (exit $status). \`make test\` without the"
  log "BUS_MOBILE_* variables above runs everything (as .ci/run does)."
  log "************************************************************************"
fi
[ $status = 0 ] && log "all checks passed"
exit $status
