"""A local stand-in for the push providers, on loopback: the Expo push
service, Firebase Cloud Messaging HTTP v1 and Google's OAuth2 token
endpoint, each answering as its documentation says, errors included.

No Odoo import: the Odoo tests and the push benchmark
(scripts/bench/push_bench.py) both use it.

- ``{url}/expo/push/send``, ``{url}/expo/push/getReceipts``: Expo's API
  (base URL ``{url}/expo``): at most 100 messages a request, one ticket per
  message, ``DeviceNotRegistered`` for dead or malformed tokens,
  ``MessageTooBig`` over 4096 bytes; receipts by ticket id. A token belongs
  to one Expo project (``token_projects``, else ``DEFAULT_PROJECT``): a
  request mixing projects is refused as a whole, as Expo does, with HTTP
  400 and ``PUSH_TOO_MANY_EXPERIENCE_IDS`` whose ``details`` list the
  request's tokens of each project (expo/expo#6771).
- ``{url}/fcm/v1/projects/<project>/messages:send`` (base URL ``{url}/fcm``):
  a Bearer token issued by ``/token`` and not expired, else 401; 404
  ``UNREGISTERED`` for dead tokens; 403 ``SENDER_ID_MISMATCH`` for a token
  of another Firebase project; 400 ``INVALID_ARGUMENT`` for a message
  over 4096 bytes or a data value that is not a string.
- ``{url}/token``: the JWT-bearer grant of a service account made by
  :meth:`FakePushProvider.service_account`, signature checked.

``script(kind, *answers)`` queues canned answers (status, JSON body,
headers) that come before the normal behaviour: a 500 then a 429, say.
"""

import itertools
import json
import re
import threading
import time
import urllib.parse
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt as google_jwt

MAX_BYTES = 4096
DEFAULT_PROJECT = "@bus-mobile/app"
EXPO_TOKEN_RE = re.compile(r"Expo(?:nent)?PushToken\[[^\]\s]+\]")
FCM_SEND_RE = re.compile(r"/fcm/v1/projects/([^/]+)/messages:send")
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The audience of a service account's assertion is Google's token endpoint,
# wherever the token_uri sends it.
JWT_AUDIENCE = "https://oauth2.googleapis.com/token"


def _size(value):
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


class FakePushProvider:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # dicts: kind, path, time, headers, body
        self.scripts = defaultdict(deque)
        self.dead_tokens = set()
        self.receipt_errors = {}  # push token: Expo error code in its receipt
        self.token_projects = {}  # push token: its Expo project (@owner/slug)
        # Expo tokens whose message makes Expo refuse the whole request (400
        # VALIDATION_ERROR), FCM tokens of another Firebase project.
        self.refused_tokens = set()
        self.fcm_foreign_tokens = set()
        self.expires_in = 3600
        self.expo_access_token = None
        self.issued_tokens = {}  # access token: expiry (epoch)
        self.public_keys = {}  # client_email: public key PEM
        self.projects = set()
        self.tickets = {}  # ticket id: receipt
        self._ids = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- life cycle -----------------------------------------------------

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def expo_base_url(self):
        return f"{self.url}/expo"

    @property
    def fcm_base_url(self):
        return f"{self.url}/fcm"

    @property
    def token_uri(self):
        return f"{self.url}/token"

    # -- test controls --------------------------------------------------

    def script(self, kind, *answers):
        """Queue answers for ``kind`` (expo_send, expo_receipts, fcm_send,
        token): ``(status, body)`` or ``(status, body, headers)``."""
        with self.lock:
            self.scripts[kind].extend(answers)

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.scripts.clear()
            self.dead_tokens.clear()
            self.receipt_errors.clear()
            self.token_projects.clear()
            self.refused_tokens.clear()
            self.fcm_foreign_tokens.clear()

    def of_kind(self, kind):
        with self.lock:
            return [r for r in self.requests if r["kind"] == kind]

    def service_account(self, project_id="bus-mobile-test", email=None):
        """A service-account dict whose token_uri is this server."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        email = email or f"push-{next(self._ids)}@{project_id}.iam.gserviceaccount.com"
        with self.lock:
            self.public_keys[email] = (
                key.public_key()
                .public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                .decode()
            )
            self.projects.add(project_id)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": "fake-key",
            "private_key": private_pem,
            "client_email": email,
            "client_id": "1",
            "token_uri": self.token_uri,
        }

    # -- request handling -----------------------------------------------

    def _handler_class(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, body, headers = provider.handle(self.path, dict(self.headers), raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def handle(self, path, headers, raw):
        kind = self._kind(path)
        entry = {"kind": kind, "path": path, "time": time.time(), "headers": headers}
        try:
            entry["body"] = (
                dict(urllib.parse.parse_qsl(raw.decode()))
                if kind == "token"
                else json.loads(raw.decode("utf-8"))
            )
        except (ValueError, UnicodeDecodeError):
            entry["body"] = None
        entry["raw"] = raw
        with self.lock:
            self.requests.append(entry)
            scripted = self.scripts[kind].popleft() if self.scripts[kind] else None
        if scripted:
            status, body, *rest = scripted
            return status, body, rest[0] if rest else {}
        if entry["body"] is None:
            return 400, {"errors": [{"code": "VALIDATION_ERROR", "message": "not JSON"}]}, {}
        handler = getattr(self, f"_{kind}", None)
        if handler is None:
            return 404, {"error": "not found"}, {}
        return handler(path, headers, entry["body"])

    def _kind(self, path):
        if path == "/expo/push/send":
            return "expo_send"
        if path == "/expo/push/getReceipts":
            return "expo_receipts"
        if FCM_SEND_RE.fullmatch(path):
            return "fcm_send"
        if path == "/token":
            return "token"
        return "unknown"

    # Expo ---------------------------------------------------------------

    def _expo_auth_error(self, headers):
        if self.expo_access_token and (
            headers.get("Authorization") != f"Bearer {self.expo_access_token}"
        ):
            return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad access token"}]}, {}
        return None

    def _expo_send(self, path, headers, body):
        refused = self._expo_auth_error(headers)
        if refused:
            return refused
        messages = body if isinstance(body, list) else [body]
        if len(messages) > 100:
            return (
                400,
                {
                    "errors": [
                        {
                            "code": "PUSH_TOO_MANY_NOTIFICATIONS",
                            "message": "You are trying to send more than 100 push notifications "
                            "in one request.",
                        }
                    ]
                },
                {},
            )
        refused = [m.get("to") for m in messages if isinstance(m, dict)]
        if self.refused_tokens.intersection(t for t in refused if isinstance(t, str)):
            error = {"code": "VALIDATION_ERROR", "message": '"to" is not a valid push token'}
            return 400, {"errors": [error]}, {}
        mixed = self._expo_projects_error(messages)
        if mixed:
            return 400, {"errors": [mixed]}, {}
        return 200, {"data": [self._expo_ticket(message) for message in messages]}, {}

    def _expo_projects_error(self, messages):
        """Expo's refusal of a request whose tokens belong to several
        projects, or None."""
        by_project = defaultdict(list)
        for message in messages:
            to = message.get("to") if isinstance(message, dict) else None
            if isinstance(to, str) and EXPO_TOKEN_RE.fullmatch(to):
                by_project[self.token_projects.get(to, DEFAULT_PROJECT)].append(to)
        if len(by_project) < 2:
            return None
        return {
            "code": "PUSH_TOO_MANY_EXPERIENCE_IDS",
            "message": "All push notification messages in the same request must be for "
            "the same project; separate your push notifications by project.",
            "details": dict(by_project),
        }

    def _expo_ticket(self, message):
        to = message.get("to") if isinstance(message, dict) else None
        if not isinstance(to, str) or not EXPO_TOKEN_RE.fullmatch(to):
            return {
                "status": "error",
                "message": f"{to!r} is not a valid Expo push token",
                "details": {"error": "DeviceNotRegistered"},
            }
        if to in self.dead_tokens:
            return {
                "status": "error",
                "message": f'"{to}" is not a registered push notification recipient',
                "details": {"error": "DeviceNotRegistered", "expoPushToken": to},
            }
        if _size(message) > MAX_BYTES:
            return {
                "status": "error",
                "message": "Message too big",
                "details": {"error": "MessageTooBig"},
            }
        ticket_id = f"ticket-{next(self._ids)}"
        error = self.receipt_errors.get(to)
        with self.lock:
            self.tickets[ticket_id] = (
                {"status": "error", "message": error, "details": {"error": error}}
                if error
                else {"status": "ok"}
            )
        return {"status": "ok", "id": ticket_id}

    def _expo_receipts(self, path, headers, body):
        refused = self._expo_auth_error(headers)
        if refused:
            return refused
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or len(ids) > 1000:
            return 400, {"errors": [{"code": "VALIDATION_ERROR", "message": "ids"}]}, {}
        with self.lock:
            return 200, {"data": {i: self.tickets[i] for i in ids if i in self.tickets}}, {}

    # FCM ----------------------------------------------------------------

    @staticmethod
    def _fcm_error(code, status, message, error_code=None):
        error = {"code": code, "message": message, "status": status}
        if error_code:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                    "errorCode": error_code,
                }
            ]
        return code, {"error": error}, {}

    def _fcm_send(self, path, headers, body):  # noqa: PLR0911 - one per documented error
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        with self.lock:
            expiry = self.issued_tokens.get(token)
        if expiry is None or expiry < time.time():
            return self._fcm_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
            )
        project = FCM_SEND_RE.fullmatch(path)[1]
        if project not in self.projects:
            return self._fcm_error(
                403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"
            )
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("token"), str):
            return self._fcm_error(
                400, "INVALID_ARGUMENT", "Request contains an invalid argument.", "INVALID_ARGUMENT"
            )
        data = message.get("data") or {}
        if not all(isinstance(v, str) for v in data.values()):
            return self._fcm_error(
                400,
                "INVALID_ARGUMENT",
                "Invalid value at 'message.data': not a string",
                "INVALID_ARGUMENT",
            )
        if _size(message) > MAX_BYTES:
            return self._fcm_error(
                400, "INVALID_ARGUMENT", "Message is too big", "INVALID_ARGUMENT"
            )
        if message["token"] in self.fcm_foreign_tokens:
            return self._fcm_error(
                403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"
            )
        if message["token"] in self.dead_tokens:
            return self._fcm_error(
                404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"
            )
        return 200, {"name": f"projects/{project}/messages/{next(self._ids)}"}, {}

    # OAuth2 -------------------------------------------------------------

    def _token(self, path, headers, body):
        if body.get("grant_type") != JWT_GRANT or not body.get("assertion"):
            return 400, {"error": "unsupported_grant_type"}, {}
        try:
            unverified = google_jwt.decode(body["assertion"], verify=False)
            public_key = self.public_keys[unverified["iss"]]
            claims = google_jwt.decode(body["assertion"], certs=public_key, audience=JWT_AUDIENCE)
        except (ValueError, KeyError) as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}, {}
        if FCM_SCOPE not in claims.get("scope", "").split():
            return 400, {"error": "invalid_scope"}, {}
        access_token = f"fake-access-{next(self._ids)}"
        with self.lock:
            self.issued_tokens[access_token] = time.time() + self.expires_in
        return (
            200,
            {"access_token": access_token, "expires_in": self.expires_in, "token_type": "Bearer"},
            {},
        )
