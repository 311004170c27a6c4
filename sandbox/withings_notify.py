"""Notification subscriptions of the Withings fake: callback URL rules, the HEAD probe, delivery.

As described in docs/upstream.md, "Withings" (notify). How Withings encodes a notification is not
settled: its older guide says "form-data", its newer overview application/x-www-form-urlencoded,
and its own example payload carries a stray `foo=bar`. The fake sends either encoding and the
documented fields, extra ones or no dates at all (`WithingsFake.notify_encoding` / `notify_fields`).
"""

import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

KNOWN_APPLIS = frozenset({1, 2, 4, 16, 44, 46, 50, 51, 54, 58})
# Subscriptions do not expire in the docs; Withings client test data shows this sentinel.
NEVER_EXPIRES = 2147483647
DELIVERY_TIMEOUT = 2.0  # Withings waits 2 s for the callback's answer (and for the HEAD probe)
MAX_CALLBACK_LENGTH = 255
NOTIFY_ENCODINGS = ("urlencoded", "multipart")
# documented: userid, appli, startdate, enddate; extra: also deviceid, date and the docs' foo=bar;
# no_dates: only userid and appli.
NOTIFY_FIELDS = ("documented", "extra", "no_dates")
# The window a deletion's notification names, unconfirmed upstream: the deleted group's measurement date
# ("measured"), the moment of the deletion ("now"), or none at all ("none").
DELETION_WINDOWS = ("measured", "now", "none")


@dataclass
class Subscription:
    userid: int
    appli: int
    callbackurl: str
    comment: str = ""
    consecutive_failures: int = 0

    def profile(self) -> dict:
        return {
            "appli": self.appli,
            "callbackurl": self.callbackurl,
            "comment": self.comment,
            "expires": NEVER_EXPIRES,
        }


@dataclass
class Delivery:
    """What happened to one notification sent to one subscription."""

    callbackurl: str
    ok: bool
    attempts: int
    status: int | None = None  # HTTP status of the last attempt, None when it got no answer
    error: str | None = None
    dropped: bool = False  # the subscription was removed after this delivery


def callback_url_problem(url: str, strict: bool) -> str | None:
    """Why Withings would refuse `url` as a callback (status 293), or None if acceptable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "callbackurl is not an absolute http(s) URL"
    if not strict:
        return None
    if len(url) > MAX_CALLBACK_LENGTH:
        return f"callbackurl is longer than {MAX_CALLBACK_LENGTH} characters"
    if parts.scheme != "https":
        return "callbackurl must use https"
    if parts.port not in (None, 80, 443):
        return "callbackurl must use port 80 or 443"
    if _is_ip_or_localhost(parts.hostname):
        return "callbackurl must not be an IP address or localhost"
    return None


def _is_ip_or_localhost(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def answers_head(http, url: str) -> bool:
    """Withings HEAD-probes a callback before subscribing it and wants a 2xx."""
    try:
        response = http.head(url, timeout=DELIVERY_TIMEOUT, allow_redirects=False)
    except Exception:  # any transport error (refused, timeout, DNS) is a failed probe
        return False
    return 200 <= response.status_code < 300


def notification_form(userid: int, appli: int, startdate: int, enddate: int, fields: str) -> dict:
    """The notification's parameters in the shape `fields` (one of NOTIFY_FIELDS)."""
    if fields == "no_dates":
        return {"userid": userid, "appli": appli}
    form = {"userid": userid, "appli": appli, "startdate": startdate, "enddate": enddate}
    if fields == "extra":
        day = datetime.fromtimestamp(enddate, UTC).date().isoformat()
        form |= {"deviceid": f"scale-{userid}", "date": day, "foo": "bar"}
    return form


def multipart_body(form: dict) -> tuple[bytes, str]:
    """`form` as multipart/form-data text parts: the body and its Content-Type."""
    boundary = f"withings-{secrets.token_hex(8)}"
    lines = []
    for name, value in form.items():
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", str(value)]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode(), f"multipart/form-data; boundary={boundary}"


def post_arguments(form: dict, encoding: str) -> dict:
    """Keyword arguments for http.post: a dict (requests urlencodes it) or a multipart body."""
    if encoding == "multipart":
        body, content_type = multipart_body(form)
        return {"data": body, "headers": {"Content-Type": content_type}}
    return {"data": form}


def deliver(http, url: str, form: dict, retries: int, backoff: float, encoding: str = "urlencoded") -> Delivery:
    """POST the notification, retrying `retries` times on non-2xx or no answer."""
    delivery = Delivery(url, ok=False, attempts=0)
    arguments = post_arguments(form, encoding)
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * attempt)
        delivery.attempts += 1
        try:
            response = http.post(url, timeout=DELIVERY_TIMEOUT, allow_redirects=False, **arguments)
        except Exception as exc:  # a timeout or refused connection counts as a failed try
            delivery.status, delivery.error = None, f"{type(exc).__name__}: {exc}"
            continue
        delivery.status, delivery.error = response.status_code, None
        # The newer docs accept any status below 400; we hold receivers to the stricter 2xx.
        if 200 <= response.status_code < 300:
            delivery.ok = True
            return delivery
    return delivery


class SubscriptionBook:
    """Every user's subscriptions, keyed by (userid, appli, callbackurl)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.subscriptions: dict[tuple[int, int, str], Subscription] = {}

    def add(self, userid: int, appli: int, url: str, comment: str) -> Subscription:
        # Subscribing the same URL twice is idempotent here (upstream behaviour unconfirmed).
        with self.lock:
            key = (userid, appli, url)
            existing = self.subscriptions.get(key)
            if existing is not None:
                existing.comment = comment or existing.comment
                return existing
            self.subscriptions[key] = Subscription(userid, appli, url, comment)
            return self.subscriptions[key]

    def find(self, userid: int, appli: int, url: str) -> Subscription | None:
        with self.lock:
            return self.subscriptions.get((userid, appli, url))

    def remove(self, userid: int, appli: int, url: str) -> bool:
        with self.lock:
            return self.subscriptions.pop((userid, appli, url), None) is not None

    def of_user(self, userid: int, appli: int | None = None) -> list[Subscription]:
        with self.lock:
            return [
                s for s in self.subscriptions.values() if s.userid == userid and (appli is None or s.appli == appli)
            ]

    def record(self, subscription: Subscription, ok: bool, drop_after: int) -> bool:
        """Count a delivery; remove the subscription after `drop_after` failures in a row."""
        with self.lock:
            subscription.consecutive_failures = 0 if ok else subscription.consecutive_failures + 1
            if subscription.consecutive_failures < drop_after:
                return False
            key = (subscription.userid, subscription.appli, subscription.callbackurl)
            self.subscriptions.pop(key, None)
            return True
