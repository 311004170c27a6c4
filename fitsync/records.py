"""Neutral records passed between services: a client parses into these, a mapping reads from them.

They are plain data (no I/O) and round-trip through JSON for the item snapshot on the dashboard.
"""

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache


@dataclass(frozen=True)
class ExerciseSet:
    kind: str = "normal"  # normal, warmup, dropset, failure
    weight_kg: Decimal | None = None
    reps: int | None = None
    distance_m: Decimal | None = None
    duration_s: int | None = None
    rpe: Decimal | None = None
    custom_metric: Decimal | None = None

    @property
    def volume_kg(self) -> Decimal:
        """Weight x reps; bodyweight, timed and distance sets lift no counted load."""
        if self.weight_kg is None or not self.reps:
            return Decimal(0)
        return self.weight_kg * self.reps


@dataclass(frozen=True)
class Exercise:
    title: str
    sets: tuple[ExerciseSet, ...] = ()
    notes: str = ""
    superset_id: int | None = None  # Hevy numbers supersets from 0: compare with None, never truth-test
    template_id: str = ""


@dataclass(frozen=True)
class Workout:
    source_id: str
    title: str
    start: datetime  # timezone-aware
    end: datetime
    exercises: tuple[Exercise, ...] = ()
    description: str = ""
    updated_at: datetime | None = None

    @property
    def volume_kg(self) -> Decimal:
        return sum((s.volume_kg for e in self.exercises for s in e.sets), Decimal(0))

    @property
    def set_count(self) -> int:
        return sum(len(e.sets) for e in self.exercises)


@dataclass(frozen=True)
class BodyMeasurement:
    """One Withings measure group in SI units; None where the scale gave no value."""

    source_id: str
    measured_at: datetime  # timezone-aware, UTC
    timezone: str = "UTC"  # the user's timezone at Withings
    weight_kg: Decimal | None = None
    fat_ratio_pct: Decimal | None = None
    fat_mass_kg: Decimal | None = None
    fat_free_mass_kg: Decimal | None = None
    muscle_mass_kg: Decimal | None = None
    bone_mass_kg: Decimal | None = None
    hydration_kg: Decimal | None = None
    visceral_fat: Decimal | None = None
    bmr_kcal: Decimal | None = None
    metabolic_age: Decimal | None = None
    bmi: Decimal | None = None
    height_m: Decimal | None = None
    attrib: int = 0
    modified: int = 0  # Withings' modification time (unix), so an edited group is noticed
    extra: dict = field(default_factory=dict)  # unknown measure types, kept rather than dropped

    @property
    def hydration_pct(self) -> Decimal | None:
        """Withings reports hydration (type 77) in kg; Garmin wants percent of body weight."""
        if self.hydration_kg is None or not self.weight_kg:
            return None
        return self.hydration_kg / self.weight_kg * 100


def to_jsonable(record) -> dict:
    """A record as JSON-friendly data: Decimals and datetimes become strings. (Walked by hand rather than
    through `asdict`, which deep-copies every value first: an import snapshots thousands of workouts.)"""
    return _jsonable(record)


def _jsonable(value):
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is Decimal:
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {name: _jsonable(getattr(value, name)) for name in _field_names(kind)}
    return value


_AS_IS = frozenset({str, int, float, bool, type(None)})


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def measurement_from_jsonable(data: dict) -> BodyMeasurement:
    decimal_fields = {f.name for f in fields(BodyMeasurement) if "Decimal" in str(f.type)}
    values = {}
    for f in fields(BodyMeasurement):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name in decimal_fields and value is not None:
            value = Decimal(value)
        elif f.name == "measured_at":
            value = datetime.fromisoformat(value)
        values[f.name] = value
    return BodyMeasurement(**values)
