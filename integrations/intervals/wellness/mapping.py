"""A `BodyMeasurement` -> its share of a wellness day, and a day's values from its weigh-ins: pure, no I/O.

The route's mapping is `reading_from_measurement`: the weigh-in's local day (in the timezone Withings
gives for it), its time, and the value of every field the athlete gets (`fields.py`). A day's values come
from all its readings by the route's pick (`options.py`), so every job of that day computes the same.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fitsync.records import BodyMeasurement

from .fields import fields_sent
from .options import DEFAULT_PICK

CENTI = Decimal("0.01")  # values go out to two decimals, as the scale reports weight


@dataclass(frozen=True)
class WellnessTarget:
    """What the mapping needs to know of the athlete: the route's pick and their custom wellness fields."""

    pick: str = DEFAULT_PICK
    custom_codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reading:
    """One weigh-in's share of its day's wellness record."""

    source_id: str
    day: str  # the local day, YYYY-MM-DD: the destination id of the weigh-in's item
    at: str  # the measurement time, ISO in UTC: orders the day's weigh-ins
    pick: str
    codes: tuple[str, ...]  # the athlete's custom wellness field codes the values were chosen for
    values: dict[str, str]  # Intervals.icu field -> value (text, two decimals)

    @property
    def target(self) -> WellnessTarget:
        return WellnessTarget(self.pick, frozenset(self.codes))

    def digest(self) -> str:
        """Changes exactly when the weigh-in's share of its day does (its values, day, the pick or the fields)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def reading_from_measurement(measurement: BodyMeasurement, target: WellnessTarget) -> Reading:
    """The route's mapping: the fields this athlete gets that the weigh-in has a value for."""
    values = {}
    for field in fields_sent(target.custom_codes):
        value = getattr(measurement, field.attribute)
        if value is not None:
            values[field.name] = text_of(value)
    return Reading(
        source_id=measurement.source_id,
        day=local_day(measurement).isoformat(),
        at=measurement.measured_at.isoformat(),
        pick=target.pick,
        codes=tuple(sorted(target.custom_codes)),
        values=values,
    )


def local_day(measurement: BodyMeasurement) -> date:
    """The day the weigh-in belongs to: its local day in the timezone Withings gives for it (UTC if unknown)."""
    try:
        zone = ZoneInfo(measurement.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return measurement.measured_at.astimezone(zone).date()


def day_values(readings: Iterable[Reading], pick: str) -> dict[str, Decimal]:
    """The day's value of every field some reading has: the first, last or average of the readings that
    have it, in measurement order."""
    ordered = sorted(readings, key=lambda reading: (reading.at, reading.source_id))
    names = dict.fromkeys(name for reading in ordered for name in reading.values)
    values = {}
    for name in names:
        found = [Decimal(reading.values[name]) for reading in ordered if name in reading.values]
        values[name] = found[0] if pick == "first" else found[-1] if pick == "last" else average(found)
    return values


def average(values: list[Decimal]) -> Decimal:
    return (sum(values) / len(values)).quantize(CENTI, ROUND_HALF_UP)


def text_of(value: Decimal) -> str:
    """80.350 -> "80.35", 7 -> "7.00": two decimals, rounded half up."""
    return str(Decimal(value).quantize(CENTI, ROUND_HALF_UP))
