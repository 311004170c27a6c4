"""What alerts are about: the problems that stop a user's sync, read from the database.

Each problem has a stable key, so the same problem found on the next check is the same alert
(`fitsync/alerts.py` sends it once, reminds once and says when it is over). Services are named by their
labels only: the engine knows no service.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max

from . import account_meta
from .errors import provider_label
from .models import AccountStatus, ConnectedAccount, Heartbeat, InboundEvent, ItemStatus, SyncItem
from .routes import ROUTES

WORKER_KEY = "worker"


@dataclass(frozen=True)
class Problem:
    key: str
    text: str


def problems_of(user, now: datetime) -> list[Problem]:
    """Everything wrong for `user` right now, the worker's silence included."""
    found = []
    for account in ConnectedAccount.objects.filter(owner=user).order_by("pk"):
        found += account_problems(account, now)
    return found + failed_item_problems(user) + worker_problems(now)


def account_problems(account: ConnectedAccount, now: datetime) -> list[Problem]:
    label = provider_label(account.provider)
    if account.status == AccountStatus.NEEDS_REAUTH:
        reason = account.status_message or "it no longer accepts fitsync's access"
        return [Problem(f"reauth:{account.pk}", f"{label} needs reconnecting: {reason}")]
    if not account.is_connected:
        return []
    found = []
    subscription = getattr(account_meta.read_service(account), "subscription", None)
    if subscription and subscription.state == "error" and subscription.was_active:  # dropped, not renewed
        text = f"{label} stopped sending notifications: {subscription.message or 'subscribing failed'}"
        found.append(Problem(f"subscription:{account.pk}", text))
    if is_stale(account, now):
        days = settings.FITSYNC_STALE_DAYS
        found.append(Problem(f"stale:{account.pk}", f"{label} has sent nothing for {days} days or more."))
    return found


def is_stale(account: ConnectedAccount, now: datetime) -> bool:
    """A source account (older than FITSYNC_STALE_DAYS) from which no item and no event arrived since."""
    if account.provider not in source_providers():
        return False
    since = now - timedelta(days=settings.FITSYNC_STALE_DAYS)
    if account.created_at > since:
        return False
    newest_item = SyncItem.objects.filter(account=account).aggregate(at=Max("created_at"))["at"]
    newest_event = InboundEvent.objects.filter(account=account).aggregate(at=Max("received_at"))["at"]
    return not any(at and at > since for at in (newest_item, newest_event))


def source_providers() -> set[str]:
    return {route.source_provider for route in ROUTES.values()}


def failed_item_problems(user) -> list[Problem]:
    """Items that gave up after their retries, one problem per route."""
    failed = SyncItem.objects.filter(account__owner=user, status=ItemStatus.FAILED)
    found = []
    for row in failed.values("route").annotate(count=Count("pk")).order_by("route"):
        route = ROUTES.get(row["route"])
        label = route.label if route else row["route"]
        found.append(Problem(f"failed:{row['route']}", f"{row['count']} item(s) of {label} failed after retries."))
    return found


def worker_problems(now: datetime) -> list[Problem]:
    """The worker stopped beating (one that never beat is a fresh install: /health says so)."""
    beat = Heartbeat.objects.filter(name=Heartbeat.WORKER).values_list("beat_at", flat=True).first()
    if beat is None or (now - beat).total_seconds() <= settings.HEARTBEAT_STALE_SECONDS:
        return []
    return [Problem(WORKER_KEY, f"The worker has been silent since {beat:%Y-%m-%d %H:%M} UTC: nothing syncs.")]
