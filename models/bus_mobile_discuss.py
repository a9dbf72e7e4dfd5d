from datetime import datetime

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError

from ..discuss import compose, shape
from ..tools.validation import check_choice, check_int, check_text, excerpt

# At most this many attachments per post, partners per group or invitation.
MAX_POST_ATTACHMENTS = 20
MAX_INVITED = 100
MAX_NAME_CHARS = 100
MAX_SEARCH_CHARS = 100
# A reaction is one emoji: a few code points (flags, skin tones, ZWJ).
MAX_REACTION_CHARS = 32
MAX_MUTE_MINUTES = 525600  # a year; -1 mutes until unmuted
NOTIFICATION_SETTINGS = ("all", "mentions", "no_notif")
REACTION_ACTIONS = ("add", "remove")
CHANNEL_MODEL = "discuss.channel"


def _store_class():
    # mail is optional: imported only where it is installed.
    from odoo.addons.mail.tools.discuss import Store

    return Store


class BusMobileDiscuss(models.AbstractModel):
    """Discuss for apps (doc/discuss.md): each method checks the app's
    values, finds the conversation the env user is a member of, and calls
    mail's own method, as the env user, so that mail's access rules and
    its bus notifications apply. ``mail`` is reached at run time: this
    addon does not depend on it."""

    _name = "bus_mobile.discuss"
    _description = "Discuss for Mobile Apps"

    # ------------------------------------------------------------------
    # Availability, conversations, messages
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_available(self):
        return CHANNEL_MODEL in self.env

    @api.model
    def _bus_mobile_check_available(self):
        if not self._bus_mobile_available():
            raise UserError(
                self.env._(
                    "Discuss is not available: the mail module is not installed on this database."
                )
            )

    @api.model
    def _bus_mobile_config(self):
        """What ``/bus_mobile/config`` tells apps of Discuss."""
        if not self._bus_mobile_available():
            return {"available": False, "reason": "The mail module is not installed."}
        settings = self.env["ir.config_parameter"]._bus_mobile_settings()
        return {"available": True, "upload_max_bytes": settings["discuss_upload_max_bytes"]}

    @api.model
    def _bus_mobile_channel(self, channel_id, member_required=True):
        """``(channel, my membership)`` of the conversation ``channel_id``:
        MissingError if it does not exist, AccessError if mail's rules hide
        it or (``member_required``) the env user is not a member."""
        self._bus_mobile_check_available()
        Channel = self.env[CHANNEL_MODEL]
        # sudo: discuss.channel - existence only, to say "no such" apart
        # from "not yours".
        if not channel_id or not Channel.sudo().browse(channel_id).exists():
            raise MissingError(self.env._("The conversation %s does not exist.", channel_id))
        channel = Channel.search([("id", "=", channel_id)])
        member = self.env["discuss.channel.member"].search(
            [("channel_id", "=", channel_id), ("is_self", "=", True)]
        )
        if not channel or (member_required and not member):
            raise AccessError(
                self.env._("You are not a member of the conversation %s.", channel_id)
            )
        return channel, member

    @api.model
    def _bus_mobile_message(self, message_id):
        """``(channel, message)`` of a message of a conversation the env user
        is a member of (mail's ``_get_with_access(…, "create")``, as its
        reaction and edit routes)."""
        self._bus_mobile_check_available()
        Message = self.env["mail.message"]
        # sudo: mail.message - existence and conversation only.
        message_sudo = Message.sudo().browse(message_id).exists() if message_id else Message
        if not message_sudo or message_sudo.model != CHANNEL_MODEL:
            raise MissingError(self.env._("The Discuss message %s does not exist.", message_id))
        channel, _member = self._bus_mobile_channel(message_sudo.res_id)
        message = Message._get_with_access(message_id, "create")
        if not message:
            raise AccessError(self.env._("You cannot access the message %s.", message_id))
        return channel, message

    @api.model
    def _bus_mobile_channels(self):
        """The env user's conversations, as the web client lists them."""
        self._bus_mobile_check_available()
        # As mail's web client on its first load: its Discuss settings, without
        # which mail notifies (and we push) nothing of a user's conversations.
        self.env["res.users.settings"]._find_or_create_for_user(self.env.user)
        # sudo: bus_mobile.discuss.journal - the cursor is a number.
        cursor = self.env["bus_mobile.discuss.journal"].sudo()._bus_mobile_cursor()
        channels = self.env[CHANNEL_MODEL]._get_channels_as_member()
        return {"channels": self._bus_mobile_channel_dicts(channels), "sync_cursor": cursor}

    @api.model
    def _bus_mobile_channel_dicts(self, channels):
        """``channel`` dicts, from mail's ``Store`` of the channels and of
        their last messages (as ``/mail/data`` builds it)."""
        last_messages = channels._get_last_messages()
        store = _store_class()(channels).add(last_messages, for_current_user=True)
        data = shape.StoreData(store.get_result())
        # sudo: bus_mobile.discuss.post - client_uuids of readable messages.
        uuids = (
            self.env["bus_mobile.discuss.post"].sudo()._bus_mobile_client_uuids(last_messages.ids)
        )
        # sudo: mail.message - res_id of the last messages, read above.
        last_by_channel = {m.res_id: m.id for m in last_messages.sudo()}
        partner_id = self.env.user.partner_id.id
        result = []
        for channel in channels:
            last_id = last_by_channel.get(channel.id)
            last = data.message_dict(last_id, uuids.get(last_id)) if last_id else None
            result.append(data.channel_dict(channel.id, partner_id, last))
        return result

    @api.model
    def _bus_mobile_channel_dict(self, channel):
        return self._bus_mobile_channel_dicts(channel)[0]

    @api.model
    def _bus_mobile_message_dicts(self, messages):
        """``message`` dicts (ascending ids), from mail's ``Store`` of the
        messages as ``/discuss/channel/messages`` answers it."""
        messages = messages.sorted("id")
        data = _store_class()(messages, for_current_user=True).get_result()
        # sudo: bus_mobile.discuss.post - client_uuids of readable messages.
        uuids = self.env["bus_mobile.discuss.post"].sudo()._bus_mobile_client_uuids(messages.ids)
        return shape.message_dicts(data, messages.ids, uuids)

    @api.model
    def _bus_mobile_messages(
        self, channel_id, before=None, after=None, around=None, limit=None, search_term=None
    ):
        """A page of a conversation's history (mail's ``_message_fetch``)."""
        channel, _member = self._bus_mobile_channel(channel_id)
        limit = self.env["bus_mobile.channel"]._bus_mobile_limit(limit)
        search_term = check_text(self.env, search_term, "search_term", MAX_SEARCH_CHARS)
        domain = [
            ("res_id", "=", channel.id),
            ("model", "=", CHANNEL_MODEL),
            ("message_type", "!=", "user_notification"),
        ]
        res = self.env["mail.message"]._message_fetch(
            domain,
            search_term=search_term or None,
            before=before,
            after=after,
            around=around,
            limit=limit,
        )
        messages = res.pop("messages")
        if around is None:
            messages.set_message_done()  # as mail's route: the web Inbox follows
        result = {"messages": self._bus_mobile_message_dicts(messages)}
        if "count" in res:
            result["count"] = res["count"]
        return result

    @api.model
    def _bus_mobile_sync(self, cursor, limit=None):
        """The messages of the env user's conversations journaled after
        ``cursor`` (doc/discuss.md, "Catch-up")."""
        self._bus_mobile_check_available()
        limit = self.env["bus_mobile.channel"]._bus_mobile_limit(limit)
        # sudo: bus_mobile.discuss.journal - rows of the user's conversations
        # only; the messages are then read with mail's access rules.
        Journal = self.env["bus_mobile.discuss.journal"].sudo()
        if Journal._bus_mobile_too_old(cursor):
            return {
                "messages": [],
                "cursor": Journal._bus_mobile_cursor(),
                "has_more": False,
                "reset": True,
            }
        members = self.env["discuss.channel.member"].search([("is_self", "=", True)])
        rows, next_cursor, has_more = Journal._bus_mobile_page(
            members.channel_id.ids, cursor, limit
        )
        ids = [message_id for _journal_id, message_id in rows]
        messages = self.env["mail.message"].search(
            [("id", "in", ids), ("message_type", "!=", "user_notification")]
        )
        by_id = {message["id"]: message for message in self._bus_mobile_message_dicts(messages)}
        return {
            "messages": [by_id[message_id] for message_id in ids if message_id in by_id],
            "cursor": next_cursor,
            "has_more": has_more,
            "reset": False,
        }

    # ------------------------------------------------------------------
    # Posting and changing messages
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_check_body(self, body, required=True):
        """The plain-text ``body`` (at most ``max_body_chars``); empty is
        allowed when not ``required`` (a post of attachments only)."""
        max_chars = self.env["ir.config_parameter"]._bus_mobile_settings()["max_body_chars"]
        body = check_text(self.env, body, "body", max_chars, required=True)
        if required and not body.strip():
            raise ValidationError(self.env._("The message body is empty."))
        return body

    @api.model
    def _bus_mobile_post(
        self, channel_id, body, client_uuid, partner_ids=(), attachment_ids=(), parent_id=None
    ):
        """Post the plain-text ``body`` as the env user (mail's
        ``message_post``, as the web composer does); idempotent on
        ``client_uuid`` (``bus_mobile.discuss.post``)."""
        channel, member = self._bus_mobile_channel(channel_id)
        body = self._bus_mobile_check_body(body, required=not attachment_ids)
        client_uuid = self.env["bus_mobile.message"]._bus_mobile_check_client_uuid(client_uuid)
        if len(attachment_ids) > MAX_POST_ATTACHMENTS:
            raise ValidationError(
                self.env._("A message has at most %s attachments.", MAX_POST_ATTACHMENTS)
            )
        # sudo: bus_mobile.discuss.post - the key of the env user's post.
        Post = self.env["bus_mobile.discuss.post"].sudo()
        key_id, message_id = Post._bus_mobile_claim(channel.id, member.partner_id.id, client_uuid)
        if key_id is None:
            return self._bus_mobile_posted(message_id)
        partners = self._bus_mobile_mentions(channel, partner_ids)
        attachments = self._bus_mobile_pending_attachments(attachment_ids)
        parent = self._bus_mobile_parent(channel, parent_id)
        html = compose.text_to_html(body, [(partner.id, partner.name) for partner in partners])
        # sudo: discuss.channel - as mail's /mail/message/post: the member
        # posts on a thread they may read; the author is the env user.
        message = (
            channel.with_context(temporary_id=f"{shape.TEMPORARY_ID_PREFIX}{client_uuid}")
            .sudo()
            .message_post(
                body=html,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=partners.ids,
                attachment_ids=attachments.ids,
                parent_id=parent.id or False,
            )
        )
        Post._bus_mobile_set_message(key_id, message.id)
        return self._bus_mobile_message_dicts(message.with_env(self.env))[0]

    @api.model
    def _bus_mobile_posted(self, message_id):
        """The message a post with the same key made."""
        message = self.env["mail.message"].browse(message_id).exists() if message_id else None
        if not message:
            raise MissingError(self.env._("The message posted with this client_uuid was deleted."))
        return self._bus_mobile_message_dicts(message)[0]

    @api.model
    def _bus_mobile_mentions(self, channel, partner_ids):
        """The partners to mention; for a non-internal user only members of
        the conversation (mail's ``_filter_message_post_partners``)."""
        # sudo: res.partner - existence and names of the partners named.
        partners = self.env["res.partner"].sudo().browse(list(dict.fromkeys(partner_ids)))
        missing = partners - partners.exists()
        if missing:
            raise MissingError(self.env._("These partners do not exist: %s", excerpt(missing.ids)))
        if not self.env.user._is_internal():
            # sudo: discuss.channel.member - mail filters the same way.
            members = (
                self.env["discuss.channel.member"]
                .sudo()
                .search([("channel_id", "=", channel.id), ("partner_id", "in", partners.ids)])
            )
            partners = partners & members.partner_id
        return partners

    @api.model
    def _bus_mobile_pending_attachments(self, attachment_ids):
        """The attachments to post: uploads of the env user not posted yet
        (``attachment/upload``), checked by mail's own check too."""
        Attachment = self.env["ir.attachment"]
        if not attachment_ids:
            return Attachment
        # sudo: ir.attachment - the checks below are the access check.
        attachments = Attachment.sudo().browse(list(dict.fromkeys(attachment_ids)))
        missing = attachments - attachments.exists()
        if missing:
            raise MissingError(
                self.env._("These attachments do not exist: %s", excerpt(missing.ids))
            )
        foreign = attachments.filtered(
            lambda a: a.res_model != "mail.compose.message"
            or a.res_id
            or a.create_uid != self.env.user
        )
        if foreign:
            raise AccessError(
                self.env._(
                    "These attachments are not uploads of yours waiting to be posted: %s",
                    excerpt(foreign.ids),
                )
            )
        mine = Attachment.browse(attachments.ids)
        mine._check_attachments_access([a.access_token or None for a in attachments])
        return mine

    @api.model
    def _bus_mobile_parent(self, channel, parent_id):
        """The message replied to, which must be in the same conversation."""
        Message = self.env["mail.message"]
        if parent_id is None:
            return Message
        # sudo: mail.message - a message of the member's own conversation.
        parent = Message.sudo().search(
            [("id", "=", parent_id), ("model", "=", CHANNEL_MODEL), ("res_id", "=", channel.id)]
        )
        if not parent:
            raise MissingError(
                self.env._(
                    "The message %(parent)s is not in the conversation %(channel)s.",
                    parent=parent_id,
                    channel=channel.id,
                )
            )
        return parent

    @api.model
    def _bus_mobile_own_message(self, message_id):
        """``(channel, message)`` the env user may edit: theirs, or any for
        an administrator (mail's ``_is_message_editable``)."""
        channel, message = self._bus_mobile_message(message_id)
        # sudo: mail.message - the author of a message the user can access.
        if not (message.sudo().is_current_user_or_guest_author or self.env.user._is_admin()):
            raise AccessError(self.env._("Only its author can change the message %s.", message_id))
        return channel, message

    @api.model
    def _bus_mobile_edit(self, message_id, body, partner_ids=()):
        """Replace the text (mail's ``_message_update_content``, marked
        edited); the attachments stay."""
        channel, message = self._bus_mobile_own_message(message_id)
        body = self._bus_mobile_check_body(body)
        partners = self._bus_mobile_mentions(channel, partner_ids)
        html = compose.text_to_html(body, [(partner.id, partner.name) for partner in partners])
        # sudo: mail.message - access checked above, as mail's update route.
        channel._message_update_content(
            message.sudo(), html, attachment_ids=None, partner_ids=partners.ids or None
        )
        return self._bus_mobile_message_dicts(message)[0]

    @api.model
    def _bus_mobile_delete(self, message_id):
        """Delete as the web client does: empty body, no attachments."""
        channel, message = self._bus_mobile_own_message(message_id)
        # sudo: mail.message - access checked above, as mail's update route.
        channel._message_update_content(message.sudo(), "", attachment_ids=[])
        return self._bus_mobile_message_dicts(message)[0]

    @api.model
    def _bus_mobile_react(self, message_id, content, action):
        _channel, message = self._bus_mobile_message(message_id)
        content = check_text(self.env, content, "content", MAX_REACTION_CHARS, required=True)
        if not content.strip():
            raise ValidationError(self.env._("content must be an emoji, not empty."))
        action = check_choice(self.env, action, "action", REACTION_ACTIONS)
        partner, guest = self.env["res.partner"]._get_current_persona()
        # sudo: mail.message - reactions of an accessible message, as mail's
        # reaction route.
        message.sudo()._message_reaction(content, action, partner, guest)
        return self._bus_mobile_message_dicts(message)[0]

    # ------------------------------------------------------------------
    # Reading state, typing
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_mark_read(self, channel_id, message_id):
        """Seen up to ``message_id``: mail's seen ticks and the web client's
        unread counter follow."""
        channel, member = self._bus_mobile_channel(channel_id)
        member._mark_as_read(message_id, sync=True)
        return {
            "thread": shape.thread(channel.id),
            "seen_message_id": member.seen_message_id.id or None,
            "unread_count": member.message_unread_counter,
        }

    @api.model
    def _bus_mobile_typing(self, channel_id, is_typing):
        _channel, member = self._bus_mobile_channel(channel_id)
        member._notify_typing(is_typing)

    # ------------------------------------------------------------------
    # Conversations: chat, group, members, settings
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_check_partners(self, partner_ids):
        # sudo: res.partner - existence only.
        partners = self.env["res.partner"].sudo().browse(list(dict.fromkeys(partner_ids)))
        missing = partners - partners.exists()
        if missing:
            raise MissingError(self.env._("These partners do not exist: %s", excerpt(missing.ids)))
        return partners.ids

    @api.model
    def _bus_mobile_chat(self, partner_id):
        """The direct chat with ``partner_id`` (mail's ``channel_get``)."""
        self._bus_mobile_check_available()
        self._bus_mobile_check_partners([partner_id])
        if partner_id == self.env.user.partner_id.id:
            raise ValidationError(self.env._("A chat is with someone else: partner_id is you."))
        channel = self.env[CHANNEL_MODEL].channel_get([partner_id])
        return self._bus_mobile_channel_dict(channel)

    @api.model
    def _bus_mobile_group_create(self, partner_ids, name=None):
        self._bus_mobile_check_available()
        name = check_text(self.env, name, "name", MAX_NAME_CHARS) or ""
        partner_ids = self._bus_mobile_check_partners(partner_ids)
        channel = self.env[CHANNEL_MODEL].create_group(partners_to=partner_ids, name=name.strip())
        return self._bus_mobile_channel_dict(channel)

    @api.model
    def _bus_mobile_add_members(self, channel_id, partner_ids):
        channel, _member = self._bus_mobile_channel(channel_id)
        channel.add_members(partner_ids=self._bus_mobile_check_partners(partner_ids))
        return self._bus_mobile_channel_dict(channel)

    @api.model
    def _bus_mobile_join(self, channel_id):
        """Join a conversation mail lets the env user read (a public channel)."""
        channel, _member = self._bus_mobile_channel(channel_id, member_required=False)
        channel._find_or_create_member_for_self()
        return self._bus_mobile_channel_dict(channel)

    @api.model
    def _bus_mobile_leave(self, channel_id):
        """Leave a channel or a group; hide a chat (mail's ``/leave``)."""
        channel, _member = self._bus_mobile_channel(channel_id)
        if channel.channel_type in ("channel", "group"):
            channel.action_unfollow()
        else:
            channel.channel_pin(False)
        return {"left": True, "thread": shape.thread(channel.id)}

    @api.model
    def _bus_mobile_partners(self, search, limit=None):
        """Colleagues one may chat with (mail's ``im_search``)."""
        self._bus_mobile_check_available()
        search = check_text(self.env, search, "search", MAX_SEARCH_CHARS, required=True)
        limit = self.env["bus_mobile.channel"]._bus_mobile_limit(limit)
        data = self.env["res.partner"].im_search(search, limit=limit)
        return [
            {
                "partner_id": partner["id"],
                "name": partner.get("name") or "",
                "im_status": partner.get("im_status") or "offline",
            }
            for partner in data.get("res.partner", [])
        ]

    @api.model
    def _bus_mobile_mute(self, channel_id, minutes):
        """Mute for ``minutes`` (-1: until unmuted, 0: unmute), as mail's
        ``/discuss/settings/mute``."""
        channel, member = self._bus_mobile_channel(channel_id)
        minutes = check_int(self.env, minutes, "minutes")
        if minutes != -1 and not 0 <= minutes <= MAX_MUTE_MINUTES:
            raise ValidationError(
                self.env._(
                    "minutes must be -1 (until unmuted), 0 (unmute) or up to %(max)s, "
                    "not %(value)s.",
                    max=MAX_MUTE_MINUTES,
                    value=minutes,
                )
            )
        if minutes == -1:
            member.mute_until_dt = datetime.max
        elif minutes:
            member.mute_until_dt = fields.Datetime.now() + relativedelta(minutes=minutes)
        else:
            member.mute_until_dt = False
        member._notify_mute()
        return self._bus_mobile_channel_dict(channel)

    @api.model
    def _bus_mobile_set_notifications(self, channel_id, setting):
        """Which messages notify the env user (mail's
        ``set_custom_notifications``); None: the user's default."""
        channel, member = self._bus_mobile_channel(channel_id)
        if setting is not None:
            setting = check_choice(self.env, setting, "setting", NOTIFICATION_SETTINGS)
        member.set_custom_notifications(setting or False)
        return self._bus_mobile_channel_dict(channel)

    # ------------------------------------------------------------------
    # Attachments
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_upload(self, channel_id, filename, content):
        """Store an upload for a post, as mail's ``/mail/attachment/upload``
        does for its composer (pending until posted)."""
        channel, _member = self._bus_mobile_channel(channel_id)
        if not channel.allow_public_upload and not self.env.user._is_internal():
            raise AccessError(
                self.env._("You are not allowed to upload attachments on this channel.")
            )
        vals = {"name": filename, "raw": content, "res_id": 0, "res_model": "mail.compose.message"}
        if self.env.user.share:
            # As mail: the token proves the upload is theirs at post time.
            vals["access_token"] = self.env["ir.attachment"]._generate_access_token()
        # sudo: ir.attachment - a new upload for a conversation the user is
        # a member of (mail's upload route).
        attachment = self.env["ir.attachment"].sudo().create(vals)
        attachment._post_add_create()
        return {
            "id": attachment.id,
            "name": attachment.name,
            "mimetype": attachment.mimetype,
            "size": attachment.file_size,
            # Downloadable once posted in the conversation.
            "url": None,
            "image_url": None,
        }

    @api.model
    def _bus_mobile_attachment(self, channel_id, attachment_id):
        """An attachment of a conversation the env user is a member of
        (sudo, as mail's download routes)."""
        channel, _member = self._bus_mobile_channel(channel_id)
        # sudo: ir.attachment - of a conversation the user is a member of.
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("id", "=", attachment_id),
                    ("res_id", "=", channel.id),
                    ("res_model", "=", CHANNEL_MODEL),
                ]
            )
        )
        if not attachment:
            raise MissingError(
                self.env._(
                    "The conversation %(channel)s has no attachment %(attachment)s.",
                    channel=channel.id,
                    attachment=attachment_id,
                )
            )
        return attachment

    # ------------------------------------------------------------------
    # Push (called by bus.bus when mail's new_message notification is
    # written, and by the push cron)
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_push(self, posts):
        """Queue pushes of new Discuss messages (``[(channel id, message id,
        bus id)]``) for mail's own recipients: the ``web_push`` entries of
        ``_notify_get_recipients`` (members whose setting asks for it,
        mentioned ones; never the author nor who muted it)."""
        Push = self.env["bus_mobile.push"]
        for channel_id, message_id, bus_id in posts:
            channel = self.env[CHANNEL_MODEL].browse(channel_id)
            message = self.env["mail.message"].browse(message_id)
            recipients = channel._notify_get_recipients(message, {})
            partner_ids = sorted({r["id"] for r in recipients if r.get("notif") == "web_push"})
            if partner_ids:
                Push._bus_mobile_enqueue_discuss(channel_id, message_id, bus_id, partner_ids)

    @api.model
    def _bus_mobile_push_texts(self, push_ids):
        """{push id: (conversation name, channel type, message id, plain
        body, author name)} of Discuss pushes, for the push cron."""
        if not push_ids or not self._bus_mobile_available():
            return {}
        self.env.cr.execute(
            """SELECT p.id, c.name, c.channel_type, p.discuss_message_id, m.body, author.name
                 FROM bus_mobile_push p
                 JOIN discuss_channel c ON c.id = p.discuss_channel_id
            LEFT JOIN mail_message m ON m.id = p.discuss_message_id
            LEFT JOIN res_partner author ON author.id = m.author_id
                WHERE p.id = ANY(%s)""",
            [list(push_ids)],
        )
        return {
            push_id: (name, channel_type, message_id, shape.html_to_text(body), author)
            for push_id, name, channel_type, message_id, body, author in self.env.cr.fetchall()
        }
