"""The overview's activity timeline: deliveries, syncs, runs, errors and (re)connections in one list.

Each kind is read with its own small query (the newest few of the user's), then merged newest first:
the tables stay the source, nothing is written for the timeline.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.urls import reverse

from ..errors import provider_label
from ..models import AccountEvent, Delivery, SyncAttempt, SyncRun
from ..routes import ROUTES
from .status import connect_url

SHOWN = 25
LABELS = {"needs_reauth": "access lost", "retrying": "will retry"}


@dataclass
class Entry:
    at: datetime
    kind: str  # what the line is about: Delivery, Sync, Run, Account
    outcome: str  # the badge: accepted, refused, created, failed, connected ...
    text: str
    url: str = ""

    @property
    def outcome_label(self) -> str:
        return LABELS.get(self.outcome, self.outcome)


def timeline(user, limit: int = SHOWN) -> list[Entry]:
    entries = deliveries(user, limit) + attempts(user, limit) + runs(user, limit) + account_events(user, limit)
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]


def deliveries(user, limit: int) -> list[Entry]:
    rows = Delivery.objects.filter(Q(account__owner=user) | Q(account__isnull=True)).order_by("-received_at")[:limit]
    return [
        Entry(
            row.received_at,
            "Delivery",
            row.outcome,
            f"{provider_label(row.provider)} webhook, HTTP {row.status_code}"
            + (f": {row.reason}" if row.reason else ""),
            reverse("dashboard:item", args=[row.item_id]) if row.item_id else connect_url(row.provider),
        )
        for row in rows
    ]


def attempts(user, limit: int) -> list[Entry]:
    rows = (
        SyncAttempt.objects.filter(item__account__owner=user, finished_at__isnull=False)
        .exclude(outcome="waiting")
        .select_related("item")
        .order_by("-finished_at")[:limit]
    )
    return [
        Entry(
            row.finished_at,
            "Sync",
            row.outcome,
            f"{route_label(row.item.route)}: {row.item.title or row.item.source_id}"
            + (f": {row.error}" if row.error else ""),
            reverse("dashboard:item", args=[row.item_id]),
        )
        for row in rows
    ]


def runs(user, limit: int) -> list[Entry]:
    rows = SyncRun.objects.filter(owner=user).select_related("account").order_by("-started_at")[:limit]
    return [
        Entry(
            run.finished_at or run.started_at,
            "Run",
            ("error" if run.error else "finished") if run.finished_at else "started",
            f"{run.get_trigger_display()} run #{run.pk} of {run.route_labels}"
            + (f": {run.error}" if run.error else ""),
            reverse("dashboard:run", args=[run.pk]),
        )
        for run in rows
    ]


def account_events(user, limit: int) -> list[Entry]:
    rows = AccountEvent.objects.filter(account__owner=user).select_related("account").order_by("-at")[:limit]
    return [
        Entry(
            row.at,
            "Account",
            row.kind,
            f"{provider_label(row.account.provider)}: {row.get_kind_display().lower()}"
            + (f": {row.message}" if row.message else ""),
            connect_url(row.account.provider),
        )
        for row in rows
    ]


def route_label(name: str) -> str:
    route = ROUTES.get(name)
    return route.label if route else name or "no route"
