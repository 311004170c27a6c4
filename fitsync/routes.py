"""The route table: which source feeds which destination, and the periodic jobs the services need.

Everything is named by dotted path and imported on first use, so the engine, the dashboard and the
commands read the table without importing a service (and no service import can come back round to the
engine). Adding a route is one entry here and the function it names.
"""

from dataclasses import dataclass
from functools import cache
from typing import Callable

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Route:
    name: str
    label: str
    source: str  # provider of SyncItem.account
    destination: str  # provider of the account the route writes to
    sync: str | Callable  # (SyncContext) -> SyncResult, raising fitsync.errors; a dotted path or the function
    # Dotted path of a django-q2 task taking (source_account_id, run_id) that pulls recent source data
    # now: the dashboard's "Sync now" button. Empty while the route has none.
    sync_now_task: str = ""

    def sync_item(self, context):
        return (resolve(self.sync) if isinstance(self.sync, str) else self.sync)(context)


@cache
def resolve(path: str) -> Callable:
    return import_string(path)


ROUTES = {
    route.name: route
    for route in (
        Route(
            "hevy_intervals", "Hevy → Intervals.icu", "hevy", "intervals",
            "fitsync.pipelines.hevy_to_intervals.sync_workout",
            sync_now_task="integrations.hevy.tasks.sync_now",
        ),
        Route(
            "withings_garmin", "Withings → Garmin Connect", "withings", "garmin",
            "fitsync.pipelines.withings_to_garmin.sync_measurement",
            sync_now_task="integrations.withings.tasks.sync_now",
        ),
    )
}  # fmt: skip

# Periodic jobs besides the dispatcher and the heartbeat: (name, task path, minutes between runs).
SCHEDULES: list[tuple[str, str, int]] = [
    (
        "hevy: poll workout edits and deletions",
        "integrations.hevy.tasks.poll_events",
        settings.HEVY_EVENTS_POLL_MINUTES,
    ),
    ("intervals: refresh athlete timezones", "integrations.intervals.tasks.refresh_timezones", 24 * 60),
    # Backstop for lost notifications (and the only feed when SITE_URL is not public HTTPS).
    ("withings: fetch new measurements", "integrations.withings.tasks.fetch_new_for_all", 360),
    ("withings: check notification subscriptions", "integrations.withings.tasks.check_subscriptions", 1440),
    # Garmin's refresh token lives about 30 days: refresh daily so a quiet month needs no new sign-in.
    ("garmin: keep the sign-in alive", "integrations.garmin.tasks.keep_signed_in", 1440),
]


def route_for(name: str) -> Route:
    return ROUTES[name]


def routes_from(provider: str) -> list[Route]:
    return [route for route in ROUTES.values() if route.source == provider]
