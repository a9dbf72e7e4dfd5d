"""Users for the live tests, made in one batch: internal users that share one
password hash, each with sessions already open, so that a test's new user
costs no password hashing (Odoo's 600,000 rounds: about 0.4 s a hash, and
as much again for each sign-in). Tests where signing in is what is tested
still sign in for real.

    python scripts/user_pool.py CONF DB COUNT DIRECTORY

writes DIRECTORY/users.json: ``[{"login", "password", "id", "partner_id",
"sessions": [session id, ...]}, ...]``. A test process takes a user by
creating DIRECTORY/claims/INDEX exclusively (O_EXCL): a user is never
given twice, whatever the processes (the Python client's conftest.py and
tests/js/test/helpers.js do so). Each client of a user takes one of its
sessions, as a sign-in would give it a new one.
"""

import json
import os
import shutil
import sys
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.http import get_default_session, root
from odoo.modules.registry import Registry
from odoo.service import security
from odoo.tools import config

PASSWORD = "bus-mobile-pool"
SESSIONS_PER_USER = 3


def open_session(env, user):
    """A session of ``user``, as HttpCase.authenticate makes one."""
    session = root.session_store.new()
    session.update(get_default_session(), db=env.cr.dbname)
    session.uid = user.id
    session.login = user.login
    user_env = env(user=user)
    session.session_token = security.compute_session_token(session, user_env)
    session.context = dict(user_env["res.users"].context_get())
    root.session_store.save(session)
    return session.sid


def main(conf, db, count, directory):
    config.parse_config(["-c", conf, "--log-level=warn"])
    count = int(count)
    directory = Path(directory)
    shutil.rmtree(directory, ignore_errors=True)
    (directory / "claims").mkdir(parents=True)
    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        group_user = env.ref("base.group_user")
        users = (
            env["res.users"]
            .with_context(no_reset_password=True, mail_create_nosubscribe=True)
            .create(
                [
                    {
                        "name": f"Pool user {index:04d}",
                        "login": f"pool_{index:04d}",
                        "groups_id": [(6, 0, [group_user.id])],
                    }
                    for index in range(count)
                ]
            )
        )
        # One hash for all of them: what res.users stores for PASSWORD.
        hashed = users._crypt_context().hash(PASSWORD)
        cr.execute("UPDATE res_users SET password = %s WHERE id IN %s", (hashed, tuple(users.ids)))
        users.invalidate_recordset(["password"])
        pool = [
            {
                "login": user.login,
                "password": PASSWORD,
                "id": user.id,
                "partner_id": user.partner_id.id,
                "sessions": [open_session(env, user) for _ in range(SESSIONS_PER_USER)],
            }
            for user in users
        ]
    (directory / "users.json").write_text(json.dumps(pool), encoding="utf-8")
    odoo.sql_db.close_all()
    print(f"{count} users in {db} with {SESSIONS_PER_USER} sessions each: {directory}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main(*sys.argv[1:]))
