"""Hevy as a source: workouts, fetched one by one when a webhook or the events feed names them, or a
whole history page by page for an import."""

from django.conf import settings

from fitsync.dashboard.summary import number_of_sets, volume_kg
from fitsync.profiles import weight_text
from fitsync.records import Workout
from fitsync.roles import Described, Source

from .auth import api_key_of
from .client import MAX_PAGE_SIZE, HevyClient
from .history import read_history
from .mapping import snapshot_of


class Workouts(Source):
    provider = "hevy"
    noun = "workout"
    heading = "Workouts"
    title_label = "Workout"
    charts = ("weekly_volume",)
    max_page_size = MAX_PAGE_SIZE  # Hevy refuses larger pages

    def fetch(self, context) -> Workout:
        return HevyClient(api_key_of(context.source)).workout(context.item.source_id)

    def describe(self, workout: Workout) -> Described:
        return Described(workout.title, workout.start, snapshot_of(workout))

    def facts(self, snapshot: dict, unit: str = "kg") -> dict[str, str]:
        return {"Sets": str(number_of_sets(snapshot)), "Volume": weight_text(volume_kg(snapshot), unit, places=0)}

    def history(self, account, since, until, *, max_pages=None, page_size=None):
        return read_history(
            HevyClient(api_key_of(account)),
            page_size=page_size or MAX_PAGE_SIZE,
            max_pages=max_pages,
            since=since,
            until=until,
            concurrency=settings.HEVY_BACKFILL_CONCURRENCY,
        )


WORKOUTS = Workouts()
