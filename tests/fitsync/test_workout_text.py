"""The one set formatter: Garmin's description, the dashboard's workout page (and, through `set_text`,
Intervals.icu's description) write sets the same way."""

from decimal import Decimal

from fitsync.records import ExerciseSet
from fitsync.workout_text import set_line


def test_set_lines_name_the_kind_and_the_kind_of_set():
    assert set_line(ExerciseSet("dropset", Decimal(60), 12), "Bench Press") == "drop 60 kg × 12"
    assert set_line(ExerciseSet("warmup", Decimal(40), 10), "Bench Press") == "warm-up 40 kg × 10"
    assert set_line(ExerciseSet("failure", None, 7), "Pull Up") == "7 reps to failure"
    assert set_line(ExerciseSet(duration_s=65), "Plank") == "1:05"
    assert set_line(ExerciseSet(distance_m=Decimal(2000), duration_s=480), "Rowing Machine") == "2 km in 8:00"
    assert (
        set_line(ExerciseSet(weight_kg=Decimal("32.5"), distance_m=Decimal(40)), "Farmers Walk") == "32.5 kg for 40 m"
    )
    assert set_line(ExerciseSet(weight_kg=Decimal(20), reps=8), "Pull Up (Assisted)") == "assist 20 kg × 8"


def test_pounds_are_converted_to_a_tenth():
    assert set_line(ExerciseSet(weight_kg=Decimal(40), reps=5), "Squat", "lb") == "88.2 lb × 5"
    assert set_line(ExerciseSet("warmup", Decimal("82.5"), 3), "Squat", "lb") == "warm-up 181.9 lb × 3"
    assert set_line(ExerciseSet(weight_kg=Decimal(20), reps=8), "Dip (Assisted)", "lb") == "assist 44.1 lb × 8"
