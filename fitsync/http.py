"""The one place outbound HTTP goes through: timeouts, User-Agent, logging without secrets, and
the mapping of failures onto `fitsync.errors` (so every client classifies errors the same way).

Clients call `request(provider, method, url, ...)`; tests fake upstreams behind it with `responses`.
"""

import logging
import threading
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from .errors import PermanentError, TransientError, from_status, parse_retry_after, provider_label

log = logging.getLogger("fitsync.http")
USER_AGENT = "fitsync/1.0 (self-hosted fitness sync)"
_local = threading.local()


def timeouts() -> tuple[float, float]:
    return (settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT)


def session() -> requests.Session:
    """A per-thread pooled session (requests.Session is not safe to share between threads)."""
    if getattr(_local, "session", None) is None:
        s = requests.Session()
        s.headers["User-Agent"] = USER_AGENT
        s.mount("https://", HTTPAdapter(pool_maxsize=16))
        s.mount("http://", HTTPAdapter(pool_maxsize=16))
        _local.session = s
    return _local.session


def request(provider: str, method: str, url: str, **kwargs) -> requests.Response:
    """Send one request; return the response if it is a success, else raise an UpstreamError."""
    kwargs.setdefault("timeout", timeouts())
    # requests re-sends custom headers (Hevy's `api-key`) to whatever host a redirect names: never follow one.
    kwargs["allow_redirects"] = False
    where = f"{method} {urlsplit(url).netloc}{urlsplit(url).path}"  # never the query: it may hold a token
    started = time.monotonic()
    try:
        response = session().request(method, url, **kwargs)
    except requests.Timeout:
        log.warning("%s %s timed out", provider, where)
        raise TransientError(f"{provider_label(provider)} did not answer in time", provider=provider)
    except requests.ConnectionError:
        log.warning("%s %s connection failed", provider, where)
        raise TransientError(f"Could not reach {provider_label(provider)}", provider=provider)
    elapsed = (time.monotonic() - started) * 1000
    log.info("%s %s -> %s in %.0f ms", provider, where, response.status_code, elapsed)
    if 300 <= response.status_code < 400:
        raise redirect_error(provider, response)
    if response.status_code >= 400:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise from_status(provider, response.status_code, error_message(response), retry_after)
    return response


def redirect_error(provider: str, response: requests.Response) -> PermanentError:
    """A 3xx is refused, not followed: the same request would go elsewhere with our credentials."""
    # The host only: a Location may carry credentials in its user-info or query. Relative means same host.
    target = urlsplit(response.headers.get("Location", "")).hostname or urlsplit(response.url).hostname
    label = provider_label(provider)
    message = (
        f"{label} answered HTTP {response.status_code}, a redirect to {target}; fitsync does not follow "
        "redirects (they would carry the account's key to another host), so nothing was sent there"
    )
    return PermanentError(message, provider=provider, status=response.status_code)


def json_of(response: requests.Response, provider: str):
    """The JSON body, or a transient error: a truncated or garbled body is worth a retry."""
    try:
        data = response.json()
    except ValueError:
        raise TransientError(f"{provider_label(provider)} sent a malformed answer", provider=provider)
    return without_nul(data) if "\\u0000" in response.text else data


def without_nul(value):
    """Drop NUL characters (a user's note may hold one): PostgreSQL text and jsonb refuse them, and one
    such workout would fail every events poll of its account."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    return value


def error_message(response: requests.Response) -> str:
    """A short human-readable reason from an error response of any shape."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()[:200]
        return f"HTTP {response.status_code}" + (f": {text}" if text else "")
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return f"HTTP {response.status_code}: {body[key][:200]}"
    return f"HTTP {response.status_code}"
