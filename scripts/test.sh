#!/usr/bin/env bash
# `make test`: every stage below, on a real Odoo 18 and PostgreSQL. Exits
# non-zero on any failure, skip, or empty run. Each stage is a file of
# scripts/stages/ sourced here (they share the cluster and `status`).
# BUS_MOBILE_TESTS="path ..." (relative to .run/) narrows the Odoo tests
# while developing; BUS_MOBILE_RUN_DIR gives a run its own cluster.
source "$(dirname "$0")/common.sh"

find_odoo
setup_venv
setup_addons_path
trap pg_stop EXIT
pg_start

status=0
STAGES=${BUS_MOBILE_STAGES:-odoo_tests lint setup live nodes bench_smoke}
for stage in $STAGES; do
  log "==== stage: $stage"
  source "$ROOT/scripts/stages/$stage.sh"
done

[ $status = 0 ] && log "all checks passed" || log "FAILED"
exit $status
