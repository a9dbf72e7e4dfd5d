from odoo import api, fields, models
from odoo.tools import SQL, mute_logger


class BusMobileDiscussPost(models.Model):
    """The idempotency key of a Discuss post from an app: mail has none.

    The key is inserted before mail's ``message_post``, in the same
    transaction. A retried post finds it and returns its message. Two posts
    of one key at once: the second INSERT waits on the unique index for
    the first transaction; once that one commits, PostgreSQL fails the
    second with a serialization error (REPEATABLE READ: the row is not in
    its snapshot), Odoo retries the request, and the retry returns the
    first message. Nothing is posted twice.
    """

    _name = "bus_mobile.discuss.post"
    _description = "Discuss Post Key"
    _order = "id desc"

    # An integer: discuss.channel need not exist (bus-only databases).
    channel_id = fields.Integer(required=True, readonly=True)
    author_id = fields.Many2one("res.partner", required=True, ondelete="cascade", readonly=True)
    client_uuid = fields.Char(required=True, readonly=True)
    message_id = fields.Integer(readonly=True, index="btree_not_null")

    _sql_constraints = [
        (
            "client_uuid_unique",
            "UNIQUE(channel_id, author_id, client_uuid)",
            "This client_uuid was already posted by this author in this conversation.",
        ),
    ]

    @api.model
    def _bus_mobile_claim(self, channel_id, author_id, client_uuid):
        """``(key id, None)`` when this post is the first with the key (the
        key is now taken), else ``(None, message id)`` of the first post."""
        cr = self.env.cr
        # A concurrent duplicate fails here with a serialization error, which
        # Odoo retries: not a bad query to log.
        with mute_logger("odoo.sql_db"):
            cr.execute(
                SQL(
                    """INSERT INTO bus_mobile_discuss_post
                           (channel_id, author_id, client_uuid,
                            create_uid, create_date, write_uid, write_date)
                       VALUES (%(channel)s, %(author)s, %(uuid)s, %(uid)s,
                               now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC')
                       ON CONFLICT (channel_id, author_id, client_uuid) DO NOTHING
                       RETURNING id""",
                    channel=channel_id,
                    author=author_id,
                    uuid=client_uuid,
                    uid=self.env.uid,
                )
            )
        row = cr.fetchone()
        if row:
            return row[0], None
        cr.execute(
            SQL(
                """SELECT message_id FROM bus_mobile_discuss_post
                    WHERE channel_id = %s AND author_id = %s AND client_uuid = %s""",
                channel_id,
                author_id,
                client_uuid,
            )
        )
        return None, cr.fetchone()[0]

    @api.model
    def _bus_mobile_set_message(self, key_id, message_id):
        self.env.cr.execute(
            "UPDATE bus_mobile_discuss_post SET message_id = %s WHERE id = %s", [message_id, key_id]
        )

    @api.model
    def _bus_mobile_client_uuids(self, message_ids):
        """{message id: client_uuid} of those posted with a key."""
        if not message_ids:
            return {}
        self.env.cr.execute(
            """SELECT message_id, client_uuid FROM bus_mobile_discuss_post
                WHERE message_id = ANY(%s)""",
            [list(message_ids)],
        )
        return dict(self.env.cr.fetchall())
