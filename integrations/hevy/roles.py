"""Hevy as a source: workouts, fetched one by one when a webhook or the events feed names them."""

from fitsync.dashboard.summary import number_of_sets, volume_kg
from fitsync.profiles import weight_text
from fitsync.records import Workout
from fitsync.roles import Described, Source

from .auth import api_key_of
from .client import HevyClient
from .mapping import snapshot_of


class Workouts(Source):
    provider = "hevy"
    noun = "workout"
    heading = "Workouts"
    title_label = "Workout"
    charts = ("weekly_volume",)

    def fetch(self, context) -> Workout:
        return HevyClient(api_key_of(context.source)).workout(context.item.source_id)

    def describe(self, workout: Workout) -> Described:
        return Described(workout.title, workout.start, snapshot_of(workout))

    def facts(self, snapshot: dict, unit: str = "kg") -> dict[str, str]:
        return {"Sets": str(number_of_sets(snapshot)), "Volume": weight_text(volume_kg(snapshot), unit, places=0)}


WORKOUTS = Workouts()
