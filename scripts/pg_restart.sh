#!/usr/bin/env bash
# Restart a private PostgreSQL cluster of this run with its own pg_ctl, with
# the options pg_start gave it (pg_ctl keeps them in postmaster.opts: same
# port, socket directory and settings): $1, the cluster's data directory
# (default $RUN_DIR/pg). The fault tests' "PostgreSQL restart while sockets
# are open"; the caller re-reads the new postmaster's PID from its
# postmaster.pid.
source "$(dirname "$0")/common.sh"

data=${1:-$RUN_DIR/pg}
[ -f "$data/postmaster.pid" ] || die "no PostgreSQL cluster runs in $data"
bindir=$(pg_bindir)
as_pg "$bindir/pg_ctl" -D "$data" -l "$data-socket/postgresql.log" -w -t 60 \
  restart -m fast >/dev/null
log "PostgreSQL restarted (pid $(head -1 "$data/postmaster.pid"))"
