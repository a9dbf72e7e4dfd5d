"""An app's plain-text message as the HTML Odoo's web composer posts
(mail's ``prettifyMessageContent``, static/src/utils/common/format.js):
escaped, line breaks as ``<br>``, ``@Name`` of each mentioned partner as
mail's mention link (its first occurrence), URLs as links. Emoji
shortcodes are left as they are (phones have emoji keyboards)."""

import re

from markupsafe import Markup, escape

# The web composer's URL pattern (``urlRegexp``): http(s) or www., then
# the characters it accepts, not ending on a comma, dot or semicolon.
# re.ASCII: ``\b`` as in JavaScript.
_URL_CHARS = r"-a-z0-9@:%_+~#?&\[\]^|{}`\\'$/=\u00C0-\u024F\u1E00-\u1EFF"
URL_RE = re.compile(
    r"\b(?:https?://\d{1,3}(?:\.\d{1,3}){3}"
    r"|(?:https?://|www\.)[-a-z0-9@:%._+~#=\u00C0-\u024F\u1E00-\u1EFF]{1,256}\.[a-z]{2,13})\b"
    rf"(?:[{_URL_CHARS}]|[.]*[{_URL_CHARS}]|,(?!$| )|\.(?!$| |\.)|;(?!$| ))*",
    re.IGNORECASE | re.ASCII,
)
MENTION_LINK = Markup(
    '<a href="/odoo/res.partner/%(id)s" class="o_mail_redirect" data-oe-id="%(id)s"'
    ' data-oe-model="res.partner" target="_blank" contenteditable="false">@%(name)s</a>'
)
URL_LINK = Markup('<a target="_blank" rel="noreferrer noopener" href="%(href)s">%(text)s</a>')


def _mention_spans(text, mentions):
    """``(start, end, html)`` of the first ``@Name`` of each partner."""
    spans = []
    for partner_id, name in mentions:
        start = text.find(f"@{name}") if name else -1
        while start >= 0 and _overlaps(spans, start, start + len(name) + 1):
            start = text.find(f"@{name}", start + 1)
        if start >= 0:
            html = MENTION_LINK % {"id": partner_id, "name": name}
            spans.append((start, start + len(name) + 1, html))
    return spans


def _url_spans(text, taken):
    spans = []
    for match in URL_RE.finditer(text):
        if _overlaps(taken, match.start(), match.end()):
            continue
        url = match.group(0)
        href = url if re.match(r"https?://", url, re.IGNORECASE) else f"http://{url}"
        spans.append((match.start(), match.end(), URL_LINK % {"href": href, "text": url}))
    return spans


def _overlaps(spans, start, end):
    return any(start < span_end and span_start < end for span_start, span_end, _ in spans)


def _escape_lines(text):
    """Escaped text, its line breaks as the web composer writes them: a run
    of two or more as two ``<br>``, one as one."""
    html = str(escape(text))
    html = re.sub(r"\n{2,}", "<br><br>", html)
    return html.replace("\n", "<br>")


def text_to_html(text, mentions=()):
    """Markup of the plain ``text`` with ``mentions`` ``[(partner id,
    name)]`` linked."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    spans = _mention_spans(text, mentions)
    spans += _url_spans(text, spans)
    parts, position = [], 0
    for start, end, html in sorted(spans):
        parts.append(_escape_lines(text[position:start]))
        parts.append(str(html))
        position = end
    parts.append(_escape_lines(text[position:]))
    return Markup("".join(parts))
