from psycopg2 import errors as pgerrors

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.fields import Command
from odoo.osv import expression
from odoo.tools import SQL, mute_logger

from ..tools.channels import CHANNEL_NAME_PREFIX, channel_ids_from_names
from ..tools.validation import excerpt, is_storable_text

CHANNEL_TYPES = [("public", "Public"), ("private", "Private"), ("direct", "Direct")]
MAX_NAME_CHARS = 128
# Changes of these fields are announced to the members ("updated").
NOTIFIED_FIELDS = {"name", "channel_type", "active"}


def _some_ids(ids, limit=10):
    """``"1, 2, 3"``, at most ``limit`` ids and an ellipsis: an error
    message never quotes a thousand ids back."""
    text = ", ".join(map(str, ids[:limit]))
    return f"{text}, ..." if len(ids) > limit else text


class BusMobileChannel(models.Model):
    _name = "bus_mobile.channel"
    _inherit = ["bus.listener.mixin"]
    _description = "Mobile Channel"
    _order = "name, id"

    name = fields.Char(required=True)
    channel_type = fields.Selection(CHANNEL_TYPES, string="Type", required=True, default="private")
    member_ids = fields.One2many(
        "bus_mobile.channel.member", "channel_id", string="Members", copy=False
    )
    member_count = fields.Integer(compute="_compute_member_count")
    message_count = fields.Integer(compute="_compute_message_count")
    active = fields.Boolean(default=True)
    direct_key = fields.Char(
        compute="_compute_direct_key",
        store=True,
        copy=False,
        help="Partner ids of a direct channel, sorted: one direct channel per pair.",
    )

    _sql_constraints = [
        (
            "direct_key_unique",
            "UNIQUE(direct_key)",
            "There is already a direct channel between these two partners.",
        ),
    ]

    @api.depends("member_ids")
    def _compute_member_count(self):
        for channel in self:
            channel.member_count = len(channel.member_ids)

    def _compute_message_count(self):
        counts = dict(
            self.env["bus_mobile.message"]._read_group(
                [("channel_id", "in", self.ids)], ["channel_id"], ["__count"]
            )
        )
        for channel in self:
            channel.message_count = counts.get(channel, 0)

    @api.depends("channel_type", "member_ids.partner_id")
    def _compute_direct_key(self):
        for channel in self:
            partners = channel.member_ids.partner_id
            is_pair = channel.channel_type == "direct" and len(partners) == 2
            channel.direct_key = self._bus_mobile_direct_key(partners) if is_pair else False

    @api.constrains("channel_type", "member_ids")
    def _check_direct_members(self):
        for channel in self:
            if channel.channel_type == "direct" and len(channel.member_ids) != 2:
                raise ValidationError(
                    self.env._(
                        "The direct channel %(name)s must have exactly two members, not %(count)s.",
                        name=channel.name,
                        count=len(channel.member_ids),
                    )
                )

    def action_bus_mobile_view_messages(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Messages of %s", self.name),
            "res_model": "bus_mobile.message",
            "view_mode": "list,form",
            "domain": [("channel_id", "=", self.id)],
            "context": {"default_channel_id": self.id},
        }

    # ------------------------------------------------------------------
    # ORM: every change is announced to the members (bus_mobile/channel)
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        # The members created with the channel are announced by "created".
        channels = super(BusMobileChannel, self.with_context(bus_mobile_new_channel=True)).create(
            vals_list
        )
        for channel in channels:
            channel._bus_mobile_send_channel_event("created", channel.member_ids.partner_id)
        return channels.with_env(self.env)

    def write(self, vals):
        result = super().write(vals)
        if NOTIFIED_FIELDS & vals.keys():
            for channel in self:
                channel._bus_mobile_send_channel_event(
                    "updated", self.env["res.partner"], to_channel=True
                )
        return result

    def unlink(self):
        # Members are deleted by the database cascade: announce it here.
        for channel in self:
            channel._bus_mobile_send_channel_event("member_removed", channel.member_ids.partner_id)
        return super().unlink()

    def _bus_mobile_send_channel_event(self, event, partners, to_channel=False):
        """Send ``bus_mobile/channel`` to ``partners`` (their own bus
        channel) and, with ``to_channel``, once to the channel itself."""
        self.ensure_one()
        payload = {
            "event": event,
            "channel": self._bus_mobile_channel_base_dict(),
            "partner_ids": partners.ids,
        }
        if to_channel:
            self._bus_send("bus_mobile/channel", payload)
        for partner in partners:
            partner._bus_send("bus_mobile/channel", payload)

    # ------------------------------------------------------------------
    # Access: who may follow a channel live
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_channel_ids_from_names(self, names):
        """Ids of the ``bus_mobile.channel_<id>`` strings among ``names``."""
        return channel_ids_from_names(names)

    def _bus_mobile_channel_name(self):
        self.ensure_one()
        return f"{CHANNEL_NAME_PREFIX}{self.id}"

    @api.model
    def _bus_mobile_public_allowed(self, user):
        return bool(user) and user._is_internal()

    @api.model
    def _bus_mobile_subscribable(self, requested_ids):
        """Channels the env user's socket is subscribed to: every channel it
        is a member of, plus the requested ids it may follow (public ones,
        for internal users). One query, whatever the number of ids."""
        user = self.env.user
        if not user or user._is_public():
            return self.browse()
        domain = [("member_ids.partner_id", "=", user.partner_id.id)]
        if requested_ids and self._bus_mobile_public_allowed(user):
            public = [("id", "in", list(requested_ids)), ("channel_type", "=", "public")]
            domain = expression.OR([domain, public])
        return self.search(domain)

    @api.model
    def _bus_mobile_readable_ids(self, user, channel_ids):
        """The ids among ``channel_ids`` whose notifications ``user`` may
        still receive (member, or public and internal user), in one query.

        The bus calls it on every poll of a socket subscribed to mobile
        channels, so that leaving or being removed stops the notifications
        of already open sockets at once. Override to change who may listen.
        """
        if not channel_ids or not user or user._is_public():
            return set()
        allowed = [("member_ids.partner_id", "=", user.partner_id.id)]
        if self._bus_mobile_public_allowed(user):
            allowed = expression.OR([allowed, [("channel_type", "=", "public")]])
        domain = expression.AND([[("id", "in", list(channel_ids))], allowed])
        # sudo: bus_mobile.channel - the domain is the access rule itself; it
        # is evaluated for ``user``, who need not be the env user.
        return set(self.sudo().with_context(active_test=False).search(domain).ids)

    # ------------------------------------------------------------------
    # Dictionaries sent to apps
    # ------------------------------------------------------------------

    def _bus_mobile_channel_base_dict(self):
        """What every member may know of the channel (no per-user data)."""
        self.ensure_one()
        return {
            "id": self.id,
            "name": self.name,
            "channel_type": self.channel_type,
            "active": self.active,
            # sudo: bus_mobile.channel.member - the member list is shown to
            # whoever may read the channel, removed members included.
            "member_partner_ids": self.sudo().member_ids.partner_id.ids,
        }

    def _bus_mobile_channel_dicts(self):
        """Channel dicts for the env user: base dict, ``unread_count`` and
        ``last_message`` (a message dict or None)."""
        partner = self.env.user.partner_id
        unread = self._bus_mobile_unread_counts(partner)
        last_messages = self._bus_mobile_last_messages()
        result = []
        for channel in self:
            last = last_messages.get(channel.id)
            result.append(
                dict(
                    channel._bus_mobile_channel_base_dict(),
                    unread_count=unread.get(channel.id, 0),
                    last_message=last._bus_mobile_message_dict() if last else None,
                )
            )
        return result

    def _bus_mobile_unread_counts(self, partner):
        """{channel id: messages of others after ``partner``'s last read one}."""
        if not self:
            return {}
        Message = self.env["bus_mobile.message"]
        Member = self.env["bus_mobile.channel.member"]
        Message.flush_model(["channel_id", "author_id"])
        Member.flush_model(["channel_id", "partner_id", "last_read_message_id"])
        self.env.cr.execute(
            SQL(
                """SELECT msg.channel_id, COUNT(*)
                     FROM %(message)s msg
                     JOIN %(member)s mem
                       ON mem.channel_id = msg.channel_id AND mem.partner_id = %(partner)s
                    WHERE msg.channel_id IN %(channels)s
                      AND msg.id > COALESCE(mem.last_read_message_id, 0)
                      AND msg.author_id != %(partner)s
                 GROUP BY msg.channel_id""",
                message=SQL.identifier(Message._table),
                member=SQL.identifier(Member._table),
                partner=partner.id,
                channels=tuple(self.ids),
            )
        )
        return dict(self.env.cr.fetchall())

    def _bus_mobile_last_messages(self):
        """{channel id: its last message (sudo)}."""
        if not self:
            return {}
        # sudo: bus_mobile.message - last message of channels the caller reads.
        Message = self.env["bus_mobile.message"].sudo()
        groups = Message._read_group([("channel_id", "in", self.ids)], ["channel_id"], ["id:max"])
        return {channel.id: Message.browse(last_id) for channel, last_id in groups}

    # ------------------------------------------------------------------
    # Mobile API (called by controllers/channel.py, as the app's user)
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_member_channels(self, partner=None):
        """Channels ``partner`` (default: the env user's) belongs to; only
        active ones unless the context's ``active_test`` is off."""
        partner = partner or self.env.user.partner_id
        return self.search([("member_ids.partner_id", "=", partner.id)])

    @api.model
    def _bus_mobile_check_internal(self):
        if not self.env.user._is_internal():
            raise AccessError(self.env._("Only internal users can create channels or add members."))

    @api.model
    def _bus_mobile_check_name(self, name):
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(self.env._("A channel needs a name (a non-empty string)."))
        name = name.strip()
        if len(name) > MAX_NAME_CHARS or not is_storable_text(name):
            raise ValidationError(
                self.env._(
                    "A channel name has at most %s characters, no NUL and no invalid Unicode.",
                    MAX_NAME_CHARS,
                )
            )
        return name

    @api.model
    def _bus_mobile_check_partners(self, partner_ids):
        """The partners of ``partner_ids``; each must exist, be readable by
        the env user (Odoo's record rules: another company's customer is
        not) and be the partner of an internal or portal user. A partner
        the user may not read is told as one that does not exist."""
        partners = self.env["res.partner"].browse(list(dict.fromkeys(partner_ids)))
        missing = partners - partners.exists()._filtered_access("read")
        if missing:
            raise MissingError(
                self.env._("These partners do not exist: %s", _some_ids(missing.ids))
            )
        # sudo: res.users - the kind of the users behind readable partners.
        not_users = partners.sudo().filtered(
            lambda partner: not any(u._is_internal() or u._is_portal() for u in partner.user_ids)
        )
        if not_users:
            raise ValidationError(
                self.env._(
                    "Only partners of internal or portal users can be members: %s",
                    _some_ids(not_users.ids),
                )
            )
        return partners

    @api.model
    def _bus_mobile_limit(self, limit):
        """``limit`` checked against the ``page_max`` setting (None: page_max)."""
        page_max = self.env["ir.config_parameter"]._bus_mobile_settings()["page_max"]
        if limit is None:
            return page_max
        if not 1 <= limit <= page_max:
            raise ValidationError(
                self.env._(
                    "limit must be between 1 and %(page_max)s, not %(limit)s.",
                    page_max=page_max,
                    limit=excerpt(limit),
                )
            )
        return limit

    @api.model
    def _bus_mobile_create(self, name, channel_type, partner_ids):
        """Create a channel with the env user and ``partner_ids`` as members;
        a direct channel is got-or-created for the pair."""
        self._bus_mobile_check_internal()
        if not isinstance(channel_type, str) or channel_type not in dict(CHANNEL_TYPES):
            raise ValidationError(
                self.env._(
                    "channel_type must be one of %(types)s, not %(value)s.",
                    types=", ".join(dict(CHANNEL_TYPES)),
                    value=excerpt(channel_type),
                )
            )
        me = self.env.user.partner_id
        partners = self._bus_mobile_check_partners(partner_ids)
        if channel_type == "direct":
            others = partners - me
            if len(others) != 1:
                raise ValidationError(
                    self.env._(
                        "A direct channel needs exactly one other partner, not %s.", len(others)
                    )
                )
            return self._bus_mobile_get_direct(others)
        vals = {
            "name": self._bus_mobile_check_name(name),
            "channel_type": channel_type,
            "member_ids": [Command.create({"partner_id": p.id}) for p in me | partners],
        }
        # sudo: bus_mobile.channel - users create channels through this
        # checked method only (internal user, existing user partners).
        return self.sudo().create(vals).with_env(self.env)

    @api.model
    def _bus_mobile_direct_key(self, partners):
        return ",".join(str(partner_id) for partner_id in sorted(partners.ids))

    @api.model
    def _bus_mobile_get_direct(self, partner):
        """The direct channel of the env user and ``partner``, created on
        first use; the unique ``direct_key`` makes it one per pair even when
        two requests race."""
        pair = self.env.user.partner_id | partner
        key = self._bus_mobile_direct_key(pair)
        # sudo: bus_mobile.channel - the pair's channel, archived or not; the
        # caller is one of the pair.
        Channel = self.sudo().with_context(active_test=False)
        channel = Channel.search([("direct_key", "=", key)], limit=1)
        if not channel:
            vals = {
                # Read as the creator, who may read both (_bus_mobile_check_partners).
                "name": ", ".join(pair.with_env(self.env).sorted("id").mapped("name")),
                "channel_type": "direct",
                "member_ids": [Command.create({"partner_id": p.id}) for p in pair],
            }
            try:
                with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                    channel = Channel.create(vals)
                    channel.flush_recordset(["direct_key"])
            except pgerrors.UniqueViolation:
                channel = Channel.search([("direct_key", "=", key)], limit=1)
                if not channel:
                    # Committed by a concurrent request after this one began.
                    raise UserError(
                        self.env._(
                            "This conversation was created at the same moment: please retry."
                        )
                    ) from None
        if not channel.active:
            channel.active = True
        return channel.with_env(self.env)

    def _bus_mobile_member(self, partner=None):
        """The membership of ``partner`` (default: the env user's), sudo."""
        self.ensure_one()
        partner = partner or self.env.user.partner_id
        # sudo: bus_mobile.channel.member - membership test of one partner.
        return (
            self.env["bus_mobile.channel.member"]
            .sudo()
            .search([("channel_id", "=", self.id), ("partner_id", "=", partner.id)], limit=1)
        )

    def _bus_mobile_check_member(self):
        member = self._bus_mobile_member()
        if not member:
            raise AccessError(self.env._("You are not a member of the channel %s.", self.id))
        return member

    def _bus_mobile_check_active(self):
        if not self.active:
            raise UserError(self.env._("The channel %s is archived.", self.name))

    def _bus_mobile_join(self):
        self.ensure_one()
        self._bus_mobile_check_internal()
        if self.channel_type != "public":
            raise AccessError(
                self.env._(
                    "Only public channels can be joined; ask a member of %s to add you.", self.id
                )
            )
        self._bus_mobile_check_active()
        if not self._bus_mobile_member():
            # sudo: bus_mobile.channel.member - internal users join public channels.
            self.env["bus_mobile.channel.member"].sudo().create(
                {"channel_id": self.id, "partner_id": self.env.user.partner_id.id}
            )
        return self

    def _bus_mobile_leave(self):
        """Leave the channel; returns its base dict (read before leaving)."""
        self.ensure_one()
        member = self._bus_mobile_check_member()
        if self.channel_type == "direct":
            raise UserError(self.env._("You cannot leave a direct channel."))
        channel_dict = self._bus_mobile_channel_base_dict()
        channel_dict["member_partner_ids"].remove(member.partner_id.id)
        member.unlink()
        return channel_dict

    def _bus_mobile_add_members(self, partner_ids):
        self.ensure_one()
        self._bus_mobile_check_internal()
        self._bus_mobile_check_member()
        if self.channel_type == "direct":
            raise UserError(
                self.env._("A direct channel has two members: create a private channel.")
            )
        self._bus_mobile_check_active()
        partners = self._bus_mobile_check_partners(partner_ids)
        # sudo: bus_mobile.channel.member - a member adds user partners.
        Member = self.env["bus_mobile.channel.member"].sudo()
        # sudo: bus_mobile.channel.member - the current members, to skip them.
        new_partners = partners - self.sudo().member_ids.partner_id
        Member.create([{"channel_id": self.id, "partner_id": p.id} for p in new_partners])
        return self

    def _bus_mobile_post(self, body, client_uuid):
        """Post as the env user; idempotent on ``client_uuid``."""
        self.ensure_one()
        member = self._bus_mobile_check_member()
        self._bus_mobile_check_active()
        return self.env["bus_mobile.message"]._bus_mobile_post(
            self, member.partner_id, body, client_uuid
        )

    def _bus_mobile_messages(self, before_id=None, after_id=None, limit=None):
        """A page of history, ascending ids: the ``limit`` messages after
        ``after_id`` if given, else the last ones before ``before_id`` (or
        the latest ones)."""
        self.ensure_one()
        limit = self._bus_mobile_limit(limit)
        domain = [("channel_id", "=", self.id)]
        if after_id is not None:
            domain.append(("id", ">", after_id))
        if before_id is not None:
            domain.append(("id", "<", before_id))
        order = "id asc" if after_id is not None else "id desc"
        messages = self.env["bus_mobile.message"].search(domain, order=order, limit=limit)
        return messages.sorted("id")._bus_mobile_message_dicts()

    @api.model
    def _bus_mobile_sync(self, after_id=0, limit=None):
        """Every message of the env user's channels with an id above
        ``after_id``, ascending, at most ``limit``, and ``has_more``.

        Gapless: ``bus_mobile.message`` allocates ids in commit order (see
        its ``create``), so no message can later appear below an id a
        device already holds. Archived channels are included: restored, their
        skipped messages would lie below the device's ``after_id``."""
        limit = self._bus_mobile_limit(limit)
        channels = self.with_context(active_test=False)._bus_mobile_member_channels()
        messages = self.env["bus_mobile.message"].search(
            [("channel_id", "in", channels.ids), ("id", ">", after_id)],
            order="id asc",
            limit=limit + 1,
        )
        return {
            "messages": messages[:limit]._bus_mobile_message_dicts(),
            "has_more": len(messages) > limit,
        }

    def _bus_mobile_mark_read(self, message_id):
        """Move the env user's read marker forward to ``message_id``."""
        self.ensure_one()
        member = self._bus_mobile_check_member()
        # sudo: bus_mobile.message - only its channel is compared.
        message = self.env["bus_mobile.message"].sudo().browse(message_id).exists()
        if not message:
            raise MissingError(self.env._("The message %s does not exist.", message_id))
        if message.channel_id != self:
            raise ValidationError(
                self.env._(
                    "The message %(message)s is not in the channel %(channel)s.",
                    message=message_id,
                    channel=self.id,
                )
            )
        if message.id <= member.last_read_message_id.id:
            return
        member.last_read_message_id = message
        self._bus_send(
            "bus_mobile/read",
            {"channel_id": self.id, "partner_id": member.partner_id.id, "message_id": message.id},
        )

    def _bus_mobile_typing(self, is_typing):
        """Tell the channel the env user is (not) typing; nothing is stored."""
        self.ensure_one()
        member = self._bus_mobile_check_member()
        self._bus_send(
            "bus_mobile/typing",
            {"channel_id": self.id, "partner_id": member.partner_id.id, "is_typing": is_typing},
        )
