"""The error classes every upstream failure is turned into, once, at the edge.

The engine (`fitsync/sync.py`) decides what happens next from the class alone:
transient -> retry with backoff; permanent -> failed with the upstream's message;
auth -> the account needs re-authentication and its items wait.
"""

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from .providers import Provider


class UpstreamError(Exception):
    permanent = False

    def __init__(
        self, message: str, *, provider: str = "", status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retry_after = retry_after  # seconds, when the upstream said so

    def __str__(self) -> str:
        return self.message


class TransientError(UpstreamError):
    """5xx, timeouts, connection errors: try again later."""


class RateLimited(TransientError):
    """HTTP 429 or Withings status 601: try again, not before retry_after."""


class PermanentError(UpstreamError):
    """Validation 4xx and similar: retrying the same request cannot help."""

    permanent = True


class NotFound(PermanentError):
    """The upstream object does not exist (any more)."""


class AuthExpired(UpstreamError):
    """401, invalid_grant, rejected keys: the user has to reconnect the account."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def from_status(provider: str, status: int, message: str, retry_after: float | None = None) -> UpstreamError:
    """The one mapping from an upstream status code to an error class."""
    label = provider_label(provider)
    message = f"{label}: {message}" if label and not message.startswith(label) else message
    kwargs = {"provider": provider, "status": status, "retry_after": retry_after}
    if status == 429:
        return RateLimited(message, **kwargs)
    if status == 401:
        return AuthExpired(message, **kwargs)
    if status == 404:
        return NotFound(message, **kwargs)
    if status in (408, 425) or status >= 500:
        return TransientError(message, **kwargs)
    return PermanentError(message, **kwargs)


def provider_label(provider: str) -> str:
    """The service's name as people know it ("Intervals.icu", not "intervals")."""
    try:
        return Provider(provider).label
    except ValueError:
        return provider
