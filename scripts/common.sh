# Sourced by the scripts/*.sh scripts: find (or fetch) Odoo, the venv, and
# run a private PostgreSQL cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=${BUS_MOBILE_RUN_DIR:-$ROOT/.run}
mkdir -p "$RUN_DIR"
RUN_DIR=$(cd "$RUN_DIR" && pwd)

log() { echo "[bus_mobile] $*" >&2; }
die() { echo "bus_mobile: $*" >&2; exit 2; }

# Where Odoo 18 is looked for, and fetched to when none is found. The
# BUS_MOBILE_ODOO_* variables exist for scripts/stages/setup.sh's test of a
# fresh machine (and for a mirror of Odoo's repository).
ODOO_DEFAULT_HOME=${BUS_MOBILE_ODOO_DEFAULT_HOME:-/opt/odoo18}
ODOO_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}/bus_mobile/odoo-18.0
ODOO_GIT_URL=${BUS_MOBILE_ODOO_GIT_URL:-https://github.com/odoo/odoo}

# Odoo 18: $ODOO_HOME, else /opt/odoo18, else an importable `odoo`, else the
# clone of Odoo's 18.0 branch in the cache, made on first use.
find_odoo() {
  local home=${ODOO_HOME:-}
  if [ -z "$home" ] && [ -f "$ODOO_DEFAULT_HOME/odoo-bin" ]; then home=$ODOO_DEFAULT_HOME; fi
  if [ -z "$home" ]; then
    home=$(python3 -c 'import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))' 2>/dev/null || true)
  fi
  if [ -z "$home" ]; then
    [ -f "$ODOO_CACHE_HOME/odoo-bin" ] || fetch_odoo
    home=$ODOO_CACHE_HOME
  fi
  if [ ! -f "$home/odoo/release.py" ] || [ ! -d "$home/addons/bus" ]; then
    die "no Odoo 18 in $home: set ODOO_HOME=/path/to/odoo (an Odoo 18.0 source tree with odoo-bin), or run the tests in Docker: docker compose run --rm test"
  fi
  if ! grep -q "^version_info = (18, 0" "$home/odoo/release.py"; then
    die "ODOO_HOME=$home is not Odoo 18.0: set ODOO_HOME to an Odoo 18.0 source tree"
  fi
  ODOO_HOME=$home
  export ODOO_HOME
}

# A shallow clone of Odoo's public 18.0 branch into the cache (never into
# the checkout), with git's progress; moved in place only once complete.
fetch_odoo() {
  local partial=$ODOO_CACHE_HOME.partial
  log "no Odoo 18 found (ODOO_HOME unset): cloning Odoo's 18.0 branch from $ODOO_GIT_URL into $ODOO_CACHE_HOME (several hundred MB, once)"
  rm -rf "$partial"
  mkdir -p "$(dirname "$ODOO_CACHE_HOME")"
  if ! GIT_TERMINAL_PROMPT=0 git -c http.lowSpeedLimit=1000 -c http.lowSpeedTime=60 \
      clone --depth 1 --branch 18.0 --progress "$ODOO_GIT_URL" "$partial"; then
    rm -rf "$partial"
    die "could not clone Odoo 18.0 from $ODOO_GIT_URL (git's error above): give an Odoo 18.0 source tree with ODOO_HOME=/path/to/odoo (the directory holding odoo-bin), e.g. ODOO_HOME=/path/to/odoo make test"
  fi
  mv "$partial" "$ODOO_CACHE_HOME"
}

setup_venv() {
  VENV=$("$ROOT/scripts/venv.sh" "$ODOO_HOME")
  PY=$VENV/bin/python
  export PATH=$VENV/bin:$PATH
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The addon must be importable as odoo.addons.bus_mobile whatever the
# checkout's directory is called: expose it through a symlink.
setup_addons_path() {
  mkdir -p "$RUN_DIR/addons"
  ln -sfn "$ROOT" "$RUN_DIR/addons/bus_mobile"
  ADDONS_PATH=$ODOO_HOME/odoo/addons,$ODOO_HOME/addons,$RUN_DIR/addons
}

# Copy the checkout's tracked files (as they are in the work tree) to $1,
# e.g. to build or scan the addon without .run/, whose addons/bus_mobile
# symlink points back at the checkout.
copy_tracked() {
  mkdir -p "$1"
  git -C "$ROOT" ls-files -z | tar -C "$ROOT" --null --ignore-failed-read -T - -cf - \
    | tar -C "$1" -xf -
}

# Export the addon's terms with Odoo to $3 from database $2 (config $1).
# Odoo walks the addon's directory following symlinks: it reads a copy.
export_pot() {
  local conf=$1 db=$2 out=$3 copy
  copy=$(mktemp -d)
  copy_tracked "$copy/addons/bus_mobile"
  sed "s|^addons_path = .*|addons_path = $ODOO_HOME/odoo/addons,$ODOO_HOME/addons,$copy/addons|" \
    "$conf" > "$copy/odoo.conf"
  odoo_bin -c "$copy/odoo.conf" -d "$db" --i18n-export="$out" --modules=bus_mobile \
    --stop-after-init --log-level=warn > "$RUN_DIR/export-pot.log" 2>&1 \
    || { tail -20 "$RUN_DIR/export-pot.log" >&2; rm -rf "$copy"; die "exporting the terms failed"; }
  rm -rf "$copy"
}

# need_debian COMMAND PACKAGE...: install Debian's PACKAGEs when COMMAND is
# missing (root only, as for PostgreSQL); 1 when it is still missing.
need_debian() {
  local command=$1; shift
  command -v "$command" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    log "$command is missing: apt-get install $*"; return 1
  fi
  log "installing Debian's $* (for $command)"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; } >&2 \
    || { log "apt-get install $* failed"; return 1; }
}

# Headless Chromium for the page tests: Debian's (npm's browser downloads
# cannot reach their hosts here). Run it with --headless --no-sandbox and a
# new empty --user-data-dir.
CHROMIUM=/usr/bin/chromium
need_chromium() {
  [ -x "$CHROMIUM" ] || need_debian chromium chromium
}

pg_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  if command -v initdb >/dev/null; then dirname "$(command -v initdb)"; return; fi
  if [ "$(id -u)" = 0 ]; then
    log "installing PostgreSQL server binaries (apt-get install postgresql)"
    { apt-get update -q && apt-get install -y -q postgresql; } >&2
    pg_bindir
    return
  fi
  die "no PostgreSQL server binaries: apt-get install postgresql"
}

# Run a PostgreSQL command as the cluster's owner (postgres when root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Start a private cluster in $RUN_DIR/pg on a free loopback port.
# Sets PG_PORT and PG_PID; pg_stop stops it by that PID.
pg_start() {
  local bindir data=$RUN_DIR/pg sockdir=$RUN_DIR/pg-socket
  bindir=$(pg_bindir)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    # The postgres user must reach the data directory through our path.
    local d=$RUN_DIR
    while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
  fi
  mkdir -p "$data" "$sockdir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$data" "$sockdir"; fi
  chmod 700 "$data"
  if [ ! -f "$data/PG_VERSION" ]; then
    as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if [ -f "$data/postmaster.pid" ]; then
    # A cluster left behind by a killed run: stop it first.
    kill "$(head -1 "$data/postmaster.pid")" 2>/dev/null || true
    sleep 1; rm -f "$data/postmaster.pid"
  fi
  PG_PORT=$(free_port)
  as_pg "$bindir/pg_ctl" -D "$data" -l "$sockdir/postgresql.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $sockdir -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
  PG_PID=$(head -1 "$data/postmaster.pid")
  as_pg "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -d postgres -c \
    "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='odoo') THEN CREATE ROLE odoo LOGIN SUPERUSER PASSWORD 'odoo'; END IF; END\$\$;" >/dev/null
  log "PostgreSQL (pid $PG_PID) on 127.0.0.1:$PG_PORT, data in $data"
}

pg_stop() {
  [ -n "${PG_PID:-}" ] || return 0
  kill -INT "$PG_PID" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$PG_PID" 2>/dev/null || true
  log "PostgreSQL (pid $PG_PID) stopped"
  PG_PID=
}

# Write an Odoo configuration file for database $1 at $2; sets HTTP_PORT.
write_odoo_conf() {
  local db=$1 conf=$2
  HTTP_PORT=${HTTP_PORT:-$(free_port)}
  GEVENT_PORT=${GEVENT_PORT:-$(free_port)}
  cat > "$conf" <<CONF
[options]
addons_path = $ADDONS_PATH
data_dir = $RUN_DIR/data
db_host = 127.0.0.1
db_port = $PG_PORT
db_user = odoo
db_password = odoo
db_name = $db
dbfilter = ^$db\$
list_db = False
http_interface = 127.0.0.1
http_port = $HTTP_PORT
gevent_port = $GEVENT_PORT
admin_passwd = $(python3 -c 'import secrets; print(secrets.token_hex(16))')
CONF
}

odoo_bin() { "$PY" "$ODOO_HOME/odoo-bin" "$@"; }

# Create database $2 with the addon (and demo data if $3 = demo, and the
# modules $4 too, e.g. "mail").
create_db() {
  local conf=$1 db=$2 demo=${3:-} extra=${4:-}
  local args=(-c "$conf" -d "$db" -i "bus_mobile${extra:+,$extra}" --stop-after-init --log-level=warn)
  [ "$demo" = demo ] || args+=(--without-demo=all)
  "$PY" - "$PG_PORT" "$db" <<'PYEOF'
import sys, psycopg2
cnx = psycopg2.connect(host="127.0.0.1", port=sys.argv[1], user="odoo", password="odoo", dbname="postgres")
cnx.autocommit = True
cnx.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[2])
PYEOF
  log "installing bus_mobile${extra:+ and $extra} in a new database $db"
  odoo_bin "${args[@]}" > "$RUN_DIR/install-$db.log" 2>&1 \
    || { tail -40 "$RUN_DIR/install-$db.log" >&2; die "installing bus_mobile failed"; }
  if grep -E "(WARNING|ERROR|CRITICAL) .*(bus_mobile)" "$RUN_DIR/install-$db.log" >&2; then
    die "installing bus_mobile logged warnings (above; full log $RUN_DIR/install-$db.log)"
  fi
}

# Start Odoo in the background (extra odoo-bin args after $2), wait until it
# answers /web/health; sets ODOO_PID. odoo_stop stops it by that PID.
odoo_start() {
  local conf=$1 db=$2; shift 2
  # Not through the odoo_bin function: $! must be the Odoo process itself.
  "$PY" "$ODOO_HOME/odoo-bin" -c "$conf" -d "$db" --log-level=warn "$@" > "$RUN_DIR/odoo-$db.log" 2>&1 &
  ODOO_PID=$!
  local port
  port=$(sed -n 's/^http_port = //p' "$conf")
  for _ in $(seq 1 120); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/web/health"; then
      log "Odoo (pid $ODOO_PID) on http://127.0.0.1:$port"; return 0
    fi
    kill -0 "$ODOO_PID" 2>/dev/null || { tail -30 "$RUN_DIR/odoo-$db.log" >&2; die "Odoo exited at start"; }
    sleep 0.5
  done
  die "Odoo did not answer on port $port within 60 s (log: $RUN_DIR/odoo-$db.log)"
}

odoo_stop() {
  [ -n "${ODOO_PID:-}" ] || return 0
  kill -TERM "$ODOO_PID" 2>/dev/null || { ODOO_PID=; return 0; }
  for _ in $(seq 1 40); do kill -0 "$ODOO_PID" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$ODOO_PID" 2>/dev/null || true
  log "Odoo (pid $ODOO_PID) stopped"
  ODOO_PID=
}
