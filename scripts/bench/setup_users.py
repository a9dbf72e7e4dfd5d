# Run by scripts/bench.sh through `odoo-bin shell` (``env`` is given): create
# BENCH_USERS internal users and BENCH_SESSIONS logged-in sessions (one per
# socket: a user with several sessions is a user with several devices), and
# write ``<session id> <user id> <partner id>`` lines to BENCH_SESSIONS_FILE.
# Sessions are written the way HttpCase.authenticate does (no password
# check: hashing thousands of passwords would dominate the run).
# ruff: noqa: F821 - ``env`` is the shell's
import os

from odoo import http
from odoo.service import security

from odoo.addons.bus.websocket import WebsocketConnectionHandler

count = int(os.environ["BENCH_USERS"])
sessions = int(os.environ.get("BENCH_SESSIONS", count))
out = os.environ["BENCH_SESSIONS_FILE"]
Users = env["res.users"].with_context(no_reset_password=True, tracking_disable=True)
existing = Users.search([("login", "=like", "bench_user_%")])
have = {user.login for user in existing}
group_user = env.ref("base.group_user")
values = [
    {"name": f"Bench User {i}", "login": f"bench_user_{i}", "groups_id": [(6, 0, group_user.ids)]}
    for i in range(count)
    if f"bench_user_{i}" not in have
]
for start in range(0, len(values), 500):
    Users.create(values[start : start + 500])
env.cr.commit()
users = Users.search([("login", "=like", "bench_user_%")], order="id")[:count]
store = http.root.session_store
lines = []
for index in range(sessions):
    user = users[index % len(users)]
    session = store.new()
    session.update(http.get_default_session(), db=env.cr.dbname)
    session.uid = user.id
    session.login = user.login
    session.session_token = security.compute_session_token(session, env)
    session.context = {"lang": "en_US", "tz": "UTC", "uid": user.id}
    store.save(session)
    lines.append(f"{session.sid} {user.id} {user.partner_id.id}\n")
with open(out, "w", encoding="utf-8") as sessions_file:
    sessions_file.write(f"# version {WebsocketConnectionHandler._VERSION}\n")
    sessions_file.writelines(lines)
print(f"bench: {len(users)} users, {len(lines)} sessions in {out}")
