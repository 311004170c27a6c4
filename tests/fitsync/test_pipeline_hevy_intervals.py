"""The hevy_intervals route through the real engine, against both fakes: what reaches Intervals.icu.

Every test runs twice: with the bulk upload upserting on external_id, and with it always creating (the
upsert is documented only for OAuth applications; fitsync uses a personal key).
"""

import copy
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.utils import timezone

from fitsync import sync
from fitsync.models import AccountStatus, ItemStatus, SyncItem
from sandbox.hevy import HevyFake
from sandbox.intervals import IntervalsFake
from sandbox.mock import mount
from tests.conftest import load_fixture
from tests.items import put_in_state

pytestmark = pytest.mark.django_db
HEVY_KEY, INTERVALS_KEY, ATHLETE = "hevy-key-0001", "intervals-key-0001", "i12345"


@pytest.fixture
def hevy():
    fake = HevyFake()
    fake.add_user(HEVY_KEY)
    return fake


@pytest.fixture(params=["bulk_upserts", "bulk_creates"])
def intervals(request):
    fake = IntervalsFake(bulk_upsert=request.param == "bulk_upserts")
    fake.add_athlete(INTERVALS_KEY, athlete_id=ATHLETE, timezone="America/New_York")
    return fake


@pytest.fixture(autouse=True)
def upstreams(hevy, intervals, settings):
    settings.HEVY_REQUESTS_PER_SECOND = settings.INTERVALS_REQUESTS_PER_SECOND = 0
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, hevy, settings.HEVY_API_URL)
        mount(rsps, intervals, settings.INTERVALS_API_URL)
        yield rsps


@pytest.fixture
def source(make_account):
    intervals_account = make_account("intervals", api_key=INTERVALS_KEY)
    intervals_account.external_user_id = ATHLETE
    intervals_account.save()  # no timezone stored yet: the job reads it from the profile
    return make_account("hevy", api_key=HEVY_KEY)


@pytest.fixture
def workout(hevy):
    return hevy.add_workout(HEVY_KEY, load_fixture("hevy/workout__supersets.json"))


def item_for(source, workout_id, **fields) -> SyncItem:
    return SyncItem.objects.create(account=source, route="hevy_intervals", source_id=workout_id, **fields)


def run(item) -> SyncItem:
    SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
    sync.run_item(item.pk)
    item.refresh_from_db()
    return item


def writes(intervals):
    return intervals.calls("POST", r"/manual/bulk$") + intervals.calls("PUT") + intervals.calls("DELETE")


def copy_of(intervals, activity: dict) -> dict:
    """Another activity with the same external_id, as the bulk upload of older fitsync versions made."""
    fields = {k: v for k, v in activity.items() if k not in ("id", "created", "start_date")}
    return intervals._create_activity(intervals.athletes[ATHLETE], fields)


def test_it_creates_the_activity_in_the_athletes_local_time(source, workout, intervals):
    item = run(item_for(source, workout["id"]))
    (activity,) = intervals.activities(ATHLETE)
    assert (item.status, item.destination_id, item.attempt_log.get().outcome) == ("synced", activity["id"], "created")
    assert activity["start_date_local"] == "2024-05-14T11:42:07"  # 15:42 UTC in New York (EDT)
    assert activity["start_date"] == "2024-05-14T15:42:07Z"
    assert (activity["type"], activity["external_id"], activity["kg_lifted"]) == (
        "WeightTraining",
        workout["id"],
        6560.5,
    )
    assert item.sent == writes(intervals)[0].json()[0]
    assert (item.title, item.occurred_at) == ("Push A", datetime(2024, 5, 14, 15, 42, 7, tzinfo=UTC))
    assert item.snapshot["set_count"] == 25 and item.snapshot["volume_kg"] == "6560.5"
    assert source.owner.accounts.get(provider="intervals").meta["timezone"] == "America/New_York"


def test_a_job_run_twice_writes_once(source, workout, intervals):
    item = run(item_for(source, workout["id"]))
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending")  # a re-delivery of the same workout
    item = run(item)
    assert len(writes(intervals)) == 1
    assert item.attempt_log.order_by("pk").last().outcome == "unchanged"


def test_force_writes_again_to_the_same_activity_by_id(source, workout, intervals):
    item = run(item_for(source, workout["id"]))
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending", force=True)
    run(item)
    (activity,) = intervals.activities(ATHLETE)
    assert [(c.method, c.path) for c in writes(intervals)] == [
        ("POST", f"/api/v1/athlete/{ATHLETE}/activities/manual/bulk"),
        ("PUT", f"/api/v1/activity/{activity['id']}"),
    ]


def test_an_edit_updates_the_same_activity_in_place(source, workout, hevy, intervals):
    item = run(item_for(source, workout["id"]))
    hevy.update_workout(HEVY_KEY, workout["id"], title="Push A (heavy)")
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending")
    item = run(item)
    (activity,) = intervals.activities(ATHLETE)
    assert activity["name"] == "Push A (heavy)" and item.destination_id == activity["id"]
    assert item.attempt_log.order_by("pk").last().outcome == "updated"


def test_a_deletion_deletes_only_the_activity_fitsync_created(source, workout, hevy, intervals):
    by_hand = intervals._create_activity(
        intervals.athletes[ATHLETE],
        {"type": "WeightTraining", "name": "Logged by hand", "start_date_local": "2024-05-14T11:40:00"},
    )
    item = run(item_for(source, workout["id"]))
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending", operation="delete")
    item = run(item)
    assert intervals.activities(ATHLETE) == [by_hand]
    assert [c.path for c in intervals.calls("DELETE")] == [f"/api/v1/activity/{item.destination_id}"]
    assert (item.status, item.content_hash) == ("synced", "deleted")


def test_a_deletion_of_a_never_synced_workout_touches_nothing(source, intervals):
    item = run(item_for(source, "never-synced", operation="delete"))
    assert item.status == ItemStatus.SKIPPED and "nothing was deleted" in item.last_error
    assert writes(intervals) == []


def test_a_synced_workout_gone_from_hevy_has_its_activity_deleted(source, workout, hevy, intervals):
    """R3: deleted in Hevy, then a late "saved" webhook turned the queued delete back into an upsert."""
    item = run(item_for(source, workout["id"]))
    hevy.delete_workout(HEVY_KEY, workout["id"])
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending", operation="upsert")
    item = run(item)
    assert intervals.activities(ATHLETE) == []
    assert (item.status, item.content_hash) == ("synced", "deleted")


def test_a_missing_workout_is_skipped_with_the_reason(source, intervals):
    item = run(item_for(source, "00000000-0000-0000-0000-000000000000"))
    assert (item.status, item.attempts) == ("skipped", 1)
    assert "Hevy has no workout with this id" in item.last_error
    assert writes(intervals) == []


@pytest.mark.parametrize("fake_name, path", [("hevy", r"/v1/workouts/"), ("intervals", r"/manual/bulk")])
def test_429_is_retried_not_before_retry_after(source, workout, request, fake_name, path):
    request.getfixturevalue(fake_name).add_fault(path=path, status=429, retry_after=120)
    before = timezone.now()
    item = run(item_for(source, workout["id"]))
    assert (item.status, item.attempts) == ("pending", 0)  # a 429 spends no attempt
    assert item.next_attempt_at >= before + timedelta(seconds=120)
    SyncItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
    assert run(item).status == "synced"


def test_a_rejected_intervals_key_marks_the_account_and_the_item_waits(source, workout, intervals):
    intervals.athletes[ATHLETE]["api_key"] = "rotated-by-the-user"
    item = run(item_for(source, workout["id"]))
    destination = source.owner.accounts.get(provider="intervals")
    assert destination.status == AccountStatus.NEEDS_REAUTH and "Reconnect" in destination.status_message
    assert (item.status, item.attempts) == ("pending", 0)


def test_a_rejected_hevy_key_marks_the_hevy_account(source, workout, hevy):
    hevy.users.clear()
    run(item_for(source, workout["id"]))
    source.refresh_from_db()
    assert source.status == AccountStatus.NEEDS_REAUTH


def test_a_refused_activity_fails_with_the_upstreams_reason(source, workout, intervals):
    intervals.add_fault(path=r"/manual/bulk", status=422)
    item = run(item_for(source, workout["id"]))
    assert item.status == "failed" and "Injected fault" in item.last_error


def test_a_reimport_after_fitsyncs_items_were_wiped_adopts_the_activity(source, workout, intervals):
    first = run(item_for(source, workout["id"]))
    SyncItem.objects.all().delete()  # a lost or reset database
    item = run(item_for(source, workout["id"]))
    (activity,) = intervals.activities(ATHLETE)
    assert item.destination_id == first.destination_id == activity["id"]
    # A first attempt writes at once: an upserting bulk upload answers with the same activity ("created",
    # as far as fitsync can tell); one that always creates leaves a copy that is deleted, the old one updated.
    assert item.attempt_log.get().outcome == ("created" if intervals.bulk_upsert else "updated")


def test_copies_left_by_older_versions_are_removed_on_the_next_edit(source, workout, hevy, intervals):
    item = run(item_for(source, workout["id"]))
    copy_of(intervals, intervals.activities(ATHLETE)[0])
    hevy.update_workout(HEVY_KEY, workout["id"], title="Push A (edited)")
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending")
    item = run(item)
    (activity,) = intervals.activities(ATHLETE)
    assert (activity["id"], activity["name"]) == (item.destination_id, "Push A (edited)")


def test_a_deletion_removes_every_copy_of_the_workout(source, workout, intervals):
    item = run(item_for(source, workout["id"]))
    copy_of(intervals, intervals.activities(ATHLETE)[0])
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending", operation="delete")
    item = run(item)
    assert intervals.activities(ATHLETE) == [] and (item.status, item.content_hash) == ("synced", "deleted")


def test_a_deletion_after_a_lost_record_finds_the_activity_by_external_id(source, workout, intervals):
    item = run(item_for(source, workout["id"]))
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending", operation="delete", destination_id="")
    item = run(item)
    assert intervals.activities(ATHLETE) == [] and item.status == "synced"


def test_a_copy_created_meanwhile_by_another_writer_is_settled_to_one(source, workout, intervals):
    """Between fitsync's look-up and its upload, another writer (a backfill) creates the same workout."""
    original = intervals._create_bulk

    def another_writer_first(request, athlete):
        body = request.json()[0]
        if not intervals.activities_by_external_id(ATHLETE):
            intervals._create_activity(athlete, body)
        return original(request, athlete)

    intervals.routes = [
        (m, p, intervals._for_athlete(another_writer_first) if "manual/bulk" in p.pattern else h)
        for m, p, h in intervals.routes
    ]
    item = run(item_for(source, workout["id"]))
    (activity,) = intervals.activities(ATHLETE)
    assert item.destination_id == activity["id"] and item.status == "synced"


def test_crash_before_the_write_then_retry_writes_once(source, workout, intervals, monkeypatch):
    calls = []
    monkeypatch.setattr("integrations.intervals.roles.crash_point", lambda name: calls.append(name))
    run(item_for(source, workout["id"]))
    assert calls == ["before_write"] and len(intervals.activities(ATHLETE)) == 1


def test_a_replayed_write_after_a_lost_record_updates_instead_of_duplicating(source, workout, intervals):
    item = run(item_for(source, workout["id"]))
    # As if the worker died after the upload but before recording: the item knows nothing of it.
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending", destination_id="", content_hash="")
    run(item)
    assert len(intervals.activities(ATHLETE)) == 1 and len(writes(intervals)) == 2


def test_the_sent_payload_is_what_reached_intervals(source, workout, intervals):
    item = run(item_for(source, workout["id"]))
    sent = copy.deepcopy(item.sent)
    assert writes(intervals)[0].json() == [sent]
    assert writes(intervals)[0].headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize("unit", ["utf16", "codepoints", "utf8"])
@pytest.mark.parametrize(
    "title",
    ["Heavy upper body day " * 6, "Übungen für Rücken und Schultern " * 4, "💪" * 60],
    ids=["ascii", "umlauts", "emoji"],
)
def test_a_long_title_is_shortened_until_intervals_accepts_it(source, workout, hevy, intervals, unit, title):
    """Names over 80 are refused with 422; how Intervals.icu counts them (the fake's unit) is unconfirmed."""
    intervals.name_length_unit = unit
    hevy.update_workout(HEVY_KEY, workout["id"], title=title)
    item = run(item_for(source, workout["id"]))
    (activity,) = intervals.activities(ATHLETE)
    assert item.status == "synced" and activity["name"] == item.sent["name"]
    assert activity["name"].endswith("…") and title.startswith(activity["name"][:-1].rstrip())
    assert len(activity["name"]) >= 19  # shortened, not emptied (19 emoji and the ellipsis fit 80 bytes)
