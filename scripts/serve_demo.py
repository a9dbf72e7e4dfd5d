"""Demo conversations for `make serve` (run by scripts/serve.sh in
`odoo-bin shell`, where ``env`` is given): a Discuss chat and group between
the demo users, on top of mail's own demo channels, and a mobile channel,
so that the playground shows both kinds at once. Run again, it adds
nothing."""

from odoo import Command

admin = env.ref("base.user_admin")  # noqa: F821 - odoo-bin shell's env
demo = env.ref("base.user_demo")  # noqa: F821
portal = env.ref("base.demo_user0", raise_if_not_found=False)  # noqa: F821
Channel = env["discuss.channel"]  # noqa: F821


def post(channel, user, body):
    channel.with_user(user).message_post(
        body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
    )


chat = Channel.with_user(admin).channel_get([demo.partner_id.id])
if not chat.message_ids:
    post(chat, admin, "Hi Marc, are you on the app yet?")
    post(chat, demo, "Yes, this reply comes from my phone.")

if not Channel.search([("name", "=", "Field team"), ("channel_type", "=", "group")]):
    members = (demo | portal) if portal else demo
    group = Channel.with_user(admin).create_group(members.partner_id.ids, name="Field team")
    post(group, admin, "Photos of the site visit go here.")
    post(group, demo, "Uploading them after lunch.")

Mobile = env["bus_mobile.channel"]  # noqa: F821
if not Mobile.search([("name", "=", "App team")]):
    app_team = Mobile.create(
        {
            "name": "App team",
            "channel_type": "private",
            "member_ids": [Command.create({"partner_id": u.partner_id.id}) for u in admin | demo],
        }
    )
    app_team.with_user(admin)._bus_mobile_post("A mobile channel: app to app.", "serve-demo-1")

env.cr.commit()  # noqa: F821  # pylint: disable=invalid-commit
