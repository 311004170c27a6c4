"""The mapping `activity_from_workout`: calories, description, overrides, time zones, empty workouts."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fitsync.records import Exercise, ExerciseSet, Workout
from integrations.garmin.calories import estimated_kcal
from integrations.garmin.strength_activity import StrengthTarget, activity_from_workout
from integrations.garmin.strength_fit import encode_strength_activity, local_timestamp

from .fit_readers import fit_seconds, garmin_sdk_messages

START = datetime(2026, 1, 10, 18, 0, tzinfo=UTC)
BENCH = Exercise(
    "Bench Press (Barbell)",
    (ExerciseSet("warmup", Decimal(40), 10), ExerciseSet("normal", Decimal("82.5"), 5, rpe=Decimal("8.5"))),
    notes="Seat 4",
    template_id="79D0BB3A",
)


def workout(*exercises: Exercise, minutes: int = 60, **fields) -> Workout:
    return Workout("w1", fields.pop("title", "Push"), START, START + timedelta(minutes=minutes), exercises, **fields)


def test_calories_are_an_estimate_only_with_a_body_weight():
    with_weight = activity_from_workout(workout(BENCH), StrengthTarget(body_weight_kg=Decimal("75.5")))
    assert (with_weight.calories_kcal, with_weight.calories_estimated) == (264, True)  # 3.5 x 75.5 x 1 h
    without = activity_from_workout(workout(BENCH), StrengthTarget())
    assert (without.calories_kcal, without.calories_estimated) == (None, False)
    assert "total_calories" not in garmin_sdk_messages(encode_strength_activity(without))["session"][0]
    assert estimated_kcal(0, Decimal(80)) is None and estimated_kcal(3600, Decimal(0)) is None


def test_the_description_says_what_fit_cannot():
    text = activity_from_workout(workout(BENCH, description="Deload week"), StrengthTarget()).description
    assert text.startswith("Deload week\n\n")
    assert "Bench Press (Barbell): warm-up 40 kg × 10, 82.5 kg × 5 @ RPE 8.5" in text
    assert "  Note: Seat 4" in text
    assert text.endswith("From Hevy: 1 exercise, 2 sets, 812.5 kg volume.")
    weighed = activity_from_workout(workout(BENCH), StrengthTarget(body_weight_kg=Decimal(80))).description
    assert weighed.endswith("About 280 kcal, estimated from body weight and duration at 3.5 MET.")
    assert "80 kg" not in weighed.split("\n")[-1]  # the body weight stays private


def test_overrides_choose_the_exercise():
    target = StrengthTarget(exercise_overrides={"79D0BB3A": ("bench_press", "smith_machine_bench_press")})
    (lap,) = activity_from_workout(workout(BENCH), target).laps
    assert (lap.exercise.name, lap.exercise.matched_by) == ("smith_machine_bench_press", "override")


def test_local_time_follows_the_zone_and_its_daylight_saving():
    winter = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
    assert local_timestamp(winter, "Europe/Berlin") - fit_seconds(winter) == 3600
    assert local_timestamp(summer, "Europe/Berlin") - fit_seconds(summer) == 7200
    assert local_timestamp(summer, "America/New_York") - fit_seconds(summer) == -4 * 3600


def test_an_unknown_zone_falls_back_to_utc():
    activity = activity_from_workout(workout(BENCH), StrengthTarget(timezone="Mars/Olympus_Mons"))
    assert activity.timezone == "UTC"


def test_a_workout_without_sets_is_still_a_valid_file_with_one_lap():
    activity = activity_from_workout(workout(Exercise("Bench", ()), title=""), StrengthTarget())
    messages = garmin_sdk_messages(encode_strength_activity(activity))
    assert activity.title == "Strength" and activity.laps == ()
    assert len(messages["lap"]) == 1 and "set" not in messages and "workout" not in messages
    assert messages["lap"][0]["total_elapsed_time"] == 3600


def test_sub_seconds_and_an_end_before_the_start_are_tolerated():
    odd = Workout("w2", "Odd", START.replace(microsecond=700_000), START - timedelta(minutes=5), (BENCH,))
    activity = activity_from_workout(odd, StrengthTarget())
    assert activity.start == START and activity.duration_s == 0
    garmin_sdk_messages(encode_strength_activity(activity))


def test_long_titles_are_cut_for_fit_but_kept_whole_in_the_description():
    long = Workout("w3", "Ü" * 200, START, START + timedelta(hours=1), (Exercise("é" * 300, (ExerciseSet(reps=5),)),))
    activity = activity_from_workout(long, StrengthTarget())
    messages = garmin_sdk_messages(encode_strength_activity(activity))
    assert messages["sport"][0]["name"] == "Ü" * 31  # 62 of the 63 bytes: a character is never split
    assert messages["exercise_title"][0]["wkt_step_name"] == "é" * 31
    assert activity.title == "Ü" * 200 and activity.description.startswith("é" * 300)
