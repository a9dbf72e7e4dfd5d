"""Copy a freshly installed database with Odoo's own duplication, as the
database manager's "Duplicate" does (``odoo.service.db.exp_duplicate_database``):
a ``CREATE DATABASE ... TEMPLATE`` copy, a new database uuid and secret,
and the filestore copied. A bare template copy would share the filestore
and the uuid with its source (and log asset errors).

    python scripts/duplicate_db.py CONF SOURCE TARGET

CONF is an Odoo configuration of the cluster (scripts/common.sh's
write_odoo_conf); TARGET must not exist.
"""

import logging
import sys

import odoo
from odoo.service import db
from odoo.tools import config


def main(conf, source, target):
    config.parse_config(["-c", conf, "--log-level=warn"])
    # The duplication is a database-manager function: allowed here, where
    # no HTTP server runs.
    config["list_db"] = True
    logging.getLogger("odoo.service.db").setLevel(logging.WARNING)
    db.exp_duplicate_database(source, target)
    odoo.sql_db.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
