"""The Expo push service (https://docs.expo.dev/push-notifications/sending-notifications/).

``POST {base}/push/send`` takes up to 100 messages and answers one ticket
per message, in order: ``{"status": "ok", "id"}`` or ``{"status": "error",
"details": {"error": "DeviceNotRegistered"}}``. A ticket only says that
Expo accepted the message; the receipt, fetched later from
``{base}/push/getReceipts`` (up to 1,000 ids), says whether Apple or Google
took it. A request-level error is a 4xx/5xx with ``{"errors": [...]}``.

Expo refuses a whole request whose tokens belong to several projects (400
``PUSH_TOO_MANY_EXPERIENCE_IDS``, its ``details`` listing the request's
tokens of each project, ``{"@owner/slug": [tokens]}``), and a whole
request for one malformed message: one foreign or bad token would fail
every push of its batch. Such a batch is sent again at once in parts, by
project when Expo listed them, else in halves, so that only the pushes
that cause the refusal fail; each push then knows its token's project
(``Outcome.project``), kept on its device to group later batches.
"""

import dataclasses
import re

import requests

from ..tools.validation import is_storable_text
from .message import PushMessage
from .outcome import DEAD, FAILED, RETRY, SENT, Outcome, http_error_text, retry_after_seconds
from .payload import dumps, fit_text

BATCH_SIZE = 100
RECEIPT_BATCH_SIZE = 1000
TOKEN_RE = re.compile(r"Expo(?:nent)?PushToken\[[^\]\s]{1,1024}\]")
# Ticket and receipt errors (details.error) that mean "try again later".
RETRY_ERRORS = {"MessageRateExceeded"}
PROJECTS_ERROR = "PUSH_TOO_MANY_EXPERIENCE_IDS"
# A batch refused as a whole with these statuses is sent again in parts...
SPLIT_STATUSES = (400, 413)
# ... with at most this many more requests (halves of halves of a batch of
# 100 isolate a few bad messages; projects take one request each).
MAX_PART_REQUESTS = 16
# A project name longer than this is not Expo's (a column of the device).
MAX_PROJECT_CHARS = 256


def is_expo_token(token):
    return isinstance(token, str) and bool(TOKEN_RE.fullmatch(token))


def build(push: PushMessage):
    """Expo's message for ``push``, 4 KB at most."""

    def message(body):
        msg = {"to": push.token, "data": push.data, "ttl": push.ttl_s, "priority": "high"}
        if push.data_only:
            # iOS wakes the app in the background; nothing is displayed.
            msg["_contentAvailable"] = True
        else:
            msg.update(title=push.title, body=body, sound="default")
        return msg

    if push.data_only:
        return message("")
    return fit_text(message, push.body)[1]


def _error_detail(item):
    details = item.get("details") if isinstance(item.get("details"), dict) else {}
    return details.get("error") or "", str(item.get("message") or "")[:300]


def _ticket_outcome(ticket):
    if not isinstance(ticket, dict):
        return Outcome(FAILED, "Expo: malformed ticket")
    if ticket.get("status") == "ok":
        return Outcome(SENT, provider_id=str(ticket.get("id") or "") or None)
    error, message = _error_detail(ticket)
    reason = f"Expo {error or 'error'}: {message}"
    if error == "DeviceNotRegistered":
        return Outcome(DEAD, reason)
    if error in RETRY_ERRORS:
        return Outcome(RETRY, reason)
    return Outcome(FAILED, reason)


def _token_projects(response):
    """{token: project} of Expo's ``PUSH_TOO_MANY_EXPERIENCE_IDS`` answer
    (an empty dict for any other answer); names that cannot be a project's
    are left out."""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return {}
    projects = {}
    for error in errors if isinstance(errors, list) else ():
        if not isinstance(error, dict) or error.get("code") != PROJECTS_ERROR:
            continue
        details = error.get("details")
        for project, tokens in (details if isinstance(details, dict) else {}).items():
            if not (0 < len(project) <= MAX_PROJECT_CHARS and is_storable_text(project)):
                continue
            for token in tokens if isinstance(tokens, list) else ():
                if isinstance(token, str):
                    projects[token] = project
    return projects


def _parts(messages, projects):
    """Indexes of ``messages`` in the parts to send again: one per project
    Expo listed (tokens it did not list together), else two halves."""
    by_project = {}
    for index, message in enumerate(messages):
        by_project.setdefault(projects.get(message.get("to")), []).append(index)
    if len(by_project) > 1:
        return list(by_project.values())
    half = len(messages) // 2
    return [list(range(half)), list(range(half, len(messages)))]


def _request_errors(response):
    try:
        errors = response.json().get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)[:300]
    except (ValueError, AttributeError):
        return ""


class ExpoClient:
    def __init__(self, session, base_url, access_token=None, timeout=10):
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "Content-Type": "application/json; charset=utf-8",
        }
        if access_token:
            # Expo's "enhanced security for push notifications".
            self.headers["Authorization"] = f"Bearer {access_token}"

    def _post(self, path, body):
        return self.session.post(
            f"{self.base_url}{path}",
            data=dumps(body).encode(),
            headers=self.headers,
            timeout=self.timeout,
        )

    def _whole_request_failed(self, response, count):
        """Outcomes of a request refused as a whole."""
        reason = f"Expo: {http_error_text(response, _request_errors(response))}"
        if response.status_code == 429 or response.status_code >= 500:
            outcome = Outcome(RETRY, reason, retry_after=retry_after_seconds(response))
        else:
            outcome = Outcome(FAILED, reason)
        return [dataclasses.replace(outcome) for _ in range(count)]

    def send(self, messages):
        """Send up to BATCH_SIZE built messages; one Outcome per message."""
        if len(messages) > BATCH_SIZE:
            raise ValueError(f"Expo takes at most {BATCH_SIZE} messages per request")
        return self._send(messages, [MAX_PART_REQUESTS])

    def _send(self, messages, part_requests):
        """``send``; ``part_requests``: how many more requests the parts of
        refused batches may still make (shared by the whole batch)."""
        try:
            response = self._post("/push/send", messages)
        except requests.RequestException as exc:
            reason = f"Expo: {type(exc).__name__}: {exc}"
            return [Outcome(RETRY, reason) for _ in messages]
        if response.status_code in SPLIT_STATUSES and len(messages) > 1:
            return self._send_in_parts(response, messages, part_requests)
        if response.status_code != 200:
            return self._whole_request_failed(response, len(messages))
        try:
            tickets = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            tickets = None
        if not isinstance(tickets, list) or len(tickets) != len(messages):
            # Never resend what Expo may have accepted: a duplicate is worse.
            reason = "Expo: an answer without one ticket per message"
            return [Outcome(FAILED, reason) for _ in messages]
        return [_ticket_outcome(ticket) for ticket in tickets]

    def _send_in_parts(self, response, messages, part_requests):
        """Expo refused the batch as a whole (``response``): nothing of it
        was sent, so its parts are sent again at once, each on its own (see
        the module's docstring). A part beyond ``part_requests`` fails with
        the refusal."""
        projects = _token_projects(response)
        outcomes = [None] * len(messages)
        for indexes in _parts(messages, projects):
            part = [messages[index] for index in indexes]
            if part_requests[0] > 0:
                part_requests[0] -= 1
                part_outcomes = self._send(part, part_requests)
            else:
                part_outcomes = self._whole_request_failed(response, len(part))
            for index, outcome in zip(indexes, part_outcomes, strict=True):
                outcome.project = projects.get(messages[index].get("to"), outcome.project)
                outcomes[index] = outcome
        return outcomes

    def receipts(self, ticket_ids):
        """{ticket id: Outcome} for the receipts Expo has; a missing id is
        not ready yet. Raises requests.RequestException or returns {} on a
        refused request (the next run asks again)."""
        response = self._post("/push/getReceipts", {"ids": list(ticket_ids)})
        if response.status_code != 200:
            return {}
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            return {}
        result = {}
        for ticket_id, receipt in (data if isinstance(data, dict) else {}).items():
            outcome = _ticket_outcome(receipt)
            outcome.provider_id = ticket_id
            result[ticket_id] = outcome
        return result
