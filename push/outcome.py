"""What became of one push at a provider."""

import dataclasses

SENT = "sent"  # accepted by the provider
RETRY = "retry"  # network error, 429 or 5xx: try again later
FAILED = "failed"  # refused for good (bad request, bad credential...)
DEAD = "dead"  # the token is no longer valid: never use it again
DEFER = "defer"  # not tried (the batch ran out of time): no attempt used

# An error text kept on a push row is cut to this length.
MAX_REASON_CHARS = 500


@dataclasses.dataclass
class Outcome:
    state: str
    reason: str = ""
    # The provider's id of the push: Expo's ticket id, FCM's message name.
    provider_id: str | None = None
    # Seconds the provider asked us to wait (Retry-After).
    retry_after: float | None = None
    # The Expo project the provider said the push's token belongs to.
    project: str | None = None

    def __post_init__(self):
        self.reason = (self.reason or "")[:MAX_REASON_CHARS]


def retry_after_seconds(response):
    """Retry-After of an HTTP response in seconds (the delta form), or None."""
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 86400 else None


def http_error_text(response, detail=""):
    """``HTTP 503: <detail or the start of the body>``."""
    text = detail or (response.text or "").strip()
    return f"HTTP {response.status_code}: {text[:300]}" if text else f"HTTP {response.status_code}"
