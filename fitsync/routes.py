"""The route table: which source feeds which destination, and the periodic jobs the services need.

Everything is named by dotted path and imported on first use, so the engine, the dashboard and the
commands read the table without importing a service (and no service import can come back round to the
engine). Adding a route is one entry here: a source, a destination and a mapping.
"""

from dataclasses import dataclass
from functools import cache
from typing import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from .roles import Destination, Source


@dataclass(frozen=True)
class Route:
    """A source, a destination and the mapping between their records (see `fitsync/roles.py`)."""

    name: str
    label: str
    source: str | Source  # a Source, or the dotted path of one
    destination: str | Destination
    mapping: str | Callable  # (record, destination target) -> what the destination writes
    # Dotted path of a django-q2 task taking (source_account_id, run_id) that pulls recent source data
    # now: the dashboard's "Sync now" button. Empty while the route has none.
    sync_now_task: str = ""
    # The dashboard lists the route's items at /<list_path>/ (default: the route's name).
    list_path: str = ""
    # An optional route is off until the user turns it on, on its card (`fitsync.route_settings`).
    optional: bool = False
    # Dotted path of a Django form of the route's per-user options (its fields' initials are the
    # defaults); empty when the route has none. The destination reads them with `route_settings.options_of`.
    options_form: str = ""
    # One sentence for the route's card while it is off: what turning it on does.
    summary: str = ""

    @property
    def source_role(self) -> Source:
        return resolve(self.source)

    @property
    def destination_role(self) -> Destination:
        return resolve(self.destination)

    @property
    def source_provider(self) -> str:
        return self.source_role.provider

    @property
    def destination_provider(self) -> str:
        return self.destination_role.provider

    @property
    def list_slug(self) -> str:
        return self.list_path or self.name

    def map(self, record, target):
        return resolve(self.mapping)(record, target)

    def is_on(self, choice: bool | None) -> bool:
        """On or off for a user whose stored choice is `choice` (None: never chosen, the route's default)."""
        return (not self.optional) if choice is None else choice


def resolve(part):
    return _imported(part) if isinstance(part, str) else part


@cache
def _imported(path: str):
    return import_string(path)


ROUTES = {
    route.name: route
    for route in (
        Route(
            "hevy_intervals", "Hevy → Intervals.icu",
            source="integrations.hevy.roles.WORKOUTS",
            destination="integrations.intervals.roles.ACTIVITIES",
            mapping="integrations.intervals.mapping.activity_from_workout",
            sync_now_task="integrations.hevy.tasks.sync_now",
            list_path="workouts",
        ),
        Route(
            "withings_garmin", "Withings → Garmin Connect",
            source="integrations.withings.roles.MEASUREMENTS",
            destination="integrations.garmin.roles.WEIGH_INS",
            mapping="integrations.garmin.mapping.checked_weight_record",
            sync_now_task="integrations.withings.tasks.sync_now",
            list_path="weights",
        ),
        Route(
            "hevy_garmin", "Hevy → Garmin Connect",
            source="integrations.hevy.roles.WORKOUTS",
            destination="integrations.garmin.roles.STRENGTH_ACTIVITIES",
            mapping="integrations.garmin.strength_activity.activity_from_workout",
            sync_now_task="integrations.hevy.tasks.sync_now",
            list_path="strength",
            optional=True,
            options_form="integrations.garmin.strength_options.StrengthOptionsForm",
            summary="Uploads each Hevy workout to Garmin Connect as a strength activity, with its sets.",
        ),
        Route(
            "withings_intervals", "Withings → Intervals.icu",
            source="integrations.withings.roles.MEASUREMENTS",
            destination="integrations.intervals.wellness.roles.WELLNESS_DAYS",
            mapping="integrations.intervals.wellness.mapping.reading_from_measurement",
            sync_now_task="integrations.withings.tasks.sync_now",
            list_path="wellness",
            optional=True,
            options_form="integrations.intervals.wellness.options.WellnessOptionsForm",
            summary="Writes each day's weight and body composition from Withings into your Intervals.icu wellness.",
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
    # A password or MFA state handed to the login job must not outlive its few minutes.
    ("garmin: wipe expired sign-in handovers", "integrations.garmin.tasks.wipe_expired_handovers", 1),
]


def route_for(name: str) -> Route:
    return ROUTES[name]


def routes_from(provider: str) -> list[Route]:
    return [route for route in ROUTES.values() if route.source_provider == provider]
