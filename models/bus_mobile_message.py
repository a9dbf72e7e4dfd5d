from psycopg2 import errors as pgerrors

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, mute_logger
from odoo.tools.sql import create_index

from ..tools.validation import is_storable_text

# Key of the PostgreSQL advisory lock under which message ids are allocated
# (b"bus_mobi" as a bigint).
MESSAGE_ID_LOCK = int.from_bytes(b"bus_mobi", "big")
MAX_CLIENT_UUID_CHARS = 128


class BusMobileMessage(models.Model):
    _name = "bus_mobile.message"
    _description = "Mobile Message"
    _order = "id desc"
    _rec_name = "body"

    channel_id = fields.Many2one(
        "bus_mobile.channel", string="Channel", required=True, ondelete="cascade"
    )
    author_id = fields.Many2one(
        "res.partner", string="Author", required=True, ondelete="cascade", index=True
    )
    body = fields.Text(required=True)
    client_uuid = fields.Char(
        string="Client UUID",
        required=True,
        copy=False,
        help="Idempotency key chosen by the app: re-posting it returns this message.",
    )

    _sql_constraints = [
        (
            "client_uuid_unique",
            "UNIQUE(channel_id, author_id, client_uuid)",
            "A message with this client_uuid was already posted by this author in this channel.",
        ),
    ]

    def init(self):
        # History pages and sync read messages by channel, in id order.
        create_index(
            self.env.cr, "bus_mobile_message_channel_id_id_idx", self._table, ["channel_id", "id"]
        )

    @api.model_create_multi
    def create(self, vals_list):
        self._bus_mobile_lock_id_allocation()
        messages = super().create(vals_list)
        for message in messages:
            # One notification per message, to the channel (not per member).
            message.channel_id._bus_send("bus_mobile/message", message._bus_mobile_message_dict())
        # Devices without a socket hear of it by push, sent after the commit.
        self.env["bus_mobile.push"]._bus_mobile_enqueue(messages)
        return messages

    def _bus_mobile_lock_id_allocation(self):
        """Allocate message ids in commit order.

        The lock is held from the INSERT to the end of the transaction, so a
        message gets its id only once every message with a smaller id is
        committed (or rolled back). A reader that sees a message therefore
        sees every message below it: ``sync`` by id has no gap. The price is
        that message inserts commit one at a time.
        """
        self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", MESSAGE_ID_LOCK))

    # ------------------------------------------------------------------
    # Posting
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_check_body(self, body):
        if not isinstance(body, str):
            raise ValidationError(self.env._("body must be a string."))
        if not body.strip():
            raise ValidationError(self.env._("The message body is empty."))
        if not is_storable_text(body):
            raise ValidationError(
                self.env._("The message body contains a NUL character or invalid Unicode.")
            )
        max_chars = self.env["ir.config_parameter"]._bus_mobile_settings()["max_body_chars"]
        if len(body) > max_chars:
            raise ValidationError(
                self.env._(
                    "The message body has %(length)s characters; the limit is %(limit)s.",
                    length=len(body),
                    limit=max_chars,
                )
            )
        return body

    @api.model
    def _bus_mobile_check_client_uuid(self, client_uuid):
        if not isinstance(client_uuid, str) or not client_uuid.strip():
            raise ValidationError(
                self.env._(
                    "client_uuid is required: a unique string chosen by the app for this message."
                )
            )
        if len(client_uuid) > MAX_CLIENT_UUID_CHARS or not is_storable_text(client_uuid):
            raise ValidationError(
                self.env._(
                    "client_uuid has at most %s characters, no NUL and no invalid Unicode.",
                    MAX_CLIENT_UUID_CHARS,
                )
            )
        return client_uuid

    @api.model
    def _bus_mobile_post(self, channel, author, body, client_uuid):
        """The message of ``author`` in ``channel`` with ``client_uuid``,
        created on first post. The caller checked the membership."""
        body = self._bus_mobile_check_body(body)
        client_uuid = self._bus_mobile_check_client_uuid(client_uuid)
        key = [
            ("channel_id", "=", channel.id),
            ("author_id", "=", author.id),
            ("client_uuid", "=", client_uuid),
        ]
        # sudo: bus_mobile.message - authors never write messages directly;
        # the channel checked that the author is a member.
        Message = self.sudo()
        message = Message.search(key, limit=1)
        if not message:
            vals = {
                "channel_id": channel.id,
                "author_id": author.id,
                "body": body,
                "client_uuid": client_uuid,
            }
            try:
                with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                    message = Message.create(vals)
            except pgerrors.UniqueViolation:
                message = Message.search(key, limit=1)
                if not message:
                    self._bus_mobile_raise_concurrent_post(channel, author, client_uuid)
        return message.with_env(self.env)

    @api.model
    def _bus_mobile_raise_concurrent_post(self, channel, author, client_uuid):
        """The same post was committed by a concurrent request after this
        transaction took its snapshot (REPEATABLE READ), so it is invisible
        here. Have PostgreSQL raise its serialization failure for that row:
        Odoo then retries the whole request with a fresh snapshot, and the
        retry returns the existing message."""
        cr = self.env.cr
        with cr.savepoint(flush=False) as savepoint, mute_logger("odoo.sql_db"):
            cr.execute(
                SQL(
                    """INSERT INTO %s (channel_id, author_id, client_uuid, body)
                       VALUES (%s, %s, %s, '')
                       ON CONFLICT (channel_id, author_id, client_uuid) DO NOTHING""",
                    SQL.identifier(self._table),
                    channel.id,
                    author.id,
                    client_uuid,
                )
            )
            # No conflict any more (the message was deleted): never keep this row.
            savepoint.rollback()
        raise UserError(self.env._("This message was posted at the same moment: please retry."))

    # ------------------------------------------------------------------
    # Message dict
    # ------------------------------------------------------------------

    def _bus_mobile_message_dict(self):
        """``{id, channel_id, author_id, author_name, body, client_uuid,
        create_date}``, create_date in ISO 8601 UTC."""
        self.ensure_one()
        return {
            "id": self.id,
            "channel_id": self.channel_id.id,
            "author_id": self.author_id.id,
            # sudo: res.partner - co-members see each other's names (portal
            # users cannot read other partners).
            "author_name": self.author_id.sudo().name,
            "body": self.body,
            "client_uuid": self.client_uuid,
            "create_date": self.create_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def _bus_mobile_message_dicts(self):
        return [message._bus_mobile_message_dict() for message in self]
