"""Spreading Hevy's sets over the workout's start..end (Hevy has no per-set times)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from fitsync.records import Exercise, ExerciseSet
from integrations.garmin.set_timing import Slot, spread, work_seconds


def reps(n: int, kind: str = "normal") -> ExerciseSet:
    return ExerciseSet(kind=kind, weight_kg=Decimal(60), reps=n)


def test_sets_keep_hevys_durations_and_the_rest_time_is_shared_between_gaps():
    bench = Exercise("Bench", (reps(10), reps(10)))
    plank = Exercise("Plank", (ExerciseSet(duration_s=60),))
    # work: 30 + 30 + 60 = 120 s of 420; rests 300 s over gap weights 1 (within) and 2 (between).
    assert spread([bench, plank], 420) == [[Slot(0, 30), Slot(130, 160)], [Slot(360, 420)]]


def test_a_drop_set_follows_without_rest():
    slots = spread([Exercise("Curl", (reps(10), reps(12, "dropset"), reps(10)))], 300)[0]
    assert slots[1].start == slots[0].end
    assert slots[2].start > slots[1].end


def test_when_the_sets_overrun_the_workout_they_shrink_and_nobody_rests():
    slots = spread([Exercise("Row", (ExerciseSet(duration_s=600), ExerciseSet(duration_s=600)))], 600)[0]
    assert slots == [Slot(0, 300), Slot(300, 600)]


def test_a_single_set_is_followed_by_the_leftover_time():
    assert spread([Exercise("Plank", (ExerciseSet(duration_s=60),))], 900) == [[Slot(0, 60)]]


def test_estimates_for_sets_without_a_duration():
    assert work_seconds(reps(12)) == 36
    assert work_seconds(reps(2)) == 10  # a heavy double still takes a moment
    assert work_seconds(ExerciseSet(weight_kg=Decimal(32), distance_m=Decimal(40))) == 40
    assert work_seconds(ExerciseSet()) == 30


kinds = st.sampled_from(["normal", "warmup", "dropset", "failure"])
sets = st.builds(
    ExerciseSet,
    kind=kinds,
    reps=st.one_of(st.none(), st.integers(1, 30)),
    duration_s=st.one_of(st.none(), st.integers(1, 900)),
)
exercises = st.lists(st.builds(Exercise, title=st.just("E"), sets=st.lists(sets, min_size=1, max_size=6).map(tuple)))


@given(exercises, st.integers(0, 3 * 3600))
def test_slots_are_ordered_whole_seconds_inside_the_workout(exercise_list, span):
    flat = [slot for slots in spread(exercise_list, span) for slot in slots]
    assert len(flat) == sum(len(e.sets) for e in exercise_list)
    assert all(0 <= s.start <= s.end <= span for s in flat)
    assert all(a.end <= b.start for a, b in zip(flat, flat[1:]))
    if flat:
        assert flat[0].start == 0
