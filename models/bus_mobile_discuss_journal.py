from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

# Key of the PostgreSQL advisory lock under which journal ids are allocated
# (b"bm_discu" as a bigint); the mobile messages' lock is another key.
JOURNAL_ID_LOCK = int.from_bytes(b"bm_discu", "big")
# The highest journal id the cleanup deleted (older cursors are too old).
GC_PARAM = "bus_mobile.discuss_journal_gc_id"


class BusMobileDiscussJournal(models.Model):
    """One row per Discuss message, in commit order: the catch-up cursor of
    apps (doc/discuss.md, "Catch-up").

    mail allocates message ids when a message is created, not when its
    transaction commits: a long transaction may commit message 100 after
    message 101 is visible, and a client that advanced its cursor to 101
    would skip 100. A row here is written at the end of the posting
    transaction (when ``bus.bus`` writes mail's ``new_message``
    notification, see ``bus_bus.py``) under an advisory lock held until
    the commit, so journal ids follow commit order: whoever sees id n sees
    every id below it. Only that last instant of each post is serialized.
    """

    _name = "bus_mobile.discuss.journal"
    _description = "Discuss Message Journal"
    _order = "id"
    _log_access = False

    # Integers: discuss.channel and mail.message need not exist (bus-only).
    channel_id = fields.Integer(required=True, readonly=True, index=True)
    message_id = fields.Integer(required=True, readonly=True)
    date = fields.Datetime(readonly=True, index=True, default=fields.Datetime.now)

    @api.model
    def _bus_mobile_record(self, pairs):
        """Journal ``[(channel id, message id)]``, in the posting
        transaction (sudo), after taking the allocation lock."""
        if not pairs:
            return
        cr = self.env.cr
        cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", JOURNAL_ID_LOCK))
        cr.execute(
            SQL(
                """INSERT INTO bus_mobile_discuss_journal (channel_id, message_id, date)
                   SELECT unnest(%s::int[]), unnest(%s::int[]),
                          (now() AT TIME ZONE 'UTC')""",
                [channel_id for channel_id, _message_id in pairs],
                [message_id for _channel_id, message_id in pairs],
            )
        )

    @api.model
    def _bus_mobile_cursor(self):
        """The cursor of now: the last journal id this transaction sees (at
        least the cleanup's mark, when it deleted the last rows)."""
        self.env.cr.execute("SELECT COALESCE(max(id), 0) FROM bus_mobile_discuss_journal")
        return max(self.env.cr.fetchone()[0], self._bus_mobile_gc_id())

    @api.model
    def _bus_mobile_gc_id(self):
        # sudo: ir.config_parameter - the cleanup's mark, read by every app.
        return int(self.env["ir.config_parameter"].sudo().get_param(GC_PARAM, "0") or 0)

    @api.model
    def _bus_mobile_too_old(self, cursor):
        """Whether rows after ``cursor`` were deleted by the cleanup."""
        return cursor < self._bus_mobile_gc_id()

    @api.model
    def _bus_mobile_page(self, channel_ids, cursor, limit):
        """``(rows, cursor, has_more)``: up to ``limit`` ``(journal id,
        message id)`` of ``channel_ids`` after ``cursor``, in order, and
        where the next page starts."""
        cr = self.env.cr
        rows = []
        if channel_ids:
            cr.execute(
                SQL(
                    """SELECT id, message_id FROM bus_mobile_discuss_journal
                        WHERE id > %s AND channel_id = ANY(%s)
                     ORDER BY id LIMIT %s""",
                    cursor,
                    list(channel_ids),
                    limit + 1,
                )
            )
            rows = cr.fetchall()
        if len(rows) > limit:
            return rows[:limit], rows[limit - 1][0], True
        # Nothing more of ours: the next page starts after every row seen.
        return rows, max(self._bus_mobile_cursor(), cursor), False

    @api.autovacuum
    def _gc_journal(self):
        """Delete rows older than ``discuss_journal_days``; cursors below
        the last deleted id are then too old (``reset``)."""
        days = self.env["ir.config_parameter"]._bus_mobile_settings()["discuss_journal_days"]
        limit_date = fields.Datetime.now() - timedelta(days=days)
        self.env.cr.execute(
            "DELETE FROM bus_mobile_discuss_journal WHERE date < %s RETURNING id",
            [limit_date],
        )
        deleted = [row[0] for row in self.env.cr.fetchall()]
        if deleted:
            # sudo: ir.config_parameter - the cleanup's mark.
            params = self.env["ir.config_parameter"].sudo()
            params.set_param(GC_PARAM, max(*deleted, int(params.get_param(GC_PARAM, "0"))))
