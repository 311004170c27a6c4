"""What a row of the dashboard says about an item: read from its snapshot, never from an upstream.

Snapshots are `fitsync.records.to_jsonable(...)` of a Workout or a BodyMeasurement, so numbers arrive
as strings (Decimals); anything missing or malformed shows as blank rather than breaking the page.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..profiles import from_kg
from ..routes import ROUTES


def number(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def amount(value: Decimal | float | None, places: int = 1) -> str:
    """A number with thousands separators, or an en dash when unknown."""
    if value is None:
        return "–"
    return f"{float(value):,.{int(places)}f}"


def volume_kg(snapshot: dict) -> Decimal:
    """Weight x reps over a workout's sets; bodyweight and timed sets add nothing (as in records.ExerciseSet)."""
    total = Decimal(0)
    for exercise in snapshot.get("exercises") or []:
        for one_set in exercise.get("sets") or []:
            weight, reps = number(one_set.get("weight_kg")), number(one_set.get("reps"))
            if weight is not None and reps:
                total += weight * reps
    return total


def number_of_sets(snapshot: dict) -> int:
    return sum(len(exercise.get("sets") or []) for exercise in snapshot.get("exercises") or [])


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
