# Stage: the addon's Odoo tests (pytest-odoo --odoo-http: WebSocket tests
# really connect), on two fresh databases, as users have them:
#   bus   the addon and its dependencies only;
#   mail  with mail installed too (nearly every real database has it); the
#         mail-only tests (tests/test_discuss*.py) run here, and only here.
# Fails on any failed, skipped or deselected test, on an empty run, and on
# an ERROR or traceback the in-process server logs that the test did not
# name (scripts/pytest/server_log_check.py).
# BUS_MOBILE_ODOO_DBS="mail" (or "bus") narrows it to one database.
DB=${BUS_MOBILE_TEST_DB:-bus_mobile_test}
CONF=$RUN_DIR/test.conf
MAIL_DB=${DB}_mail
MAIL_CONF=$RUN_DIR/test-mail.conf
ODOO_DBS=${BUS_MOBILE_ODOO_DBS:-bus mail}
ODOO_LOG_LEVEL=${ODOO_TEST_LOG_LEVEL:-warn}
MAIL_ONLY_TESTS=$RUN_DIR/addons/bus_mobile/tests/test_discuss*.py
unset HTTP_PORT GEVENT_PORT
write_odoo_conf "$DB" "$CONF"
unset HTTP_PORT GEVENT_PORT
write_odoo_conf "$MAIL_DB" "$MAIL_CONF"
unset HTTP_PORT GEVENT_PORT

case " $ODOO_DBS " in *" bus "*) ;; *) narrowed "Odoo tests on the bus-only database (BUS_MOBILE_ODOO_DBS=\"$ODOO_DBS\")" ;; esac
case " $ODOO_DBS " in *" mail "*) ;; *) narrowed "Odoo tests on the mail database (BUS_MOBILE_ODOO_DBS=\"$ODOO_DBS\")" ;; esac
case $ODOO_LOG_LEVEL in
  error | critical) narrowed "server warnings with a traceback (ODOO_TEST_LOG_LEVEL=$ODOO_LOG_LEVEL hides them)" ;;
esac
[ -n "${BUS_MOBILE_TESTS:-}" ] && narrowed "Odoo tests other than BUS_MOBILE_TESTS=\"$BUS_MOBILE_TESTS\""

# Both databases install side by side; the bus one is also the database
# of the setup and bench stages.
(create_db "$CONF" "$DB") & bus_db_pid=$!
mail_db_pid=
case " $ODOO_DBS " in
  *" mail "*) (create_db "$MAIL_CONF" "$MAIL_DB" "" mail) & mail_db_pid=$! ;;
esac
wait "$bus_db_pid" || die "creating $DB failed"
[ -z "$mail_db_pid" ] || wait "$mail_db_pid" || die "creating $MAIL_DB failed"

# odoo_tests_run NAME CONF DB [pytest args]: one run; sets status=1 on failure.
odoo_tests_run() {
  local name=$1 conf=$2 db=$3; shift 3
  local report=$RUN_DIR/pytest-report-$name.txt summary
  log "Odoo tests on $db ($name; pytest-odoo --odoo-http)"
  # Run from the symlinked addon path so pytest-odoo names the modules
  # odoo.addons.bus_mobile.*; cwd is the run dir, so nothing of ours
  # shadows websocket-client's `websocket` package.
  # scripts/pytest/odoo_test_mode.py: no false "Importing test framework"
  # error; server_log_check.py: the server's errors fail their test.
  (cd "$RUN_DIR" && PYTHONPATH=$ODOO_HOME:$ROOT/scripts/pytest "$VENV/bin/pytest" \
      -p odoo_test_mode -p server_log_check -p no:cacheprovider -q -rfEs \
      --odoo-config="$conf" --odoo-database="$db" --odoo-http \
      --odoo-log-level="$ODOO_LOG_LEVEL" \
      --ignore="$RUN_DIR/addons/bus_mobile/tests/js" "$@" \
      ${BUS_MOBILE_TESTS:-"$RUN_DIR/addons/bus_mobile/tests"}) 2>&1 | tee "$report" || status=1
  digest_report "$report"
  summary=$(tail -1 "$report")
  if ! echo "$summary" | grep -q " passed"; then
    log "no test passed on $db: $summary"; status=1
  fi
  if echo "$summary" | grep -q -E "skipped|deselected"; then
    log "tests were skipped or deselected on $db, which hides failures: $summary"; status=1
  fi
}

case " $ODOO_DBS " in
  *" bus "*) odoo_tests_run bus "$CONF" "$DB" --ignore-glob="$MAIL_ONLY_TESTS" ;;
esac
case " $ODOO_DBS " in
  *" mail "*) odoo_tests_run mail "$MAIL_CONF" "$MAIL_DB" ;;
esac
