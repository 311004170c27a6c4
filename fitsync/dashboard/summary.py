"""What a row of the dashboard says about an item: read from its snapshot, never from an upstream.

Snapshots are `fitsync.records.to_jsonable(...)` of a Workout or a BodyMeasurement, so numbers arrive
as strings (Decimals); anything missing or malformed shows as blank rather than breaking the page.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings

from ..profiles import from_kg

WORKOUTS = "hevy_intervals"
WEIGHTS = "withings_garmin"
LIST_URLS = {WORKOUTS: "dashboard:workouts", WEIGHTS: "dashboard:weights"}


def number(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def workout_volume_kg(snapshot: dict) -> Decimal:
    """Weight x reps over all sets; bodyweight and timed sets add nothing (as in records.ExerciseSet)."""
    total = Decimal(0)
    for exercise in snapshot.get("exercises") or []:
        for one_set in exercise.get("sets") or []:
            weight, reps = number(one_set.get("weight_kg")), number(one_set.get("reps"))
            if weight is not None and reps:
                total += weight * reps
    return total


def workout_set_count(snapshot: dict) -> int:
    return sum(len(exercise.get("sets") or []) for exercise in snapshot.get("exercises") or [])


@dataclass
class Summary:
    title: str
    sets: int | None = None
    volume_kg: Decimal | None = None
    weight_kg: Decimal | None = None
    fat_pct: Decimal | None = None


def summarize(item) -> Summary:
    snapshot = item.snapshot if isinstance(item.snapshot, dict) else {}
    title = item.title or snapshot.get("title") or item.source_id
    if item.route == WORKOUTS:
        return Summary(title, sets=workout_set_count(snapshot), volume_kg=workout_volume_kg(snapshot))
    if item.route == WEIGHTS:
        return Summary(
            title, weight_kg=number(snapshot.get("weight_kg")), fat_pct=number(snapshot.get("fat_ratio_pct"))
        )
    return Summary(title)


def destination_url(item) -> str:
    """Where the synced copy can be seen; blank until there is one."""
    if not item.destination_id:
        return ""
    if item.route == WORKOUTS:
        return f"https://intervals.icu/activities/{item.destination_id}"
    if item.route == WEIGHTS:
        # Garmin has no page per weigh-in; the weight page lists them by day.
        return f"{settings.GARMIN_CONNECT_URL}/modern/weight"
    return ""


def exercise_lines(snapshot: dict, unit: str = "kg") -> list[tuple[str, str]]:
    """A workout's exercises as (title, "80 kg × 5 · 82.5 kg × 5 · 8 reps") for people, not for JSON readers."""
    lines = []
    for exercise in snapshot.get("exercises") or []:
        sets = [set_text(one_set, unit) for one_set in exercise.get("sets") or []]
        lines.append((str(exercise.get("title") or "Exercise"), " · ".join(sets) or "no sets"))
    return lines


def set_text(one_set: dict, unit: str = "kg") -> str:
    """ "80 kg × 5", "12 reps", "60 s", "400 m", with the set kind when it is not a normal set."""
    weight, reps = weight_in(number(one_set.get("weight_kg")), unit), one_set.get("reps")
    if weight is not None and reps:
        text = f"{weight} {unit} × {reps}"
    else:
        parts = [
            f"{weight} {unit}" if weight is not None else "",
            f"{reps} reps" if reps else "",
            f"{one_set['duration_s']} s" if one_set.get("duration_s") else "",
            f"{one_set['distance_m']} m" if one_set.get("distance_m") else "",
        ]
        text = " ".join(p for p in parts if p) or "–"
    kind = one_set.get("kind")
    return text + (f" ({kind})" if kind and kind != "normal" else "")


def weight_in(kilograms: Decimal | None, unit: str) -> str | None:
    """A set's weight as typed in kg ("82.5"), or in lb to one decimal ("181.9")."""
    if kilograms is None:
        return None
    if unit == "kg":
        return f"{kilograms.normalize():f}"
    return f"{from_kg(kilograms, unit).quantize(Decimal('0.1')).normalize():f}"


def flatten(data, prefix: str = "", limit: int = 300) -> list[tuple[str, object]]:
    """Nested JSON as (dotted.path, value) rows for a fields-and-values table; nothing for an empty value."""
    if not data:
        return []
    rows: list[tuple[str, object]] = []
    stack = [(prefix, data)]
    while stack and len(rows) < limit:
        path, value = stack.pop(0)
        if isinstance(value, dict) and value:
            stack[:0] = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
        elif isinstance(value, list) and value:
            stack[:0] = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        else:
            rows.append((path or "(value)", value))
    return rows
