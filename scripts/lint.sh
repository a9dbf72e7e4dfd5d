#!/usr/bin/env bash
# `make lint`, and the lint stage of `make test`: the checks of
# .pre-commit-config.yaml run from the project's venv (pre-commit itself
# would fetch its hooks from GitHub): ruff, pylint-odoo, OCA's module and
# .po/.pot checks, and README.rst generated from readme/. Exits non-zero if
# any fails; runs them all.
source "$(dirname "$0")/common.sh"

find_odoo
setup_venv
setup_addons_path
failed=()
run() {  # run NAME COMMAND...: one check, from the checkout
  local name=$1; shift
  log "lint: $name"
  (cd "$ROOT" && "$@") || failed+=("$name")
}

run "ruff check" "$VENV/bin/ruff" check .
run "ruff format" "$VENV/bin/ruff" format --check .
# From the symlinked path: pylint-odoo reads the module's name there.
run "pylint-odoo" bash -c 'cd "$1" && "$2/bin/pylint" --rcfile="$3/.pylintrc" bus_mobile' \
  _ "$RUN_DIR/addons" "$VENV" "$ROOT"
run "oca-checks-odoo-module" "$VENV/bin/oca-checks-odoo-module" --no-verbose "$RUN_DIR/addons/bus_mobile"
run "oca-checks-po" "$VENV/bin/oca-checks-po" --no-verbose i18n/bus_mobile.pot
run "README.rst from readme/" "$PY" scripts/gen_readme.py --check

if [ ${#failed[@]} = 0 ]; then
  log "lint: all checks passed"
else
  log "lint FAILED: ${failed[*]}"; exit 1
fi
