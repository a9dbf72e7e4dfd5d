#!/usr/bin/env bash
# Restart this run's private PostgreSQL cluster ($RUN_DIR/pg) with its own
# pg_ctl, with the options pg_start gave it (pg_ctl keeps them in
# postmaster.opts: same port, socket directory and settings). The fault
# tests' "PostgreSQL restart while sockets are open"; the caller re-reads
# the new postmaster's PID from $RUN_DIR/pg/postmaster.pid.
source "$(dirname "$0")/common.sh"

data=$RUN_DIR/pg
[ -f "$data/postmaster.pid" ] || die "no PostgreSQL cluster runs in $data"
bindir=$(pg_bindir)
as_pg "$bindir/pg_ctl" -D "$data" -l "$RUN_DIR/pg-socket/postgresql.log" -w -t 60 \
  restart -m "${1:-fast}" >/dev/null
log "PostgreSQL restarted (pid $(head -1 "$data/postmaster.pid"))"
