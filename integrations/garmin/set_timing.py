"""When each set happened, guessed: Hevy records a workout's start and end but no time per set.

The rule (`spread`): sets keep their order and Hevy's own durations (a plank's hold, a row's time). A set
of reps takes SECONDS_PER_REP a rep (at least MIN_SET_SECONDS), a carry with only a distance
SECONDS_PER_METRE a metre, anything else DEFAULT_SET_SECONDS. The rest of the workout's time is rest,
shared between the gaps between sets: a gap between two exercises counts twice a gap within one (moving
to the next station), a gap before a drop set counts nothing (a drop set follows without rest). The
first set starts at the workout's start and the last ends at its end; with a single gap-less set the
leftover time is rest after it. When the sets alone would overrun the workout they shrink in proportion
and nobody rests. Boundaries are whole seconds, as FIT timestamps are.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from fitsync.records import Exercise, ExerciseSet

SECONDS_PER_REP = 3
MIN_SET_SECONDS = 10
SECONDS_PER_METRE = 1  # a loaded carry at a slow walk
DEFAULT_SET_SECONDS = 30
GAP_WITHIN_EXERCISE = 1
GAP_BETWEEN_EXERCISES = 2


@dataclass(frozen=True)
class Slot:
    """A set's time as seconds after the workout's start: [start, end)."""

    start: int
    end: int


def spread(exercises: Sequence[Exercise], span_seconds: int) -> list[list[Slot]]:
    """One list of slots per exercise, one slot per set, over `span_seconds`."""
    sets = [(index, s) for index, exercise in enumerate(exercises) for s in exercise.sets]
    if not sets:
        return [[] for _ in exercises]
    work = [float(work_seconds(s)) for _, s in sets]
    gaps = [_gap_weight(before, after) for before, after in zip(sets, sets[1:])] + [0]
    if not any(gaps):
        gaps[-1] = 1  # nothing to rest between: the leftover time follows the last set
    spare = span_seconds - sum(work)
    if spare < 0:
        work = [w * span_seconds / sum(work) for w in work]
        spare = 0
    rests = [spare * g / sum(gaps) for g in gaps]
    return _slots(exercises, sets, work, rests)


def work_seconds(exercise_set: ExerciseSet) -> int:
    """How long a set took: Hevy's duration when it has one, else the estimate the module describes."""
    if exercise_set.duration_s:
        return exercise_set.duration_s
    if exercise_set.reps:
        return max(MIN_SET_SECONDS, exercise_set.reps * SECONDS_PER_REP)
    if exercise_set.distance_m:
        return max(MIN_SET_SECONDS, round(exercise_set.distance_m * SECONDS_PER_METRE))
    return DEFAULT_SET_SECONDS


def _gap_weight(before: tuple[int, ExerciseSet], after: tuple[int, ExerciseSet]) -> int:
    if after[1].kind == "dropset":
        return 0
    return GAP_BETWEEN_EXERCISES if after[0] != before[0] else GAP_WITHIN_EXERCISE


def _slots(exercises, sets, work: list[float], rests: list[float]) -> list[list[Slot]]:
    per_exercise: list[list[Slot]] = [[] for _ in exercises]
    clock = 0.0
    for (index, _), seconds, rest in zip(sets, work, rests):
        start, clock = round(clock), clock + seconds
        per_exercise[index].append(Slot(start, max(start, round(clock))))
        clock += rest
    return per_exercise
