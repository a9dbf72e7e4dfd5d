"""Mail's ``Store`` data (``Store(...).get_result()``) to the dicts of the
Discuss routes (doc/discuss.md, "Dicts"). The JavaScript client applies
the same conversion to the ``Store`` data of mail's socket notifications:
keep the two in step with that document."""

import re
from html.parser import HTMLParser

THREAD_MODEL = "discuss.channel"
ROUTE_PREFIX = "/bus_mobile/discuss"
# Elements whose end is a line break in the plain text of a body.
BLOCK_TAGS = frozenset(
    {"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr"}
)
EDITED_MARK = "o-mail-Message-edited"
# mail's "until I unmute" (datetime.max, as Odoo writes it).
MUTED_FOREVER = "9999-12-31 23:59:59"
# How our posts name themselves in mail's ``temporary_id`` (the web
# client uses numbers there).
TEMPORARY_ID_PREFIX = "bus_mobile:"


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        # As a browser renders it: a run of white space is one space.
        self.parts.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(html):
    """The plain text of mail's HTML ``html`` (doc/discuss.md, "Plain text
    of HTML")."""
    if not html:
        return ""
    parser = _TextParser()
    parser.feed(str(html))
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def iso_date(value):
    """Odoo's ``"YYYY-MM-DD HH:MM:SS"`` (UTC) as ISO 8601, or None."""
    if not value:
        return None
    return f"{str(value)[:19].replace(' ', 'T')}Z"


def thread(channel_id):
    return {"model": THREAD_MODEL, "id": channel_id}


def attachment_urls(channel_id, attachment_id, mimetype):
    """``(url, image_url)`` of an attachment of the conversation."""
    base = f"{ROUTE_PREFIX}/channel/{channel_id}"
    image_url = None
    if (mimetype or "").startswith("image/"):
        image_url = f"{base}/image/{attachment_id}"
    return f"{base}/attachment/{attachment_id}", image_url


def attachment_dict(entry, channel_id):
    url, image_url = attachment_urls(channel_id, entry["id"], entry.get("mimetype"))
    return {
        "id": entry["id"],
        "name": entry.get("name") or "",
        "mimetype": entry.get("mimetype") or "application/octet-stream",
        "size": entry.get("size") or 0,
        "url": url,
        "image_url": image_url,
    }


class StoreData:
    """Indexes of one ``Store`` result, by model and id."""

    def __init__(self, data):
        self.data = data
        self.messages = self._by_id("mail.message")
        self.partners = self._by_id("res.partner")
        self.guests = self._by_id("mail.guest")
        self.attachments = self._by_id("ir.attachment")
        self.members = self._by_id("discuss.channel.member")
        self.reactions = {
            (entry["message"], entry["content"]): entry
            for entry in data.get("MessageReactions", [])
        }

    def _by_id(self, model):
        return {entry["id"]: entry for entry in self.data.get(model, [])}

    def persona_name(self, persona):
        """Name of a ``{id, type}`` persona (partner or guest), or None."""
        if not persona:
            return None
        index = self.guests if persona.get("type") == "guest" else self.partners
        return index.get(persona["id"], {}).get("name")

    def author(self, message):
        author = message.get("author") or None
        partner_id = author["id"] if author and author.get("type") == "partner" else None
        name = self.persona_name(author) or message.get("email_from") or ""
        return partner_id, name

    def message_dict(self, message_id, client_uuid=None):
        """The ``message`` dict of the ``mail.message`` entry ``message_id``."""
        message = self.messages[message_id]
        channel_id = (message.get("thread") or {}).get("id") or message.get("res_id")
        author_id, author_name = self.author(message)
        body_html = message.get("body") or ""
        return {
            "id": message_id,
            "thread": thread(channel_id),
            "message_type": message.get("message_type"),
            "author_id": author_id,
            "author_name": author_name,
            "body": html_to_text(body_html),
            "body_html": str(body_html),
            "create_date": iso_date(message.get("create_date")),
            "edited": EDITED_MARK in body_html,
            "attachments": [
                attachment_dict(self.attachments[attachment_id], channel_id)
                for attachment_id in message.get("attachment_ids", [])
                if attachment_id in self.attachments
            ],
            "parent": self.parent_dict(message.get("parentMessage")),
            "reactions": self.reaction_dicts(message_id, message.get("reactions", [])),
            "mentions": [
                {"partner_id": persona["id"], "name": self.persona_name(persona) or ""}
                for persona in message.get("recipients", [])
                if persona.get("type") == "partner"
            ],
            "client_uuid": client_uuid,
        }

    def parent_dict(self, parent_id):
        parent = self.messages.get(parent_id) if parent_id else None
        if not parent:
            return None
        author_id, author_name = self.author(parent)
        return {
            "id": parent_id,
            "author_id": author_id,
            "author_name": author_name,
            "body": html_to_text(parent.get("body")),
        }

    def reaction_dicts(self, message_id, reactions):
        result = []
        for reaction in reactions:
            entry = self.reactions.get((message_id, reaction["content"]))
            if not entry:
                continue
            result.append(
                {
                    "content": entry["content"],
                    "count": entry.get("count", 0),
                    "partner_ids": [
                        persona["id"]
                        for persona in entry.get("personas", [])
                        if persona.get("type") == "partner"
                    ],
                }
            )
        return result

    def member_dict(self, member):
        persona = member.get("persona") or {}
        partner = (
            self.partners.get(persona.get("id"), {}) if persona.get("type") == "partner" else {}
        )
        return {
            "partner_id": partner.get("id"),
            "name": self.persona_name(persona) or "",
            "im_status": partner.get("im_status") or "offline",
            "seen_message_id": member.get("seen_message_id") or None,
        }

    def channel_dict(self, channel_id, self_partner_id, last_message):
        """The ``channel`` dict of the ``discuss.channel`` entry
        ``channel_id`` for the user of partner ``self_partner_id``."""
        channel = self._by_id("discuss.channel")[channel_id]
        members = [m for m in self.members.values() if m["thread"]["id"] == channel_id]
        mine = next((m for m in members if _is_partner(m, self_partner_id)), {})
        others = [m for m in members if m is not mine]
        channel_type = channel.get("channel_type")
        name = channel.get("name") or ""
        if channel_type == "chat":
            other = next((m for m in others), None)
            name = (
                channel.get("custom_channel_name")
                or (self.persona_name(other.get("persona")) if other else None)
                or name
            )
        mute_until = channel.get("mute_until_dt") or None
        return {
            "id": channel_id,
            "thread": thread(channel_id),
            "channel_type": channel_type,
            "name": name,
            "description": channel.get("description") or None,
            "member_count": channel.get("memberCount", 0),
            "members": (
                [] if channel_type == "channel" else [self.member_dict(m) for m in members]
            ),
            "unread_count": mine.get("message_unread_counter") or 0,
            "seen_message_id": mine.get("seen_message_id") or None,
            "last_message": last_message,
            "mute_until": iso_date(mute_until),
            "notifications": channel.get("custom_notifications") or None,
        }


def _is_partner(member, partner_id):
    persona = member.get("persona") or {}
    return persona.get("type") == "partner" and persona.get("id") == partner_id


def message_dicts(data, message_ids=None, client_uuids=None):
    """The ``message`` dicts of ``data`` (a ``Store`` result): of
    ``message_ids`` in that order, or of every ``mail.message`` entry.
    ``client_uuids``: ``{message id: client_uuid}``."""
    store = StoreData(data)
    client_uuids = client_uuids or {}
    ids = list(store.messages) if message_ids is None else message_ids
    return [store.message_dict(i, client_uuids.get(i)) for i in ids if i in store.messages]
