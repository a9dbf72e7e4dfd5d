"""The posts of ``make bench``'s Discuss phases, driven by loadgen.py over
stdin/stdout: each line ``<seq> mail`` posts ``bench tick <seq>`` in the
bench channel with mail's ``message_post`` (as Odoo's web client does) and
answers ``<seq> <monotonic time just before the commit>``; ``<seq> app``
posts it through the app's route (``/bus_mobile/discuss/message/post``,
bearer API key) and answers the time just before the request is sent.

    discuss_poster.py ODOO_CONF DB CHANNEL_ID API_KEY HTTP_PORT
"""

import sys
import time

import requests

import odoo
from odoo import SUPERUSER_ID, api

POSTER_LOGIN = "bench_poster"


def main():
    conf, db, channel_id, api_key, http_port = sys.argv[1:6]
    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    url = f"http://127.0.0.1:{http_port}/bus_mobile/discuss/message/post"
    session = requests.Session()
    with registry.cursor() as cr:
        poster = api.Environment(cr, SUPERUSER_ID, {})["res.users"].search(
            [("login", "=", POSTER_LOGIN)]
        )
        poster_id = poster.id
    for line in sys.stdin:
        seq, mode = line.split()
        body = f"bench tick {seq}"
        if mode == "app":
            at = time.monotonic()
            payload = {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {
                    "channel_id": int(channel_id),
                    "body": body,
                    "client_uuid": f"bench-{time.time_ns()}-{seq}",
                },
            }
            response = session.post(
                url, json=payload, headers={"Authorization": f"Bearer {api_key}"}, timeout=60
            )
            response.raise_for_status()
            if "error" in response.json():
                raise RuntimeError(response.text[:500])
        else:
            with registry.cursor() as cr:
                env = api.Environment(cr, poster_id, {})
                env["discuss.channel"].browse(int(channel_id)).message_post(
                    body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
                )
                # Then the precommit hooks (bus rows, journal), the commit,
                # and the bus's NOTIFY.
                at = time.monotonic()
                cr.commit()
        print(f"{seq} {at}", flush=True)


if __name__ == "__main__":
    main()
