"""What a row of the dashboard says about an item: read from its snapshot, never from an upstream.

Snapshots are `fitsync.records.to_jsonable(...)` of a Workout or a BodyMeasurement, so numbers arrive
as strings (Decimals); anything missing or malformed shows as blank rather than breaking the page.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..records import ExerciseSet
from ..routes import ROUTES
from ..workout_text import set_line


def number(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def amount(value: Decimal | float | None, places: int = 1) -> str:
    """A number with thousands separators, or an en dash when unknown."""
    if value is None:
        return "–"
    return f"{float(value):,.{int(places)}f}"


def volume_kg(snapshot: dict) -> Decimal:
    """Weight x reps over a workout's sets, counted as `records.ExerciseSet` counts them."""
    return sum((set_of(one_set).volume_kg for _, sets in exercises_of(snapshot) for one_set in sets), Decimal(0))


def number_of_sets(snapshot: dict) -> int:
    return sum(len(sets) for _, sets in exercises_of(snapshot))


def exercises_of(snapshot: dict) -> list[tuple[str, list]]:
    """(title, sets) per exercise of a workout's snapshot; what is not an exercise is left out."""
    exercises = snapshot.get("exercises") if isinstance(snapshot, dict) else None
    found = []
    for exercise in exercises if isinstance(exercises, list) else []:
        if isinstance(exercise, dict):
            sets = exercise.get("sets") if isinstance(exercise.get("sets"), list) else []
            found.append((str(exercise.get("title") or "Exercise"), sets))
    return found


@dataclass
class Summary:
    title: str
    facts: dict[str, str] = field(default_factory=dict)  # label -> text, from the route's source
    link: str = ""  # the copy at the destination, from the route's destination


def list_heading(route, on: set[str]) -> str:
    """What the source calls its records ("Workouts") when this is the reader's only route from the source
    that is on; else the route's label."""
    if route.name not in on:
        return route.label
    shared = sum(other.source_provider == route.source_provider for other in ROUTES.values() if other.name in on)
    return route.label if shared > 1 else route.source_role.heading


def snapshot_of(item) -> dict:
    return item.snapshot if isinstance(item.snapshot, dict) else {}


def summarize(item, unit: str = "kg") -> Summary:
    """The item's title, the facts its source shows and the link its destination gives, weights in `unit`
    (the reader's: kg or lb)."""
    snapshot = snapshot_of(item)
    title = item.title or snapshot.get("title") or item.source_id
    route = ROUTES.get(item.route)
    if route is None:
        return Summary(title)
    source = route.source_role
    return Summary(
        source.title_in(title, snapshot, unit), source.facts(snapshot, unit), route.destination_role.link(item)
    )


def exercise_lines(snapshot: dict, unit: str = "kg") -> list[tuple[str, str]]:
    """A workout's exercises as (title, "warm-up 40 kg × 10 · 80 kg × 5"), written as the destinations'
    descriptions write them (`fitsync.workout_text`)."""
    lines = []
    for title, sets in exercises_of(snapshot):
        texts = [set_line(set_of(one_set), title, unit) for one_set in sets]
        lines.append((title, " · ".join(texts) or "no sets"))
    return lines


def set_of(one_set) -> ExerciseSet:
    """A snapshot's set as a record; a malformed value is left out rather than breaking the page."""
    values = one_set if isinstance(one_set, dict) else {}
    return ExerciseSet(
        kind=str(values.get("kind") or "normal"),
        weight_kg=number(values.get("weight_kg")),
        reps=whole(values.get("reps")),
        distance_m=number(values.get("distance_m")),
        duration_s=whole(values.get("duration_s")),
        rpe=number(values.get("rpe")),
        custom_metric=number(values.get("custom_metric")),
    )


def whole(value) -> int | None:
    found = number(value)
    return int(found) if found is not None else None


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
