#!/usr/bin/env bash
# The addon's tests in the official odoo:18 image (`docker compose run --rm
# test`): exactly `make test`, i.e. scripts/test.sh with its stages and its
# failure rules, once the image looks like the machine test.sh expects:
#   - the addon is copied out of its read-only mount to a writable directory
#     (the runs write .run/, tests/js/node_modules, ...);
#   - the image installs Odoo as a Python package, its addons inside it: a
#     directory of links gives it a source tree's shape for ODOO_HOME
#     (odoo/, addons/, odoo-bin; an empty requirements.txt: the image's
#     Python already has Odoo's dependencies);
#   - the venv is the image's Python with its system site packages, plus
#     scripts/requirements-dev.txt;
#   - git and curl come from the distribution; the stages install
#     PostgreSQL, node and Chromium themselves, as root.
# The compose file's PostgreSQL service is not used: the tests run their own
# cluster, as everywhere else. The same BUS_MOBILE_* variables narrow a run,
# with the same result: a narrowed run never passes.
#
# scripts/test_runner.sh checks this script without Docker, on a stand-in
# for the image (BUS_MOBILE_DOCKER_* below point it there).
set -euo pipefail
SOURCE=${BUS_MOBILE_DOCKER_SOURCE:-/mnt/extra-addons/bus_mobile}
WORK=${BUS_MOBILE_DOCKER_WORK:-/tmp/bus_mobile-test}
PYTHON=${BUS_MOBILE_DOCKER_PYTHON:-python3}

say() { echo "[bus_mobile docker] $*" >&2; }

# Debian/Ubuntu packages for the commands that are missing.
need_commands() {
  local missing=() command
  for command in "$@"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("$command")
  done
  [ ${#missing[@]} = 0 ] && return 0
  say "installing ${missing[*]}"
  apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
}

# The checkout, writable: $WORK/bus_mobile (what git tracks and the rest of
# the mounted directory, without a previous run's .run/ and node_modules).
copy_addon() {
  rm -rf "$WORK/bus_mobile"
  mkdir -p "$WORK/bus_mobile"
  tar -C "$SOURCE" --exclude=./.run --exclude=./tests/js/node_modules -cf - . \
    | tar -C "$WORK/bus_mobile" -xf -
}

# ODOO_HOME with a source tree's shape, from the image's odoo package.
odoo_home() {
  local package home=$WORK/odoo-home
  package=$("$PYTHON" -c 'import os, odoo; print(os.path.dirname(odoo.__file__))') \
    || { say "the image's $PYTHON cannot import odoo"; exit 2; }
  rm -rf "$home"
  mkdir -p "$home"
  ln -s "$package" "$home/odoo"
  ln -s "$package/addons" "$home/addons"
  : > "$home/requirements.txt"
  cat > "$home/odoo-bin" <<'PYEOF'
#!/usr/bin/env python3
# odoo-bin of a source tree, for the image's odoo package.
__import__("os").environ["TZ"] = "UTC"
import odoo

if __name__ == "__main__":
    odoo.cli.main()
PYEOF
  chmod +x "$home/odoo-bin"
  echo "$home"
}

# A venv over the image's Python with our tools (reused when complete).
dev_venv() {
  local venv=${BUS_MOBILE_VENV:-$WORK/venv}
  if [ ! -f "$venv/.complete" ]; then
    "$PYTHON" -m venv --help >/dev/null 2>&1 || need_commands python3-venv
    say "venv with the image's packages and scripts/requirements-dev.txt in $venv"
    "$PYTHON" -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install -q -r "$WORK/bus_mobile/scripts/requirements-dev.txt"
    touch "$venv/.complete"
  fi
  echo "$venv"
}

need_commands git curl
copy_addon
ODOO_HOME=$(odoo_home)
BUS_MOBILE_VENV=$(dev_venv)
BUS_MOBILE_RUN_DIR=$WORK/bus_mobile/.run
export ODOO_HOME BUS_MOBILE_VENV BUS_MOBILE_RUN_DIR
say "make test in $WORK/bus_mobile (ODOO_HOME=$ODOO_HOME)"
cd "$WORK/bus_mobile"
exec bash scripts/test.sh
