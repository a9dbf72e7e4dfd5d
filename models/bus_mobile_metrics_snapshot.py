import time

from odoo import api, fields, models
from odoo.tools import SQL

from ..metrics import collect, live

# Snapshots are kept this long (the live view's chart), then deleted.
KEEP_SECONDS = live.HISTORY_S + 60
NOTIFICATION_TYPE = "bus_mobile/metrics"


class BusMobileMetricsSnapshot(models.Model):
    """What one node counted for this database at one moment, stored every
    few seconds by the node's socket process (``metrics/publisher.py``):
    the last hour of every node, which the live view adds up. Administrators
    read them; only the server writes them."""

    _name = "bus_mobile.metrics.snapshot"
    _description = "Mobile Bus Metrics Snapshot"
    _order = "taken_at, id"
    _log_access = False

    node = fields.Char(required=True, readonly=True)
    taken_at = fields.Datetime(required=True, readonly=True, index=True)
    figures = fields.Json(readonly=True)

    @api.model
    def _bus_mobile_store(self, node, figures):
        """Store a node's snapshot, forget those past the last hour, and
        tell the administrators' live views."""
        # sudo: bus_mobile.metrics.snapshot - written by the server only.
        self.sudo().create({"node": node, "taken_at": fields.Datetime.now(), "figures": figures})
        self.env.cr.execute(
            SQL(
                "DELETE FROM bus_mobile_metrics_snapshot"
                " WHERE taken_at < (now() AT TIME ZONE 'UTC') - make_interval(secs => %s)",
                KEEP_SECONDS,
            )
        )
        admins = self.env.ref("base.group_system")
        self.env["bus.bus"]._sendone(admins, NOTIFICATION_TYPE, {"node": node})

    @api.model
    def bus_mobile_live_data(self):
        """The live view's figures: every node's latest snapshot added up,
        the last hour by minute, and the database's own figures."""
        self.check_access("read")
        horizon = time.time() - live.HISTORY_S - live.HISTORY_STEP_S
        self.env.cr.execute(
            SQL(
                "SELECT node, EXTRACT(EPOCH FROM taken_at)::float8, figures"
                " FROM bus_mobile_metrics_snapshot"
                " WHERE taken_at >= to_timestamp(%s) AT TIME ZONE 'UTC' ORDER BY taken_at",
                horizon,
            )
        )
        snapshots = self.env.cr.fetchall()
        return live.aggregate(snapshots, time.time(), collect.database_figures(self.env.cr))
