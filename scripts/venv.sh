#!/usr/bin/env bash
# Create (once) and print the path of a venv holding Odoo's requirements plus
# our dev tools. Usage: scripts/venv.sh ODOO_HOME
# The venv lives outside the checkout, keyed by the requirement files, so a
# fresh clone reuses it. Override with BUS_MOBILE_VENV.
set -euo pipefail
odoo_home=$1
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3}
key=$(cat "$odoo_home/requirements.txt" "$here/requirements-dev.txt" "$here/venv.sh" \
      | sha1sum | cut -c1-10)
venv=${BUS_MOBILE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/bus_mobile/venv-$key}
if [ -f "$venv/.complete" ]; then echo "$venv"; exit 0; fi
log=$(mktemp)
{
  "$py" -m venv "$venv"
  pip=("$venv/bin/pip" install -q)
  "${pip[@]}" --upgrade pip 'setuptools<70' wheel
  # Odoo's pins, with the snags of a modern Python handled:
  #  - python-ldap needs LDAP headers and only serves auth_ldap: left out;
  #  - cbor2 5.4.2 does not build any more: 5.4.6 is API-compatible.
  grep -v -i -E '^(python-ldap|cbor2)' "$odoo_home/requirements.txt" > "$log.req"
  echo 'cbor2==5.4.6' >> "$log.req"
  "${pip[@]}" --no-build-isolation -r "$log.req"
  # The gevent worker dies at start with the newest zope packages.
  "${pip[@]}" 'zope.interface==6.1' 'zope.event==5.0'
  "${pip[@]}" -r "$here/requirements-dev.txt"
  touch "$venv/.complete"
} >"$log" 2>&1 || { echo "venv creation failed, see $log" >&2; tail -20 "$log" >&2; exit 1; }
echo "$venv"
