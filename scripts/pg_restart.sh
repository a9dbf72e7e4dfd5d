#!/usr/bin/env bash
# Restart a private PostgreSQL cluster of this run with its own pg_ctl, with
# the options pg_start gave it (pg_ctl keeps them in postmaster.opts: same
# port, socket directory and settings): $1, the cluster's data directory
# (default $RUN_DIR/pg). The fault tests' "PostgreSQL restart while sockets
# are open"; the caller re-reads the new postmaster's PID from its
# postmaster.pid. BUS_MOBILE_PG_DOWN_S: seconds it stays down between its
# stop and its start (default 0: pg_ctl restart), so that a test sees the
# outage whatever the machine's load.
source "$(dirname "$0")/common.sh"

data=${1:-$RUN_DIR/pg}
[ -f "$data/postmaster.pid" ] || die "no PostgreSQL cluster runs in $data"
bindir=$(pg_bindir)
down_s=${BUS_MOBILE_PG_DOWN_S:-0}
if [ "$down_s" != 0 ]; then
  as_pg "$bindir/pg_ctl" -D "$data" -w -t 60 stop -m fast >/dev/null
  sleep "$down_s"
fi
# On a stopped cluster, restart starts it with postmaster.opts' options
# (and says it found no server): its words are shown only if it fails.
if ! as_pg "$bindir/pg_ctl" -D "$data" -l "$data-socket/postgresql.log" -w -t 60 \
  restart -m fast > "$data-socket/pg_ctl.out" 2>&1; then
  cat "$data-socket/pg_ctl.out" >&2
  die "pg_ctl restart of $data failed"
fi
log "PostgreSQL restarted (pid $(head -1 "$data/postmaster.pid"))"
