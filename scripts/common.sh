# Sourced by the scripts/*.sh scripts: find (or fetch) Odoo, the venv, and
# run a private PostgreSQL cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=${BUS_MOBILE_RUN_DIR:-$ROOT/.run}
mkdir -p "$RUN_DIR"
RUN_DIR=$(cd "$RUN_DIR" && pwd)

# Every check of a server log reads on from where the previous one stopped
# (scripts/server_logs.py's ledger); scripts/test.sh starts each run afresh.
export BUS_MOBILE_RUN_DIR=$RUN_DIR BUS_MOBILE_LOG_LEDGER=$RUN_DIR/log-ledger

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
    --stop-after-init --log-level=warn >> "$RUN_DIR/export-pot.log" 2>&1 \
    || { tail -20 "$RUN_DIR/export-pot.log" >&2; rm -rf "$copy"; die "exporting the terms failed"; }
  rm -rf "$copy"
  check_log "$RUN_DIR/export-pot.log"
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

# Start a private cluster on a free loopback port: $RUN_DIR/pg, or
# $RUN_DIR/pg-NAME for `pg_start NAME` (a stage that restarts PostgreSQL
# runs its own, so that stages beside it never see the restart). Sets
# PG_PORT, PG_PID and PG_DATA; pg_stop stops it by its PID.
pg_start() {
  local bindir data=$RUN_DIR/pg${1:+-$1} sockdir=$RUN_DIR/pg${1:+-$1}-socket
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
  PG_DATA=$data
  as_pg "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -d postgres -c \
    "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='odoo') THEN CREATE ROLE odoo LOGIN SUPERUSER PASSWORD 'odoo'; END IF; END\$\$;" >/dev/null
  log "PostgreSQL (pid $PG_PID) on 127.0.0.1:$PG_PORT, data in $data"
}

pg_stop() {
  [ -n "${PG_PID:-}" ] || return 0
  # A test may have restarted it (scripts/pg_restart.sh): stop the
  # postmaster that runs now.
  [ -f "${PG_DATA:-}/postmaster.pid" ] && PG_PID=$(head -1 "$PG_DATA/postmaster.pid")
  kill -INT "$PG_PID" 2>/dev/null || { PG_PID=; return 0; }
  for _ in $(seq 1 120); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.25; done
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
# odoo_python SCRIPT ARGS...: a script of ours that imports Odoo.
odoo_python() { PYTHONPATH="$ODOO_HOME${PYTHONPATH:+:$PYTHONPATH}" "$PY" "$@"; }

# check_log FILE [--allow REGEX]...: FILE (a server's log) holds no ERROR
# or traceback that the patterns do not name (scripts/server_logs.py, read
# on from the last check of FILE).
check_log() {
  local file=$1; shift
  "$PY" "$ROOT/scripts/server_logs.py" check "$@" "$file"
}

# drop_db CONF DB: drop database DB (its connections too) and its filestore.
drop_db() {
  local conf=$1 db=$2
  "$PY" - "$PG_PORT" "$db" <<'PYEOF'
import sys, psycopg2
cnx = psycopg2.connect(host="127.0.0.1", port=sys.argv[1], user="odoo", password="odoo", dbname="postgres")
cnx.autocommit = True
cnx.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[2])
PYEOF
  rm -rf "$(sed -n 's/^data_dir = //p' "$conf")/filestore/$db"
}

# Create database $2 with the addon (and demo data if $3 = demo, and the
# modules $4 too, e.g. "mail"). Its log ($RUN_DIR/install-$2.log) must hold
# no error, and no warning of ours.
create_db() {
  local conf=$1 db=$2 demo=${3:-} extra=${4:-}
  local args=(-c "$conf" -d "$db" -i "bus_mobile${extra:+,$extra}" --stop-after-init --log-level=warn)
  local install_log=$RUN_DIR/install-$db.log
  [ "$demo" = demo ] || args+=(--without-demo=all)
  drop_db "$conf" "$db"
  log "installing bus_mobile${extra:+ and $extra} in a new database $db"
  odoo_bin "${args[@]}" >> "$install_log" 2>&1 \
    || { tail -40 "$install_log" >&2; die "installing bus_mobile failed"; }
  check_log "$install_log" || die "installing bus_mobile logged errors (above)"
  if grep -E "(WARNING|ERROR|CRITICAL) .*(bus_mobile)" "$install_log" >&2; then
    die "installing bus_mobile logged warnings (above; full log $install_log)"
  fi
}

# Fresh databases come from templates, installed once per run and copied
# with Odoo's own duplication (scripts/duplicate_db.py): `db_copy FLAVOR DB
# CONF` makes database DB (its configuration CONF, written by
# write_odoo_conf) from FLAVOR's template:
#   bus   the addon and its dependencies only;
#   mail  the addon and mail;
#   bare  bus without the addon.
# The first stage to need a flavor installs it; stages beside it wait for
# it (a lock per flavor, held while copying: copies of one template never
# overlap). BUS_MOBILE_RUN_ID tells this run's templates from a previous
# run's (the addon may have changed since).
db_template_name() { echo "bus_mobile_template_$1"; }

db_template() {
  local flavor=$1 name conf
  name=$(db_template_name "$flavor")
  conf=$RUN_DIR/template-$flavor.conf
  if [ "$(cat "$RUN_DIR/template-$flavor.ready" 2>/dev/null)" != "${BUS_MOBILE_RUN_ID:-}:$PG_PORT" ]; then
    unset HTTP_PORT GEVENT_PORT; write_odoo_conf "$name" "$conf"; unset HTTP_PORT GEVENT_PORT
    case $flavor in
      bus) create_db "$conf" "$name" ;;
      mail) create_db "$conf" "$name" "" mail ;;
      bare)
        drop_db "$conf" "$name"
        log "installing bus (not bus_mobile) in a new database $name"
        odoo_bin -c "$conf" -d "$name" -i bus --without-demo=all --stop-after-init \
          --log-level=warn >> "$RUN_DIR/install-$name.log" 2>&1 \
          || { tail -40 "$RUN_DIR/install-$name.log" >&2; die "creating $name failed"; }
        check_log "$RUN_DIR/install-$name.log" || die "installing bus logged errors (above)"
        ;;
      *) die "unknown database flavor $flavor" ;;
    esac
    echo "${BUS_MOBILE_RUN_ID:-}:$PG_PORT" > "$RUN_DIR/template-$flavor.ready"
  fi
}

# db_templates FLAVOR...: these templates ready, the missing ones
# installed side by side.
db_templates() {
  local flavor pids=() code=0
  for flavor in "$@"; do
    ( flock 9; db_template "$flavor" ) 9> "$RUN_DIR/template-$flavor.lock" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || code=1; done
  [ "$code" = 0 ] || die "installing the database templates failed"
}

db_copy() {
  local flavor=$1 db=$2 conf=$3 copy_log=$RUN_DIR/duplicate-$2.log
  (
    flock 9
    db_template "$flavor"
    drop_db "$conf" "$db"
    log "database $db: a copy of the $flavor template (Odoo's duplication)"
    odoo_python "$ROOT/scripts/duplicate_db.py" "$RUN_DIR/template-$flavor.conf" \
      "$(db_template_name "$flavor")" "$db" >> "$copy_log" 2>&1 \
      || { tail -20 "$copy_log" >&2; die "copying the $flavor template to $db failed"; }
    check_log "$copy_log" || die "copying the $flavor template to $db logged errors (above)"
  ) 9> "$RUN_DIR/template-$flavor.lock"
}

# user_pool CONF DB COUNT: COUNT users of DB for the live tests, made in one
# batch with one password hash and open sessions (scripts/user_pool.py),
# in $RUN_DIR/user-pool-DB (BUS_MOBILE_USER_POOL of the tests).
user_pool() {
  local conf=$1 db=$2 count=$3 pool_log=$RUN_DIR/user-pool-$2.log
  odoo_python "$ROOT/scripts/user_pool.py" "$conf" "$db" "$count" "$RUN_DIR/user-pool-$db" \
    >> "$pool_log" 2>&1 || { tail -20 "$pool_log" >&2; die "making the user pool of $db failed"; }
  check_log "$pool_log" || die "making the user pool of $db logged errors (above)"
}

# nginx_stop_all PATTERN...: stop the nginx of this run whose names match
# a glob PATTERN (a test's own, left running by a killed test process), by
# their PID files, and check their logs.
nginx_stop_all() {
  local pattern pidfile name
  for pattern in "$@"; do
    for pidfile in "$RUN_DIR"/nginx-$pattern/master.pid; do
      [ -f "$pidfile" ] || continue
      name=$(basename "$(dirname "$pidfile")")
      "$PY" "$ROOT/scripts/nginx_proxy.py" stop "${name#nginx-}" || true
    done
  done
}

# apt_install PACKAGE...: Debian's packages (as root), one install at a
# time however many stages need one at once.
apt_install() {
  [ "$(id -u)" = 0 ] || { log "$* missing: apt-get install $*"; return 1; }
  (
    flock 9
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
  ) 9> "$RUN_DIR/apt.lock" >&2
}

# apt_install_no_service PACKAGE...: Debian's packages, their system
# services never started: during the install a policy-rc.d refuses every
# start (the machine's own is used if it refuses them already; else it is
# put back after). The tests run their own servers, as unprivileged users.
apt_install_no_service() {
  [ "$(id -u)" = 0 ] || { log "$* missing: apt-get install $*"; return 1; }
  local policy=/usr/sbin/policy-rc.d saved= code=0
  if [ -e "$policy" ]; then
    "$policy" "$1" start >/dev/null 2>&1 || [ $? != 101 ] || saved=keep
    [ -n "$saved" ] || { saved=$policy.bus_mobile-saved; mv "$policy" "$saved"; }
  fi
  if [ "$saved" != keep ]; then
    printf '#!/bin/sh\n# bus_mobile tests: no service starts while packages install\nexit 101\n' > "$policy"
    chmod 755 "$policy"
  fi
  log "installing Debian's $* (its service is not started: $policy refuses it)"
  apt_install "$@" || code=$?
  if [ "$saved" != keep ]; then
    rm -f "$policy"
    [ -z "$saved" ] || mv "$saved" "$policy"
  fi
  [ "$code" = 0 ] || log "apt-get install $* failed"
  return "$code"
}

# Debian's nginx when missing (scripts/nginx_proxy.py runs it).
nginx_need() {
  { command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null 2>&1 && return 0
  apt_install_no_service nginx
}

# db_move DB FROM_PORT: database DB of the cluster on FROM_PORT moved to
# the current one (PG_PORT), for a stage with a cluster of its own (its
# tests restart PostgreSQL); its filestore stays where it is (data_dir).
db_move() {
  local db=$1 from=$2 bindir
  bindir=$(pg_bindir)
  log "moving $db to this stage's cluster (pg_dump | pg_restore)"
  "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U odoo -d postgres -q \
    -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || die "dropping an old $db failed"
  "$bindir/pg_dump" -h 127.0.0.1 -p "$from" -U odoo -Fc -d "$db" \
    | "$bindir/pg_restore" -h 127.0.0.1 -p "$PG_PORT" -U odoo --create -d postgres \
    || die "moving $db failed"
  "$bindir/psql" -h 127.0.0.1 -p "$from" -U odoo -d postgres -q \
    -c "DROP DATABASE \"$db\" WITH (FORCE)" || die "dropping $db from the run's cluster failed"
}
