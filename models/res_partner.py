from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.channels import MOBILE_PRESENCE
from ..tools.presence import STATUSES, best_status, iso_utc

MAX_PRESENCE_PARTNERS = 1000


class ResPartner(models.Model):
    _inherit = "res.partner"

    # What the partner's watchers were last told: the combined status only
    # notifies on a real change, and updating this column serializes two
    # transactions that change the presence of one partner.
    bus_mobile_im_status = fields.Selection(
        STATUSES, string="Last Notified Presence", readonly=True, copy=False
    )

    def _compute_im_status(self):
        """Stock im_status (``bus.presence``), raised to the best status of
        the partner's mobile devices."""
        result = super()._compute_im_status()
        by_user = self.env["bus_mobile.device"]._bus_mobile_status_by_user(self.user_ids.ids)
        for partner in self:
            partner.im_status = best_status(
                partner.im_status, *(by_user.get(user.id) for user in partner.user_ids)
            )
        return result

    # ------------------------------------------------------------------
    # Presence helpers
    # ------------------------------------------------------------------

    def _bus_mobile_presence_data(self):
        """The combined presence of these partners, read fresh: the best of
        their users' devices and stock ``bus.presence`` (online > away >
        offline); ``im_partner`` for a partner without user, as in stock.

        :return: ``{partner id: {"partner_id", "im_status", "last_seen"}}``
        """
        # sudo: res.users - a watcher may see the presence of a partner whose
        # users it cannot read.
        users = self.sudo().with_context(active_test=False).user_ids
        statuses, seen = {}, {}
        # sudo: bus_mobile.device, bus.presence - status and last activity
        # are presence information, what watchers are sent anyway.
        sources = (("bus_mobile.device", "last_seen"), ("bus.presence", "last_poll"))
        for model, date_field in sources:
            for user, status, last in (
                self.env[model]
                .sudo()
                ._read_group(
                    [("user_id", "in", users.ids)], ["user_id", "status"], [f"{date_field}:max"]
                )
            ):
                statuses.setdefault(user.id, []).append(status)
                if last:
                    seen[user.id] = max(last, seen.get(user.id, last))
        result = {}
        for partner in self:
            # sudo: res.users - as above, the users behind a watched partner.
            user_ids = partner.sudo().with_context(active_test=False).user_ids.ids
            status = best_status(
                "offline" if user_ids else "im_partner",
                *(s for uid in user_ids for s in statuses.get(uid, ())),
            )
            last_seen = max((seen[uid] for uid in user_ids if uid in seen), default=None)
            result[partner.id] = {
                "partner_id": partner.id,
                "im_status": status,
                "last_seen": iso_utc(last_seen),
            }
        return result

    def _bus_mobile_sync_presence(self):
        """Store the combined status of these partners and, where it changed,
        notify their watchers: stock ``bus.bus/im_status_updated`` on the
        presence channel (so Odoo's web client follows) and
        ``bus_mobile/presence`` on its ``MOBILE_PRESENCE`` twin, which only
        mobile sockets listen to: a web client's socket gets stock's
        notifications only, as stock sends them.

        The partner row is always updated, even with the same value: under
        REPEATABLE READ, of two transactions changing one partner's presence
        the later fails with a serialization error and is retried with the
        other's changes visible, so no change is lost or told twice.
        """
        partners = self.filtered("id").sorted("id")
        if not partners:
            return
        self.env.flush_all()
        data = partners._bus_mobile_presence_data()
        self.env.cr.execute(
            "SELECT id, bus_mobile_im_status FROM res_partner WHERE id IN %s",
            [tuple(partners.ids)],
        )
        previous = dict(self.env.cr.fetchall())
        for partner in partners:
            status = data[partner.id]["im_status"]
            if status not in dict(STATUSES):
                status = "offline"
            # A concurrent change is a serialization failure: expected, retried.
            self.env.cr.execute(
                "UPDATE res_partner SET bus_mobile_im_status = %s WHERE id = %s",
                [status, partner.id],
                log_exceptions=False,
            )
        partners.invalidate_recordset(["bus_mobile_im_status", "im_status"])
        # sudo: res.users - invalidating the cached im_status of the users.
        partners.sudo().with_context(active_test=False).user_ids.invalidate_recordset(["im_status"])
        for partner in partners:
            payload = data[partner.id]
            if payload["im_status"] == (previous.get(partner.id) or "offline"):
                continue
            partner._bus_send("bus_mobile/presence", payload, subchannel=MOBILE_PRESENCE)
            partner._bus_send(
                "bus.bus/im_status_updated",
                {"im_status": payload["im_status"], "partner_id": partner.id},
                subchannel="presence",
            )

    def _bus_mobile_co_members(self, partner_ids):
        """The partners among ``partner_ids`` who share an active mobile
        channel with the current user (portal users included)."""
        if self.env.user._is_public():
            return self.browse()
        # sudo: bus_mobile.channel.member - memberships of the user's own
        # channels decide who may watch whom; nothing else is returned.
        Member = self.env["bus_mobile.channel.member"].sudo()
        my_channels = Member.search(
            [("partner_id", "=", self.env.user.partner_id.id), ("channel_id.active", "=", True)]
        ).channel_id
        if not my_channels:
            return self.browse()
        members = Member.search(
            [("channel_id", "in", my_channels.ids), ("partner_id", "in", list(partner_ids))]
        )
        return self.browse(members.partner_id.ids)

    @api.model
    def _bus_mobile_watchable_ids(self, user, partner_ids):
        """The ids among ``partner_ids`` whose presence ``user`` may still
        receive, rechecked by the mobile dispatcher at delivery time: anyone
        for internal users (stock), else co-members of an active mobile
        channel and, with ``mail``, of a Discuss channel (mail's rule)."""
        if not partner_ids or not user or user._is_public():
            return set()
        if user._is_internal():
            return set(partner_ids)
        partners = self.with_user(user)._bus_mobile_co_members(partner_ids)
        allowed = set(partners.ids)
        if "channel_ids" in self._fields and "discuss.channel" in self.env:
            # sudo: res.partner - mail's own rule (ir.websocket of mail):
            # partners sharing a Discuss channel with the user.
            shared = self.sudo().search(
                [
                    ("id", "in", list(set(partner_ids) - allowed)),
                    ("channel_ids", "in", user.partner_id.sudo().channel_ids.ids),
                ]
            )
            allowed.update(shared.ids)
        return allowed

    def _bus_mobile_presence_for_watcher(self, partner_ids):
        """``/bus_mobile/presence``: the presence of the partners among
        ``partner_ids`` the current user may watch (the same rule as the
        socket's ``odoo-presence-res.partner_<id>`` channels), in the order
        asked."""
        if not isinstance(partner_ids, list) or not all(
            isinstance(pid, int) and not isinstance(pid, bool) for pid in partner_ids
        ):
            raise ValidationError(
                self.env._("partner_ids must be a list of partner ids (integers).")
            )
        if len(partner_ids) > MAX_PRESENCE_PARTNERS:
            raise ValidationError(
                self.env._("Ask for at most %s partners at a time.", MAX_PRESENCE_PARTNERS)
            )
        channels = self.env["ir.websocket"]._build_presence_channel_list(
            [("res.partner", pid) for pid in partner_ids]
        )
        allowed = self.browse(
            {
                target.id
                for target, *_subchannel in channels
                if isinstance(target, models.BaseModel) and target._name == "res.partner"
            }
        )
        data = allowed._bus_mobile_presence_data()
        return [data[pid] for pid in dict.fromkeys(partner_ids) if pid in data]
