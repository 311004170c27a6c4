"""Withings as a source: measure groups, fetched in pages by `fetch.py` and carried on the item itself.

A notification says only "something changed in this window", so the fetch reads the groups and hands
every one to the routes (`fitsync.feeds.take_in`); each item keeps its group as a snapshot, and syncing
it needs no further call to Withings. A history import reads a range of days (`history`, for
`fitsync/imports.py`).
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from fitsync import account_meta
from fitsync.dashboard.summary import amount, number
from fitsync.errors import PermanentError
from fitsync.profiles import weight_text
from fitsync.records import BodyMeasurement, measurement_from_jsonable, to_jsonable
from fitsync.roles import Described, Source, SyncContext
from fitsync.units import from_kg

from .fetch import history_pages
from .mapping import ambiguity_reason

CENTI = Decimal("0.01")


class Measurements(Source):
    provider = "withings"
    noun = "measurement"
    heading = "Weights"
    title_label = "Measured"
    charts = ("weight", "body_fat")

    def fetch(self, context: SyncContext) -> BodyMeasurement:
        if not context.item.snapshot:
            raise PermanentError("This item holds no Withings measurement to upload")
        return measurement_from_jsonable(context.item.snapshot)

    def describe(self, measurement: BodyMeasurement) -> Described:
        return Described(title_of(measurement), measurement.measured_at, measurement_snapshot(measurement))

    def facts(self, snapshot: dict, unit: str = "kg") -> dict[str, str]:
        weight, fat = number(snapshot.get("weight_kg")), number(snapshot.get("fat_ratio_pct"))
        return {
            "Weight": weight_text(weight, unit),
            "Body fat": f"{amount(fat)} %" if fat is not None else "–",
        }

    disconnect_note = "fitsync also asks Withings to stop sending weigh-in notifications."

    def history(self, account, since, until, *, max_pages=None, page_size=None):
        return history_pages(account, since, until, max_pages=max_pages, page_size=page_size)

    def webhook_is_set(self, account) -> bool:
        """Withings has no webhook to paste: the notification subscription plays its part."""
        from .account_meta import WithingsMeta

        subscription = account_meta.read(account, WithingsMeta).subscription
        return bool(subscription and subscription.state == "active") or super().webhook_is_set(account)

    def disconnect(self, account) -> None:
        from .subscriptions import revoke

        revoke(account)

    def title_in(self, title: str, snapshot: dict, unit: str) -> str:
        """A weigh-in is titled by its weight (`title_of`), so the title follows the reader's unit."""
        weight = number(snapshot.get("weight_kg"))
        return weight_title(weight, unit) if weight else title

    def skip_reason(self, measurement: BodyMeasurement) -> str:
        reason = ambiguity_reason(measurement)
        if reason and not settings.WITHINGS_INCLUDE_AMBIGUOUS:
            return f"{reason}. Set WITHINGS_INCLUDE_AMBIGUOUS=1 to sync such weigh-ins."
        return ""


def measurement_snapshot(measurement: BodyMeasurement) -> dict:
    """The record as JSON plus derived values (hydration % of weight) for the dashboard."""
    hydration = measurement.hydration_pct
    return {
        **to_jsonable(measurement),
        "hydration_pct": str(hydration.quantize(CENTI, ROUND_HALF_UP)) if hydration is not None else None,
    }


def title_of(measurement: BodyMeasurement) -> str:
    return weight_title(measurement.weight_kg, "kg") if measurement.weight_kg else "Measurement"


def weight_title(kilograms: Decimal, unit: str) -> str:
    """ "80.50 kg", "177.47 lb": to two decimals, as the scale reports it."""
    return f"{from_kg(kilograms, unit).quantize(CENTI, ROUND_HALF_UP)} {unit}"


MEASUREMENTS = Measurements()
