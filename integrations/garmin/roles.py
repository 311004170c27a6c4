"""Garmin Connect as a destination: one weigh-in per measurement (`destination.py` does the work)."""

from django.conf import settings

from fitsync.roles import Destination, SyncContext, SyncResult

from .destination import push_measurement, remove_measurement
from .fit import WeightRecord


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
