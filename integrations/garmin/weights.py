"""Putting one weigh-in into Garmin Connect exactly once, and taking it out again.

Garmin does not de-duplicate weight uploads (every upload is another weigh-in), so before uploading
we read the weigh-ins around the measurement and skip when one lies within GARMIN_DEDUP_SECONDS and
GARMIN_DEDUP_KG. After uploading we read back to learn Garmin's `samplePk`, the only handle that lets
a later edit or delete in the source replace or remove exactly that weigh-in. The same read makes a
retry after a crash between the upload and its recording find the upload instead of repeating it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from garminconnect import Garmin

from fitsync.errors import TransientError
from fitsync.sync import crash_point

from . import client
from .client import WeighIn
from .fit import WeightRecord, encode_weight_file
from .mapping import matching_weigh_in


@dataclass(frozen=True)
class Placement:
    """Where a record ended up: `uploaded`, `duplicate` (Garmin had it already) or `accepted` (409)."""

    how: str
    weigh_in: WeighIn | None


def place_weight(garmin: Garmin, record: WeightRecord, *, replacing: WeighIn | None = None) -> Placement:
    """Upload `record` unless Garmin already has it; then remove the weigh-in it replaces, if any."""
    ignore = {replacing.sample_pk} if replacing else set()
    before = weigh_ins_around(garmin, record)
    existing = _match(record, before, ignore)
    if existing:
        placement = Placement("duplicate", existing)
    else:
        placement = _upload(garmin, record, ignore | {w.sample_pk for w in before})
    if replacing and placement.weigh_in and placement.weigh_in.sample_pk != replacing.sample_pk:
        client.delete_weigh_in(garmin, replacing)
    return placement


def _upload(garmin: Garmin, record: WeightRecord, known: set[str]) -> Placement:
    crash_point("before_write")
    already_there = client.upload_fit(garmin, encode_weight_file([record], time_created=datetime.now(UTC)))
    uploaded = _match(record, weigh_ins_around(garmin, record), known)
    if uploaded:
        return Placement("uploaded", uploaded)
    if already_there:
        return Placement("accepted", None)  # 409: Garmin has this file, though not where we looked
    # Garmin answers 202 and may list the weigh-in a little later; the retry's read finds it.
    raise TransientError("Garmin Connect accepted the weigh-in but does not list it yet", provider=client.PROVIDER)


def remove_weight(garmin: Garmin, weigh_in: WeighIn) -> bool:
    """Delete a weigh-in we uploaded; False when it was already gone."""
    return client.delete_weigh_in(garmin, weigh_in)


def weigh_ins_around(garmin: Garmin, record: WeightRecord) -> list[WeighIn]:
    """Garmin's weigh-ins from the day before to the day after the record, in the user's timezone.

    Garmin files a weigh-in under the user's local calendar day; a day either side covers a stale
    timezone and the ±GARMIN_DEDUP_SECONDS window across midnight.
    """
    local = record.timestamp.astimezone(_zone(garmin.time_zone))
    first, last = (local - timedelta(days=1)).date(), (local + timedelta(days=1)).date()
    return client.weigh_ins_between(garmin, first, last)


def _match(record: WeightRecord, weigh_ins: list[WeighIn], ignore: set[str]) -> WeighIn | None:
    seconds, kg = settings.GARMIN_DEDUP_SECONDS, Decimal(str(settings.GARMIN_DEDUP_KG))
    return matching_weigh_in(record, weigh_ins, seconds, kg, ignore=ignore)


def _zone(name: str | None):
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
