"""Garmin Connect as a destination: one weigh-in per measurement (`destination.py` does the work), and one
strength activity per workout (`strength_destination.py`)."""

from django.conf import settings

from fitsync import account_meta
from fitsync.roles import Destination, SentSummary, SyncContext, SyncResult

from .account_meta import GarminMeta
from .destination import push_measurement, remove_measurement
from .exercise_overrides import overrides_of
from .fit import WeightRecord
from .strength_activity import StrengthActivity, StrengthTarget
from .strength_destination import is_unchanged, latest_body_weight, push_workout, remove_workout
from .strength_sent import strength_summary


class WeighIns(Destination):
    provider = "garmin"

    @property
    def max_uploads_per_run(self) -> int:
        return settings.GARMIN_MAX_UPLOADS_PER_RUN

    def link(self, item) -> str:
        """Garmin has no page per weigh-in; its weight page lists them by day."""
        return f"{settings.GARMIN_CONNECT_URL}/modern/weight" if item.destination_id else ""

    def write(self, context: SyncContext, record: WeightRecord) -> SyncResult:
        return push_measurement(context.destination, context.item, record)

    def delete(self, context: SyncContext) -> SyncResult:
        return remove_measurement(context.destination, context.item)


WEIGH_INS = WeighIns()


class StrengthActivities(Destination):
    """Strength workouts as Garmin activities. The route's mapping is
    `integrations.garmin.strength_activity.activity_from_workout` (workout, `StrengthTarget`)."""

    provider = "garmin"

    @property
    def max_uploads_per_run(self) -> int:
        return settings.GARMIN_MAX_UPLOADS_PER_RUN

    def target(self, context: SyncContext) -> StrengthTarget:
        """The Garmin profile's time zone, the latest Withings weight for the calorie estimate, and the user's
        own exercise choices (read at every write: a changed choice reaches a workout when it is written
        again, by an edit in Hevy or a resync; the file then differs, so the activity is replaced)."""
        owner_id = context.destination.owner_id
        zone = account_meta.read(context.destination, GarminMeta).timezone or "UTC"
        return StrengthTarget(
            timezone=zone,
            body_weight_kg=latest_body_weight(owner_id),
            exercise_overrides=overrides_of(owner_id, context.item.route),
        )

    def link(self, item) -> str:
        made = item.destination_id if not (item.sent or {}).get("deleted") else ""
        return f"{settings.GARMIN_CONNECT_URL}/modern/activity/{made}" if made else ""

    def sent_summary(self, item) -> SentSummary:
        return strength_summary(item.sent or {})

    def unchanged(self, item, activity: StrengthActivity) -> bool:
        return is_unchanged(item, activity)

    def write(self, context: SyncContext, activity: StrengthActivity) -> SyncResult:
        return push_workout(context.destination, context.item, activity)

    def delete(self, context: SyncContext) -> SyncResult:
        return remove_workout(context.destination, context.item)


STRENGTH_ACTIVITIES = StrengthActivities()
