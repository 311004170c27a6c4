"""A user's choices per route: on or off, paused, and the route's options (`models.RouteSetting`).

A route is on unless the user turned it off; an optional route (`Route.optional`) is off until the user
turns it on. Items are recorded only for routes that are on; a paused route records them, and they wait.
Options are what the route's options form (`Route.options_form`, a Django form) cleaned, read with the
form's initial values beneath, so a new option has its default for everybody. A route's service may keep
more under its own keys (the Garmin strength route's exercise choices, from their own page): every write
changes only the keys it names, so the options form and such a page never undo each other's saves.
"""

from collections.abc import Callable

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .models import RouteSetting
from .routes import ROUTES, Route, resolve


def is_on(owner_id: int, route: Route) -> bool:
    chosen = RouteSetting.objects.filter(owner_id=owner_id, route=route.name).values_list("enabled", flat=True)
    return route.is_on(chosen.first())


def routes_for(owner_id: int, provider: str) -> list[Route]:
    """The user's routes from `provider` that are on: the ones whose items a new record creates."""
    return [route for route in routes_on(owner_id) if route.source_provider == provider]


def routes_on(owner_id: int) -> list[Route]:
    return [ROUTES[name] for name, (on, _) in states(owner_id).items() if on]


def states_of_request(request) -> dict[str, tuple[bool, bool]]:
    """`states` of the request's user, read once per request (the navigation and the overview both ask)."""
    if not hasattr(request, "_route_states"):
        request._route_states = states(request.user.pk)
    return request._route_states


def on_for_request(request) -> set[str]:
    """The names of the request's user's routes that are on."""
    return {name for name, (on, _) in states_of_request(request).items() if on}


def states(owner_id: int) -> dict[str, tuple[bool, bool]]:
    """Every route's (on, paused) for the user, in one query."""
    rows = RouteSetting.objects.filter(owner_id=owner_id).values_list("route", "enabled", "paused_at")
    chosen = {route: (enabled, paused_at is not None) for route, enabled, paused_at in rows}
    return {
        name: (route.is_on(chosen.get(name, (None, False))[0]), chosen.get(name, (None, False))[1])
        for name, route in ROUTES.items()
    }


def turn(owner, route: Route, on: bool) -> None:
    RouteSetting.objects.update_or_create(owner=owner, route=route.name, defaults={"enabled": on})


def is_paused(owner_id: int, route_name: str) -> bool:
    return RouteSetting.objects.filter(owner_id=owner_id, route=route_name, paused_at__isnull=False).exists()


def paused_routes(owner_id: int) -> set[str]:
    return {name for name, (_, paused) in states(owner_id).items() if paused}


def pause(owner, route: Route) -> None:
    setting, _ = RouteSetting.objects.get_or_create(owner=owner, route=route.name)
    if setting.paused_at is None:
        RouteSetting.objects.filter(pk=setting.pk).update(paused_at=timezone.now())


def resume(owner, route: Route) -> None:
    RouteSetting.objects.filter(owner=owner, route=route.name).update(paused_at=None)


def writing(route: Route) -> Q:
    """Items (filtered by route already) whose route is on and not paused for their owner: the dispatcher's."""
    mine = RouteSetting.objects.filter(owner_id=OuterRef("account__owner_id"), route=OuterRef("route"))
    stopped = Exists(mine.filter(Q(paused_at__isnull=False) | Q(enabled=False)))
    if route.optional:
        return ~stopped & Exists(mine.filter(enabled=True))
    return ~stopped


# --- options ---------------------------------------------------------------------------------------
def options_form(route: Route):
    """The route's options form class, or None when it has no options."""
    return resolve(route.options_form) if route.options_form else None


def defaults(route: Route) -> dict:
    form = options_form(route)
    if form is None:
        return {}
    return {name: field.initial for name, field in form.base_fields.items()}


def options_of(owner_id: int, route_name: str) -> dict:
    """The user's options for the route: the stored ones over the form's defaults."""
    route = ROUTES[route_name]
    stored = RouteSetting.objects.filter(owner_id=owner_id, route=route_name).values_list("options", flat=True)
    return {**defaults(route), **(stored.first() or {})}


def save_options(owner, route: Route, cleaned: dict) -> None:
    """Store these options; the route's other stored options stay."""
    change_options(owner, route, lambda stored: {**stored, **cleaned})


def change_options(owner, route: Route, change: Callable[[dict], dict]) -> dict:
    """Replace the stored options by `change(stored)`, the row locked meanwhile so that two saves at once
    (the options form and another page, two tabs) both land; the new options."""
    with transaction.atomic():
        setting, _ = RouteSetting.objects.get_or_create(owner=owner, route=route.name)
        setting = RouteSetting.objects.select_for_update().get(pk=setting.pk)
        setting.options = change(dict(setting.options or {}))
        setting.save(update_fields=["options"])
    return setting.options
