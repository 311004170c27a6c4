"""Withings measure groups -> `BodyMeasurement`: pure functions, no I/O but a log line.

A measure's real value is `value` x 10^`unit`, computed exactly with Decimal (80350, -3 -> 80.350).
Numbers may come as strings ("80350"); a measure whose numbers are not numbers is skipped, a group
without a usable id or date too, each with a log line (docs/upstream.md, "Withings").
"""

import logging
from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from fitsync.records import BodyMeasurement

from .numbers import as_decimal, as_int

log = logging.getLogger("fitsync.withings")

HEIGHT = 4
WEIGHT = 1
# meastype -> BodyMeasurement field. 77 is hydration in kg (not %); 170, 226, 227 are missing from
# withings-api's enum, and 54/71/73 are SpO2 and temperatures, not body composition.
FIELDS_BY_TYPE = {
    1: "weight_kg",
    5: "fat_free_mass_kg",
    6: "fat_ratio_pct",
    8: "fat_mass_kg",
    76: "muscle_mass_kg",
    77: "hydration_kg",
    88: "bone_mass_kg",
    170: "visceral_fat",
    226: "bmr_kcal",
    227: "metabolic_age",
}
MEASTYPES = sorted([*FIELDS_BY_TYPE, HEIGHT])
AMBIGUOUS_ATTRIBS = {
    1: "Withings could not tell whose weigh-in this is (attrib 1: the scale matched it to nobody for sure)",
    4: "Entered by hand at Withings account creation and possibly inaccurate (attrib 4)",
}
REAL_MEASURES = 1  # category 1; 2 is a user objective
LARGEST_UNIT = 20  # |unit| beyond this is garbage: no measure is 10^20 of anything


def decode(measure: dict) -> Decimal | None:
    """The exact real value of one measure, value x 10^unit; None unless both are numbers."""
    value, unit = as_decimal(measure.get("value")), as_int(measure.get("unit"))
    if value is None or unit is None or abs(unit) > LARGEST_UNIT:
        return None
    return value.scaleb(unit)


def values_by_type(group: dict) -> dict[int, Decimal]:
    """Each measure of a group by its type; a measure that is not numbers is logged and left out."""
    values = {}
    for measure in group.get("measures") or []:
        meastype = as_int(measure.get("type")) if isinstance(measure, dict) else None
        value = decode(measure) if meastype is not None else None
        if value is None:
            log.warning("withings group %s: skipped a measure that is not numbers: %.200r", group.get("grpid"), measure)
            continue
        values[meastype] = value
    return values


def is_deleted(group: dict) -> bool:
    """A group that comes back with `measures: []`: one plausible shape of a deletion (docs/upstream.md,
    "Withings"); the other is the group missing from every read, which a window read finds out."""
    return group_id(group) is not None and group.get("measures") == []


def group_id(group: dict) -> int | None:
    return as_int(group.get("grpid"))


def ambiguity_reason(measurement: BodyMeasurement) -> str:
    """Why a measurement may not be the user's (attrib 1 or 4), or "" when it is theirs."""
    return AMBIGUOUS_ATTRIBS.get(measurement.attrib, "")


def latest_height(groups: list[dict]) -> tuple[int, Decimal] | None:
    """(date, metres) of the newest height (type 4) in these groups, if any."""
    heights = []
    for group in groups:
        values = values_by_type(group)
        if HEIGHT in values:
            heights.append((as_int(group.get("date"), 0), values[HEIGHT]))
    return max(heights, default=None, key=lambda pair: pair[0])


def bmi(weight_kg: Decimal | None, height_m: Decimal | None) -> Decimal | None:
    if not weight_kg or not height_m:
        return None
    return (weight_kg / (height_m * height_m)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def measurement_from_group(group: dict, timezone: str, height_m: Decimal | None) -> BodyMeasurement | None:
    """A weigh-in from one real-measure group; None for groups without a weight (e.g. height only)
    and, with a log line, for groups without a usable id or date."""
    values = values_by_type(group)
    if as_int(group.get("category"), REAL_MEASURES) != REAL_MEASURES or WEIGHT not in values:
        return None
    grpid, measured_at = group_id(group), _measured_at(group)
    if grpid is None or measured_at is None:
        log.warning(
            "withings group %.40r dated %.40r skipped: no usable grpid or date", group.get("grpid"), group.get("date")
        )
        return None
    known = {FIELDS_BY_TYPE[t]: v for t, v in values.items() if t in FIELDS_BY_TYPE}
    extra = {str(t): str(v) for t, v in values.items() if t not in FIELDS_BY_TYPE and t != HEIGHT}
    measurement = BodyMeasurement(
        source_id=str(grpid),
        measured_at=measured_at,
        timezone=timezone,
        attrib=as_int(group.get("attrib"), 0),
        modified=as_int(group.get("modified")) or as_int(group.get("created"), 0),
        extra=extra,
        **known,
    )
    height = values.get(HEIGHT, height_m)
    return replace(measurement, height_m=height, bmi=bmi(measurement.weight_kg, height))


def _measured_at(group: dict) -> datetime | None:
    seconds = as_int(group.get("date"))
    try:
        return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None
    except (OverflowError, OSError, ValueError):  # beyond the years datetime can hold
        return None


def newest_groups(groups: list[dict]) -> list[dict]:
    """One group per grpid (the most recently modified), oldest measurement first; "12" and 12 are
    the same grpid, and groups without a usable one are left out."""
    by_id: dict[int, dict] = {}
    for group in groups:
        grpid = group_id(group)
        if grpid is None:
            continue
        kept = by_id.get(grpid)
        if kept is None or as_int(group.get("modified"), 0) >= as_int(kept.get("modified"), 0):
            by_id[grpid] = group
    return [by_id[grpid] for grpid in sorted(by_id, key=lambda i: (as_int(by_id[i].get("date"), 0), i))]
