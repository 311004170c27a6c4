"""A Hevy `Workout` -> the strength activity fitsync uploads to Garmin (pure; `strength_fit` encodes it).

`activity_from_workout(workout, target)` decides everything the file will say: the FIT exercise of each
Hevy exercise (`exercises.exercise_for`), when each set happened (`set_timing.spread`), the rests
between sets, one lap per exercise, the calorie estimate (`calories`) and the description text
(`strength_text`). The encoder only writes it down.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fitsync.records import Exercise, Workout

from .calories import estimated_kcal
from .exercises import FitExercise, exercise_for
from .set_timing import Slot, spread
from .strength_text import activity_description


@dataclass(frozen=True)
class StrengthTarget:
    """What the route knows about the Garmin user: their time zone (an IANA name), body weight (for the
    calorie estimate; None: no calories) and their own exercise choices {Hevy template id: (category, name)}."""

    timezone: str = "UTC"
    body_weight_kg: Decimal | None = None
    exercise_overrides: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class StrengthSet:
    """A FIT `set`: a Hevy set (`rest` False) or the rest before the next one (`rest` True, no exercise data).

    `kind` is Hevy's normal/warmup/dropset/failure; `weight_kg` is the load (None for bodyweight work, and
    for assisted exercises, where Hevy's weight is the assistance)."""

    start: datetime  # UTC
    duration_s: int
    rest: bool = False
    kind: str = "normal"
    reps: int | None = None
    weight_kg: Decimal | None = None
    distance_m: Decimal | None = None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)


@dataclass(frozen=True)
class StrengthLap:
    """One Hevy exercise: its sets and the rests after them, until the next exercise starts."""

    title: str  # Hevy's exercise title
    exercise: FitExercise
    start: datetime
    end: datetime
    sets: tuple[StrengthSet, ...]

    @property
    def distance_m(self) -> Decimal:
        return sum((s.distance_m or Decimal(0) for s in self.sets), Decimal(0))


@dataclass(frozen=True)
class StrengthActivity:
    """Everything the FIT file and the upload need. `timezone` is the zone actually used (UTC when the
    target's name is unknown); `calories_estimated` says `calories_kcal` is our estimate, not a measure."""

    source_id: str
    title: str
    description: str
    start: datetime  # UTC
    end: datetime
    timezone: str
    calories_kcal: int | None
    calories_estimated: bool
    laps: tuple[StrengthLap, ...]

    @property
    def duration_s(self) -> int:
        return int((self.end - self.start).total_seconds())

    @property
    def sets(self) -> tuple[StrengthSet, ...]:
        return tuple(s for lap in self.laps for s in lap.sets)


def activity_from_workout(workout: Workout, target: StrengthTarget) -> StrengthActivity:
    start = workout.start.astimezone(UTC).replace(microsecond=0)
    end = max(start, workout.end.astimezone(UTC).replace(microsecond=0))
    span = int((end - start).total_seconds())
    exercises = [e for e in workout.exercises if e.sets]
    slots = spread(exercises, span)
    starts = [start + timedelta(seconds=s[0].start) for s in slots] + [end]
    laps = tuple(
        _lap(exercise, exercise_slots, start, lap_start, lap_end, target)
        for exercise, exercise_slots, lap_start, lap_end in zip(exercises, slots, starts, starts[1:])
    )
    kcal = estimated_kcal(span, target.body_weight_kg)
    return StrengthActivity(
        source_id=workout.source_id,
        title=workout.title or "Strength",
        description=activity_description(workout, kcal, kcal is not None),
        start=start,
        end=end,
        timezone=_zone_name(target.timezone),
        calories_kcal=kcal,
        calories_estimated=kcal is not None,
        laps=laps,
    )


def _lap(
    exercise: Exercise, slots: list[Slot], origin: datetime, start: datetime, end: datetime, target: StrengthTarget
) -> StrengthLap:
    fit_exercise = exercise_for(exercise.template_id, exercise.title, target.exercise_overrides)
    return StrengthLap(exercise.title, fit_exercise, start, end, tuple(_sets_and_rests(exercise, slots, origin, end)))


def _sets_and_rests(exercise: Exercise, slots: list[Slot], origin: datetime, lap_end: datetime):
    """Each Hevy set at its slot, and a rest from its end to the next set's start (or the lap's end)."""
    assisted = "assisted" in exercise.title.casefold()  # Hevy's weight is the machine's help, not a load
    rest_ends = [origin + timedelta(seconds=s.start) for s in slots[1:]] + [lap_end]
    for hevy_set, slot, rest_end in zip(exercise.sets, slots, rest_ends):
        weight = None if assisted else hevy_set.weight_kg
        start, set_end = origin + timedelta(seconds=slot.start), origin + timedelta(seconds=slot.end)
        yield StrengthSet(
            start, slot.end - slot.start, False, hevy_set.kind, hevy_set.reps, weight, hevy_set.distance_m
        )
        if rest_end > set_end:
            yield StrengthSet(set_end, int((rest_end - set_end).total_seconds()), rest=True)


def _zone_name(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):  # unknown, malformed or missing: UTC
        return "UTC"
    return name
