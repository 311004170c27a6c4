"""The user's exercise choices reach the files fitsync uploads to Garmin Connect.

GIVEN the hevy_garmin route, the Hevy and Garmin fakes over HTTP, and a workout already uploaded
WHEN the user chooses another Garmin exercise for one of its Hevy exercises on /garmin/exercises/
THEN the activity already in Garmin Connect stays as it is until the workout is resynced; a resync (from
the item's page) replaces it with a file whose sets carry the chosen exercise, and a new workout gets it
at once. The files are read back from the Garmin fake by fitdecode.
"""

import pytest

from integrations.garmin.fit_profile import name_number

from .strength_world import LAST_MAY, StrengthWorld

pytestmark = pytest.mark.django_db
PUSHDOWN = "94B7239B"  # Triceps Rope Pushdown, in the workout fixture: triceps_extension / rope_pressdown
LATERAL = "422B08F1"  # Lateral Raise (Dumbbell): lateral_raise / dumbbell_lateral_raise


@pytest.fixture
def world(make_account, settings, monkeypatch):
    with StrengthWorld(make_account, settings, monkeypatch).running() as world:
        yield world


def exercises_of(world, activity_id: str) -> dict[tuple[str, int | None], int]:
    """{(category, subtype): active sets} of the activity's file."""
    counted: dict[tuple[str, int | None], int] = {}
    for row in world.messages(activity_id)["set"]:
        if row["set_type"] == "active":
            key = (row["category"], row.get("category_subtype"))
            counted[key] = counted.get(key, 0) + 1
    return counted


def test_a_chosen_exercise_is_in_the_next_upload_and_a_resync_applies_it(world, logged_in, sent_jobs):
    item = world.run(world.item(world.workout()))
    first_copy = item.destination_id
    before = exercises_of(world, first_copy)
    pressdown = ("triceps_extension", name_number("triceps_extension", "rope_pressdown"))
    pushdowns = before[pressdown]

    chosen = {"category": "triceps_extension", "name": "reverse_grip_triceps_pressdown"}
    assert logged_in.post(f"/garmin/exercises/{PUSHDOWN}/", chosen).status_code == 302
    assert logged_in.post(f"/garmin/exercises/{LATERAL}/", {"category": "shoulder_stability"}).status_code == 302
    listed = logged_in.get("/garmin/exercises/", {"how": "override"}).content.decode()
    assert (
        "Triceps extension: Reverse grip triceps pressdown" in listed and "Shoulder stability (category only)" in listed
    )
    assert world.activity_ids() == [first_copy] and exercises_of(world, first_copy) == before  # nothing re-uploaded

    logged_in.post(f"/items/{item.pk}/resync/")
    resynced = world.run(item)
    assert resynced.status == "synced" and resynced.attempt_log.order_by("pk").last().outcome == "updated"
    assert world.activity_ids() == [resynced.destination_id] != [first_copy]  # replaced, not doubled
    after = exercises_of(world, resynced.destination_id)
    assert pressdown not in after
    assert after[("triceps_extension", name_number("triceps_extension", "reverse_grip_triceps_pressdown"))] == pushdowns
    lateral_sets = sum(count for (category, _), count in before.items() if category == "lateral_raise")
    assert after[("shoulder_stability", None)] == lateral_sets and lateral_sets > 0

    fresh = world.run(world.item(world.workout(start=LAST_MAY.replace(day=20))))
    assert exercises_of(world, fresh.destination_id) == after


def test_going_back_to_the_automatic_choice_is_in_the_next_upload(world, logged_in):
    logged_in.post(f"/garmin/exercises/{PUSHDOWN}/", {"category": "total_body"})
    first = world.run(world.item(world.workout()))
    assert ("total_body", None) in exercises_of(world, first.destination_id)
    logged_in.post(f"/garmin/exercises/{PUSHDOWN}/automatic/")
    second = world.run(world.item(world.workout(start=LAST_MAY.replace(day=21))))
    assert ("total_body", None) not in exercises_of(world, second.destination_id)
