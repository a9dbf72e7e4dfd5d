# Stage: Odoo's own bus and mail test suites with the addon installed, as
# Odoo.sh runs them, and the proof that each known failure of the list
# fails without the addon too (see scripts/stock_suites.sh). Its runs go
# side by side in the background; to overlap them with other stages, call
# stock_suites_start before those and stock_suites_wait after.
source "$ROOT/scripts/stock_suites.sh"
stock_suites_start
stock_suites_wait
