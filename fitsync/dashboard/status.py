"""The overview's data: one card per service, one panel per route, and the alerts on top.

Everything comes from a handful of grouped queries whatever the number of items. Secrets are never
read: token expiry comes from `Credential.values()` on non-secret columns.

Non-secret per-service data is read from `ConnectedAccount.meta` as the service declares it
(`fitsync.account_meta.read_service`): a `webhook_url` (a URL the user pastes into the service: shown with
a copy button) and a `subscription` (with `state`, `message`, `checked_at`), when the service keeps them.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .. import account_meta, unreadable
from ..errors import provider_label
from ..models import AccountStatus, ConnectedAccount, Credential, ItemStatus, Provider, SyncItem
from ..routes import ROUTES

RETRYING_AFTER = 3  # attempts after which a still-pending item counts as "keeps failing"
OPEN = (ItemStatus.PENDING, ItemStatus.RUNNING, ItemStatus.HELD, ItemStatus.FAILED)


def connect_url(provider: str) -> str:
    """The service's connect page, or "" while that integration has not registered it."""
    try:
        return reverse(f"{provider}:connect")
    except NoReverseMatch:
        return ""


@dataclass
class Advice:
    text: str
    action: str = ""
    url: str = ""


@dataclass
class ServiceCard:
    provider: str
    label: str
    account: ConnectedAccount | None
    connect_url: str
    expires_at: datetime | None = None
    advice: Advice | None = None

    @property
    def status_label(self) -> str:
        return self.account.get_status_display() if self.account else "Not connected"

    @property
    def status_class(self) -> str:
        return self.account.status if self.account else "absent"

    @property
    def webhook_url(self) -> str:
        return getattr(account_meta.read_service(self.account), "webhook_url", "")

    @property
    def subscription(self):
        """The service's subscription to our notifications (state, message, checked_at), or None."""
        return getattr(account_meta.read_service(self.account), "subscription", None)


def advice_for(account: ConnectedAccount, url: str) -> Advice | None:
    """The last problem in plain words, with the action that fixes it."""
    label = account.get_provider_display()
    if account.status == AccountStatus.NEEDS_REAUTH:
        text = account.status_message or f"{label} rejected fitsync's credentials."
        return Advice(text, f"Reconnect {label}", url)
    if account.status == AccountStatus.DISABLED:
        return Advice(account.status_message or f"{label} is disconnected.", f"Connect {label} again", url)
    if not account.has_current_problem:
        return None
    if "429" in account.last_error or "rate" in account.last_error.lower():
        return Advice(
            f"{label} asked fitsync to slow down: {account.last_error}", "Nothing to do: fitsync retries later"
        )
    return Advice(account.last_error, "See the failed items and resync them", failed_items_url(account.provider))


def failed_items_url(provider: str) -> str:
    for route in ROUTES.values():
        if provider in (route.source_provider, route.destination_provider):
            return reverse("dashboard:items", args=[route.name]) + "?status=failed"
    return ""


def service_cards(user) -> list[ServiceCard]:
    unreadable.check_accounts(ConnectedAccount.objects.filter(owner=user))  # seals only: nothing decrypted
    accounts = {a.provider: a for a in ConnectedAccount.objects.filter(owner=user)}
    expiries = dict(Credential.objects.filter(account__owner=user).values_list("account__provider", "expires_at"))
    cards = []
    for provider in providers():
        account, url = accounts.get(provider), connect_url(provider)
        card = ServiceCard(provider, provider_label(provider), account, url, expiries.get(provider))
        card.advice = advice_for(account, url) if account else None
        cards.append(card)
    return cards


def providers() -> list[str]:
    """Every known service, then any other a route names (one being added, or a test's)."""
    known = [provider.value for provider in Provider]
    routed = [p for route in ROUTES.values() for p in (route.source_provider, route.destination_provider)]
    return known + [p for p in dict.fromkeys(routed) if p not in known]


@dataclass
class RoutePanel:
    name: str
    label: str
    source: ServiceCard
    destination: ServiceCard
    sync_now_task: str
    counts: dict = field(default_factory=dict)
    last_item_at: datetime | None = None
    last_synced_at: datetime | None = None  # the newest copy written, by any path (a job, an import)
    paused: bool = False  # the user paused the route: its items wait
    on: bool = True  # an optional route the user has not turned on records nothing
    optional: bool = False
    summary: str = ""  # what turning the route on does
    has_options: bool = False

    @property
    def last_received_at(self) -> datetime | None:
        """When the source last handed over data: a delivery, a record read, an import."""
        return self.source.account.last_received_at if self.source.account else None

    @property
    def can_sync_now(self) -> bool:
        return bool(self.sync_now_task and self.source.account and self.source.account.is_connected)

    @property
    def sync_now_blocker(self) -> str:
        if not self.sync_now_task:
            return "Manual sync is not available for this route yet."
        if not self.source.account:
            return f"Connect {self.source.label} first."
        if not self.source.account.is_connected:
            return f"Reconnect {self.source.label} first."
        return ""


def item_counts(cards: list[ServiceCard]) -> dict[str, dict]:
    """Per route: pending, held, failed and "keeps failing" counts, and the newest item's time.

    Only open items are counted (synced ones are the bulk of the table), so the status index serves it.
    """
    accounts = {card.provider: card.account for card in cards if card.account}
    open_items = SyncItem.objects.filter(
        account_id__in=[a.pk for a in accounts.values()], route__in=list(ROUTES), status__in=OPEN
    )  # route and status both listed: a few seeks into the (route, status) index instead of a scan
    rows = open_items.values("route").annotate(
        pending=Count("pk", filter=Q(status__in=(ItemStatus.PENDING, ItemStatus.RUNNING))),
        held=Count("pk", filter=Q(status=ItemStatus.HELD)),
        failed=Count("pk", filter=Q(status=ItemStatus.FAILED)),
        retrying=Count("pk", filter=Q(status=ItemStatus.PENDING, attempts__gte=RETRYING_AFTER)),
    )
    counts = {row.pop("route"): row for row in rows}
    for route in ROUTES.values():
        source = accounts.get(route.source_provider)
        counts.setdefault(route.name, {"pending": 0, "held": 0, "failed": 0, "retrying": 0})
        counts[route.name].update(newest_times(source, route.name))
    return counts


def newest_times(account: ConnectedAccount | None, route: str) -> dict:
    """The newest source object's time and the newest copy written (by a job or an import), in one query
    reading the tops of the (account, route, -occurred_at) and (account, route, -synced_at) indexes."""
    if account is None:
        return {"last_item_at": None, "last_synced_at": None}
    items = SyncItem.objects.filter(account=account, route=route)
    newest = items.filter(occurred_at__isnull=False).order_by("-occurred_at").values("occurred_at")[:1]
    synced = items.filter(synced_at__isnull=False).order_by("-synced_at").values("synced_at")[:1]
    tops = ConnectedAccount.objects.filter(pk=account.pk).annotate(
        last_item_at=Subquery(newest), last_synced_at=Subquery(synced)
    )
    return tops.values("last_item_at", "last_synced_at").get()


def route_panels(cards: list[ServiceCard], counts: dict[str, dict]) -> list[RoutePanel]:
    by_provider = {card.provider: card for card in cards}
    panels = []
    for route in ROUTES.values():
        row = dict(counts[route.name])
        last, synced = row.pop("last_item_at"), row.pop("last_synced_at")
        panel = RoutePanel(
            route.name,
            route.label,
            by_provider[route.source_provider],
            by_provider[route.destination_provider],
            route.sync_now_task,
            row,
            last_item_at=last,
            last_synced_at=synced,
            optional=route.optional,
            summary=route.summary,
            has_options=bool(route.options_form),
        )
        panels.append(panel)
    return panels


@dataclass
class Alert:
    text: str
    level: str = "warn"
    action: str = ""
    url: str = ""
    post: bool = False  # the action is a state change: a form with a button, not a link
    route: str = ""  # what a posted bulk action is limited to


def alerts(cards: list[ServiceCard], panels: list[RoutePanel]) -> list[Alert]:
    found = [
        Alert(card.advice.text, "bad", card.advice.action, card.advice.url)
        for card in cards
        if card.account and card.account.status == AccountStatus.NEEDS_REAUTH
    ]
    on = [panel for panel in panels if panel.on]  # a route turned off raises nothing
    for panel in on:
        found += panel_alerts(panel)
    return found + stale_alerts(on) + schedule_alerts()


def schedule_alerts() -> list[Alert]:
    """Scheduled jobs the scheduler had to set aside: an operator's problem, shown so it is not silent."""
    from ..jobs import skipped_schedules

    count = skipped_schedules().count()
    if not count:
        return []
    text = f"{count} scheduled job(s) could not be read and were set aside; the others keep running."
    return [Alert(text, "bad", "See scheduled jobs", reverse("admin:django_q_schedule_changelist"))]


def panel_alerts(panel: RoutePanel) -> list[Alert]:
    found, counts = [], panel.counts
    if counts["held"]:
        text = f"{counts['held']} item(s) of {panel.label} are held back by the upload safety cap."
        found.append(
            Alert(text, "warn", "Upload held items", reverse("dashboard:bulk_upload_held"), post=True, route=panel.name)
        )
    if counts["failed"]:
        text = f"{counts['failed']} item(s) of {panel.label} failed after retries."
        found.append(
            Alert(
                text, "bad", "Resync all failed", reverse("dashboard:bulk_resync_failed"), post=True, route=panel.name
            )
        )
    if counts["retrying"]:
        found.append(Alert(f"{counts['retrying']} item(s) of {panel.label} keep failing; fitsync is still retrying."))
    return found


def stale_alerts(panels: list[RoutePanel]) -> list[Alert]:
    """One alert per connected source (older than FITSYNC_STALE_DAYS) with no new item on any of its routes,
    nor any delivery, for that many days."""
    days = settings.FITSYNC_STALE_DAYS
    since = timezone.now() - timedelta(days=days)
    by_source: dict[str, list[RoutePanel]] = {}
    for panel in panels:
        by_source.setdefault(panel.source.provider, []).append(panel)
    found = []
    for routes in by_source.values():
        source, account = routes[0].source, routes[0].source.account
        if not account or not account.is_connected or account.created_at > since:
            continue
        seen = [panel.last_item_at for panel in routes] + [account.last_received_at]
        if any(at and at > since for at in seen):
            continue
        text = f"No data received from {source.label} for {days} days or more. Check its webhook or subscription."
        found.append(Alert(text, "warn", f"Open {source.label}", source.connect_url))
    return found
