"""Withings notification subscriptions (appli 1: weight and body composition) for one account.

The callback URL carries the account's unguessable token, because Withings signs nothing: the
token is the only proof a notification is genuine. It is never logged or shown in full.
"""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from fitsync.errors import AuthExpired, UpstreamError
from fitsync.models import ConnectedAccount
from fitsync.site_url import is_local_host

from . import auth, client
from .account_meta import Subscription, set_subscription

log = logging.getLogger("fitsync.withings")
WEIGHT_APPLI = 1
HIDDEN_TOKEN = "…"


def notification_url(token: str) -> str:
    return settings.SITE_URL + reverse("withings:webhook", args=[token])


def shown_url() -> str:
    """The notification URL as shown on pages and in logs: the token hidden."""
    return notification_url("TOKEN").replace("TOKEN", HIDDEN_TOKEN)


def site_url_problem(site_url: str | None = None) -> str:
    """Why Withings would refuse our notification URL, or "" (it wants HTTPS on port 443)."""
    parts = urlsplit(site_url or settings.SITE_URL)
    if parts.scheme != "https" or parts.port not in (None, 443):
        return (
            f"SITE_URL is {parts.scheme}://{parts.netloc}: Withings only delivers notifications to an "
            "HTTPS address on port 443, so new weigh-ins arrive only when fitsync polls."
        )
    if is_local_host(parts.hostname or ""):
        return "SITE_URL points at this machine or a private network: Withings cannot reach it."
    return ""


def subscribe(account: ConnectedAccount) -> Subscription:
    """Subscribe appli 1 to our URL; stores and returns the subscription state."""
    url = notification_url(auth.ensure_webhook_token(account))
    try:
        auth.with_token(account, lambda token: client.subscribe(token, url, WEIGHT_APPLI))
    except UpstreamError as exc:
        return _record_failure(account, exc)
    log.info("withings account %s subscribed to %s", account.pk, shown_url())
    return set_subscription(account, "active", "Withings sends new weigh-ins to fitsync.", shown_url())


def list_ours(account: ConnectedAccount) -> list[client.Subscription]:
    return auth.with_token(account, lambda token: client.list_subscriptions(token, WEIGHT_APPLI))


def is_subscribed(account: ConnectedAccount) -> bool:
    url = notification_url(auth.ensure_webhook_token(account))
    return any(s.callbackurl == url and s.appli == WEIGHT_APPLI for s in list_ours(account))


def revoke(account: ConnectedAccount) -> Subscription:
    url = notification_url(auth.ensure_webhook_token(account))
    try:
        auth.with_token(account, lambda token: client.revoke_subscription(token, url, WEIGHT_APPLI))
    except UpstreamError as exc:
        if exc.permanent:  # Withings answers "invalid params" for a subscription it does not have
            return set_subscription(account, "missing", "Not subscribed.", shown_url())
        return _record_failure(account, exc)
    return set_subscription(account, "missing", "Notifications revoked.", shown_url())


def check(account: ConnectedAccount) -> Subscription:
    """The daily repair: re-subscribe if Withings dropped ours (it does after failed deliveries)."""
    try:
        if is_subscribed(account):
            return set_subscription(account, "active", "Withings sends new weigh-ins to fitsync.", shown_url())
    except UpstreamError as exc:
        return _record_failure(account, exc)
    log.warning("withings account %s: subscription missing at Withings, subscribing again", account.pk)
    return subscribe(account)


def _record_failure(account: ConnectedAccount, exc: UpstreamError) -> Subscription:
    if isinstance(exc, AuthExpired):
        message = "Reconnect Withings first: it no longer accepts fitsync's access."
    else:
        message = f"Withings refused the subscription: {exc.message}"
    log.warning("withings account %s: subscription problem: %s", account.pk, exc.message)
    return set_subscription(account, "error", message, shown_url())
