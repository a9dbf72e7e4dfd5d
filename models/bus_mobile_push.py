import collections
import hashlib
import logging
from datetime import timedelta

import requests
from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.tools import SQL, mute_logger

from .. import metrics
from ..push import DEAD, DEFER, FAILED, RETRY, SENT, Outcome, delivery, expo, fcm
from ..push.delivery import Prepared
from ..push.message import PushMessage, conversation_data
from ..push.settings import read_settings

_logger = logging.getLogger(__name__)

STATES = [
    ("pending", "Pending"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("dead", "Dead Token"),
    ("expired", "Expired"),
    ("collapsed", "Collapsed"),
]
PROVIDERS = [("expo", "Expo"), ("fcm", "Firebase")]
RECEIPT_STATES = [
    ("pending", "Awaited"),
    ("ok", "Delivered"),
    ("error", "Error"),
    ("unknown", "Unknown"),
]
CRON_XMLID = "bus_mobile.ir_cron_bus_mobile_push_send"

# A row left in "sending" this long was claimed by a worker that died.
STALE_SENDING_S = 600
# Expo keeps receipts for a day.
RECEIPT_LIFETIME_S = 86400
MAX_RETRY_DELAY_S = 3600
DB_NOW = SQL("(clock_timestamp() AT TIME ZONE 'UTC')")


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest() if token else None


class BusMobilePush(models.Model):
    """The push outbox, and its log.

    A row is created inside the posting transaction, in one INSERT ...
    SELECT (``_bus_mobile_enqueue``), for each device that should hear of
    the message; a cron triggered by that transaction sends the rows after
    the commit. A device has at most one pending row per channel: a newer
    message updates it (``message_count``). Each row keeps its outcome.
    """

    _name = "bus_mobile.push"
    _description = "Mobile Push Notification"
    _order = "id desc"
    _rec_name = "id"

    device_id = fields.Many2one(
        "bus_mobile.device", string="Device", required=True, ondelete="cascade", readonly=True
    )
    user_id = fields.Many2one(related="device_id.user_id", string="User")
    channel_id = fields.Many2one(
        "bus_mobile.channel", string="Channel", ondelete="cascade", readonly=True
    )
    message_id = fields.Many2one(
        "bus_mobile.message",
        string="Last Message",
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    # A Discuss message's push (doc/discuss.md, "Push"): integers, as
    # discuss.channel and mail.message need not exist (bus-only databases).
    discuss_channel_id = fields.Integer("Discuss Conversation", readonly=True)
    discuss_message_id = fields.Integer("Last Discuss Message", readonly=True)
    message_count = fields.Integer("Messages", default=1, readonly=True)
    message_date = fields.Datetime("Last Message Date", readonly=True)
    bus_id = fields.Integer("Bus Notification", readonly=True)
    provider = fields.Selection(PROVIDERS, readonly=True)
    state = fields.Selection(STATES, required=True, default="pending", readonly=True)
    attempt_count = fields.Integer("Attempts", readonly=True)
    next_attempt_date = fields.Datetime(readonly=True)
    sent_date = fields.Datetime(readonly=True)
    reason = fields.Char(readonly=True, help="The provider's answer when it was not a success.")
    provider_message_id = fields.Char("Provider Id", readonly=True)
    receipt_state = fields.Selection(RECEIPT_STATES, readonly=True)
    is_test = fields.Boolean("Test Push", readonly=True)
    # Which token the push went to (a late Expo receipt must not disable a
    # token registered since); a hash: tokens are never readable.
    token_hash = fields.Char(readonly=True, groups="base.group_system")

    def init(self):
        cr = self.env.cr
        # Collapsing: ON CONFLICT of the enqueue relies on this index.
        cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS bus_mobile_push_pending_unique "
            "ON bus_mobile_push (device_id, channel_id) WHERE state = 'pending'"
        )
        cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS bus_mobile_push_discuss_pending_unique "
            "ON bus_mobile_push (device_id, discuss_channel_id) "
            "WHERE state = 'pending' AND discuss_channel_id IS NOT NULL"
        )
        cr.execute(
            "CREATE INDEX IF NOT EXISTS bus_mobile_push_due_index "
            "ON bus_mobile_push (next_attempt_date) WHERE state = 'pending'"
        )
        cr.execute(
            "CREATE INDEX IF NOT EXISTS bus_mobile_push_sending_index "
            "ON bus_mobile_push (write_date) WHERE state = 'sending'"
        )
        cr.execute(
            "CREATE INDEX IF NOT EXISTS bus_mobile_push_receipt_index "
            "ON bus_mobile_push (sent_date) WHERE receipt_state = 'pending'"
        )

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_push_settings(self):
        """The push settings (push/settings.py)."""
        # sudo: ir.config_parameter - read by the cron and by posting users.
        return read_settings(self.env["ir.config_parameter"].sudo().get_param)

    # ------------------------------------------------------------------
    # Enqueue (inside the posting transaction)
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_enqueue(self, messages):
        """Queue a push for each device that should hear of ``messages``:
        devices with a push token of the channels' members, offline or in
        the background, except the authors' and muted members' devices.
        One INSERT ... SELECT; a pending push of the same device and
        channel is updated instead (collapsing). Then the send cron is
        triggered: it runs after this transaction commits."""
        if not messages:
            return 0
        for model in ("bus_mobile.message", "bus_mobile.channel.member", "bus_mobile.device"):
            self.env[model].flush_model()
        self.env.cr.execute(
            SQL(
                """INSERT INTO bus_mobile_push AS p
                       (device_id, channel_id, message_id, message_count, message_date,
                        state, attempt_count, next_attempt_date,
                        create_uid, create_date, write_uid, write_date)
                   SELECT d.id, m.channel_id, max(m.id), count(*), %(now)s,
                          'pending', 0, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                     FROM bus_mobile_message m
                     JOIN bus_mobile_channel_member mem
                       ON mem.channel_id = m.channel_id
                      AND mem.partner_id != m.author_id
                      AND mem.muted IS NOT TRUE
                     JOIN res_users u ON u.partner_id = mem.partner_id AND u.active
                     JOIN bus_mobile_device d ON d.user_id = u.id
                    WHERE m.id = ANY(%(ids)s)
                      AND d.push_token IS NOT NULL
                      AND (d.status = 'offline'
                           OR (d.status = 'away' AND d.app_state = 'background'))
                 GROUP BY d.id, m.channel_id
                   ON CONFLICT (device_id, channel_id) WHERE state = 'pending'
                   DO UPDATE SET message_id = GREATEST(p.message_id, EXCLUDED.message_id),
                                 message_count = p.message_count + EXCLUDED.message_count,
                                 message_date = EXCLUDED.message_date,
                                 bus_id = NULL,
                                 write_uid = EXCLUDED.write_uid,
                                 write_date = EXCLUDED.write_date""",
                ids=messages.ids,
                uid=self.env.uid,
                now=DB_NOW,
            )
        )
        count = self.env.cr.rowcount
        if count:
            self.invalidate_model()
            self._bus_mobile_trigger()
        return count

    @api.model
    def _bus_mobile_enqueue_discuss(self, channel_id, message_id, bus_id, partner_ids):
        """Queue a push of a Discuss message for the devices of the users
        of ``partner_ids`` (mail's recipients, chosen by the caller) that
        are offline or in the background and have a push token; collapsed
        per device and conversation as ``_bus_mobile_enqueue`` does."""
        self.env["bus_mobile.device"].flush_model()
        self.env.cr.execute(
            SQL(
                """INSERT INTO bus_mobile_push AS p
                       (device_id, discuss_channel_id, discuss_message_id, message_count,
                        message_date, bus_id, state, attempt_count, next_attempt_date,
                        create_uid, create_date, write_uid, write_date)
                   SELECT d.id, %(channel)s, %(message)s, 1, %(now)s, %(bus)s,
                          'pending', 0, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                     FROM res_users u
                     JOIN bus_mobile_device d ON d.user_id = u.id
                    WHERE u.partner_id = ANY(%(partners)s) AND u.active
                      AND d.push_token IS NOT NULL
                      AND (d.status = 'offline'
                           OR (d.status = 'away' AND d.app_state = 'background'))
                   ON CONFLICT (device_id, discuss_channel_id)
                      WHERE state = 'pending' AND discuss_channel_id IS NOT NULL
                   DO UPDATE SET discuss_message_id = GREATEST(p.discuss_message_id,
                                                               EXCLUDED.discuss_message_id),
                                 message_count = p.message_count + 1,
                                 message_date = EXCLUDED.message_date,
                                 bus_id = EXCLUDED.bus_id,
                                 write_uid = EXCLUDED.write_uid,
                                 write_date = EXCLUDED.write_date""",
                channel=channel_id,
                message=message_id,
                bus=bus_id,
                partners=list(partner_ids),
                uid=self.env.uid,
                now=DB_NOW,
            )
        )
        count = self.env.cr.rowcount
        if count:
            self.invalidate_model()
            self._bus_mobile_trigger()
        return count

    @api.model
    def _bus_mobile_trigger(self, at=None):
        # sudo: ir.cron - posting users start the send cron (Odoo's queue
        # pattern); it runs after their commit, as its own user.
        cron = self.env.ref(CRON_XMLID, raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(at)

    @api.model
    def _bus_mobile_set_bus_ids(self, bus_ids_by_message):
        """Store the bus notification id of each message on its pending
        pushes (called when ``bus.bus`` rows are created, at commit), so
        that an app drops a push it already got over its socket."""
        if not bus_ids_by_message:
            return
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """UPDATE bus_mobile_push p SET bus_id = v.bus_id
                     FROM (SELECT unnest(%(messages)s::int[]) AS message_id,
                                  unnest(%(buses)s::int[]) AS bus_id) v
                    WHERE p.message_id = v.message_id AND p.state = 'pending'""",
                messages=list(bus_ids_by_message),
                buses=list(bus_ids_by_message.values()),
            )
        )
        self.invalidate_model(["bus_id"])

    # ------------------------------------------------------------------
    # The send cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_send(self):
        """One batch: claim due pushes (committed at once, so that posting
        transactions never wait for a provider), send them outside any
        lock, record every outcome, then fetch Expo receipts. Odoo's cron
        runner calls again while ``remaining`` is not zero; its job lock
        makes it run on one server at a time."""
        settings = self._bus_mobile_push_settings()
        # Receipts first: their request runs while this transaction holds
        # no row lock.
        self._bus_mobile_fetch_receipts(settings)
        self._bus_mobile_requeue_stale()
        self._bus_mobile_expire(settings)
        claimed = self._bus_mobile_claim(settings["push_batch_size"])
        prepared = self._bus_mobile_prepare(claimed, settings)
        # The claim is committed before any request: a collapsing post
        # never waits on these rows, and a crash leaves them "sending"
        # for _bus_mobile_requeue_stale.
        self.env.cr.commit()  # pylint: disable=invalid-commit
        outcomes = self._bus_mobile_deliver(prepared, settings)
        hashes = {item.push_id: token_hash(item.token) for item in prepared}
        self._bus_mobile_record(outcomes, hashes, settings)
        providers = {item.push_id: item.provider for item in prepared}
        metrics.push_outcomes(
            self.env.cr.dbname,
            collections.Counter((providers[i], o.state) for i, o in outcomes.items()),
        )
        remaining = self._bus_mobile_due_count()
        self.env["ir.cron"]._notify_progress(done=len(prepared), remaining=remaining)
        return len(prepared)

    @api.model
    def _bus_mobile_due_count(self):
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM bus_mobile_push "
                "WHERE state = 'pending' AND next_attempt_date <= %s",
                DB_NOW,
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _bus_mobile_expire(self, settings):
        """Drop the pending pushes older than the TTL: late is worse than never."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """UPDATE bus_mobile_push
                      SET state = 'expired', write_date = %(now)s,
                          reason = %(reason)s
                    WHERE state = 'pending'
                      AND message_date < %(now)s - make_interval(secs => %(ttl)s)""",
                now=DB_NOW,
                ttl=settings["push_ttl_s"],
                reason=f"Older than its time to live ({settings['push_ttl_s']} s): not sent.",
            )
        )
        if self.env.cr.rowcount:
            _logger.info("Push: %s expired push(es) dropped", self.env.cr.rowcount)
            self.invalidate_model()

    @api.model
    def _bus_mobile_requeue_stale(self):
        """Pushes claimed by a worker that died before recording them."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT id FROM bus_mobile_push
                    WHERE state = 'sending'
                      AND write_date < %(now)s - make_interval(secs => %(stale)s)
                    FOR NO KEY UPDATE SKIP LOCKED""",
                now=DB_NOW,
                stale=STALE_SENDING_S,
            )
        )
        stale_ids = [row[0] for row in self.env.cr.fetchall()]
        if stale_ids:
            _logger.warning("Push: %s push(es) left sending by a dead worker", len(stale_ids))
            self._bus_mobile_requeue(stale_ids)

    @api.model
    def _bus_mobile_claim(self, limit):
        """Move up to ``limit`` due pending pushes to "sending"; rows a
        concurrent transaction holds are skipped. Their ids, oldest first."""
        self.flush_model()
        # The due rows in a CTE, evaluated once: as a subquery of the FROM,
        # a nested-loop plan scans it again for each device row, and each
        # scan skips the rows this UPDATE already changed and locks the
        # next ones: more than ``limit`` rows were claimed.
        self.env.cr.execute(
            SQL(
                """WITH due AS MATERIALIZED (
                         SELECT id FROM bus_mobile_push
                          WHERE state = 'pending' AND next_attempt_date <= %(now)s
                       ORDER BY next_attempt_date, id
                          LIMIT %(limit)s
                            FOR NO KEY UPDATE SKIP LOCKED)
                   UPDATE bus_mobile_push p
                      SET state = 'sending', write_date = %(now)s,
                          provider = COALESCE(d.push_provider,
                              CASE WHEN d.push_token ~ '^Expo(nent)?PushToken\\['
                                   THEN 'expo' ELSE 'fcm' END)
                     FROM due, bus_mobile_device d
                    WHERE p.id = due.id AND d.id = p.device_id
                RETURNING p.id""",
                now=DB_NOW,
                limit=limit,
            )
        )
        ids = sorted(row[0] for row in self.env.cr.fetchall())
        self.invalidate_model()
        return ids

    @api.model
    def _bus_mobile_prepare(self, push_ids, settings):
        """``[(push id, provider, token, built request)]`` of claimed pushes;
        those that cannot be sent any more are recorded at once."""
        if not push_ids:
            return []
        self.env.cr.execute(
            SQL(
                """SELECT p.id, p.provider, d.push_token, p.channel_id, c.name, c.channel_type,
                          p.message_id, m.body, author.name, p.message_count, p.bus_id,
                          GREATEST(0, %(ttl)s - EXTRACT(EPOCH FROM %(now)s - p.message_date))::int,
                          COALESCE(owner.lang, 'en_US'), p.discuss_channel_id, d.push_project
                     FROM bus_mobile_push p
                     JOIN bus_mobile_device d ON d.id = p.device_id
                     JOIN res_users u ON u.id = d.user_id
                     JOIN res_partner owner ON owner.id = u.partner_id
                LEFT JOIN bus_mobile_channel c ON c.id = p.channel_id
                LEFT JOIN bus_mobile_message m ON m.id = p.message_id
                LEFT JOIN res_partner author ON author.id = m.author_id
                    WHERE p.id = ANY(%(ids)s)""",
                ids=push_ids,
                ttl=settings["push_ttl_s"],
                now=DB_NOW,
            )
        )
        rows = self.env.cr.fetchall()
        discuss_ids = [row[0] for row in rows if row[13]]
        # {push id: (name, type, message id, body, author)} of Discuss pushes.
        discuss = self.env["bus_mobile.discuss"]._bus_mobile_push_texts(discuss_ids)
        prepared, unsendable = [], []
        for row in rows:
            push_id, provider, token = row[:3]
            if not token:
                unsendable.append(push_id)
                continue
            message_row = row[:13]
            if push_id in discuss:  # its conversation and message are mail's
                message_row = (*row[:3], row[13], *discuss[push_id], *row[9:13])
            message = self._bus_mobile_push_message(
                message_row, settings, discuss=push_id in discuss
            )
            builder = expo.build if provider == "expo" else fcm.build
            prepared.append(Prepared(push_id, provider, token, builder(message), row[14]))
        if unsendable:
            reason = "The device has no push token any more."
            self._bus_mobile_record({i: Outcome(FAILED, reason) for i in unsendable}, {}, settings)
        return prepared

    @api.model
    def _bus_mobile_push_message(self, row, settings, discuss=False):
        """The PushMessage of a row of ``_bus_mobile_prepare``'s query
        (``discuss``: of a Discuss conversation, a chat being direct)."""
        (
            _push_id,
            _provider,
            token,
            channel_id,
            channel_name,
            channel_type,
            message_id,
            body,
            author_name,
            count,
            bus_id,
            ttl_left,
            lang,
        ) = row
        env = self.with_context(lang=lang).env
        direct = channel_type == ("chat" if discuss else "direct")
        title = (author_name if direct else channel_name) or ""
        if count > 1:
            body = (
                env._("%(count)s new messages from %(author)s", count=count, author=author_name)
                if direct
                else env._(
                    "%(count)s new messages in %(channel)s", count=count, channel=channel_name
                )
            )
        elif not direct:
            body = f"{author_name}: {body}"
        data, collapse_key = conversation_data(
            discuss=discuss,
            channel_id=channel_id,
            message_id=message_id,
            bus_id=bus_id,
            count=count,
        )
        return PushMessage(
            token=token,
            title=title,
            body=body or "",
            data=data,
            ttl_s=ttl_left,
            collapse_key=collapse_key,
            data_only=settings["push_data_only"],
        )

    # ------------------------------------------------------------------
    # Providers (outside any transaction's locks)
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_deliver(self, prepared, settings):
        """Send the prepared pushes (push/delivery.py); {push id: Outcome}."""
        db = self.env.cr.dbname
        return delivery.deliver(
            prepared, settings, lambda provider, s: metrics.push_answered(db, provider, s)
        )

    # ------------------------------------------------------------------
    # Outcomes
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_record(self, outcomes, hashes, settings):
        """Write each push's outcome ({push id: Outcome}); requeue retries
        with exponential backoff until ``push_max_attempts``; disable the
        dead tokens ({push id: hash of the token it was sent to})."""
        if not outcomes:
            return
        self.flush_model()
        self.env.cr.execute(
            "SELECT id, attempt_count FROM bus_mobile_push WHERE id = ANY(%s)", [list(outcomes)]
        )
        attempts = dict(self.env.cr.fetchall())
        rows, requeue, dead_tokens = [], [], []
        for push_id, outcome in outcomes.items():
            used = 0 if outcome.state == DEFER else 1
            count = attempts.get(push_id, 0) + used
            state, reason, delay = outcome.state, outcome.reason, 0
            if state == RETRY and count >= settings["push_max_attempts"]:
                state, reason = FAILED, f"Gave up after {count} attempts. {reason}"
            elif state == RETRY:
                delay = min(settings["push_retry_base_s"] * 2 ** (count - 1), MAX_RETRY_DELAY_S)
                delay = max(delay, min(outcome.retry_after or 0, MAX_RETRY_DELAY_S))
            if state in (RETRY, DEFER):
                requeue.append(push_id)
                state = "sending"  # until _bus_mobile_requeue
            if state == DEAD and hashes.get(push_id):
                dead_tokens.append((push_id, hashes[push_id], reason))
            rows.append(
                (
                    push_id,
                    state,
                    reason or None,
                    outcome.provider_id,
                    count,
                    delay,
                    hashes.get(push_id),
                )
            )
        self.env.cr.execute(
            SQL(
                """UPDATE bus_mobile_push p
                      SET state = v.state, reason = v.reason, attempt_count = v.attempts,
                          provider_message_id = COALESCE(v.provider_id, p.provider_message_id),
                          next_attempt_date = %(now)s + make_interval(secs => v.delay),
                          sent_date = CASE WHEN v.state = 'sent' THEN %(now)s END,
                          receipt_state = CASE
                              WHEN v.state = 'sent' AND p.provider = 'expo'
                                   AND v.provider_id IS NOT NULL THEN 'pending' END,
                          token_hash = COALESCE(v.token_hash, p.token_hash),
                          write_date = %(now)s
                     FROM (SELECT unnest(%(ids)s::int[]) AS id,
                                  unnest(%(states)s::varchar[]) AS state,
                                  unnest(%(reasons)s::varchar[]) AS reason,
                                  unnest(%(provider_ids)s::varchar[]) AS provider_id,
                                  unnest(%(attempts)s::int[]) AS attempts,
                                  unnest(%(delays)s::int[]) AS delay,
                                  unnest(%(hashes)s::varchar[]) AS token_hash) v
                    WHERE p.id = v.id""",
                now=DB_NOW,
                ids=[r[0] for r in rows],
                states=[r[1] for r in rows],
                reasons=[r[2] for r in rows],
                provider_ids=[r[3] for r in rows],
                attempts=[r[4] for r in rows],
                delays=[r[5] for r in rows],
                hashes=[r[6] for r in rows],
            )
        )
        self.invalidate_model()
        if requeue:
            self._bus_mobile_requeue(requeue)
        if dead_tokens:
            self._bus_mobile_disable_tokens(dead_tokens)
        learned = [
            (push_id, hashes[push_id], outcome.project)
            for push_id, outcome in outcomes.items()
            if outcome.project and hashes.get(push_id)
        ]
        if learned:
            self.env["bus_mobile.device"]._bus_mobile_learn_push_projects(learned)

    @api.model
    def _bus_mobile_requeue(self, push_ids):
        """Put "sending" pushes back in the queue. A push that a newer one
        of the same device and channel replaced meanwhile is folded into
        it (its count added): one pending push per device and channel."""
        cr = self.env.cr
        self.flush_model()
        cr.execute(
            """UPDATE bus_mobile_push newer
                  SET message_count = newer.message_count + old.message_count,
                      next_attempt_date = GREATEST(newer.next_attempt_date, old.next_attempt_date),
                      attempt_count = GREATEST(newer.attempt_count, old.attempt_count)
                 FROM bus_mobile_push old
                WHERE old.id = ANY(%s) AND old.state = 'sending'
                  AND newer.device_id = old.device_id
                  AND (newer.channel_id = old.channel_id
                       OR newer.discuss_channel_id = old.discuss_channel_id)
                  AND newer.state = 'pending'
            RETURNING old.id, newer.id""",
            [list(push_ids)],
        )
        folded = dict(cr.fetchall())
        for old_id, newer_id in folded.items():
            self._bus_mobile_collapse(old_id, newer_id)
        rest = [push_id for push_id in push_ids if push_id not in folded]
        try:
            with cr.savepoint(), mute_logger("odoo.sql_db"):
                self._bus_mobile_set_pending(rest)
        except pg_errors.UniqueViolation:
            # A post just queued a newer push that this transaction cannot
            # see: that one goes out, this one is folded, one by one.
            for push_id in rest:
                try:
                    with cr.savepoint(), mute_logger("odoo.sql_db"):
                        self._bus_mobile_set_pending([push_id])
                except pg_errors.UniqueViolation:
                    self._bus_mobile_collapse(push_id, None)
        self.invalidate_model()
        cr.execute(
            SQL(
                "SELECT min(next_attempt_date) FROM bus_mobile_push "
                "WHERE id = ANY(%s) AND state = 'pending'",
                list(push_ids),
            )
        )
        next_date = cr.fetchone()[0]
        if next_date:
            self._bus_mobile_trigger(max(next_date, fields.Datetime.now()))

    @api.model
    def _bus_mobile_set_pending(self, push_ids):
        if push_ids:
            self.env.cr.execute(
                "UPDATE bus_mobile_push SET state = 'pending' WHERE id = ANY(%s)", [push_ids]
            )

    @api.model
    def _bus_mobile_collapse(self, push_id, newer_id):
        reason = (
            f"Replaced by the newer push {newer_id}." if newer_id else "Replaced by a newer push."
        )
        self.env.cr.execute(
            "UPDATE bus_mobile_push SET state = 'collapsed', reason = %s WHERE id = %s",
            [reason, push_id],
        )

    @api.model
    def _bus_mobile_disable_tokens(self, dead_tokens):
        """A provider said these tokens are dead (``[(push id, token hash,
        reason)]``): clear each from its device at once, unless the app
        registered another one meanwhile, and mark the device's queued
        pushes dead."""
        Device = self.env["bus_mobile.device"]
        Device.flush_model()
        cr = self.env.cr
        device_ids = []
        for push_id, hashed, reason in dead_tokens:
            cr.execute(
                SQL(
                    """UPDATE bus_mobile_device d
                          SET push_token = NULL, push_token_disabled_date = %(now)s,
                              push_token_disabled_reason = %(reason)s
                         FROM bus_mobile_push p
                        WHERE p.id = %(push)s AND d.id = p.device_id
                          AND encode(sha256(convert_to(d.push_token, 'UTF8')), 'hex') = %(hash)s
                    RETURNING d.id""",
                    now=DB_NOW,
                    reason=reason,
                    push=push_id,
                    hash=hashed,
                )
            )
            device_ids.extend(row[0] for row in cr.fetchall())
        if device_ids:
            _logger.info("Push: token of device(s) %s disabled (dead)", device_ids)
            cr.execute(
                """UPDATE bus_mobile_push
                      SET state = 'dead', reason = 'The device token was found dead.'
                    WHERE device_id = ANY(%s) AND state = 'pending'""",
                [device_ids],
            )
        Device.invalidate_model()
        self.invalidate_model()

    # ------------------------------------------------------------------
    # Expo receipts
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_fetch_receipts(self, settings):
        """Ask Expo for the receipts of tickets older than
        ``push_receipt_delay_s``: a dead token shows up there."""
        self.flush_model()
        cr = self.env.cr
        cr.execute(
            SQL(
                """UPDATE bus_mobile_push SET receipt_state = 'unknown'
                    WHERE receipt_state = 'pending'
                      AND sent_date < %(now)s - make_interval(secs => %(lifetime)s)""",
                now=DB_NOW,
                lifetime=RECEIPT_LIFETIME_S,
            )
        )
        cr.execute(
            SQL(
                """SELECT p.id, p.provider_message_id, p.token_hash
                     FROM bus_mobile_push p
                    WHERE p.receipt_state = 'pending'
                      AND p.sent_date <= %(now)s - make_interval(secs => %(delay)s)
                 ORDER BY p.sent_date LIMIT %(limit)s""",
                now=DB_NOW,
                delay=settings["push_receipt_delay_s"],
                limit=expo.RECEIPT_BATCH_SIZE,
            )
        )
        rows = cr.fetchall()
        if not rows:
            return
        with delivery.http_session(settings) as session:
            client = delivery.expo_client(session, settings)
            try:
                receipts = client.receipts([ticket for _id, ticket, _hash in rows])
            except requests.RequestException as exc:
                _logger.info("Push: Expo receipts not fetched, next run asks again: %s", exc)
                return
        ok_ids, failed, dead_tokens = [], [], []
        for push_id, ticket, hashed in rows:
            outcome = receipts.get(ticket)
            if outcome is None:
                continue
            if outcome.state == SENT:
                ok_ids.append(push_id)
            else:
                failed.append((push_id, DEAD if outcome.state == DEAD else FAILED, outcome.reason))
                if outcome.state == DEAD and hashed:
                    dead_tokens.append((push_id, hashed, outcome.reason))
        metrics.push_receipts(
            cr.dbname,
            collections.Counter(["ok"] * len(ok_ids) + [state for _id, state, _r in failed]),
        )
        if ok_ids:
            cr.execute(
                "UPDATE bus_mobile_push SET receipt_state = 'ok' WHERE id = ANY(%s)", [ok_ids]
            )
        for push_id, state, reason in failed:
            cr.execute(
                "UPDATE bus_mobile_push SET receipt_state = 'error', state = %s, reason = %s "
                "WHERE id = %s",
                [state, reason, push_id],
            )
        self.invalidate_model()
        if dead_tokens:
            self._bus_mobile_disable_tokens(dead_tokens)

    # ------------------------------------------------------------------
    # Test push (device form) and log cleanup
    # ------------------------------------------------------------------

    @api.model
    def _bus_mobile_send_test(self, device):
        """Send a test push to ``device`` now and log it; its Outcome."""
        settings = self._bus_mobile_push_settings()
        # sudo: bus_mobile.device - administrators test the stored token,
        # which nobody reads through the ORM.
        token = device.sudo().push_token
        provider = device.push_provider or ("expo" if expo.is_expo_token(token) else "fcm")
        message = PushMessage(
            token=token,
            title=self.env._("Test push"),
            body=self.env._("Push notifications reach this device."),
            data={"type": "bus_mobile/test", "device_id": device.id},
            ttl_s=settings["push_ttl_s"],
            collapse_key="bus_mobile.test",
            data_only=settings["push_data_only"],
        )
        outcome = delivery.send_now(message, provider, settings)
        state = outcome.state if outcome.state in (SENT, DEAD) else FAILED
        # sudo: bus_mobile.push - the log is written by the server only.
        push = self.sudo().create(
            {
                "device_id": device.id,
                "provider": provider,
                "state": state,
                "is_test": True,
                "attempt_count": 1,
                "sent_date": fields.Datetime.now() if state == SENT else False,
                "reason": outcome.reason or False,
                "provider_message_id": outcome.provider_id or False,
                "message_date": fields.Datetime.now(),
                "token_hash": token_hash(token),
            }
        )
        if outcome.state == DEAD:
            self._bus_mobile_disable_tokens([(push.id, token_hash(token), outcome.reason)])
        return outcome

    @api.autovacuum
    def _gc_push_log(self):
        """Delete finished pushes older than ``push_log_days``."""
        days = self._bus_mobile_push_settings()["push_log_days"]
        limit_date = fields.Datetime.now() - timedelta(days=days)
        self.env.cr.execute(
            """DELETE FROM bus_mobile_push
                WHERE state NOT IN ('pending', 'sending') AND write_date < %s""",
            [limit_date],
        )
        self.invalidate_model()
