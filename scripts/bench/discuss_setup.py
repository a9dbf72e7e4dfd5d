# Run by scripts/bench.sh through `odoo-bin shell` (``env`` is given) on the
# database with mail: the Discuss channel of the Discuss phases, with every
# bench user as a member, and a poster (not a socket user) with an API key
# for the app's post route. Writes ``<channel id> <api key>`` to
# BENCH_DISCUSS_FILE. Run again, it adds only missing members.
# ruff: noqa: F821 - ``env`` is the shell's
import os

from odoo import Command

out = os.environ["BENCH_DISCUSS_FILE"]
Users = env["res.users"].with_context(no_reset_password=True, tracking_disable=True)
poster = Users.search([("login", "=", "bench_poster")]) or Users.create(
    {
        "name": "Bench Poster",
        "login": "bench_poster",
        "groups_id": [Command.set(env.ref("base.group_user").ids)],
    }
)
Channel = env["discuss.channel"].with_context(mail_create_nolog=True)
channel = Channel.search([("name", "=", "bench-discuss")]) or Channel.with_user(poster).create(
    {"name": "bench-discuss", "channel_type": "channel"}
)
members = Users.search([("login", "=like", "bench_user_%")])
missing = members.partner_id - channel.channel_member_ids.partner_id
for start in range(0, len(missing), 500):
    # As mail's add_members, without a "joined" line per member.
    env["discuss.channel.member"].create(
        [{"channel_id": channel.id, "partner_id": p.id} for p in missing[start : start + 500]]
    )
key = env["res.users.apikeys"].with_user(poster).sudo()._generate(None, "bench", None)
env.cr.commit()
with open(out, "w", encoding="ascii") as discuss_file:
    discuss_file.write(f"{channel.id} {key}\n")
print(f"bench: Discuss channel {channel.id} with {len(channel.channel_member_ids)} members")
