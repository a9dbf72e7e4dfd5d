# Stage: Odoo's own bus and mail test suites with the addon installed, as
# Odoo.sh runs them, and the proof that each known failure of the list
# fails without the addon too (see scripts/stock_suites.sh). It runs last,
# in the foreground, once the live stage is done: beside the other stages
# stock's own races showed up (a tour's late /websocket request on the
# shared test cursor during the next test's setUp: 3 mail tests of
# TestMailPublicPage, in 3 of 9 clean-clone runs). Its logs are read whole
# by judge.py, which records them in the run's log ledger.
source "$ROOT/scripts/stock_suites.sh"
# Stopped early (the run ends or is interrupted): its odoo-bin runs too, by
# the PIDs of its chains and their children.
stock_suites_stop() {
  local pid children
  for pid in "${STOCK_SUITES_PIDS[@]}"; do
    children=$(pgrep -P "$pid" || true)
    kill -TERM "$pid" 2>/dev/null || true
    # shellcheck disable=SC2086
    [ -z "$children" ] || kill -TERM $children 2>/dev/null || true
  done
}
trap 'stock_suites_stop' EXIT
stock_suites_start
stock_suites_wait
STOCK_SUITES_PIDS=()
