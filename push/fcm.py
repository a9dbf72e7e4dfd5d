"""Firebase Cloud Messaging HTTP v1
(https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send).

One ``POST {base}/v1/projects/{project}/messages:send`` per message, with
an OAuth2 access token of a service account (google-auth signs the JWT and
asks the ``token_uri`` of the service-account JSON). The token is cached in
the process, per service account, until it is about to expire. Errors are
``{"error": {"code", "status", "message", "details": [{"errorCode"}]}}``:
``UNREGISTERED`` (404) means the token is dead.
"""

import hashlib
import json
import threading
import time

import requests
from google.auth import exceptions as google_exceptions
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import service_account

from .message import PushMessage
from .outcome import DEAD, FAILED, RETRY, SENT, Outcome, http_error_text, retry_after_seconds
from .payload import dumps, fit_text

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
REQUIRED_KEYS = ("client_email", "private_key", "token_uri")
DEAD_ERROR_CODES = {"UNREGISTERED"}

# {sha256 of the service account: google Credentials}, shared by the
# threads of this process; the lock serializes token refreshes.
_credentials_cache = {}
_credentials_lock = threading.Lock()


def load_service_account(text):
    """The service-account dict of a JSON text; ValueError names what is
    wrong (never quoting the key)."""
    try:
        info = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"the service account is not JSON ({exc.msg})") from None
    if not isinstance(info, dict):
        raise ValueError("the service account is not a JSON object")
    missing = [key for key in REQUIRED_KEYS if not isinstance(info.get(key), str)]
    if missing:
        raise ValueError(f"the service account lacks {', '.join(missing)}")
    return info


def build(push: PushMessage):
    """FCM's request body for ``push``; the message is 4 KB at most."""
    data = {key: str(value) for key, value in push.data.items() if value is not None}

    def message(body):
        msg = {
            "token": push.token,
            "data": data,
            "android": {
                "priority": "HIGH",
                "ttl": f"{push.ttl_s}s",
                "collapse_key": push.collapse_key,
            },
            "apns": {
                "headers": {
                    "apns-expiration": str(int(time.time()) + push.ttl_s),
                    "apns-collapse-id": push.collapse_key[:64],
                },
                "payload": {"aps": {"thread-id": push.collapse_key}},
            },
        }
        if push.data_only:
            msg["apns"]["headers"].update({"apns-push-type": "background", "apns-priority": "5"})
            msg["apns"]["payload"]["aps"]["content-available"] = 1
        else:
            msg["notification"] = {"title": push.title, "body": body}
            msg["android"]["notification"] = {"tag": push.collapse_key}
            msg["apns"]["headers"]["apns-priority"] = "10"
            msg["apns"]["payload"]["aps"]["sound"] = "default"
        return msg

    if push.data_only:
        return {"message": message("")}
    return {"message": fit_text(message, push.body)[1]}


class _TimeoutRequest(GoogleRequest):
    """google-auth's transport with our timeout on the token request."""

    def __init__(self, session, timeout):
        super().__init__(session)
        self._timeout = timeout

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        return super().__call__(url, method, body, headers, timeout=self._timeout, **kwargs)


def _error_of(response):
    """(status, errorCode, message) of an FCM error answer."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return "", "", ""
    codes = [
        detail.get("errorCode")
        for detail in error.get("details") or []
        if isinstance(detail, dict) and detail.get("errorCode")
    ]
    return str(error.get("status") or ""), (codes or [""])[0], str(error.get("message") or "")


class FcmClient:
    def __init__(self, session, base_url, service_account_info, project_id=None, timeout=10):
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.info = service_account_info
        self.project_id = project_id or service_account_info.get("project_id")
        if not self.project_id:
            raise ValueError("no Firebase project id (project_id of the service account)")
        self.timeout = timeout
        self.cache_key = hashlib.sha256(
            json.dumps(service_account_info, sort_keys=True).encode()
        ).hexdigest()

    def access_token(self):
        """A valid access token: the cached one until it is about to expire
        (google-auth's margin), else a new one from the token_uri."""
        with _credentials_lock:
            credentials = _credentials_cache.get(self.cache_key)
            if credentials is None:
                credentials = service_account.Credentials.from_service_account_info(
                    self.info, scopes=[SCOPE]
                )
                _credentials_cache[self.cache_key] = credentials
            if not credentials.valid:
                credentials.refresh(_TimeoutRequest(self.session, self.timeout))
            return credentials.token

    def forget_token(self):
        """Drop the cached token (FCM said 401): the next send gets a new one."""
        with _credentials_lock:
            _credentials_cache.pop(self.cache_key, None)

    def send(self, body):
        """Send one built request body; its Outcome."""
        try:
            token = self.access_token()
        except google_exceptions.GoogleAuthError as exc:
            retryable = getattr(exc, "retryable", False) or isinstance(
                exc, google_exceptions.TransportError
            )
            return Outcome(RETRY if retryable else FAILED, f"FCM credential: {exc}")
        except ValueError as exc:  # a malformed private key
            return Outcome(FAILED, f"FCM credential: {exc}")
        try:
            response = self.session.post(
                f"{self.base_url}/v1/projects/{self.project_id}/messages:send",
                data=dumps(body).encode(),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json; charset=utf-8",
                },
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            return Outcome(RETRY, f"FCM: {type(exc).__name__}: {exc}")
        return self._outcome(response)

    def _outcome(self, response):
        status_code = response.status_code
        if status_code == 200:
            try:
                name = response.json().get("name")
            except (ValueError, AttributeError):
                name = None
            return Outcome(SENT, provider_id=name)
        status, error_code, message = _error_of(response)
        detail = " ".join(part for part in (error_code or status, message) if part)
        reason = f"FCM: {http_error_text(response, detail)}"
        if error_code in DEAD_ERROR_CODES or status_code in (404, 410):
            return Outcome(DEAD, reason)
        if status_code == 401:
            self.forget_token()
            return Outcome(RETRY, reason)
        if status_code == 429 or status_code >= 500:
            return Outcome(RETRY, reason, retry_after=retry_after_seconds(response))
        return Outcome(FAILED, reason)
