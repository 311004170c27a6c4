"""Hevy workouts encoded as FIT activity files, read back field by field by two independent decoders."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from integrations.garmin.exercises import exercise_for
from integrations.garmin.fit_profile import name_number
from integrations.garmin.strength_activity import StrengthActivity, StrengthTarget, activity_from_workout
from integrations.garmin.strength_fit import encode_strength_activity
from integrations.hevy.mapping import workout_from_hevy
from sandbox.workouts import generate_workouts

from .fit_readers import fit_seconds, fitdecode_messages, garmin_sdk_messages

BERLIN = StrengthTarget("Europe/Berlin", Decimal("80"))
START = datetime(2026, 7, 14, 16, 0, tzinfo=UTC)


def hevy_set(kind="normal", weight=None, reps=None, distance=None, duration=None, rpe=None) -> dict:
    return {
        "type": kind,
        "weight_kg": weight,
        "reps": reps,
        "distance_meters": distance,
        "duration_seconds": duration,
        "rpe": rpe,
    }


def hevy_exercise(title, template_id, sets, superset=None) -> dict:
    return {"title": title, "exercise_template_id": template_id, "superset_id": superset, "sets": sets}


HANDMADE = {
    "id": "b9f1c0de-0000-4000-8000-000000000001",
    "title": "Push & Pull 💪",
    "description": "Felt strong",
    "start_time": START.isoformat(),
    "end_time": (START + timedelta(minutes=75)).isoformat(),
    "exercises": [
        hevy_exercise(
            "Bench Press (Barbell)",
            "79D0BB3A",
            [
                hevy_set("warmup", 40, 10),
                hevy_set("normal", 80, 8, rpe=8),
                hevy_set("normal", 80.35, 8),
                hevy_set("dropset", 60, 12),
                hevy_set("failure", 80, 4, rpe=10),
            ],
        ),
        hevy_exercise("Pull Up (Assisted)", "2C37EC5E", [hevy_set(weight=20, reps=8)] * 2, superset=0),
        hevy_exercise("Lateral Raise (Dumbbell)", "422B08F1", [hevy_set(weight=10, reps=12)] * 2, superset=0),
        hevy_exercise("Plank", "C6C9B8A0", [hevy_set(duration=60), hevy_set(duration=45)]),
        hevy_exercise("Rowing Machine", "0222DB42", [hevy_set(distance=2000, duration=480)]),
        hevy_exercise("Farmers Walk", "50C613D0", [hevy_set(weight=32.5, distance=40)] * 2),
        hevy_exercise("Sandbag Shouldering", "0f4d8e21-6a9b-4c3d-8e7f-5a1b2c3d4e5f", [hevy_set(weight=50, reps=5)]),
    ],
}


@pytest.fixture(scope="module")
def handmade() -> tuple[StrengthActivity, bytes]:
    activity = activity_from_workout(workout_from_hevy(HANDMADE), BERLIN)
    return activity, encode_strength_activity(activity)


def generated_workouts(n=60):
    """A batch of generated workouts covering warm-up, drop and failure sets, planks, rows, carries, supersets."""
    raw = generate_workouts(n, rng=random.Random(11), end=datetime(2026, 11, 2, tzinfo=UTC))
    return [workout_from_hevy(w) for w in raw]


def active(sets: list[dict]) -> list[dict]:
    return [s for s in sets if s["set_type"] == "active"]


def test_both_decoders_read_the_file_type_sport_and_times(handmade):
    activity, data = handmade
    for messages in (garmin_sdk_messages(data), fitdecode_messages(data)):
        (file_id,) = messages["file_id"]
        assert (file_id["type"], file_id["manufacturer"], file_id["product"]) == ("activity", "development", 0)
        (session,) = messages["session"]
        assert (session["sport"], session["sub_sport"]) == ("training", "strength_training")
        assert session["start_time"] == START
        assert session["total_elapsed_time"] == session["total_timer_time"] == 75 * 60
        assert session["total_calories"] == 350  # 3.5 MET x 80 kg x 1.25 h
        assert messages["sport"][0]["name"] == "Push & Pull 💪"
        timers = [(e["event"], e["event_type"], e["timestamp"]) for e in messages["event"]]
        assert timers == [("timer", "start", START), ("timer", "stop_all", START + timedelta(minutes=75))]
    assert activity.calories_estimated


def test_local_timestamp_is_the_users_wall_clock(handmade):
    _, data = handmade
    (row,) = garmin_sdk_messages(data)["activity"]
    offset = row["local_timestamp"] - fit_seconds(row["timestamp"])
    assert offset == 2 * 3600  # Berlin in July
    (row,) = fitdecode_messages(data)["activity"]
    local = row["local_timestamp"]  # fitdecode reads local_date_time as a naive wall-clock datetime
    assert local.replace(tzinfo=None) == (START + timedelta(minutes=75)).astimezone(ZoneInfo("Europe/Berlin")).replace(
        tzinfo=None
    )


def test_every_hevy_set_is_an_active_set_with_its_exercise_reps_weight_and_times(handmade):
    activity, data = handmade
    sets = garmin_sdk_messages(data)["set"]
    expected = [(lap, s) for lap in activity.laps for s in lap.sets if not s.rest]
    assert len(active(sets)) == len(expected) == 15
    for row, (lap, mapped) in zip(active(sets), expected):
        assert row["category"] == lap.exercise.category
        if lap.exercise.name:
            assert row["category_subtype"] == name_number(lap.exercise.category, lap.exercise.name)
        else:
            assert "category_subtype" not in row
        assert row.get("repetitions") == mapped.reps
        assert row.get("weight") == (float(round(mapped.weight_kg * 16) / 16) if mapped.weight_kg else None)
        assert (row["start_time"], row["duration"], row["timestamp"]) == (
            mapped.start,
            mapped.duration_s,
            mapped.end,
        )


def test_bench_press_values_as_hevy_logged_them(handmade):
    _, data = handmade
    bench = active(fitdecode_messages(data)["set"])[:5]
    assert [s["repetitions"] for s in bench] == [10, 8, 8, 12, 4]
    assert [s["weight"] for s in bench] == [40, 80, 80.375, 60, 80]  # FIT stores 1/16 kg: 80.35 -> 80.375
    assert {s["category"] for s in bench} == {"bench_press"}
    assert {s["category_subtype"] for s in bench} == {name_number("bench_press", "barbell_bench_press")}


def test_warm_up_sets_point_at_a_warm_up_workout_step(handmade):
    _, data = handmade
    messages = garmin_sdk_messages(data)
    steps = {step["message_index"]: step for step in messages["workout_step"]}
    intensities = [steps[s["wkt_step_index"]]["intensity"] for s in active(messages["set"])]
    assert intensities == ["warmup"] + ["active"] * 14
    assert messages["workout"][0]["wkt_name"] == "Push & Pull 💪"
    assert messages["workout"][0]["num_valid_steps"] == len(steps) == 15


def test_timed_distance_and_assisted_sets(handmade):
    _, data = handmade
    messages = garmin_sdk_messages(data)
    by_category = {}
    for row in active(messages["set"]):
        by_category.setdefault(row["category"], []).append(row)
    planks = by_category["plank"]
    assert [(p["duration"], p.get("repetitions"), p.get("weight")) for p in planks] == [
        (60, None, None),
        (45, None, None),
    ]
    (row,) = by_category["row"]
    assert row["duration"] == 480 and "repetitions" not in row
    pulls = by_category["pull_up"]
    assert all("weight" not in p for p in pulls)  # Hevy's 20 kg is the machine's help, not a load
    carries = by_category["carry"]
    assert [(c["weight"], c["duration"]) for c in carries] == [(32.5, 40), (32.5, 40)]
    distances = [lap.get("total_distance") for lap in messages["lap"]]
    assert distances == [None, None, None, None, 2000, 80, None]
    assert messages["session"][0]["total_distance"] == 2080


def test_a_lap_per_exercise_covering_the_session_and_rests_between_sets(handmade):
    activity, data = handmade
    messages = fitdecode_messages(data)
    laps = messages["lap"]
    assert len(laps) == 7 == messages["session"][0]["num_laps"]
    assert laps[0]["start_time"] == START
    for lap, following in zip(laps, laps[1:]):
        assert lap["start_time"] + timedelta(seconds=lap["total_elapsed_time"]) == following["start_time"]
    assert sum(lap["total_elapsed_time"] for lap in laps) == 75 * 60
    rests = [s for s in messages["set"] if s["set_type"] == "rest"]
    assert len(rests) == len([s for s in activity.sets if s.rest])
    drop, previous = active(messages["set"])[3], active(messages["set"])[2]
    assert drop["start_time"] == previous["timestamp"]  # a drop set follows without rest
    assert all("category" not in r and "repetitions" not in r for r in rests)
    exercise_titles = [t["wkt_step_name"] for t in messages["exercise_title"]]
    assert exercise_titles[0] == "Bench Press (Barbell)" and exercise_titles[-1] == "Sandbag Shouldering"


def test_a_custom_exercise_falls_back_to_the_generic_category(handmade):
    _, data = handmade
    last = active(garmin_sdk_messages(data)["set"])[-1]
    assert last["category"] == "total_body" and "category_subtype" not in last


def test_the_same_activity_always_gives_the_same_bytes(handmade):
    activity, data = handmade
    assert encode_strength_activity(activity) == data


def test_generated_workouts_round_trip_through_both_decoders():
    covered = set()
    for workout in generated_workouts():
        data = encode_strength_activity(activity_from_workout(workout, BERLIN))
        hevy_sets = [(exercise, s) for exercise in workout.exercises for s in exercise.sets]
        for messages in (garmin_sdk_messages(data), fitdecode_messages(data)):
            session = messages["session"][0]
            assert session["start_time"] == workout.start
            assert session["total_timer_time"] == (workout.end - workout.start).total_seconds()
            assert len(messages["lap"]) == len([e for e in workout.exercises if e.sets])
            assert len(active(messages["set"])) == len(hevy_sets)
            for row, (exercise, hevy) in zip(active(messages["set"]), hevy_sets):
                assert row["category"] == exercise_for(exercise.template_id, exercise.title).category
                assert row.get("repetitions") == hevy.reps
                assert row.get("weight") == (float(hevy.weight_kg) if hevy.weight_kg is not None else None)
        covered |= features(workout)
    assert {"warmup", "dropset", "failure", "superset", "Plank", "Rowing Machine", "Farmers Walk"} <= covered


def features(workout) -> set[str]:
    """The set kinds, supersets and special exercises (timed, distance, carry) a workout contains."""
    kinds = {s.kind for e in workout.exercises for s in e.sets}
    specials = {e.title for e in workout.exercises if e.title in {"Plank", "Rowing Machine", "Farmers Walk"}}
    supersets = {"superset" for e in workout.exercises if e.superset_id is not None}
    return kinds | specials | supersets
