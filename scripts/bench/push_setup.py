# Run by scripts/bench_push.sh through `odoo-bin shell` (``env`` is given):
# PUSH_N users with one offline device each (an Expo push token; the bench
# switches tokens per provider), all members of the channel "Push bench"
# with an author, whose session id is written to PUSH_SESSION_FILE (written
# the way HttpCase.authenticate does: no password hashing).
# ruff: noqa: F821 - ``env`` is the shell's
import os

from odoo import Command, http
from odoo.service import security

count = int(os.environ["PUSH_N"])
out = os.environ["PUSH_SESSION_FILE"]
Users = env["res.users"].with_context(no_reset_password=True, tracking_disable=True)
group_user = env.ref("base.group_user")
logins = ["push_bench_author"] + [f"push_bench_{i}" for i in range(count)]
have = set(Users.search([("login", "in", logins)]).mapped("login"))
values = [
    {"name": login.replace("_", " ").title(), "login": login, "groups_id": [(6, 0, group_user.ids)]}
    for login in logins
    if login not in have
]
for start in range(0, len(values), 500):
    Users.create(values[start : start + 500])
users = Users.search([("login", "in", logins)])
author = users.filtered(lambda u: u.login == "push_bench_author")
members = users - author

Channel = env["bus_mobile.channel"]
channel = Channel.search([("name", "=", "Push bench")], limit=1)
if channel:
    missing = members.partner_id - channel.member_ids.partner_id
    channel.write({"member_ids": [Command.create({"partner_id": p.id}) for p in missing]})
else:
    channel = Channel.create(
        {
            "name": "Push bench",
            "channel_type": "private",
            "member_ids": [Command.create({"partner_id": p.id}) for p in users.partner_id],
        }
    )
# Only the bench's devices: earlier runs with a larger PUSH_N leave more.
env.cr.execute("DELETE FROM bus_mobile_device WHERE device_uuid LIKE 'push-bench-%'")
env.cr.execute(
    """INSERT INTO bus_mobile_device
           (user_id, device_uuid, platform, status, push_token, push_provider,
            create_uid, create_date, write_uid, write_date)
       SELECT u.id, 'push-bench-' || u.id, 'ios', 'offline',
              'ExponentPushToken[bench-' || u.id || ']', 'expo',
              1, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC'
         FROM res_users u WHERE u.id = ANY(%s)""",
    [members.ids],
)
env.cr.commit()

store = http.root.session_store
session = store.new()
session.update(http.get_default_session(), db=env.cr.dbname)
session.uid = author.id
session.login = author.login
session.session_token = security.compute_session_token(session, env)
session.context = {"lang": "en_US", "tz": "UTC", "uid": author.id}
store.save(session)
with open(out, "w", encoding="utf-8") as session_file:
    session_file.write(f"{session.sid} {channel.id}\n")
print(f"bench: push: {len(members)} offline devices in channel {channel.id}")
