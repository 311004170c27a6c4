"""Hevy workouts become Garmin strength activities, exactly once, through the engine and the fakes.

GIVEN the hevy_garmin route (turned on for the user), a Hevy workout and a connected Garmin account
WHEN its item runs through `fitsync.sync.run_item`
THEN the Garmin fake holds one activity: the workout's title, description and sets, read back from the
stored file by fitdecode; a retry, a replay or a lost database never makes a second one; an edit replaces
it, a deletion removes it.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fitsync.models import SyncItem
from integrations.garmin.strength_activity import StrengthTarget, activity_from_workout
from integrations.hevy.mapping import workout_from_hevy
from tests.contract.engine import copy_item
from tests.items import put_in_state

from .strength_world import LAST_MAY, TIMEZONE, StrengthWorld

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[0, 1], ids=lambda hidden: f"hidden_reads={hidden}")
def world(request, make_account, settings, monkeypatch):
    with StrengthWorld(make_account, settings, monkeypatch, hidden_reads=request.param).running() as world:
        yield world


def expected(workout: dict, weight: str | None = None):
    target = StrengthTarget(TIMEZONE, Decimal(weight) if weight else None)
    return activity_from_workout(workout_from_hevy(workout), target)


def again(item: SyncItem, **fields) -> SyncItem:
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending", **fields)
    item.refresh_from_db()
    return item


def test_a_workout_becomes_one_activity_with_its_name_description_and_sets(world):
    workout = world.workout()
    item = world.run(world.item(workout))
    assert (item.status, item.attempts, item.attempt_log.get().outcome) == ("synced", 1, "created")
    assert world.activity_ids() == [item.destination_id]
    stored, mapped = world.activity(item.destination_id), expected(workout)
    assert (stored["activityName"], stored["description"]) == ("Push A", mapped.description)
    assert "From Hevy: 6 exercises, 25 sets, 6,560.5 kg volume." in stored["description"]
    messages = world.messages(item.destination_id)
    active = [s for s in messages["set"] if s["set_type"] == "active"]
    assert len(active) == 25 and len(messages["lap"]) == 6
    assert messages["session"][0]["start_time"] == mapped.start
    assert item.sent["activityId"] == item.destination_id and item.sent["calories"] == {"kcal": None, "source": ""}
    assert world.run(again(item)).attempt_log.order_by("pk").last().outcome == "unchanged"
    assert len(world.garmin.calls("POST", "/upload-service/upload")) == 1


@pytest.mark.parametrize("hidden_reads", [3, 100])
def test_a_slowly_processed_upload_is_found_by_the_read_back_or_by_the_retry_never_uploaded_twice(
    make_account, settings, monkeypatch, hidden_reads
):
    with StrengthWorld(make_account, settings, monkeypatch, hidden_reads=hidden_reads).running() as world:
        item = world.run(world.item(world.workout()))
        if hidden_reads == 100:  # missed by every read-back: the retry looks again
            assert (item.status, item.attempts) == ("pending", 1) and "does not list it yet" in item.last_error
            assert item.sent["uploaded"]["hash"]
            world.garmin.finish_activity_processing("ada@example.com")
            item = world.run(item)
        assert item.status == "synced" and world.activity_ids() == [item.destination_id]
        assert world.activity(item.destination_id)["activityName"] == "Push A"
        assert len(world.garmin.calls("POST", "/upload-service/upload")) == 1


def test_a_replay_after_a_lost_database_adopts_the_activity(world):
    item = world.run(world.item(world.workout()))
    replay = world.run(copy_item(item))  # the same workout again, fitsync's row gone
    assert (replay.status, replay.destination_id) == ("synced", item.destination_id)
    assert world.activity_ids() == [item.destination_id]
    assert len(world.garmin.calls("POST", "/upload-service/upload")) == 1


def test_a_failure_after_the_upload_is_retried_without_a_second_upload(world):
    world.garmin.add_fault(method="PUT", path=r"^/activity-service/activity/\d+$", status=503)
    item = world.run(world.item(world.workout()))
    assert (item.status, item.attempts) == ("pending", 1) and item.destination_id == ""
    item = world.run(item)
    assert item.status == "synced" and world.activity_ids() == [item.destination_id]
    assert world.activity(item.destination_id)["description"].startswith("Bench Press")
    assert len(world.garmin.calls("POST", "/upload-service/upload")) == 1


def test_a_lost_database_after_an_upload_whose_naming_failed_still_adopts(world):
    world.garmin.add_fault(method="PUT", path=r"^/activity-service/activity/\d+$", status=503)
    item = world.run(world.item(world.workout()))
    replay = world.run(copy_item(item))  # and the note of the upload went with the row
    assert replay.status == "synced" and world.activity_ids() == [replay.destination_id]


def test_an_edit_replaces_the_activity_uploading_the_new_one_before_deleting_the_old(world):
    item = world.run(world.item(world.workout()))
    old = item.destination_id
    world.edit(item, title="Push A (heavy)")
    item = world.run(again(item))
    assert (item.status, item.attempt_log.order_by("pk").last().outcome) == ("synced", "updated")
    assert world.activity_ids() == [item.destination_id] and item.destination_id != old
    assert world.activity(item.destination_id)["activityName"] == "Push A (heavy)"
    assert item.sent["replaced"] == old
    calls = [f"{c.method} {c.path}" for c in world.garmin.ledger]
    upload, delete = (
        calls.index("POST /upload-service/upload", 3),
        calls.index(f"DELETE /activity-service/activity/{old}"),
    )
    assert upload < calls.index(f"PUT /activity-service/activity/{item.destination_id}") < delete


def test_an_edit_whose_new_upload_fails_keeps_the_old_activity(world):
    item = world.run(world.item(world.workout()))
    world.edit(item, title="Push A (heavy)")
    world.garmin.add_fault(method="POST", path=r"^/upload-service/upload$", status=400)
    item = world.run(again(item))
    assert item.status == "failed" and world.activity_ids() == [item.destination_id]
    assert world.activity(item.destination_id)["activityName"] == "Push A"


def test_a_deletion_in_hevy_removes_the_activity(world):
    item = world.run(world.item(world.workout()))
    item = world.run(again(item, operation="delete"))
    assert (item.status, item.attempt_log.order_by("pk").last().outcome) == ("synced", "deleted")
    assert world.activity_ids() == [] and item.sent["deleted"] is True
    world.hevy.delete_workout("hevy-strength-key", item.source_id)
    gone = world.run(again(item, operation="delete"))  # delivered twice: nothing left to delete
    assert gone.status == "skipped" and "nothing was deleted" in gone.last_error


@pytest.mark.parametrize("duplicates", ["reject", "accept"])
def test_a_resync_of_unchanged_content_leaves_one_activity_whatever_garmin_does_with_a_duplicate(world, duplicates):
    world.garmin.activity_duplicates = duplicates
    item = world.run(world.item(world.workout()))
    item = world.run(again(item, force=True))
    assert item.status == "synced" and world.activity_ids() == [item.destination_id]
    assert len(world.garmin.calls("POST", "/upload-service/upload")) == 2


def test_an_edit_made_while_the_database_was_lost_replaces_the_older_copy(world):
    item = world.run(world.item(world.workout()))
    world.edit(item, title="Push A (heavy)")
    replay = world.run(copy_item(item))  # the row is gone: only Garmin knows the old copy
    assert replay.status == "synced" and world.activity_ids() == [replay.destination_id] != [item.destination_id]
    assert world.activity(replay.destination_id)["activityName"] == "Push A (heavy)"


def test_a_duplicate_answer_for_an_activity_renamed_by_hand_adopts_the_twin_garmin_names(world):
    world.garmin.activity_duplicates = "reject"
    item = world.run(world.item(world.workout()))
    world.garmin.finish_activity_processing("ada@example.com")
    world.activity(item.destination_id)["activityName"] = "Chest day"  # renamed in Garmin Connect
    replay = world.run(copy_item(item))  # not found by name: uploaded again, and Garmin says 409
    assert (replay.status, replay.destination_id) == ("synced", item.destination_id)
    assert world.activity_ids() == [item.destination_id]


def test_a_worker_killed_after_the_upload_before_recording_leaves_one_activity(world, monkeypatch):
    """The crash point after the destination's write: the item stays running until its lease expires,
    and the next run adopts the activity the killed one made."""

    class Killed(BaseException):
        pass

    def crash_point(name: str) -> None:
        if name == "after_write":
            raise Killed

    monkeypatch.setattr("fitsync.sync.crash_point", crash_point)
    item = world.item(world.workout())
    with pytest.raises(Killed):
        world.run(item)
    item.refresh_from_db()
    assert item.status == "running" and item.destination_id == "" and len(world.activity_ids()) == 1
    monkeypatch.setattr("fitsync.sync.crash_point", lambda name: None)  # the next worker lives
    SyncItem.objects.filter(pk=item.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    item = world.run(item, due=False)
    assert item.status == "synced" and world.activity_ids() == [item.destination_id]
    assert len(world.garmin.calls("POST", "/upload-service/upload")) == 1


def test_the_days_around_a_workout_take_one_listing_request_and_a_full_page_reads_on(
    make_account, settings, monkeypatch
):
    with StrengthWorld(make_account, settings, monkeypatch, hidden_reads=0).running() as world:
        listings = lambda: world.garmin.calls("GET", "/activitylist-service/")  # noqa: E731
        item = world.run(world.item(world.workout()))
        assert item.status == "synced" and len(listings()) == 1  # fewer than a page: no empty page read
        later = [world.watch(LAST_MAY + timedelta(hours=3, minutes=10 * n), minutes=5) for n in range(20)]
        replay = world.run(copy_item(item))  # ours is the oldest: on the second page, newest first
        assert (replay.status, replay.destination_id) == ("synced", item.destination_id)
        assert len(listings()) == 3 and len(world.garmin.calls("POST", "/upload-service/upload")) == 1
        assert set(world.activity_ids()) == {item.destination_id, *later}
