#!/usr/bin/env bash
# `make readme`: README.rst from readme/*.md (scripts/gen_readme.py, with the
# venv's pandoc).
source "$(dirname "$0")/common.sh"

find_odoo
setup_venv
"$PY" "$ROOT/scripts/gen_readme.py"
log "wrote README.rst from readme/"
