"""The overview's first-run checklist: what is left to do before a route runs on its own.

It follows the first route that is on whose source is connected (or the first route that is on): connect
its source and its destination, let the source deliver changes (a webhook or a subscription), import the
history. Once a route that is on has all four, the checklist is gone. A route turned off (an optional one
not turned on yet, say) is not followed: it would ask for a destination the user does not want. A fixed,
small number of queries whatever the data: the accounts come with the cards, which routes are on with the
overview's route states, the finished imports in one query, the webhook asked of one route at most once.
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


def is_connected(card: ServiceCard) -> bool:
    return bool(card.account and card.account.is_connected)


def steps_for(route: Route, cards: dict[str, ServiceCard], imported: set[str]) -> list[Step]:
    source, destination = cards[route.source_provider], cards[route.destination_provider]
    webhook_ok = is_connected(source) and route.source_role.webhook_is_set(source.account)
    return [
        Step(
            f"Connect a source: {source.label}",
            is_connected(source),
            source.connect_url,
            f"Connect on the {source.label} page",
        ),
        Step(
            f"Connect a destination: {destination.label}",
            is_connected(destination),
            destination.connect_url,
            f"Connect on the {destination.label} page",
        ),
        Step(
            f"Let {source.label} send new data at once (webhook or notifications)",
            webhook_ok,
            source.connect_url,
            f"Set it up on the {source.label} page",
        ),
        Step("Import your history", route.name in imported, source.connect_url, f"Import on the {source.label} page"),
    ]


def is_set_up(route: Route, cards: dict[str, ServiceCard], imported: set[str]) -> bool:
    """All four steps, the webhook (a query) asked last."""
    source = cards[route.source_provider]
    if not (route.name in imported and is_connected(source) and is_connected(cards[route.destination_provider])):
        return False
    return route.source_role.webhook_is_set(source.account)


def checklist(user, cards: list[ServiceCard], on: set[str]) -> tuple[str, list[Step]]:
    """(route label, steps) while no route that is on (`on`: their names) is fully set up; ("", []) once one
    is. With every route off, it follows them all."""
    by_provider = {card.provider: card for card in cards}
    finished = SyncRun.objects.filter(owner=user, trigger=SyncRun.Trigger.BACKFILL, finished_at__isnull=False)
    imported = set(finished.values_list("route", flat=True).distinct())
    routes = [route for route in ROUTES.values() if route.name in on] or list(ROUTES.values())
    if any(is_set_up(route, by_provider, imported) for route in routes):
        return "", []
    route = next((r for r in routes if by_provider[r.source_provider].account), routes[0])
    return route.label, steps_for(route, by_provider, imported)
