"""The item page's words for a strength upload's `sent`: calories by their source, the watch under each
option, a replaced or deleted activity, and the exercises as the upload records them."""

from datetime import UTC, datetime
from decimal import Decimal

from fitsync.records import Exercise, ExerciseSet, Workout
from integrations.garmin.exercises import FitExercise
from integrations.garmin.strength_activity import StrengthTarget, activity_from_workout
from integrations.garmin.strength_sent import exercises_sent, garmin_exercise, strength_summary

START = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
WATCH = {"activity_id": "21400000007", "name": "Strength"}


def uploaded(**changes) -> dict:
    sent = {
        "activityId": "21400000009",
        "title": "Push A",
        "start": START.isoformat(),
        "calories": {"kcal": 280, "source": "estimate"},
        "watch": None,
        "exercises": [["Bench Press (Barbell)", "Barbell bench press", 4]],
    }
    return sent | changes


def test_an_upload_says_its_calories_source_and_that_no_watch_recorded_it():
    summary = strength_summary(uploaded())
    assert summary.facts == {
        "Name": "Push A",
        "Start": START.isoformat(),
        "Calories": "280 kcal, estimated from the workout's length and your latest Withings weight",
        "Your watch": "No recording of it was found at Garmin Connect",
    }
    assert summary.headers == ("In Hevy", "At Garmin Connect", "Sets")
    assert summary.rows == [("Bench Press (Barbell)", "Barbell bench press", "4")]


def test_calories_measured_by_the_watch_or_none_without_a_weight():
    watch = strength_summary(uploaded(calories={"kcal": 412, "source": "watch"}))
    none = strength_summary(uploaded(calories={"kcal": None, "source": ""}))
    assert watch.facts["Calories"] == "412 kcal, measured by your watch"
    assert none.facts["Calories"].startswith("None: fitsync estimates them from your latest Withings weight")


def test_the_watch_under_each_option():
    skip = strength_summary({"watch": WATCH | {"mode": "skip"}})
    alongside = strength_summary(uploaded(watch=WATCH | {"mode": "alongside"}))
    merge = WATCH | {"mode": "merge", "calories": 412, "heart_rate_samples": 961, "deleted": True}
    assert skip.facts == {
        "Uploaded": "Nothing",
        "Your watch": "Its activity 21400000007 (“Strength”) has this workout, so fitsync uploaded no second one "
        "(watch option: skip)",
    }
    assert alongside.facts["Your watch"] == (
        "Its activity 21400000007 (“Strength”) stays beside this one (watch option: upload alongside)"
    )
    assert strength_summary(uploaded(watch=merge)).facts["Your watch"] == (
        "Merged with its activity 21400000007 (“Strength”): its heart rate (961 samples) and calories are in this "
        "activity, and that one was deleted"
    )


def test_a_replaced_or_deleted_activity_and_an_older_upload_without_exercises():
    summary = strength_summary(uploaded(replaced="21400000001", deleted=True, exercises=None))
    assert summary.facts["Replaced"] == "Activity 21400000001, the version before"
    assert summary.facts["Deleted"].startswith("The workout was deleted in Hevy")
    assert summary.rows == []


def test_the_upload_records_each_exercise_as_garmin_shows_it_with_its_sets_not_its_rests():
    sets = (ExerciseSet(kind="normal", weight_kg=Decimal("80"), reps=5),) * 3
    workout = Workout(
        source_id="w1",
        title="Push A",
        start=START,
        end=START.replace(hour=17),
        exercises=(
            Exercise(title="Bench Press (Barbell)", template_id="79D0BB3A", sets=sets),
            Exercise(title="Paused Bench Press", template_id="custom-1", sets=sets[:2]),
            Exercise(title="Zottman Thing", template_id="custom-2", sets=sets[:1]),
        ),
    )
    activity = activity_from_workout(workout, StrengthTarget())
    assert exercises_sent(activity) == [
        ["Bench Press (Barbell)", "Barbell bench press", 3],
        ["Paused Bench Press", "Bench press (category only)", 2],
        ["Zottman Thing", "Total body (category only)", 1],
    ]
    assert garmin_exercise(FitExercise("curl", "barbell_biceps_curl")) == "Barbell biceps curl"
