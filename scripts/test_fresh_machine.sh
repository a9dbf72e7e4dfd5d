#!/usr/bin/env bash
# What `make test` and `make serve` do on a fresh machine: ODOO_HOME unset,
# no /opt/odoo18 (BUS_MOBILE_ODOO_DEFAULT_HOME points elsewhere), no
# importable odoo (a python3 on PATH that cannot import it) and an empty
# HOME. Checks scripts/common.sh's find_odoo:
#   1. the clone of Odoo's 18.0 branch fails (an unreachable repository):
#      one line announces the clone, one line says it failed and how to give
#      ODOO_HOME, the exit code is not 0, and nothing is left in the cache;
#   2. the clone works (a local repository with a stand-in 18.0 tree): the
#      clone is in the cache and becomes ODOO_HOME, and the next run reuses
#      it without cloning.
# Needs only git and bash; prints "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() {  # check DESCRIPTION SHELL-CONDITION
  if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1" >&2; fi
}

mkdir -p "$work/bin"
printf '#!/bin/sh\nexit 1\n' > "$work/bin/python3"  # no importable odoo
chmod +x "$work/bin/python3"
fresh_find_odoo() {  # fresh_find_odoo GIT_URL: stdout+stderr in $work/out, code in $code
  env -i HOME="$work/home" PATH="$work/bin:/usr/bin:/bin" \
    BUS_MOBILE_ODOO_DEFAULT_HOME="$work/no-odoo" BUS_MOBILE_ODOO_GIT_URL="$1" \
    BUS_MOBILE_RUN_DIR="$work/run" \
    bash -c 'source "$1/scripts/common.sh"; find_odoo; echo "ODOO_HOME=$ODOO_HOME"' _ "$root" \
    > "$work/out" 2>&1
  code=$?
}
cache=$work/home/.cache/bus_mobile/odoo-18.0

# 1. The clone fails.
fresh_find_odoo "file://$work/unreachable"
cat "$work/out"
check "exit code is not 0" '[ "$code" != 0 ]'
check "one line announces the clone" \
  '[ "$(grep -c "^\[bus_mobile\] no Odoo 18 found (ODOO_HOME unset): cloning Odoo.s 18.0 branch" "$work/out")" = 1 ]'
check "the last line says the clone failed and how to give ODOO_HOME" \
  'tail -1 "$work/out" | grep -q "^bus_mobile: could not clone Odoo 18.0 from .*: give an Odoo 18.0 source tree with ODOO_HOME="'
check "nothing is left in the cache" '[ ! -e "$cache" ] && [ ! -e "$cache.partial" ]'
check "ODOO_HOME was not set" '! grep -q "^ODOO_HOME=" "$work/out"'

# 2. The clone works: a repository whose 18.0 branch looks like Odoo 18.
repo=$work/odoo-repo
mkdir -p "$repo/odoo" "$repo/addons/bus"
touch "$repo/odoo-bin" "$repo/addons/bus/__manifest__.py"
echo "version_info = (18, 0, 0, FINAL, 0, '')" > "$repo/odoo/release.py"
git -C "$repo" init -q -b 18.0
git -C "$repo" add -A
git -C "$repo" -c user.name=test -c user.email=test@example.com commit -q -m "stand-in Odoo 18.0"
fresh_find_odoo "file://$repo"
cat "$work/out"
check "the clone succeeds" '[ "$code" = 0 ]'
check "the clone is ODOO_HOME" 'grep -qx "ODOO_HOME=$cache" "$work/out"'
check "the clone is shallow" '[ "$(git -C "$cache" rev-parse --is-shallow-repository)" = true ]'
fresh_find_odoo "file://$work/unreachable"
check "the next run reuses the clone" '[ "$code" = 0 ] && ! grep -q cloning "$work/out"'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
