"""Putting one weigh-in into Garmin Connect exactly once, and taking it out again.

Garmin does not de-duplicate weight uploads (every upload is another weigh-in), so before uploading
we read the weigh-ins around the measurement and skip when one lies within GARMIN_DEDUP_SECONDS and
GARMIN_DEDUP_KG. After uploading we read back to learn Garmin's `samplePk`, the only handle that lets
a later edit or delete in the source replace or remove exactly that weigh-in. The same read makes a
retry after a crash between the upload and its recording find the upload instead of repeating it.

Garmin answers the upload 202 and lists the weigh-in a little later, so the read-back is repeated a
few times with short waits (`readback.py`). When it still is not listed, the caller has recorded on the
item that we uploaded it (`on_uploaded`), and the retry's read counts the weigh-in it finds as ours
(`ours=True`) instead of as one Garmin already had.
"""

from collections.abc import Callable
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
from .readback import read_back


@dataclass(frozen=True)
class Placement:
    """Where a record ended up: `uploaded`, `duplicate` (Garmin had it already) or `accepted` (409)."""

    how: str
    weigh_in: WeighIn | None


def place_weight(
    garmin: Garmin,
    record: WeightRecord,
    *,
    replacing: WeighIn | None = None,
    ours: bool = False,
    leaving: set[str] = frozenset(),
    on_uploaded: Callable[[], None] = lambda: None,
) -> Placement:
    """Upload `record` unless Garmin already has it; then remove the weigh-in it replaces, if any.

    `ours`: an earlier attempt uploaded exactly this record, so a match is that upload, not a duplicate.
    `leaving`: samplePks about to be deleted, which never count as Garmin already having the record.
    `on_uploaded` runs as soon as Garmin accepted the file, before the read-back.
    """
    ignore = set(leaving) | ({replacing.sample_pk} if replacing else set())
    before = weigh_ins_around(garmin, record)
    existing = _match(record, before, ignore)
    if existing:
        placement = Placement("uploaded" if ours else "duplicate", existing)
    else:
        placement = _upload(garmin, record, ignore | {w.sample_pk for w in before}, on_uploaded)
    if replacing and placement.weigh_in and placement.weigh_in.sample_pk != replacing.sample_pk:
        client.delete_weigh_in(garmin, replacing)
    return placement


def _upload(garmin: Garmin, record: WeightRecord, known: set[str], on_uploaded: Callable[[], None]) -> Placement:
    crash_point("before_write")
    already_there = client.upload_fit(garmin, encode_weight_file([record], time_created=datetime.now(UTC)))
    if already_there:  # 409: Garmin has this very file; look once
        uploaded = _match(record, weigh_ins_around(garmin, record), known)
        return Placement("uploaded", uploaded) if uploaded else Placement("accepted", None)
    on_uploaded()
    uploaded = read_back(lambda: _match(record, weigh_ins_around(garmin, record), known))
    if uploaded:
        return Placement("uploaded", uploaded)
    # Still processing: the retry's read finds it, and the item remembers that it is ours.
    raise TransientError(
        "Garmin Connect accepted the weigh-in but does not list it yet; fitsync looks again shortly",
        provider=client.PROVIDER,
    )


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
