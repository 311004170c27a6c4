"""The explicit list of routes: which service feeds which, and the function that syncs one item.

This package is the only place that names two services together.
"""

from collections.abc import Callable
from dataclasses import dataclass

from . import hevy_to_intervals, withings_to_garmin


@dataclass(frozen=True)
class Route:
    name: str
    label: str
    source: str  # provider of SyncItem.account
    destination: str  # provider of the account the route writes to
    sync: Callable  # (SyncContext) -> SyncResult; raises fitsync.errors
    # Dotted path of a django-q2 task taking (source_account_id, run_id) that pulls recent source data
    # now: the dashboard's "Sync now" button. Empty while the route has none.
    sync_now_task: str = ""


ROUTES = {
    route.name: route
    for route in (
        Route(
            "hevy_intervals",
            "Hevy → Intervals.icu",
            "hevy",
            "intervals",
            hevy_to_intervals.sync_workout,
            sync_now_task="integrations.hevy.tasks.sync_now",
        ),
        Route(
            "withings_garmin",
            "Withings → Garmin Connect",
            "withings",
            "garmin",
            withings_to_garmin.sync_measurement,
            sync_now_task="integrations.withings.tasks.sync_now",
        ),
    )
}

# Periodic jobs each route needs besides the dispatcher: (name, task path, minutes between runs).
SCHEDULES = hevy_to_intervals.SCHEDULES + withings_to_garmin.SCHEDULES


def route_for(name: str) -> Route:
    return ROUTES[name]


def routes_from(provider: str) -> list[Route]:
    return [r for r in ROUTES.values() if r.source == provider]
