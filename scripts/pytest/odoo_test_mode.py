"""pytest plugin for the addon's Odoo tests: import Odoo's test framework in
test mode, as ``odoo-bin --test-enable`` does.

pytest-odoo imports ``odoo.tests`` while it sets Odoo up, and it never turns
on Odoo's test mode (``--test-enable`` would also run every installed
module's at_install tests when the registry loads). ``odoo/tests/common.py``
then logs "Importing test framework" as an ERROR with a 40-line stack: a
warning meant for business code that imports it outside tests. Loaded with
``-p odoo_test_mode`` before pytest-odoo, this imports ``odoo.tests`` first,
in test mode for the import only. Nothing else changes, and every other
message, error or not, is logged as before.
"""

from odoo.tools import config

_test_enable = config["test_enable"]
config["test_enable"] = True
try:
    import odoo.tests  # noqa: F401
finally:
    config["test_enable"] = _test_enable
