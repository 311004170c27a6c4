"""The overview's first-run checklist: what is left to do before a route runs on its own.

It follows the first route whose source is connected (or the first route): connect its source and its
destination, let the source deliver changes (a webhook or a subscription), import the history. Once a
route has all four, the checklist is gone.
"""

from dataclasses import dataclass

from ..models import SyncRun
from ..routes import ROUTES, Route
from .status import ServiceCard


@dataclass
class Step:
    text: str
    done: bool
    url: str = ""
    action: str = ""


def steps_for(user, route: Route, cards: dict[str, ServiceCard]) -> list[Step]:
    source, destination = cards[route.source_provider], cards[route.destination_provider]
    source_ok = bool(source.account and source.account.is_connected)
    destination_ok = bool(destination.account and destination.account.is_connected)
    webhook_ok = source_ok and route.source_role.webhook_is_set(source.account)
    imports = SyncRun.objects.filter(owner=user, route=route.name, trigger=SyncRun.Trigger.BACKFILL)
    history_ok = imports.filter(finished_at__isnull=False).exists()
    return [
        Step(f"Connect a source: {source.label}", source_ok, source.connect_url, f"Connect {source.label}"),
        Step(
            f"Connect a destination: {destination.label}",
            destination_ok,
            destination.connect_url,
            f"Connect {destination.label}",
        ),
        Step(
            f"Let {source.label} send new data at once (webhook or notifications)",
            webhook_ok,
            source.connect_url,
            f"Set it up on the {source.label} page",
        ),
        Step("Import your history", history_ok, source.connect_url, f"Import on the {source.label} page"),
    ]


def checklist(user, cards: list[ServiceCard]) -> tuple[str, list[Step]]:
    """(route label, steps) while no route is fully set up; ("", []) once one is."""
    by_provider = {card.provider: card for card in cards}
    routes = list(ROUTES.values())
    started = [r for r in routes if by_provider[r.source_provider].account] or routes
    for route in routes:
        if all(step.done for step in steps_for(user, route, by_provider)):
            return "", []
    return started[0].label, steps_for(user, started[0], by_provider)
