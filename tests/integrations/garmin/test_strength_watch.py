"""A watch recorded the same session: fitsync waits for it, then skips, uploads alongside, or merges.

GIVEN a Hevy workout and, in Garmin Connect, a strength activity a watch recorded over the same time
WHEN the workout's item runs under the route's `watch` option
THEN skip: no upload, the item skipped naming the watch's activity; alongside: both activities; merge: one
activity with Hevy's sets and the watch's heart rate and calories, the watch's own deleted only after it.
And a new workout is decided only after its end plus the grace, without spending an attempt.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from fitsync import sync
from fitsync.models import SyncItem
from tests.items import put_in_state

from .strength_world import LAST_MAY, StrengthWorld

pytestmark = pytest.mark.django_db
WATCH_START = LAST_MAY - timedelta(minutes=2)  # the watch was started a little before Hevy


@pytest.fixture
def options(monkeypatch):
    """The user's options for the route: what fitsync.route_settings.options_of answers."""
    chosen: dict = {}
    monkeypatch.setattr("fitsync.route_settings.options_of", lambda owner_id, route: dict(chosen))
    return chosen


@pytest.fixture(params=[0, 1], ids=lambda hidden: f"hidden_reads={hidden}")
def world(request, make_account, settings, monkeypatch, options):
    with StrengthWorld(make_account, settings, monkeypatch, hidden_reads=request.param).running() as world:
        yield world


def calls(world) -> list[str]:
    return [f"{c.method} {c.path}" for c in world.garmin.ledger if c.path.startswith(("/upload", "/activity-"))]


def test_skip_by_default_uploads_nothing_and_names_the_watch_activity(world):
    watch = world.watch(WATCH_START)
    item = world.run(world.item(world.workout()))
    assert (item.status, item.attempts, item.destination_id) == ("skipped", 1, "")
    assert f"Garmin Connect activity {watch} (“Strength”" in item.last_error and "watch option: skip" in item.last_error
    assert item.sent["watch"] == {"mode": "skip", "activity_id": watch, "name": "Strength"}
    assert world.activity_ids() == [watch] and world.garmin.calls("POST", "/upload-service/upload") == []


def test_alongside_uploads_the_workout_next_to_the_watch_activity(world, options):
    options["watch"] = "alongside"
    watch = world.watch(WATCH_START)
    item = world.run(world.item(world.workout()))
    assert item.status == "synced" and sorted(world.activity_ids()) == sorted([watch, item.destination_id])
    assert item.sent["watch"] == {"mode": "alongside", "activity_id": watch, "name": "Strength"}
    assert f"alongside your watch's recording (Garmin Connect activity {watch})" in item.last_error
    assert "heart_rate" not in str(world.messages(item.destination_id)["record"])


def test_merge_puts_the_watch_heart_rate_and_calories_into_one_activity_then_deletes_the_watch_original(world, options):
    options["watch"] = "merge"
    watch = world.watch(WATCH_START, calories=412)
    item = world.run(world.item(world.workout()))
    assert item.status == "synced" and world.activity_ids() == [item.destination_id]
    messages = world.messages(item.destination_id)
    rates = [r for r in messages["record"] if "heart_rate" in r]
    assert len(rates) == 80 * 12 + 1  # the watch's 5-second samples within the workout's 80 minutes
    assert messages["session"][0]["total_calories"] == 412 and messages["session"][0]["max_heart_rate"] > 95
    assert len([s for s in messages["set"] if s["set_type"] == "active"]) == 25  # Hevy's sets
    description = world.activity(item.destination_id)["description"]
    assert description.endswith("6,560.5 kg volume. 412 kcal, measured by your watch.")
    assert item.sent["watch"]["deleted"] is True and item.sent["calories"] == {"kcal": 412, "source": "watch"}
    assert f"Merged with your watch's recording (Garmin Connect activity {watch})" in item.last_error
    order = calls(world)
    assert order.index(f"PUT /activity-service/activity/{item.destination_id}") < order.index(
        f"DELETE /activity-service/activity/{watch}"
    )


def test_a_merged_upload_that_fails_keeps_the_watch_original(world, options):
    options["watch"] = "merge"
    watch = world.watch(WATCH_START)
    world.garmin.add_fault(method="POST", path=r"^/upload-service/upload$", status=400)
    item = world.run(world.item(world.workout()))
    assert item.status == "failed" and world.activity_ids() == [watch]
    assert world.garmin.calls("DELETE") == []


def test_a_merge_interrupted_before_the_watch_original_was_deleted_finishes_on_the_retry(world, options):
    options["watch"] = "merge"
    watch = world.watch(WATCH_START, calories=412)
    world.garmin.add_fault(method="DELETE", path=rf"^/activity-service/activity/{watch}$", status=503)
    item = world.run(world.item(world.workout()))
    assert (item.status, item.attempts) == ("pending", 1) and len(world.activity_ids()) == 2
    item = world.run(item)
    assert item.status == "synced" and world.activity_ids() == [item.destination_id]
    assert world.activity(item.destination_id)["description"].endswith("412 kcal, measured by your watch.")
    assert len(world.garmin.calls("POST", "/upload-service/upload")) == 1


def test_a_merge_whose_worker_died_right_after_the_upload_deletes_the_watch_original_on_the_retry(
    world, options, monkeypatch
):
    """The retry adopts the merged activity by the item's note, written before the upload, which also names
    the watch activity still to delete (tests/reliability/test_crash_points.py kills a real worker there)."""
    from integrations.garmin import strength_destination

    class Killed(Exception):
        pass

    def crash_point(name):
        if name == "after_upload":
            raise Killed

    options["watch"] = "merge"
    watch = world.watch(WATCH_START)
    with monkeypatch.context() as dying:
        dying.setattr(strength_destination, "crash_point", crash_point)
        item = world.run(world.item(world.workout()))
    assert item.status == "pending" and len(world.activity_ids()) == 2
    item = world.run(item)
    assert item.status == "synced", item.last_error
    assert world.activity_ids() == [item.destination_id] != [watch]
    assert item.sent["watch"]["deleted"] and len(world.garmin.calls("POST", "/upload-service/upload")) in (1, 2)


def test_an_edit_of_a_merged_workout_keeps_the_watch_heart_rate(world, options):
    options["watch"] = "merge"
    world.watch(WATCH_START, calories=412)
    item = world.run(world.item(world.workout()))
    merged = item.destination_id
    world.edit(item, title="Push A (heavy)")
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending")
    item = world.run(item)
    assert item.status == "synced" and world.activity_ids() == [item.destination_id] != [merged]
    messages = world.messages(item.destination_id)
    assert len([r for r in messages["record"] if "heart_rate" in r]) == 80 * 12 + 1
    assert messages["session"][0]["total_calories"] == 412 and item.sent["calories"]["source"] == "watch"


# --- the grace period -----------------------------------------------------------------------------
def test_a_new_workout_waits_for_the_watch_until_its_end_plus_the_grace_spending_no_attempt(
    world, sent_jobs, django_capture_on_commit_callbacks
):
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=85)
    workout = world.workout(start=start, minutes=80)  # ended five minutes ago
    item = world.run(world.item(workout))
    due_at = start + timedelta(minutes=80 + 30)
    assert (item.status, item.attempts, item.next_attempt_at) == ("pending", 0, due_at)
    assert item.last_error.startswith("Waiting until ") and item.last_error.endswith("for your watch to sync.")
    assert item.attempt_log.get().outcome == "waiting" and calls(world) == []

    world.watch(start - timedelta(minutes=1))  # the watch syncs meanwhile
    with time_machine.travel(due_at - timedelta(seconds=2)):
        assert list(sync.due_items()) == [] and sync.run_item(item.pk).endswith("not due or taken by another worker")
    with time_machine.travel(due_at + timedelta(seconds=1)):
        assert list(sync.due_items()) == [item.pk]
        with django_capture_on_commit_callbacks(execute=True):
            assert sync.dispatch_due() == 1
        item = world.run(item, due=False)
    assert (item.status, item.attempts) == ("skipped", 1) and "watch option: skip" in item.last_error


def test_alongside_does_not_wait(world, options):
    options["watch"] = "alongside"
    workout = world.workout(start=timezone.now().replace(microsecond=0) - timedelta(minutes=60), minutes=55)
    item = world.run(world.item(workout))
    assert item.status == "synced" and world.activity_ids() == [item.destination_id]


def test_the_grace_is_the_users_option(world, options):
    options["grace_minutes"] = 0
    workout = world.workout(start=timezone.now().replace(microsecond=0) - timedelta(minutes=60), minutes=55)
    assert world.run(world.item(workout)).status == "synced"


def test_an_upload_answered_with_the_watch_activitys_id_never_deletes_the_watch_activity(world, options, monkeypatch):
    """Peers report Garmin answering an upload with an existing activity's id (taking the file for a
    duplicate of it); a merge must not then take the watch's activity for its own and delete it."""
    from integrations.garmin import activities
    from integrations.garmin.client import UploadAnswer

    options["watch"] = "merge"
    watch = world.watch(WATCH_START)
    monkeypatch.setattr(activities, "upload_activity", lambda garmin, data, name: UploadAnswer(False, (watch,)))
    item = world.run(world.item(world.workout()))
    assert (item.status, item.attempts) == ("pending", 1) and "does not list it yet" in item.last_error
    assert world.activity_ids() == [watch] and world.garmin.calls("DELETE") == []
