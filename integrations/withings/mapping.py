"""Withings measure groups -> `BodyMeasurement`: pure functions, no I/O.

A measure's real value is `value` x 10^`unit`, computed exactly with Decimal (80350, -3 -> 80.350).
"""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from fitsync.records import BodyMeasurement

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


def decode(measure: dict) -> Decimal:
    """The exact real value of one measure: value x 10^unit."""
    return Decimal(int(measure["value"])).scaleb(int(measure["unit"]))


def values_by_type(group: dict) -> dict[int, Decimal]:
    """Each measure of a group by its type; malformed measures are left out."""
    values = {}
    for measure in group.get("measures") or []:
        try:
            values[int(measure["type"])] = decode(measure)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            continue
    return values


def ambiguity_reason(measurement: BodyMeasurement) -> str:
    """Why a measurement may not be the user's (attrib 1 or 4), or "" when it is theirs."""
    return AMBIGUOUS_ATTRIBS.get(measurement.attrib, "")


def latest_height(groups: list[dict]) -> tuple[int, Decimal] | None:
    """(date, metres) of the newest height (type 4) in these groups, if any."""
    heights = []
    for group in groups:
        values = values_by_type(group)
        if HEIGHT in values:
            heights.append((int(group.get("date") or 0), values[HEIGHT]))
    return max(heights, default=None, key=lambda pair: pair[0])


def bmi(weight_kg: Decimal | None, height_m: Decimal | None) -> Decimal | None:
    if not weight_kg or not height_m:
        return None
    return (weight_kg / (height_m * height_m)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def measurement_from_group(group: dict, timezone: str, height_m: Decimal | None) -> BodyMeasurement | None:
    """A weigh-in from one real-measure group; None for groups without a weight (e.g. height only)."""
    values = values_by_type(group)
    if group.get("category", REAL_MEASURES) != REAL_MEASURES or WEIGHT not in values:
        return None
    known = {FIELDS_BY_TYPE[t]: v for t, v in values.items() if t in FIELDS_BY_TYPE}
    extra = {str(t): str(v) for t, v in values.items() if t not in FIELDS_BY_TYPE and t != HEIGHT}
    measurement = BodyMeasurement(
        source_id=str(group["grpid"]),
        measured_at=datetime.fromtimestamp(int(group["date"]), UTC),
        timezone=timezone,
        attrib=int(group.get("attrib") or 0),
        modified=int(group.get("modified") or group.get("created") or 0),
        extra=extra,
        **known,
    )
    height = values.get(HEIGHT, height_m)
    return replace(measurement, height_m=height, bmi=bmi(measurement.weight_kg, height))


def newest_groups(groups: list[dict]) -> list[dict]:
    """One group per grpid (the most recently modified), oldest measurement first."""
    by_id: dict[int, dict] = {}
    for group in groups:
        grpid = group.get("grpid")
        if grpid is None:
            continue
        kept = by_id.get(grpid)
        if kept is None or int(group.get("modified") or 0) >= int(kept.get("modified") or 0):
            by_id[grpid] = group
    return sorted(by_id.values(), key=lambda g: (int(g.get("date") or 0), g["grpid"]))
