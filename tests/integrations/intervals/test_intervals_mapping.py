"""Realistic Hevy workouts (fixtures) -> the Intervals.icu activity fitsync sends."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from fitsync.records import ExerciseSet
from fitsync.workout_text import format_number, set_text
from integrations.hevy.mapping import workout_from_hevy
from integrations.intervals.mapping import (
    activity_from_workout,
    content_hash,
    fit_name,
    shorten_names,
    utf8_bytes,
    utf16_units,
)
from tests.conftest import load_fixture


def activity(name: str, timezone: str = "Europe/Berlin") -> dict:
    return activity_from_workout(workout_from_hevy(load_fixture(f"hevy/workout__{name}.json")), timezone)


def test_it_maps_the_fields_intervals_needs():
    sent = activity("supersets")
    assert {k: v for k, v in sent.items() if k != "description"} == {
        "external_id": "b459cba5-cd6d-463c-abd6-54f8eafcadcb",
        "type": "WeightTraining",
        "name": "Push A",
        "start_date_local": "2024-05-14T17:42:07",  # 15:42 UTC is 17:42 in Berlin (CEST)
        "moving_time": 4788,
        "elapsed_time": 4788,
        "kg_lifted": 6560.5,
    }


@pytest.mark.parametrize(
    "timezone, local_start",
    [
        ("UTC", "2024-05-14T15:42:07"),
        ("America/New_York", "2024-05-14T11:42:07"),
        ("Asia/Kolkata", "2024-05-14T21:12:07"),
        ("Not/AZone", "2024-05-14T15:42:07"),
    ],
)
def test_it_writes_local_time_in_the_athletes_timezone(timezone, local_start):
    assert activity("supersets", timezone)["start_date_local"] == local_start


def test_it_keeps_the_local_date_of_a_workout_across_midnight():
    sent = activity("across_midnight")  # 22:48 UTC on the 19th = 23:48 in Berlin, ends after midnight
    assert sent["start_date_local"] == "2024-01-19T23:48:05"
    assert sent["elapsed_time"] == 73 * 60 + 32


def test_it_counts_real_elapsed_time_across_a_dst_change():
    sent = activity("dst_change")  # 02:32 CEST -> 02:44 CET is 72 minutes, not 12
    assert sent["start_date_local"] == "2024-10-27T02:32:10"
    assert sent["moving_time"] == sent["elapsed_time"] == 72 * 60 + 41


def test_it_describes_supersets_warmups_drops_and_failures_readably():
    description = activity("supersets")["description"]
    assert description.startswith("Bench Press (Barbell)\nNote: Paused first rep of each set\n- Warm-up: 20 kg × 12\n")
    assert "- Set 1: 85 kg × 6 @ RPE 8\n- Set 2: 85 kg × 6 @ RPE 8.5\n" in description
    assert "- Set 4 (failure): 85 kg × 4 @ RPE 10" in description
    assert "Superset 1: Incline Bench Press (Dumbbell) + Cable Fly Crossovers\n" in description
    assert "Superset 2: Lateral Raise (Dumbbell) + Triceps Rope Pushdown\n" in description
    assert "- Drop set: 7.5 kg × 15" in description
    assert description.endswith("Volume 6,560.5 kg · 25 sets · logged in Hevy")


def test_it_writes_bodyweight_and_cardio_sets_naturally():
    description = activity("bodyweight_and_cardio")["description"]
    assert description.startswith("Hotel gym, no barbells\n\nPull Up\n- Warm-up: 5 reps\n- Set 1: 10 reps @ RPE 8")
    for line in (
        "- Set 1: 10 kg × 10",
        "- Set 3: 14 reps",
        "- Set 3: 1:30 @ RPE 9",
        "- Set 1: 32 kg for 40 m",
        "- Set 1: 2 km in 7:58 @ RPE 8.5",
        "- Set 1: 10:00 · 42 floors",
        "- Set 1: 1.61 km in 9:20",
        "Superset 1: Hanging Leg Raise + Plank",
        "Note: One mile cool-down walk/jog",
    ):
        assert line in description
    assert "None" not in description and " 0 kg" not in description and "None kg" not in description


def test_it_keeps_unicode_titles_and_notes():
    sent = activity("unicode")
    assert sent["name"] == "Beinpresse & Kniebeugen 💪"
    assert "Note: 脚を高く — feet high on the platform" in sent["description"]
    assert sent["description"].startswith("Schwer heute – Knie hält 👍\nNächstes Mal +5 kg.")


def test_it_rounds_pound_conversions_for_reading():
    assert "- Warm-up: 20.41 kg × 10" in activity("across_midnight")["description"]


def test_it_reads_the_wrapped_shape_and_the_legacy_supersets_key():
    data = load_fixture("hevy/workout__wrapped.json")
    for exercise in data["workout"]["exercises"]:
        exercise["supersets_id"] = exercise.pop("superset_id")
    sent = activity_from_workout(workout_from_hevy(data), "Europe/Berlin")
    assert sent["name"] == "Pull Day" and sent["start_date_local"] == "2024-09-03T18:15:30"
    assert "Superset 1: Seated Row (Machine) + Hammer Curl (Dumbbell)" in sent["description"]


@pytest.mark.parametrize(
    "row, text",
    [
        (ExerciseSet(weight_kg=Decimal(0), reps=12), "12 reps"),
        (ExerciseSet(duration_s=45), "45 s"),
        (ExerciseSet(duration_s=3725), "1:02:05"),
        (ExerciseSet(weight_kg=Decimal("20"), duration_s=30), "20 kg for 30 s"),
        (ExerciseSet(distance_m=Decimal("400")), "400 m"),
        (ExerciseSet(), "no values logged"),
        (ExerciseSet(reps=8, rpe=Decimal("7.5")), "8 reps @ RPE 7.5"),
    ],
)
def test_it_formats_every_kind_of_set(row, text):
    assert set_text(row) == text


def test_it_formats_numbers_without_noise():
    assert [format_number(Decimal(v)) for v in ("85", "12.50", "20.4117", "12345.6")] == [
        "85",
        "12.5",
        "20.41",
        "12,345.6",
    ]


def test_the_content_hash_follows_the_content():
    first = activity("supersets")
    assert content_hash(first) == content_hash(activity("supersets"))
    assert content_hash(first) != content_hash(activity("supersets", "UTC"))


def test_an_untitled_workout_gets_a_name():
    data = {**load_fixture("hevy/workout__supersets.json"), "title": ""}
    workout = workout_from_hevy(data)
    assert activity_from_workout(workout, "UTC")["name"] == "Hevy workout"
    assert workout.start == datetime(2024, 5, 14, 15, 42, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("x" * 80, "x" * 80),
        ("x" * 81, "x" * 79 + "…"),
        ("Leg day " * 12, ("Leg day " * 12)[:79].rstrip() + "…"),
        ("💪" * 40, "💪" * 40),  # 80 UTF-16 units: fits
        ("💪" * 41, "💪" * 39 + "…"),  # never half an emoji
    ],
)
def test_names_are_cut_to_80_utf16_units_with_an_ellipsis(name, expected):
    assert fit_name(name) == expected and utf16_units(fit_name(name)) <= 80


def test_a_refused_name_is_cut_to_80_utf8_bytes_in_place():
    activities = [{"name": "Übung " * 14}, {"name": "short"}, {"type": "WeightTraining"}]
    assert shorten_names(activities) == [True, False, False]
    assert utf8_bytes(activities[0]["name"]) <= 80 and activities[0]["name"].endswith("…")
    assert activities[1:] == [{"name": "short"}, {"type": "WeightTraining"}]
